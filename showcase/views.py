"""The public reading site: home, series, issue and case pages, feeds, health."""

import hashlib
import re
from urllib.parse import urlencode, urlsplit

from csp.constants import SELF
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casehub.celery import app as celery_app
from casehub.links import absolute_url

from . import search as site_search
from . import selectors
from .cache import (
    page_field,
    page_fields_set,
    page_generation,
    page_lookup,
    page_set,
    page_slot_take,
    page_split,
    views_field,
)
from .counter import case_read, view_register, views_pending
from .filters import SeriesIssueFilter
from .forms import SearchForm

# Where a case page's count of reads goes, filled in as the page is answered.
# Made from the secret key, so that no case's own text can hold it.
VIEWS_PLACEHOLDER = "\u2063{}\u2063".format(
    hashlib.sha256(f"views-placeholder:{settings.SECRET_KEY}".encode()).hexdigest()[:20]
)
VIEWS_PLACEHOLDER_BYTES = VIEWS_PLACEHOLDER.encode()
# Search pages kept for anonymous readers: the plain search of a query, its
# first pages, and no more queries than this until the next publication.
SEARCH_PAGES_CACHED = 1000
SEARCH_PAGE_NUMBERS = frozenset(str(number) for number in range(1, 6))


def _cached(request, field: str, build) -> HttpResponse:
    """Serve a page from the cache to anonymous readers; build it otherwise.

    Signed-in users see their own menu in the header, and a reader with a
    message waiting sees it on the page, so their pages are never shared.
    """
    if not _shared_reader(request):
        return build()
    _shared_address(request)
    cached, generation = page_lookup(field)
    if cached is not None:
        status, content = page_split(cached)
        return HttpResponse(content, status=status)
    response = build()
    if response.status_code in (200, 410):
        copy = response.content if response.status_code == 200 else None
        page_set(field, response.status_code, response.content, generation, copy=copy)
    return response


def _shared_reader(request) -> bool:
    """A reader whose page may be shared: not signed in, no message waiting
    (showcase.front sends a reader with a session or message cookie here)."""
    return not request.user.is_authenticated and not len(get_messages(request))


def _shared_address(request, query: str = "") -> None:
    """The address a page shared among readers names as its own (the language
    switch goes back to it): the page's path and only the query it was cached
    for, so no reader's query string (?from=… of a shared link, or anything a
    hostile one adds) ends up in the page everyone else is given."""
    request.shared_address = request.path + (f"?{query}" if query else "")


@require_GET
def home(request):
    def build():
        context = {
            "latest_issues": selectors.latest_issues(),
            "recent_cases": selectors.recent_cases(),
        }
        return render(request, "showcase/home.html", context)

    return _cached(request, page_field("home"), build)


def series_page_key(query) -> tuple[str, ...] | None:
    """The cache's address parts of a series listing asked with `query`, or
    None when it is not cached. Only the plain listing and its numbered pages
    are: any other query string would let a crawler fill the cache with pages
    nobody asks for. (showcase.front asks the same.)"""
    query = query.copy()
    page_number = query.pop("page", [""])[-1]
    if query or not (
        page_number == "" or (page_number.isdigit() and int(page_number) <= 500)
    ):
        return None
    return (page_number or "1",)


def search_page_key(query) -> tuple[str, ...] | None:
    """The cache's address parts of a search asked with `query`: the plain
    search of a query and its first pages; None for any other."""
    page_number = query.get("page", "1")
    if not set(query) <= {"q", "page"} or page_number not in SEARCH_PAGE_NUMBERS:
        return None
    normal = site_search.query_normalise(query.get("q", ""))
    return (site_search.query_digest(normal), page_number)


