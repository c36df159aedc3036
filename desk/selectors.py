"""What waits for each of a user's roles, read for the desk (工作台).

A user may hold several roles: secretary of one organisation, correspondent of
another, reviewer at a stage, editor. Each role that applies gets its section;
none of them costs more queries when there are more cases: lists are cut to
`DESK_ROWS` and counted apart, the reviewer's stages are counted in one query,
and the workflow's table is read once for all of a user's organisations
rather than asked case by case.
"""

import datetime
from dataclasses import dataclass

from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from campaigns.selectors import OpenCall, open_calls_for
from casehub import roles
from review import workflow
from review.models import CaseEvent, ReviewStage
from review.selectors import stage_counts, stages_for_reviewer
from showcase.models import Issue, Series
from showcase.selectors import approved_queue, series_active, upcoming_slots
from submissions.models import Branch, Case, Membership

# How many cases a list on the desk shows; the rest are a link away.
DESK_ROWS = 8
# How far ahead the desk looks for a series' free weekly slot.
SLOT_WEEKS = 12

# The workflow's roles that belong to an organisation, as the memberships that
# hold them (workflow.has_role asks the same of one case).
BRANCH_ROLES = {
    workflow.Role.MEMBER: frozenset(Membership.Role.values),
    workflow.Role.SECRETARY: frozenset({Membership.Role.SECRETARY}),
}


@dataclass
class CaseRows:
    """The first few cases of a list, and how many there are in all."""

    rows: list[Case]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def _rows(queryset: QuerySet[Case]) -> CaseRows:
    return CaseRows(rows=list(queryset[:DESK_ROWS]), total=queryset.count())


def memberships_of(*, user) -> list[Membership]:
    """The user's memberships of organisations in use, with the organisation."""
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user=user, branch__is_active=True)
        .select_related("branch")
        .order_by("branch__name", "pk")
    )


def cases_offering(*, action: str, memberships: list[Membership]) -> QuerySet[Case]:
    """Cases of the user's organisations on which they may take `action` now.

    The answer `action in workflow.action_names(case, user)` gives for each
    case, read from the action's row of the table (the states it leaves and
    the organisation role it needs) in one query rather than one per case.
    Only actions an organisation's member takes have such a row here.
    """
    transition = workflow.TRANSITION[action]
    holding = BRANCH_ROLES[transition.role]
    branches = [m.branch_id for m in memberships if m.role in holding]
    return Case.objects.filter(
        branch__in=branches, status__in=transition.sources
    ).select_related("branch", "last_edited_by")


def _branches_as(memberships: list[Membership], role: str) -> list[Branch]:
    return [m.branch for m in memberships if m.role == role]


@dataclass
class SecretaryDesk:
    branches: list[Branch]
    to_sign_off: CaseRows
    returned: CaseRows
    open_calls: list[OpenCall]


def secretary_desk(*, memberships: list[Membership]) -> SecretaryDesk | None:
    """Drafts the secretary may submit, cases sent back with the reviewer's
    comment, and the calls their organisations can still answer."""
    branches = _branches_as(memberships, Membership.Role.SECRETARY)
    if not branches:
        return None
    sent_back = CaseEvent.objects.filter(
        case=OuterRef("pk"),
        action__in=[CaseEvent.Action.RETURN, CaseEvent.Action.REOPEN],
    ).order_by("-created_at", "-pk")
    returned = cases_offering(
        action=CaseEvent.Action.RESUBMIT, memberships=memberships
    ).annotate(
        return_comment=Subquery(sent_back.values("comment")[:1]),
        returned_at=Subquery(sent_back.values("created_at")[:1]),
    )
    to_sign_off = cases_offering(
        action=CaseEvent.Action.SUBMIT, memberships=memberships
    )
    return SecretaryDesk(
        branches=branches,
        to_sign_off=_rows(to_sign_off.order_by("-updated_at", "-pk")),
        returned=_rows(returned.order_by("-returned_at", "-pk")),
        open_calls=open_calls_for(branches=branches),
    )


@dataclass
class CorrespondentDesk:
    branches: list[Branch]
    drafts: CaseRows


def correspondent_desk(
    *, user, memberships: list[Membership]
) -> CorrespondentDesk | None:
    """The cases of the correspondent's organisations still being written,
    the ones they edited last first."""
    branches = _branches_as(memberships, Membership.Role.CORRESPONDENT)
    if not branches:
        return None
    theirs_first = models.Case(
        models.When(last_edited_by=user, then=0),
        default=1,
        output_field=models.IntegerField(),
    )
    drafts = (
        Case.objects.filter(branch__in=branches, status__in=Case.EDITABLE)
        .select_related("branch", "last_edited_by")
        .order_by(theirs_first, "-updated_at", "-pk")
    )
    return CorrespondentDesk(branches=branches, drafts=_rows(drafts))


@dataclass
class StageCount:
    stage: ReviewStage
    waiting: int
    overdue: int


def reviewer_desk(*, user) -> list[StageCount] | None:
    """Cases waiting, and overdue, at each stage the user reviews."""
    stages = list(stages_for_reviewer(user=user))
    if not stages:
        return None
    counts = stage_counts(stages=stages)
    return [StageCount(stage=stage, **counts[stage.pk]) for stage in stages]


@dataclass
class SeriesSlot:
    series: Series
    # None: every weekly slot of the next SLOT_WEEKS has an issue planned.
    next_free: datetime.datetime | None


@dataclass
class EditorDesk:
    waiting: CaseRows
    slots: list[SeriesSlot]
    weeks: int = SLOT_WEEKS


def editor_desk(*, user, now: datetime.datetime | None = None) -> EditorDesk | None:
    """Approved cases waiting for an issue, and each series' next free slot."""
    if not roles.may_publish(user):
        return None
    now = now or timezone.now()
    planned = set(
        Issue.objects.filter(
            status=Issue.Status.PLANNED, scheduled_at__gte=now
        ).values_list("series_id", "scheduled_at")
    )
    slots = [
        SeriesSlot(
            series=series,
            next_free=next(
                (
                    slot
                    for slot in upcoming_slots(series=series, count=SLOT_WEEKS, now=now)
                    if (series.pk, slot) not in planned
                ),
                None,
            ),
        )
        for series in series_active().order_by("title", "pk")
    ]
    # The queue's themes are not shown here; leave their query out.
    return EditorDesk(
        waiting=_rows(approved_queue().prefetch_related(None)), slots=slots
    )


@dataclass
class Desk:
    memberships: list[Membership]
    secretary: SecretaryDesk | None
    correspondent: CorrespondentDesk | None
    reviewer: list[StageCount] | None
    editor: EditorDesk | None
    # Neither in an organisation nor holding a department role: the desk
    # says whom to ask, and nothing else.
    without_role: bool

    @property
    def sections(self) -> list[str]:
        """The sections shown, in the page's order."""
        return [
            name
            for name in ("secretary", "correspondent", "reviewer", "editor")
            if getattr(self, name) is not None
        ]


def desk_for(*, user) -> Desk:
    memberships = memberships_of(user=user)
    return Desk(
        memberships=memberships,
        secretary=secretary_desk(memberships=memberships),
        correspondent=correspondent_desk(user=user, memberships=memberships),
        reviewer=reviewer_desk(user=user),
        editor=editor_desk(user=user),
        without_role=not memberships and not roles.is_department(user),
    )
