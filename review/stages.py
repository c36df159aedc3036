"""Setting up review stages. Every change to a stage goes through here.

A stage is locked while it changes, and cannot be deactivated while cases
wait at it: its reviewers would lose the queue those cases sit in. Each
change appends one StageEvent naming who made it and what it changed.
"""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from casehub.exceptions import NotPermitted, WrongState
from submissions.models import Case

from .models import ReviewStage, StageEvent

# The settings an administrator may change, in the order the log lists them.
STAGE_FIELDS = (
    "position",
    "name",
    "reviewer_group",
    "due_in_days",
    "resume_after_return",
    "is_active",
    "kind",
    "scorers_per_case",
    "scoring_deadline",
    "is_blind",
)


class StageInUse(WrongState):
    """The stage cannot be deactivated: cases are waiting at it."""


def _require(user, permission: str) -> None:
    if not (user.is_authenticated and user.has_perm(permission)):
        raise NotPermitted(_("Only administrators may set up review stages."))


def _unknown_fields(changes: dict) -> None:
    unknown = sorted(set(changes) - set(STAGE_FIELDS))
    if unknown:
        raise TypeError(f"not a stage setting: {', '.join(unknown)}")


def _as_text(value):
    return None if value is None else str(value)


def stage_waiting_count(*, stage: ReviewStage) -> int:
    return Case.objects.filter(
        status=Case.Status.IN_REVIEW, current_stage=stage
    ).count()


def stage_deactivation_check(*, stage: ReviewStage) -> None:
    """Refuse to deactivate `stage` while cases wait at it, saying how many."""
    waiting = stage_waiting_count(stage=stage)
    if waiting:
        raise StageInUse(
            ngettext(
                "%(count)d case is waiting at %(stage)s; decide it before "
                "deactivating the stage.",
                "%(count)d cases are waiting at %(stage)s; decide them before "
                "deactivating the stage.",
                waiting,
            )
            % {"count": waiting, "stage": stage.name}
        )


@transaction.atomic
def stage_create(*, acting_user, **fields) -> ReviewStage:
    """Set up a new stage from the settings in `fields`."""
    _require(acting_user, "review.add_reviewstage")
    _unknown_fields(fields)
    stage = ReviewStage.objects.create(**fields)
    StageEvent.objects.create(
        stage=stage,
        actor=acting_user,
        action=StageEvent.Action.CREATE,
        changes={name: [None, _as_text(getattr(stage, name))] for name in STAGE_FIELDS},
    )
    return stage


@transaction.atomic
def stage_update(*, stage: ReviewStage, acting_user, **changes) -> ReviewStage:
    """Change a stage's settings; deactivating one with cases waiting is refused.

    The stage row stays locked until commit, and cases enter a stage only
    while holding its lock (review.services), so no case can arrive between
    the count of waiting cases and the deactivation.
    """
    _require(acting_user, "review.change_reviewstage")
    _unknown_fields(changes)
    stage = ReviewStage.objects.select_for_update().get(pk=stage.pk)
    changed = {
        name: value for name, value in changes.items() if getattr(stage, name) != value
    }
    if not changed:
        return stage
    deactivating = changed.get("is_active") is False
    if deactivating:
        stage_deactivation_check(stage=stage)
    before = {name: _as_text(getattr(stage, name)) for name in changed}
    for name, value in changed.items():
        setattr(stage, name, value)
    stage.save(update_fields=list(changed))
    if deactivating:
        action = StageEvent.Action.DEACTIVATE
    elif changed.get("is_active") is True:
        action = StageEvent.Action.ACTIVATE
    else:
        action = StageEvent.Action.CHANGE
    StageEvent.objects.create(
        stage=stage,
        actor=acting_user,
        action=action,
        changes={
            name: [before[name], _as_text(getattr(stage, name))]
            for name in STAGE_FIELDS
            if name in changed
        },
    )
    return stage


def stage_deactivate(*, stage: ReviewStage, acting_user) -> ReviewStage:
    """Take a stage out of use; refused while cases wait at it."""
    return stage_update(stage=stage, acting_user=acting_user, is_active=False)