@require_GET
def series_detail(request, slug):
    key = series_page_key(request.GET)
    query = request.GET.copy()
    query.pop("page", None)

    def build():
        series = selectors.series_get(slug=slug)
        filterset = SeriesIssueFilter(
            request.GET or None, queryset=selectors.issues_for_readers(series=series)
        )
        paginator = Paginator(filterset.qs, 20)
        page = paginator.get_page(request.GET.get("page"))
        context = {
            "series": series,
            "filter": filterset,
            "page_obj": page,
            "issues": page.object_list,
            "query_string": query.urlencode(),
        }
        return render(request, "showcase/series_detail.html", context)

    if key is None:
        return build()

    def build_shared():
        _shared_address(request, "" if key[0] == "1" else f"page={key[0]}")
        return build()

    return _cached(request, page_field("series", slug, *key), build_shared)


@require_GET
def search(request):
    """站内搜索: the published cases a query finds, ranked, ten a page."""
    query = site_search.query_normalise(request.GET.get("q", ""))
    page_number = request.GET.get("page", "1")
    key = search_page_key(request.GET)
    cacheable = key is not None and _shared_reader(request)
    generation = None
    if cacheable:
        field = page_field("search", *key)
        cached, generation = page_lookup(field)
        if cached is not None:
            status, content = page_split(cached)
            return HttpResponse(content, status=status)
    form = SearchForm(request.GET or None)
    filters = form.search_filters()
    page = None
    results = []
    if query:
        page, results = site_search.search_page(
            query=query, filters=filters, page_number=page_number
        )
    others = request.GET.copy()
    others.pop("page", None)
    if cacheable:
        shared = {"q": query, **({} if page_number == "1" else {"page": page_number})}
        _shared_address(request, urlencode(shared))
    context = {
        "form": form,
        "query": query,
        "page_obj": page,
        "results": results,
        "query_string": others.urlencode(),
        "filtered": filters.any,
    }
    response = render(request, "showcase/search.html", context)
    if cacheable and page_slot_take("search", SEARCH_PAGES_CACHED):
        page_set(field, response.status_code, response.content, generation)
    return response


@require_GET
def issue_detail(request, slug, number):
    def build():
        series = selectors.series_get(slug=slug)
        issue = selectors.issue_get_for_readers(series=series, number=number)
        if issue.status == issue.Status.UNPUBLISHED:
            context = {"series": series, "issue": issue}
            return render(
                request, "showcase/issue_unpublished.html", context, status=410
            )
        context = issue_page_context(series=series, issue=issue)
        return render(request, "showcase/issue_detail.html", context)

    return _cached(request, page_field("issue", slug, number), build)


def issue_page_context(*, series, issue) -> dict:
    """What the issue page shows: the readers' page and the editors' preview
    (showcase.editor_views) are built from this one place, so they agree."""
    previous, following = selectors.neighbour_issues(issue=issue)
    return {
        "series": series,
        "issue": issue,
        "entries": selectors.issue_entries_as_published(issue=issue),
        "previous_issue": previous,
        "next_issue": following,
    }


@require_GET
def case_detail(request, pk):
    """The public case page. Every read is counted, also when the page is cached."""
    field = page_field("case", pk)
    cached = None
    shared = _shared_reader(request)
    if shared:
        cached, pending = case_read(case_id=pk, request=request, field=field)
    if cached is not None:
        stored_count, body = page_split(cached)
    else:
        # Not cached, or a signed-in reader: the page is built, and only a
        # published case (the selector answers 404 otherwise) is counted. The
        # generation is read before the case, so a page built from what the
        # database held before a publish or unpublish is never kept after it.
        generation = page_generation() if shared else None
        if shared:
            _shared_address(request)
        case, issue = selectors.case_get_published(case_id=pk)
        html, stored_count = _render_case(request, case, issue)
        body = html.encode()
        if shared:
            page_set(
                field,
                stored_count,
                body,
                generation,
                extra={views_field(case.pk): stored_count},
                copy=body.replace(VIEWS_PLACEHOLDER_BYTES, views_beacon(case.pk)),
            )
        view_register(case_id=case.pk, request=request)
        pending = views_pending(case.pk)
    count = str(stored_count + pending).encode()
    return HttpResponse(body.replace(VIEWS_PLACEHOLDER_BYTES, count))


