import copy
import logging
import uuid

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from submissions.models import Case, CaseRevision

from .models import EmbedOrigin, Issue, IssueCase, Series
from .origins import origin_normalise

logger = logging.getLogger(__name__)


def series_active() -> QuerySet[Series]:
    return Series.objects.filter(is_active=True)


def series_get(*, slug: str) -> Series:
    try:
        return series_active().get(slug=slug)
    except Series.DoesNotExist:
        raise Http404 from None


def series_public() -> QuerySet[Series]:
    """The active series, each with how many issues it has out and the number
    of the latest, in the one query."""
    published = Q(issues__status=Issue.Status.PUBLISHED)
    return (
        series_active()
        .annotate(
            published_count=Count("issues", filter=published),
            latest_number=Max("issues__number", filter=published),
        )
        .order_by("title", "pk")
    )


def series_public_get(*, slug: str) -> Series:
    try:
        return series_public().get(slug=slug)
    except Series.DoesNotExist:
        raise Http404 from None


def published_issues(*, series: Series) -> QuerySet[Issue]:
    return (
        Issue.objects.filter(series=series, status=Issue.Status.PUBLISHED)
        .select_related("series")
        .order_by("-number")
    )


def issues_for_readers(*, series: Series) -> QuerySet[Issue]:
    """Published issues, and unpublished ones: those keep their number and
    show readers a notice in place of their cases."""
    return (
        Issue.objects.filter(
            series=series,
            status__in=[Issue.Status.PUBLISHED, Issue.Status.UNPUBLISHED],
        )
        .select_related("series")
        .order_by("-number")
    )


