"""The public site as a read-only JSON API, for other sites to show our issues.

What it answers is what an anonymous reader of the pages may read, through the
same selectors (showcase.selectors): active series, published issues, the
published cases in them. Anything else, a planned or withdrawn issue, a case
not out yet, a series switched off, is the same 404 as an address that never
existed. A signed-in user is answered exactly as anyone else: nothing here
reads the session.

Answers live in the page cache (showcase.cache) beside the pages and are
retired with them on every publish, unpublish and edit; a case's answer also
goes when its count of reads is folded in. Each carries an ETag (a digest of
the body) and Last-Modified (when the body was built), so a client asks again
with If-None-Match / If-Modified-Since and gets a 304 until something changed.

django-ninja makes the OpenAPI schema (3.1) from the schemas below, at
/api/v1/openapi.json. The interactive docs page is off: it loads its scripts
from a CDN, which this site does not use.
"""

import datetime
import hashlib
import json
import math
import re
import time
from functools import lru_cache, wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, NinjaAPI, Path, Query, Schema
from ninja.errors import ValidationError

from casehub.links import absolute_url

from . import selectors
from .cache import page_field, page_lookup, page_set, page_split
from .models import Issue, IssueCase, Series

# Bounds on what one request may ask for.
PAGE_SIZE = 20
PAGE_SIZE_MAX = 50
LATEST_DEFAULT = 5
LATEST_MAX = 20
# Database keys are 64-bit; a larger number names nothing.
KEY_MAX = 2**63 - 1
# What a series' slug can be (Series.slug): anything else is refused before
# it reaches the cache's keys or the database.
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
SLUG_MAX = Series._meta.get_field("slug").max_length

# What is never written raw into a JSON string here: a client that puts the
# JSON into an HTML page (inside a <script>, say) cannot be broken out of.
JSON_ESCAPES = {
    ord("<"): "\\u003C",
    ord(">"): "\\u003E",
    ord("&"): "\\u0026",
    ord("\u2028"): "\\u2028",
    ord("\u2029"): "\\u2029",
}

api = NinjaAPI(
    title="CaseHub",
    version="1",
    description=(
        "The published series, issues and cases of the showcase, read-only. "
        "Only what the public pages show is here; everything else answers 404."
    ),
    urls_namespace="api",
    docs_url=None,
    # Served by openapi_json below: GET only, with its validators.
    openapi_url=None,
)


# --- Schemas: what each answer holds -------------------------------------------


class ParameterError(Schema):
    parameter: str
    message: str


class Error(Schema):
    detail: str
    errors: list[ParameterError] = []


# Descriptions of fields that recur, for the schema.
PAGE_URL = Field(description="The public page, on SITE_URL.")
API_URL = Field(description="This object in the API.")
THUMBNAIL = Field(
    description="The cover made small for lists; null without a cover, or until "
    "it is made (a few seconds after the cover is uploaded)."
)
SANITISED = (
    "HTML as sanitised for the public page, addresses on this site made absolute."
)


class SeriesRef(Schema):
    slug: str
    title: str
    url: str = PAGE_URL
    api_url: str = API_URL


class SeriesOut(SeriesRef):
    name: str
    column: str
    editors_note_html: str = Field(description="The editor's note. " + SANITISED)
    feed_url: str = Field(description="The series' RSS feed.")
    issues_api_url: str
    issue_count: int = Field(description="Published issues.")
    latest_issue_number: int | None = Field(
        description="The number of the latest published issue; null before the first."
    )


class CaseSummary(Schema):
    id: int
    title: str
    tagline: str = Field(description="The line under the title; may be empty.")
    organisation: str = Field(description="The party organisation that wrote it.")
    url: str = PAGE_URL
    api_url: str = API_URL


class IssueRef(Schema):
    series: SeriesRef
    number: int = Field(description="第N期: gapless within the series.")
    title: str = Field(
        description="The series and the number, in the reader's language."
    )
    url: str = PAGE_URL
    api_url: str = API_URL