def views_beacon(case_id) -> bytes:
    """What stands for the count of reads in a case's published copy: a place
    the page's script fills from the beacon, which counts the reader as the
    page itself would have; without scripts, an image counts the reader."""
    beacon = reverse("showcase:case_views", args=[case_id])
    pixel = reverse("showcase:case_views_pixel", args=[case_id])
    return (
        f'<span data-views-beacon="{beacon}">–</span>'
        f'<noscript><img class="views-pixel" src="{pixel}" alt="" width="1" '
        f'height="1"></noscript>'
    ).encode()


# A transparent GIF of one pixel, what the image beacon answers.
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04"
    b"\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
NOT_STORED = {"Cache-Control": "no-store"}


@csrf_exempt
@require_POST
def case_views(request, pk):
    """The beacon of a case page from the published copy: counts the reader
    once per hour, as a read of the page does, and answers the count."""
    return JsonResponse({"views": _case_views_count(request, pk)}, headers=NOT_STORED)


@require_GET
def case_views_pixel(request, pk):
    """The beacon for readers without scripts, as an image."""
    _case_views_count(request, pk)
    return HttpResponse(PIXEL, content_type="image/gif", headers=NOT_STORED)


def _case_views_count(request, pk) -> int:
    """Count a read of a published case for the beacons, and the case's count.

    Only our own pages send a beacon (the browser says so, as for the language
    switch); the bounds of showcase.counter hold for it as for the page. The
    stored count goes to the cache, so the next beacon of this case is answered
    without Django (showcase.front).
    """
    if not _from_our_pages(request):
        raise PermissionDenied
    generation = page_generation()
    case, _issue = selectors.case_get_published(case_id=pk)
    stored_count = case.views.count if hasattr(case, "views") else 0
    view_register(case_id=case.pk, request=request)
    page_fields_set({views_field(case.pk): stored_count}, generation)
    return stored_count + views_pending(case.pk)


def _render_case(request, case, issue) -> tuple[str, int]:
    stored_count = case.views.count if hasattr(case, "views") else 0
    context = case_page_context(case=case, issue=issue)
    return render_to_string("showcase/case_detail.html", context, request), stored_count


def case_page_context(*, case, issue) -> dict:
    """What the case page shows, for the readers' page and the editors' preview
    alike; the count of reads is a placeholder the readers' page fills in."""
    revision = case.revisions.order_by("-number").first()
    previous, following = selectors.neighbour_issues(issue=issue)
    return {
        "case": case,
        "revision": revision,
        "issue": issue,
        "series": issue.series,
        "previous_issue": previous,
        "next_issue": following,
        "published_at": case.published_at,
        "view_count": VIEWS_PLACEHOLDER,
        "canonical_url": absolute_url(reverse("showcase:case", args=[case.pk])),
        # The cover of the revision shown, as the API names it, never one put
        # on the case row after publication.
        "cover_url": (
            absolute_url(default_storage.url(revision.cover_image))
            if revision is not None and revision.cover_image
            else ""
        ),
    }


# The browser's own word on where a request comes from: what a CSRF token
# proves for other forms. Anything but our own pages is refused.
SAME_ORIGIN_FETCH = frozenset({"same-origin"})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def language_switch(request, code):
    """Switch the language for this browser, by a POST from one of our pages.

    The switch sits in the footer of the pages the cache shares among readers,
    so its form carries no CSRF token (a token there would be one reader's, sent
    to all). What the token would prove, that the post comes from our own pages,
    the browser says itself: `Sec-Fetch-Site`, or failing that `Origin` or
    `Referer`, none of which another site's page can set. A GET changes nothing
    and only goes on to `next`, so no image or link elsewhere switches anyone's
    language.
    """
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if request.method != "POST":
        return response
    if not _from_our_pages(request):
        raise PermissionDenied
    if code in dict(settings.LANGUAGES):
        translation.activate(code)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


