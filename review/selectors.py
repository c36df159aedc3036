from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from casehub import roles
from submissions.models import Case, CaseRevision, Membership, overdue_q
from textcheck.models import RevisionCheck, dictionary_version
from textcheck.services import (
    Finding,
    case_text_check,
    revision_findings,
    revision_open_findings,
)

from .findings import by_field
from .models import CaseEvent, ReviewStage

PUBLISH_CODENAME = roles.PUBLISH.split(".")[1]


def stages_for_reviewer(*, user) -> QuerySet[ReviewStage]:
    if not user.is_authenticated:
        return ReviewStage.objects.none()
    # A scoring stage's panel scores on its own pages (review.scoring_views).
    return ReviewStage.objects.filter(
        is_active=True,
        kind=ReviewStage.Kind.REVIEW,
        reviewer_group__in=user.groups.all(),
    ).order_by("position")


def stages_out_of_use_for(*, user) -> QuerySet[ReviewStage]:
    """Deactivated stages whose reviewer group the user is in."""
    if not user.is_authenticated:
        return ReviewStage.objects.none()
    return ReviewStage.objects.filter(
        is_active=False, reviewer_group__in=user.groups.all()
    ).order_by("position")


def stage_counts(*, stages) -> dict[int, dict[str, int]]:
    """Cases waiting, and overdue, at each stage: one query for all stages."""
    rows = (
        Case.objects.filter(status=Case.Status.IN_REVIEW, current_stage__in=stages)
        .values("current_stage")
        .annotate(
            waiting=Count("pk"),
            overdue=Count("pk", filter=overdue_q()),
        )
    )
    counts = {stage.pk: {"waiting": 0, "overdue": 0} for stage in stages}
    for row in rows:
        counts[row["current_stage"]] = {
            "waiting": row["waiting"],
            "overdue": row["overdue"],
        }
    return counts


def queue_for_stage(*, stage: ReviewStage) -> QuerySet[Case]:
    """Cases waiting at `stage`, the longest-waiting first."""
    return (
        Case.objects.filter(status=Case.Status.IN_REVIEW, current_stage=stage)
        .select_related("branch", "current_stage")
        .prefetch_related("themes")
        .order_by("stage_entered_at", "pk")
    )


def case_get_for_reviewer(*, case_id, user) -> Case:
    """A case waiting at a stage the user reviews; anything else is the same 404."""
    try:
        return Case.objects.select_related("branch", "current_stage").get(
            pk=case_id,
            status=Case.Status.IN_REVIEW,
            current_stage__in=stages_for_reviewer(user=user),
        )
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def revisions_for_review(*, case: Case) -> tuple[CaseRevision, CaseRevision | None]:
    """The revision under review and the one before it, if any."""
    latest_two = list(case.revisions.order_by("-number")[:2])
    if not latest_two:
        raise Http404
    return latest_two[0], (latest_two[1] if len(latest_two) > 1 else None)


# Audit rows the case's timeline leaves out: its saves, and the scoring
# panel's work (who scores a case and how is not the branch's to read).
OFF_THE_TIMELINE = frozenset(
    {CaseEvent.Action.EDIT, CaseEvent.Action.SCORE, CaseEvent.Action.SCORERS}
)


def case_timeline(*, case: Case) -> QuerySet[CaseEvent]:
    """How the case moved through the workflow; its saves are left out."""
    return (
        case.events.exclude(action__in=OFF_THE_TIMELINE)
        .select_related("actor", "revision", "stage")
        .order_by("created_at", "pk")
    )


def _findings_read(revision: CaseRevision, *, version: int) -> list:
    """(field, finding) pairs of `revision`, all of them, for a page.

    The stored result while it is current. Otherwise (the worker has not run,
    or the dictionary changed and the re-check has not reached it) the check
    runs here and is not stored: a GET writes nothing (tests/security/
    test_safe_methods.py), and the workflow's own `revision_check` stores it
    when scheduling or publishing asks.
    """
    try:
        check = revision.text_check
    except RevisionCheck.DoesNotExist:
        check = None
    if check is not None and check.version == version:
        return revision_findings(check)
    now = case_text_check(
        title=revision.title,
        tagline=revision.tagline,
        lead=revision.lead,
        body=revision.body,
    )
    return [(field, finding) for field in now for finding in now[field]]


