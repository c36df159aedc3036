from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from casehub import roles
from submissions.models import Case, CaseRevision, Membership, overdue_q

from .models import CaseEvent, ReviewStage

PUBLISH_CODENAME = roles.PUBLISH.split(".")[1]


def stages_for_reviewer(*, user) -> QuerySet[ReviewStage]:
    if not user.is_authenticated:
        return ReviewStage.objects.none()
    return ReviewStage.objects.filter(
        is_active=True, reviewer_group__in=user.groups.all()
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


def case_timeline(*, case: Case) -> QuerySet[CaseEvent]:
    """How the case moved through the workflow; its saves are left out."""
    return (
        case.events.exclude(action=CaseEvent.Action.EDIT)
        .select_related("actor", "revision", "stage")
        .order_by("created_at", "pk")
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