def issue_get_for_readers(*, series: Series, number) -> Issue:
    try:
        return issues_for_readers(series=series).get(number=number)
    except (Issue.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def issue_get_published(*, series: Series, number) -> Issue:
    try:
        return published_issues(series=series).get(number=number)
    except (Issue.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def issue_entries(*, issue: Issue) -> QuerySet[IssueCase]:
    """The cases of an issue in their order, each with its organisation."""
    return (
        IssueCase.objects.filter(issue=issue)
        .select_related("case__branch")
        .order_by("position", "pk")
    )


def issue_entries_as_published(*, issue: Issue) -> list[IssueCase]:
    """`issue_entries`, each with `shown`: the revision its case's page shows
    (published_revisions), so the issue page names what the case page names,
    whatever the case row or its branch's name has become since."""
    entries = list(issue_entries(issue=issue))
    shown = published_revisions(case_ids=[entry.case_id for entry in entries])
    for entry in entries:
        entry.shown = shown.get(entry.case_id)
    return [entry for entry in entries if entry.shown is not None]


def case_get_published(*, case_id) -> tuple[Case, Issue]:
    """A published case with the published issue that carries it; else 404.

    A case that is approved or scheduled but not yet out, or whose issue was
    taken down, is a 404 like a missing one.
    """
    try:
        entry = (
            IssueCase.objects.select_related(
                "issue__series", "case__branch", "case__views"
            )
            .filter(
                case_id=int(case_id),
                case__status=Case.Status.PUBLISHED,
                issue__status=Issue.Status.PUBLISHED,
                issue__series__is_active=True,
            )
            .latest("issue__published_at")
        )
    except (IssueCase.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
    return entry.case, entry.issue


def case_published_revision(*, case: Case):
    """The revision a published case's page shows: its latest, the one that
    was approved."""
    revision = case.revisions.order_by("-number").first()
    if revision is None:
        raise Http404
    return revision


def published_revisions(*, case_ids) -> dict:
    """The revision each of these cases' pages shows (case_published_revision),
    by case id, in one query; the bodies are left in the database."""
    latest = (
        CaseRevision.objects.filter(case=OuterRef("case"))
        .order_by("-number")
        .values("number")[:1]
    )
    revisions = CaseRevision.objects.filter(
        case_id__in=list(case_ids), number=Subquery(latest)
    ).defer("body")
    return {revision.case_id: revision for revision in revisions}


def neighbour_issues(*, issue: Issue) -> tuple[Issue | None, Issue | None]:
    """The published issues just before and after `issue` in its series."""
    around = {
        neighbour.number: neighbour
        for neighbour in published_issues(series=issue.series).filter(
            number__in=[issue.number - 1, issue.number + 1]
        )
    }
    return around.get(issue.number - 1), around.get(issue.number + 1)


def latest_issues() -> list[Issue]:
    """The newest published issue of each active series."""
    issues = []
    for series in series_active():
        latest = published_issues(series=series).first()
        if latest is not None:
            issues.append(latest)
    return issues


def published_issues_newest(
    *, series: Series | None = None, limit: int
) -> QuerySet[Issue]:
    """The most recently published issues of the active series (or of one),
    newest first."""
    issues = Issue.objects.filter(
        status=Issue.Status.PUBLISHED, series__is_active=True
    ).select_related("series")
    if series is not None:
        issues = issues.filter(series=series)
    return issues.order_by("-published_at", "-pk")[:limit]


def recent_cases(*, limit: int = 8) -> QuerySet[Case]:
    return (
        Case.objects.filter(
            status=Case.Status.PUBLISHED,
            issues__status=Issue.Status.PUBLISHED,
        )
        .select_related("branch")
        .order_by("-published_at", "-pk")
        .distinct()[:limit]
    )


def approved_queue() -> QuerySet[Case]:
    """Approved cases waiting for an issue: pinned first, then in approval order."""
    return (
        Case.objects.filter(status=Case.Status.APPROVED)
        .select_related("branch", "queue_entry")
        .prefetch_related("themes")
        .annotate(
            pinned=Coalesce("queue_entry__is_pinned", False),
            held=Coalesce("queue_entry__is_held", False),
        )
        .order_by("-pinned", "held", "approved_at", "pk")
    )


def issue_as_planned(*, issue: Issue) -> Issue:
    """A planned issue as readers will see it if it goes out as planned: an
    unsaved copy with the number it will get and its slot as publish time.

    The planned issues of the series due before it, those with cases (an
    issue without cases is not published), take their numbers first, as the
    schedule publishes them in time order.
    """
    last = (
        Issue.objects.filter(series_id=issue.series_id, number__isnull=False)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    ) or 0
    ahead = (
        Issue.objects.filter(
            series_id=issue.series_id,
            status=Issue.Status.PLANNED,
            entries__isnull=False,
        )
        .filter(
            Q(scheduled_at__lt=issue.scheduled_at)
            | Q(scheduled_at=issue.scheduled_at, pk__lt=issue.pk)
        )
        .distinct()
        .count()
    )
    planned = copy.copy(issue)
    planned.number = last + ahead + 1
    planned.published_at = issue.scheduled_at
    return planned


def issue_get_planned(*, issue_id) -> Issue:
    try:
        return Issue.objects.select_related("series").get(
            pk=issue_id, status=Issue.Status.PLANNED
        )
    except (Issue.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def issue_planned_with_case(*, issue_id: int, case: Case) -> bool:
    return Issue.objects.filter(
        pk=issue_id, status=Issue.Status.PLANNED, entries__case=case
    ).exists()


# The cases the editors' desk handles: waiting for an issue, or in one.
ON_DESK = (Case.Status.APPROVED, Case.Status.SCHEDULED)


def case_get_on_desk(*, case_id) -> Case:
    """An approved or scheduled case; anything else is the same 404."""
    try:
        return Case.objects.select_related("branch").get(pk=case_id, status__in=ON_DESK)
    except (Case.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def planned_issues() -> QuerySet[Issue]:
    return (
        Issue.objects.filter(status=Issue.Status.PLANNED)
        .select_related("series")
        .prefetch_related(
            Prefetch(
                "entries",
                queryset=IssueCase.objects.select_related("case__branch").order_by(
                    "position", "pk"
                ),
            )
        )
        .order_by("scheduled_at", "pk")
    )


def upcoming_slots(*, series: Series, count: int = 6, now=None):
    """The next weekly publication times of `series`, in Beijing time."""
    import datetime

    now = timezone.localtime(now or timezone.now())
    days_ahead = (series.publish_weekday - now.weekday()) % 7
    first_day = now.date() + datetime.timedelta(days=days_ahead)
    first = timezone.make_aware(
        datetime.datetime.combine(first_day, series.publish_time)
    )
    if first <= now:
        first += datetime.timedelta(days=7)
    return [first + datetime.timedelta(weeks=week) for week in range(count)]


EMBED_ORIGINS_KEY = "showcase:embed-origins"
EMBED_ORIGINS_VERSION_KEY = "showcase:embed-origins:version"
EMBED_ORIGINS_TIMEOUT = 60 * 60


def embed_origins() -> tuple[str, ...]:
    """The active embedding origins, sorted: from the cache in one round trip,
    from the database only after a change.

    The list is stored with the version it was read under, and a change sets a
    new version (embed_origins_forget), so a list read from the database just
    before a change committed is never taken for the list after it.
    """
    try:
        found = cache.get_many([EMBED_ORIGINS_KEY, EMBED_ORIGINS_VERSION_KEY])
    except Exception as error:  # a cache that cannot be reached: ask the database
        logger.warning("embedding origins read without the cache: %s", error)
        return _embed_origins_read()
    version = found.get(EMBED_ORIGINS_VERSION_KEY)
    stored = found.get(EMBED_ORIGINS_KEY)
    if version is not None and isinstance(stored, tuple) and stored[0] == version:
        return stored[1]
    if version is None:
        cache.add(EMBED_ORIGINS_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(EMBED_ORIGINS_VERSION_KEY)
    origins = _embed_origins_read()
    if version is not None:
        cache.set(EMBED_ORIGINS_KEY, (version, origins), EMBED_ORIGINS_TIMEOUT)
    return origins


def _embed_origins_read() -> tuple[str, ...]:
    # Every origin goes into a header (CSP) and is compared with Origin: one a
    # bulk update wrote without the model's normalising is left out.
    stored = (
        EmbedOrigin.objects.filter(is_active=True)
        .order_by("origin")
        .values_list("origin", flat=True)
    )
    return tuple(origin for origin in stored if _normal_origin(origin))


def _normal_origin(origin: str) -> bool:
    try:
        return origin_normalise(origin) == origin
    except ValidationError:
        return False


def embed_origins_forget() -> None:
    """After a change of the embedding origins: the next read asks the database."""
    cache.set(EMBED_ORIGINS_VERSION_KEY, uuid.uuid4().hex, timeout=None)