def revision_findings_by_field(*, revision: CaseRevision) -> dict[str, list[Finding]]:
    """Every finding of `revision`, overridden or not, by field."""
    return by_field(_findings_read(revision, version=dictionary_version()))


def _latest_revisions(case_ids) -> QuerySet[CaseRevision]:
    newest = CaseRevision.objects.filter(case_id=OuterRef("case_id")).order_by(
        "-number"
    )
    return (
        CaseRevision.objects.filter(
            case_id__in=case_ids, number=Subquery(newest.values("number")[:1])
        )
        .select_related("text_check")
        .prefetch_related("finding_overrides")
    )


def cases_open_findings(*, cases) -> dict[int, list[tuple[str, Finding]]]:
    """{case id: (field, finding) pairs} of each case's latest revision, minus
    the findings an editor overrode.

    The same few queries for any number of cases while their stored checks
    are current (the editors' desk lists them all); a case whose check is
    missing or older than the dictionary is checked as the page is made.
    """
    case_ids = [case.pk for case in cases]
    found = {case_id: [] for case_id in case_ids}
    if not case_ids:
        return found
    version = dictionary_version()
    for revision in _latest_revisions(case_ids):
        overridden = {
            (override.field, override.kind, override.term, override.start)
            for override in revision.finding_overrides.all()
        }
        found[revision.case_id] = [
            (field, finding)
            for field, finding in _findings_read(revision, version=version)
            if (field, *finding.key) not in overridden
        ]
    return found


def case_open_finding_get(
    *, case: Case, field: str, kind: str, term: str, start: int
) -> Finding | None:
    """The open finding of the case's latest revision a form names, if any."""
    revision = case.revisions.order_by("-number").first()
    if revision is None:
        return None
    return next(
        (
            finding
            for candidate_field, finding in revision_open_findings(revision)
            if candidate_field == field and finding.key == (kind, term, start)
        ),
        None,
    )


def rejected_cases() -> QuerySet[Case]:
    return (
        Case.objects.filter(status=Case.Status.REJECTED)
        .select_related("branch")
        .order_by("-updated_at", "-pk")
    )


def case_get_rejected(*, case_id) -> Case:
    try:
        return rejected_cases().get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def event_recipients(*, event: CaseEvent) -> list:
    """Who hears of an event, by the rules of the workflow.

    Decided from the event itself, not from the case now: a task that runs late
    still tells the people the event concerned.
    """
    User = get_user_model()
    if event.action in (CaseEvent.Action.SCORE, CaseEvent.Action.SCORERS):
        # The case stays where it was: nobody has new work from it.
        return []
    case = event.case
    finally_approved = (
        event.action == CaseEvent.Action.APPROVE
        and event.to_status == Case.Status.APPROVED
    )
    audiences = []
    if event.to_stage_id:
        # The case arrived at a stage: its reviewers have work.
        audiences.append(Q(groups=event.to_stage.reviewer_group_id))
    if event.action == CaseEvent.Action.WITHDRAW and event.stage_id:
        audiences.append(Q(groups=event.stage.reviewer_group_id))
    if event.action in BRANCH_HEARS or finally_approved:
        audiences.append(
            Q(
                memberships__branch=case.branch_id,
                memberships__role=Membership.Role.SECRETARY,
            )
            | Q(pk=case.last_edited_by_id)
        )
    if finally_approved:
        # Editors schedule approved cases into the showcase.
        audiences.append(
            Q(groups__permissions__codename=PUBLISH_CODENAME)
            | Q(user_permissions__codename=PUBLISH_CODENAME)
        )
    if not audiences:
        return []
    who = audiences[0]
    for audience in audiences[1:]:
        who |= audience
    users = User.objects.filter(who, is_active=True)
    if event.actor_id:
        users = users.exclude(pk=event.actor_id)
    return list(users.distinct().order_by("pk"))


# What the branch is told of, besides final approval: its case came back,
# was turned down, or went out to (or was taken off) the public site.
BRANCH_HEARS = frozenset(
    {
        CaseEvent.Action.RETURN,
        CaseEvent.Action.REJECT,
        CaseEvent.Action.REOPEN,
        CaseEvent.Action.PUBLISH,
        CaseEvent.Action.UNPUBLISH,
    }
)