class IssueOut(IssueRef):
    note_html: str = Field(
        description="The issue's note, or the series' when it has none. " + SANITISED
    )
    published_at: datetime.datetime = Field(description="Beijing time.")
    cases: list[CaseSummary] = Field(
        description="Its cases in order, as they were when it was published."
    )


class IssueCaseOut(CaseSummary):
    lead: str = Field(description="Plain text, with its line breaks as typed.")
    cover_thumbnail_url: str | None = THUMBNAIL


class IssueDetailOut(IssueOut):
    cases: list[IssueCaseOut] = Field(
        description="Its cases in order, each as its own answer shows it."
    )


class CaseOut(IssueCaseOut):
    author: str = Field(description="May be empty.")
    source: str = Field(description="The organisation when none was given.")
    published_at: datetime.datetime = Field(description="Beijing time.")
    views: int = Field(
        description=(
            "Reads of the case's page, as of the last fold (every few minutes). "
            "Reads through the API are not counted."
        )
    )
    body_html: str = Field(description=SANITISED)
    cover_image_url: str | None = Field(description="Null when it has no cover.")
    issue: IssueRef = Field(description="The published issue that carries it.")


class Page(Schema):
    count: int = Field(description="Items on all pages.")
    page: int
    page_size: int
    pages: int = Field(description="At least 1, also when there are no items.")
    next: str | None = Field(description="The next page; null on the last.")
    previous: str | None = Field(description="The previous page; null on the first.")


class SeriesPage(Page):
    items: list[SeriesOut]


class IssuePage(Page):
    items: list[IssueOut]


class LatestIssues(Schema):
    items: list[IssueOut]


# 400: a NUL in the address (casehub.middleware), refused before any view.
ERRORS = {304: None, 400: Error, 404: Error, 422: Error}


# --- Answers ----------------------------------------------------------------------


# In stored rich text, a "<" that is not a tag is written &lt;, and a quote
# inside an attribute &quot;: the first pattern finds tags (or the start of
# one, up to a ">" inside a value), the second an address inside one.
TAG = re.compile(r"<[a-zA-Z][^>]*>")
SITE_ADDRESS = re.compile(r'(\s(?:src|href)=")/(?!/)')


def html_for_other_sites(html: str) -> str:
    """Stored rich text with its addresses on this site (images under /media/,
    links to our pages) made absolute on SITE_URL, so that it shows the same
    on the site that embeds it."""
    site = settings.SITE_URL + "/"

    def absolute(tag):
        return SITE_ADDRESS.sub(lambda address: address[1] + site, tag[0])

    return TAG.sub(absolute, html)


def _json(data: Schema) -> bytes:
    text = json.dumps(data.model_dump(mode="json"), ensure_ascii=False)
    return text.translate(JSON_ESCAPES).encode()


def _answer(request: HttpRequest, field: str, build) -> HttpResponse:
    """The body `build` makes, from the page cache when it holds it.

    The cache's generation is read before `build` reads the database, and the
    body is kept only while that generation holds, as for the pages: a body
    built from what the database held just before a publish or unpublish
    committed cannot outlive it. A stored body keeps the time it was built in
    the place a page keeps its status.
    """
    cached, generation = page_lookup(field)
    if cached is not None:
        built_at, body = page_split(cached)
    else:
        body = _json(build())
        built_at = int(time.time())
        page_set(field, built_at, body, generation)
    return _respond(request, body, last_modified=built_at)


def _respond(request, body: bytes, *, last_modified: int | None) -> HttpResponse:
    """`body` as JSON with its validators, or 304 when the client has it."""
    response = HttpResponse(body, content_type="application/json")
    response["ETag"] = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(
        response,
        public=True,
        max_age=settings.API_CACHE_MAX_AGE,
        must_revalidate=True,
    )
    return get_conditional_response(
        request,
        etag=response["ETag"],
        last_modified=last_modified,
        response=response,
    )