def _from_our_pages(request) -> bool:
    """True when the browser says the request was sent by a page of this site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in SAME_ORIGIN_FETCH
    sender = request.headers.get("Origin") or request.headers.get("Referer")
    if not sender or sender == "null":
        return False
    parts = urlsplit(sender)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin == f"{request.scheme}://{request.get_host()}" or (
        origin in settings.CSRF_TRUSTED_ORIGINS
    )


# The embeddable list of the latest issues (/embed/issues/): how many it
# shows when not told, and at most.
EMBED_LIMIT_DEFAULT = 5
EMBED_LIMIT_MAX = 20
EMBED_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}\Z")


def embed_params(query) -> tuple[str | None, int]:
    """The series slug ("" for every series; None for one no series can have)
    and the number of issues an embed asks for. A number that is not one, or
    out of bounds, gives the default or the nearest bound: the other site's
    page shows a list either way."""
    slug = query.get("series", "")
    if slug and not EMBED_SLUG.match(slug):
        slug = None
    limit = query.get("limit", "")
    if limit.isascii() and limit.isdigit() and len(limit) <= 4:
        limit = min(max(int(limit), 1), EMBED_LIMIT_MAX)
    else:
        limit = EMBED_LIMIT_DEFAULT
    return slug, limit


@xframe_options_exempt
@require_GET
def embed_issues(request):
    """The latest published issues, for a frame on another site's page.

    Only the origins the admin allowed (showcase.models.EmbedOrigin) may frame
    it: CSP's frame-ancestors names them, read per request from the cached
    list, and X-Frame-Options, which can name none, is left off this page only.
    The page is the same for every reader, signed in or not, so it is cached
    for everyone (its address parts are bounded: a series that exists, a
    number up to EMBED_LIMIT_MAX) and retired with the other public pages.
    """
    slug, limit = embed_params(request.GET)
    origins = selectors.embed_origins()
    response = None
    if slug is not None:
        field = page_field("embed", slug or "-", limit)
        cached, generation = page_lookup(field)
        if cached is not None:
            status, content = page_split(cached)
            response = HttpResponse(content, status=status)
        else:
            response = _embed_build(request, slug=slug, limit=limit, origins=origins)
            if response.status_code == 200:
                page_set(field, 200, response.content, generation)
    if response is None:
        response = _embed_build(request, slug=None, limit=limit, origins=origins)
    response._csp_replace = {"frame-ancestors": [SELF, *origins]}
    return response


def _embed_build(request, *, slug, limit, origins) -> HttpResponse:
    context = {"origins": list(origins), "series": None, "missing": False}
    try:
        if slug is None:
            raise Http404
        series = selectors.series_get(slug=slug) if slug else None
    except Http404:
        context["missing"] = True
        return render(request, "showcase/embed_issues.html", context, status=404)
    context["series"] = series
    context["issues"] = selectors.published_issues_newest(series=series, limit=limit)
    return render(request, "showcase/embed_issues.html", context)


@require_GET
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /accounts/",
        "Disallow: /submissions/",
        "Disallow: /review/",
        "Disallow: /inbox/",
        "Disallow: /editor/",
        "Disallow: /embed/",
        f"Sitemap: {absolute_url(reverse('sitemap'))}",
    ]
    return HttpResponse(
        "\n".join(lines) + "\n", content_type="text/plain; charset=utf-8"
    )


@require_GET
def healthz(request):
    """Database, cache and broker status as JSON; 503 when any is down."""
    checks = {
        "database": _check(_database_ok),
        "cache": _check(_cache_ok),
        "broker": _check(_broker_ok),
    }
    healthy = all(status in ("ok", "not configured") for status in checks.values())
    body = {"status": "ok" if healthy else "degraded", **checks}
    return JsonResponse(
        body,
        status=200 if healthy else 503,
        json_dumps_params={"ensure_ascii": False},
        headers={"Cache-Control": "no-store"},
    )


def _check(probe) -> str:
    try:
        return probe()
    except Exception as error:  # any failure means down; say which kind
        return f"down: {type(error).__name__}"


def _database_ok() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _cache_ok() -> str:
    key = "casehub:healthz"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return what was stored")
    return "ok"


def _broker_ok() -> str:
    if celery_app.conf.task_always_eager:
        return "not configured"
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"
