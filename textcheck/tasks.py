from celery import shared_task
from django.db.models import OuterRef, Subquery

from submissions.models import Case, CaseRevision

from . import services

# The cases whose latest revision may still be scheduled or published.
OPEN_STATUSES = (Case.Status.IN_REVIEW, Case.Status.APPROVED, Case.Status.SCHEDULED)


@shared_task
def revision_check_task(revision_id: int) -> bool:
    """Check one submitted revision; a stored result of the current
    dictionary is kept, so running it twice costs one query more."""
    revision = (
        CaseRevision.objects.select_related("text_check").filter(pk=revision_id).first()
    )
    if revision is None:
        return False
    services.revision_check(revision)
    return True


@shared_task
def open_revisions_recheck() -> int:
    """After a dictionary change: check again the latest revision of every
    case in review, approved or scheduled. Returns how many were read."""
    latest = (
        CaseRevision.objects.filter(case=OuterRef("pk"))
        .order_by("-number")
        .values("pk")[:1]
    )
    revision_ids = (
        Case.objects.filter(status__in=OPEN_STATUSES)
        .annotate(latest_revision=Subquery(latest))
        .exclude(latest_revision=None)
        .values_list("latest_revision", flat=True)
    )
    revisions = (
        CaseRevision.objects.filter(pk__in=list(revision_ids))
        .select_related("text_check")
        .order_by("pk")
    )
    checked = 0
    for revision in revisions.iterator(chunk_size=200):
        services.revision_check(revision)
        checked += 1
    return checked