def _error(status: int, detail: str, errors=()) -> HttpResponse:
    body = _json(Error(detail=detail, errors=list(errors)))
    response = HttpResponse(body, status=status, content_type="application/json")
    # Not kept anywhere: what is missing now may be published in a minute.
    patch_cache_control(response, no_cache=True)
    return response


def get_only(view):
    """`view` for GET, and for HEAD as the GET without its body (the CORS
    preflight offers both); any other method is refused in JSON, before the
    view reads anything (nothing here writes, so CSRF has nothing to guard)."""

    @wraps(view)
    def answer(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = _error(405, _("Only GET and HEAD are answered here."))
            response["Allow"] = "GET, HEAD"
            return response
        if request.method == "GET":
            return view(request, *args, **kwargs)
        # The routes know GET only: the view is asked as for one, and what it
        # answers goes out with the length of its body but not the body.
        request.method = "GET"
        try:
            response = view(request, *args, **kwargs)
        finally:
            request.method = "HEAD"
        response["Content-Length"] = str(len(response.content))
        response.content = b""
        return response

    answer.csrf_exempt = True
    return answer


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(404, _("Nothing published is found at this address."))


# Messages for what pydantic finds wrong with a parameter, by its error type.
PARAMETER_MESSAGES = {
    "int_parsing": gettext_lazy("%(name)s must be a whole number."),
    "int_type": gettext_lazy("%(name)s must be a whole number."),
    "int_from_float": gettext_lazy("%(name)s must be a whole number."),
    "int_parsing_size": gettext_lazy("%(name)s is too large."),
    "greater_than_equal": gettext_lazy("%(name)s must be at least %(limit)s."),
    "less_than_equal": gettext_lazy("%(name)s must be at most %(limit)s."),
    "string_too_long": gettext_lazy("%(name)s is too long."),
    "string_pattern_mismatch": gettext_lazy(
        "%(name)s may hold only letters, digits, hyphens and underscores."
    ),
    "missing": gettext_lazy("%(name)s is required."),
}


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    errors = []
    for error in exc.errors:
        name = str(error.get("loc", ["", "?"])[-1])
        context = error.get("ctx") or {}
        limit = context.get("ge", context.get("le", ""))
        message = PARAMETER_MESSAGES.get(
            error.get("type"), gettext_lazy("%(name)s is not valid.")
        ) % {"name": name, "limit": limit}
        errors.append(ParameterError(parameter=name, message=message))
    return _error(422, _("The request's parameters are not valid."), errors)


def _key(value: int) -> int:
    """A number from the address that can name a row; anything else is missing."""
    if not 0 < value <= KEY_MAX:
        raise Http404
    return value


def _api_url(name: str, *args, **query) -> str:
    url = absolute_url(reverse(f"api:{name}", args=args))
    query = {key: value for key, value in query.items() if value is not None}
    return f"{url}?{urlencode(query)}" if query else url


def _series_ref(series: Series) -> SeriesRef:
    return SeriesRef(
        slug=series.slug,
        title=series.title,
        url=absolute_url(series.get_absolute_url()),
        api_url=_api_url("series", series.slug),
    )


def _case_links(case_id: int) -> dict:
    return {
        "url": absolute_url(reverse("showcase:case", args=[case_id])),
        "api_url": _api_url("case", case_id),
    }


def _file_url(field) -> str | None:
    return absolute_url(field.url) if field else None


def _cover_urls(case, revision) -> tuple[str | None, str | None]:
    """The cover of the revision that was published, and its thumbnail; the
    case row's thumbnail only when it was made from that very cover."""
    if not revision.cover_image:
        return None, None
    image = absolute_url(default_storage.url(revision.cover_image))
    if case.cover_image.name != revision.cover_image:
        return image, None
    return image, _file_url(case.cover_thumbnail)


def _issue_ref(issue: Issue) -> dict:
    """The fields of IssueRef, which IssueOut and IssueDetailOut begin with."""
    return {
        "series": _series_ref(issue.series),
        "number": issue.number,
        "title": str(issue),
        "url": absolute_url(issue.get_absolute_url()),
        "api_url": _api_url("issue", issue.series.slug, issue.number),
    }


def _issue_common(issue: Issue) -> dict:
    return {
        **_issue_ref(issue),
        # The issue page shows the series' note when the issue has none.
        "note_html": html_for_other_sites(issue.note or issue.series.editors_note),
        "published_at": timezone.localtime(issue.published_at),
    }


def _issue_out(issue: Issue) -> IssueOut:
    """An issue in a list: its cases as frozen at publication, as the series
    page lists them, so a list costs no query per issue."""
    cases = [
        CaseSummary(
            id=item["id"],
            title=item.get("title", ""),
            tagline=item.get("tagline", ""),
            organisation=item.get("branch", ""),
            **_case_links(item["id"]),
        )
        for item in issue.summary
    ]
    return IssueOut(**_issue_common(issue), cases=cases)


def _page(queryset, *, page: int, page_size: int, name: str, args, item):
    count = queryset.count()
    pages = max(1, math.ceil(count / page_size))
    if page > pages:
        raise Http404
    start = (page - 1) * page_size
    rows = queryset[start : start + page_size]
    size = None if page_size == PAGE_SIZE else page_size

    def link(number):
        if not 1 <= number <= pages:
            return None
        return _api_url(name, *args, page=number, page_size=size)

    return {
        "count": count,
        "page": page,
        "page_size": page_size,
        "pages": pages,
        "next": link(page + 1),
        "previous": link(page - 1),
        "items": [item(row) for row in rows],
    }


PAGE = Query(1, ge=1, description="Page number, from 1.")
SLUG = Path(
    ..., pattern=SLUG_PATTERN, max_length=SLUG_MAX, description="The series' slug."
)
SIZE = Query(PAGE_SIZE, ge=1, le=PAGE_SIZE_MAX, description="Items per page.")


def _series_out(series: Series) -> SeriesOut:
    return SeriesOut(
        **_series_ref(series).model_dump(),
        name=series.name,
        column=series.column,
        editors_note_html=html_for_other_sites(series.editors_note),
        feed_url=absolute_url(reverse("showcase:feed", args=[series.slug])),
        issues_api_url=_api_url("issue_list", series.slug),
        issue_count=series.published_count,
        latest_issue_number=series.latest_number,
    )


@api.get(
    "/series/",
    response={200: SeriesPage, **ERRORS},
    url_name="series_list",
    summary="Series",
    tags=["series"],
)
def series_list(request, page: int = PAGE, page_size: int = SIZE):
    """The active series, by title."""
    page = _key(page)

    def build():
        data = _page(
            selectors.series_public(),
            page=page,
            page_size=page_size,
            name="series_list",
            args=(),
            item=_series_out,
        )
        return SeriesPage(**data)

    return _answer(request, page_field("api-series-list", page, page_size), build)


@api.get(
    "/series/{slug}/",
    response={200: SeriesOut, **ERRORS},
    url_name="series",
    summary="One series",
    tags=["series"],
)
def series_detail(request, slug: str = SLUG):

    def build():
        return _series_out(selectors.series_public_get(slug=slug))

    return _answer(request, page_field("api-series", slug), build)


@api.get(
    "/series/{slug}/issues/",
    response={200: IssuePage, **ERRORS},
    url_name="issue_list",
    summary="Issues of a series",
    tags=["issues"],
)
def issue_list(request, slug: str = SLUG, page: int = PAGE, page_size: int = SIZE):
    """The published issues of a series, newest first."""
    page = _key(page)

    def build():
        series = selectors.series_get(slug=slug)
        data = _page(
            selectors.published_issues(series=series),
            page=page,
            page_size=page_size,
            name="issue_list",
            args=(slug,),
            item=_issue_out,
        )
        return IssuePage(**data)

    field = page_field("api-issues", slug, page, page_size)
    return _answer(request, field, build)


@api.get(
    "/series/{slug}/issues/{number}/",
    response={200: IssueDetailOut, **ERRORS},
    url_name="issue",
    summary="One issue, with its cases in order",
    tags=["issues"],
)
def issue_detail(request, number: int, slug: str = SLUG):
    number = _key(number)

    def build():
        series = selectors.series_get(slug=slug)
        issue = selectors.issue_get_published(series=series, number=number)
        cases = [
            _entry_out(entry, entry.shown)
            for entry in selectors.issue_entries_as_published(issue=issue)
        ]
        return IssueDetailOut(**_issue_common(issue), cases=cases)

    return _answer(request, page_field("api-issue", slug, number), build)


def _entry_out(entry: IssueCase, revision) -> IssueCaseOut:
    return IssueCaseOut(**_case_fields(entry.case, revision))


def _case_fields(case, revision) -> dict:
    """The fields of IssueCaseOut, which CaseOut begins with: the revision
    that was published, not what the case row holds now."""
    return {
        "id": case.pk,
        "title": revision.title,
        "tagline": revision.tagline,
        "organisation": revision.branch_name,
        "lead": revision.lead,
        "cover_thumbnail_url": _cover_urls(case, revision)[1],
        **_case_links(case.pk),
    }


@api.get(
    "/issues/latest/",
    response={200: LatestIssues, **ERRORS},
    url_name="latest_issues",
    summary="The latest issues",
    tags=["issues"],
)
def latest_issues(
    request,
    series: str | None = Query(
        None,
        pattern=SLUG_PATTERN,
        max_length=SLUG_MAX,
        description="A series' slug; without it, every active series.",
    ),
    limit: int = Query(LATEST_DEFAULT, ge=1, le=LATEST_MAX),
):
    """The most recently published issues, newest first, at most `limit`."""

    def build():
        the_series = None if series is None else selectors.series_get(slug=series)
        issues = selectors.published_issues_newest(series=the_series, limit=limit)
        return LatestIssues(items=[_issue_out(issue) for issue in issues])

    field = page_field("api-latest", series if series is not None else "", limit)
    return _answer(request, field, build)


@api.get(
    "/cases/{case_id}/",
    response={200: CaseOut, **ERRORS},
    url_name="case",
    summary="One published case",
    tags=["cases"],
)
def case_detail(request, case_id: int):
    """A published case as its page shows it. Reading it here is not counted
    as a read of the case: `views` is the count of reads of its page, as of
    the last time they were folded in (every few minutes)."""
    case_id = _key(case_id)

    def build():
        case, issue = selectors.case_get_published(case_id=case_id)
        return _case_out(case, issue)

    return _answer(request, page_field("api-case", case_id), build)


def _case_out(case, issue: Issue) -> CaseOut:
    # The page shows the revision that was approved and published.
    revision = selectors.case_published_revision(case=case)
    return CaseOut(
        **_case_fields(case, revision),
        author=revision.author_name,
        source=revision.source_display,
        # Set when its issue went out; the issue's time should it ever lack it.
        published_at=timezone.localtime(case.published_at or issue.published_at),
        views=case.views.count if hasattr(case, "views") else 0,
        body_html=html_for_other_sites(revision.body),
        cover_image_url=_cover_urls(case, revision)[0],
        issue=IssueRef(**_issue_ref(issue)),
    )


@lru_cache(maxsize=1)
def _schema_body() -> bytes:
    schema = api.get_openapi_schema(path_prefix=reverse("api:api-root"))
    return json.dumps(schema, ensure_ascii=False).encode()


@get_only
def openapi_json(request):
    """The OpenAPI schema of this API, made from the code, at a stable address."""
    return _respond(request, _schema_body(), last_modified=None)
