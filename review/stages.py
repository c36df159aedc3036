"""Setting up review stages. Every change to a stage goes through here.

A stage is locked while it changes, and cannot be deactivated while cases
wait at it: its reviewers would lose the queue those cases sit in. Each
change appends one StageEvent naming who made it and what it changed.
"""

from django.contrib.auth import get_user_model
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


class ScoringUnusable(WrongState):
    """A scoring stage set up so that no case could be scored at it."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__(" ".join(problems.values()))


# The settings that decide whether a scoring stage can assign its cases.
SCORING_SETUP = ("kind", "reviewer_group", "scorers_per_case")


def scoring_setup_problems(*, kind, reviewer_group, scorers_per_case) -> dict:
    """{setting: why}: what makes a scoring stage unusable, empty if nothing.

    A case entering a scoring stage needs scorers (review.scoring), so its
    panel has active members and each case at least one scorer, and no more
    than the panel has. Members who belong to a case's organisation are left
    out for that case; with fewer left than k the case gets all of them.
    """
    if kind != ReviewStage.Kind.SCORING:
        return {}
    problems = {}
    per_case = scorers_per_case or 0
    if per_case < 1:
        problems["scorers_per_case"] = _("At least one panel member scores each case.")
    if reviewer_group is None:
        return problems
    size = (
        get_user_model().objects.filter(is_active=True, groups=reviewer_group).count()
    )
    if size == 0:
        problems["reviewer_group"] = _(
            "The panel %(group)s has no active members: nobody could score "
            "the cases. Add its members first."
        ) % {"group": reviewer_group}
    elif per_case > size:
        problems["scorers_per_case"] = _(
            "%(count)d scorers per case is more than the panel %(group)s has "
            "(%(size)d)."
        ) % {"count": per_case, "group": reviewer_group, "size": size}
    return problems


def _require_usable(stage: ReviewStage) -> None:
    problems = scoring_setup_problems(
        kind=stage.kind,
        reviewer_group=stage.reviewer_group,
        scorers_per_case=stage.scorers_per_case,
    )
    if problems:
        raise ScoringUnusable(problems)


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
    stage = ReviewStage(**fields)
    _require_usable(stage)
    stage.save(force_insert=True)
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
    if changed.keys() & set(SCORING_SETUP):
        _require_usable(stage)
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
