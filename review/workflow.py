"""The life of a case, in one place: every state it can be in, every action
that moves it, who may take each, and the services that do it.

`TRANSITIONS` is the table. `available_actions(case, user)` reads it for the
pages (a template offers what this returns and compares no status itself), and
each service below checks its own row of it before it changes anything. No
other module writes `Case.status`; tests/review/test_transitions.py holds a
hand-written copy of the table and tests/casehub/test_layers.py looks for
status writes elsewhere.

Each service locks the case row, checks the actor's role and the state,
changes the case, appends one `CaseEvent` (the case's one audit trail) with
its inbox items, and queues their emails to go out after the transaction
commits.

The text check (textcheck) stands in the way of the showcase: a case whose
latest revision has an open `block` finding is neither scheduled nor
published, whoever asks, the schedule included, until an editor overrides the
finding with a reason (`finding_override`, on the case's timeline).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.services import (
    campaign_require_accepting,
    campaign_require_within_limits,
)
from casehub import roles
from casehub.exceptions import NotPermitted, WrongState
from submissions.models import Case, CaseRevision, Membership
from submissions.selectors import membership_role
from textcheck.services import (
    Finding,
    finding_override_record,
    revision_block_message,
    revision_open_findings,
)
from textcheck.tasks import revision_check_task

from .anchors import notes_carry
from .events import case_event_record
from .models import CaseEvent, Decision, Note, ReviewStage
from .scoring import round_assign

Status = Case.Status
Action = CaseEvent.Action


class Role:
    """Who may take an action, relative to the case."""

    MEMBER = "member"  # any member of the case's organisation
    SECRETARY = "secretary"  # the secretary of the case's organisation
    STAGE_REVIEWER = "stage_reviewer"  # a reviewer of the stage it waits at
    REOPENER = "reopener"  # casehub.roles.may_reopen
    PUBLISHER = "publisher"  # casehub.roles.may_publish


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset
    # Where the case goes; approval goes on to the next stage in use, or to
    # approved after the last. None: the case is gone (a draft deleted).
    targets: frozenset
    role: str
    # What must hold besides state and role, checked by the service.
    requires: tuple = ()
    # The schedule takes this action by itself, with no one acting.
    automatic: bool = False
    # The kind of stage a case in review must wait at ("" for any): the panel
    # of a scoring stage scores, it does not approve, and the editors take
    # the scored cases on (review.scoring).
    stage_kind: str = ""
    # Refusals: to someone without the role, and in a state it does not leave.
    refused: Promise | str = ""
    wrong_state: Promise | str = ""


DELETE = "delete"

TRANSITIONS = (
    Transition(
        action=Action.SUBMIT,
        sources=frozenset({Status.DRAFT, Status.WITHDRAWN}),
        targets=frozenset({Status.IN_REVIEW}),
        role=Role.SECRETARY,
        requires=(
            "title, lead and body filled in",
            "the call accepts the branch",
            "the body within the call's 字数 and image limits",
        ),
        wrong_state=gettext_lazy("This case is %(status)s and cannot be submitted."),
    ),
    Transition(
        action=Action.RESUBMIT,
        sources=frozenset({Status.RETURNED}),
        targets=frozenset({Status.IN_REVIEW}),
        role=Role.SECRETARY,
        requires=(
            "title, lead and body filled in",
            "the body within the call's 字数 and image limits",
        ),
        wrong_state=gettext_lazy(
            "Only a returned case is resubmitted; this one is %(status)s."
        ),
    ),
    Transition(
        action=Action.WITHDRAW,
        sources=frozenset({Status.IN_REVIEW}),
        targets=frozenset({Status.WITHDRAWN}),
        role=Role.SECRETARY,
        wrong_state=gettext_lazy(
            "Only a case in review can be withdrawn; this one is %(status)s."
        ),
    ),
    Transition(
        action=Action.APPROVE,
        sources=frozenset({Status.IN_REVIEW}),
        stage_kind=ReviewStage.Kind.REVIEW,
        targets=frozenset({Status.IN_REVIEW, Status.APPROVED}),
        role=Role.STAGE_REVIEWER,
        requires=("the latest revision", "decided once per revision and stage"),
    ),
    Transition(
        action=Action.RETURN,
        sources=frozenset({Status.IN_REVIEW}),
        stage_kind=ReviewStage.Kind.REVIEW,
        targets=frozenset({Status.RETURNED}),
        role=Role.STAGE_REVIEWER,
        requires=("the latest revision", "a comment"),
    ),
    Transition(
        action=Action.REJECT,
        sources=frozenset({Status.IN_REVIEW}),
        stage_kind=ReviewStage.Kind.REVIEW,
        targets=frozenset({Status.REJECTED}),
        role=Role.STAGE_REVIEWER,
        requires=("the latest revision", "a comment"),
    ),
    # 评选: the panel scores and does not decide, so an editor returns or
    # rejects a case waiting at a scoring stage (a round that cannot end:
    # the deadline passed unscored, the text needs work).
    Transition(
        action=Action.RETURN,
        sources=frozenset({Status.IN_REVIEW}),
        stage_kind=ReviewStage.Kind.SCORING,
        targets=frozenset({Status.RETURNED}),
        role=Role.PUBLISHER,
        requires=("the latest revision", "a comment"),
        refused=gettext_lazy("Only editors may return a case being scored."),
    ),
    Transition(
        action=Action.REJECT,
        sources=frozenset({Status.IN_REVIEW}),
        stage_kind=ReviewStage.Kind.SCORING,
        targets=frozenset({Status.REJECTED}),
        role=Role.PUBLISHER,
        requires=("the latest revision", "a comment"),
        refused=gettext_lazy("Only editors may reject a case being scored."),
    ),
    Transition(
        action=Action.SCORE_ACCEPT,
        sources=frozenset({Status.IN_REVIEW}),
        targets=frozenset({Status.APPROVED}),
        role=Role.PUBLISHER,
        stage_kind=ReviewStage.Kind.SCORING,
        requires=("waiting at a scoring stage", "chosen from its ranking"),
        wrong_state=gettext_lazy(
            "“%(title)s” is %(status)s; only a case being scored is accepted "
            "on its scores."
        ),
    ),
    Transition(
        action=Action.REOPEN,
        sources=frozenset({Status.REJECTED}),
        targets=frozenset({Status.RETURNED}),
        role=Role.REOPENER,
        requires=("a comment",),
        refused=gettext_lazy("Only editors may reopen a rejected case."),
        wrong_state=gettext_lazy(
            "Only a rejected case can be reopened; this one is %(status)s."
        ),
    ),
    Transition(
        action=Action.SCHEDULE,
        sources=frozenset({Status.APPROVED}),
        targets=frozenset({Status.SCHEDULED}),
        role=Role.PUBLISHER,
        requires=("a planned issue", "no open block finding in the latest revision"),
        wrong_state=gettext_lazy(
            "“%(title)s” is %(status)s; only approved cases go into an issue."
        ),
    ),
    Transition(
        action=Action.UNSCHEDULE,
        sources=frozenset({Status.SCHEDULED}),
        targets=frozenset({Status.APPROVED}),
        role=Role.PUBLISHER,
        requires=("a planned issue",),
        wrong_state=gettext_lazy(
            "“%(title)s” is %(status)s; only a scheduled case leaves an issue."
        ),
    ),
    Transition(
        action=Action.PUBLISH,
        sources=frozenset({Status.SCHEDULED}),
        targets=frozenset({Status.PUBLISHED}),
        role=Role.PUBLISHER,
        requires=(
            "its issue is published",
            "no open block finding in the latest revision",
        ),
        automatic=True,
        wrong_state=gettext_lazy(
            "“%(title)s” is %(status)s; only a scheduled case is published."
        ),
    ),
    Transition(
        action=Action.UNPUBLISH,
        sources=frozenset({Status.PUBLISHED}),
        targets=frozenset({Status.APPROVED}),
        role=Role.PUBLISHER,
        requires=("its issue is unpublished", "a reason"),
        wrong_state=gettext_lazy(
            "“%(title)s” is %(status)s; only a published case is unpublished."
        ),
    ),
    Transition(
        action=DELETE,
        sources=frozenset({Status.DRAFT}),
        targets=frozenset({None}),
        role=Role.MEMBER,
        requires=("never submitted",),
        wrong_state=gettext_lazy(
            "Only a draft that was never submitted can be deleted."
        ),
    ),
)
# An action has one row, or one per kind of stage it is taken at (return and
# reject: by the stage's reviewer at a review stage, by an editor at a
# scoring stage). `TRANSITION` is each action's first row.
ROWS: dict[str, tuple[Transition, ...]] = {}
for _row in TRANSITIONS:
    ROWS[_row.action] = (*ROWS.get(_row.action, ()), _row)
TRANSITION = {action: rows[0] for action, rows in ROWS.items()}


def has_role(role: str, *, case: Case, user) -> bool:
    """Whether `user` holds `role` for `case` as it stands."""
    if user is None or not user.is_authenticated:
        return False
    if role == Role.MEMBER:
        return membership_role(user=user, branch=case.branch) is not None
    if role == Role.SECRETARY:
        return (
            membership_role(user=user, branch=case.branch) == Membership.Role.SECRETARY
        )
    if role == Role.STAGE_REVIEWER:
        stage = case.current_stage
        return stage is not None and roles.reviews_at(user, stage)
    if role == Role.REOPENER:
        return roles.may_reopen(user)
    if role == Role.PUBLISHER:
        return roles.may_publish(user)
    raise ValueError(f"unknown role {role!r}")


def _at_stage_kind(transition: Transition, case: Case) -> bool:
    if not transition.stage_kind or case.status != Status.IN_REVIEW:
        return True
    stage = case.current_stage
    return stage is not None and stage.kind == transition.stage_kind


def available_actions(case: Case, user) -> list[Transition]:
    """The transitions `user` may take on `case` now, in the table's order."""
    return [
        transition
        for transition in TRANSITIONS
        if case.status in transition.sources
        and _at_stage_kind(transition, case)
        and has_role(transition.role, case=case, user=user)
    ]


def is_available(action: str, case: Case, user) -> bool:
    """Whether `available_actions` would offer `action`, reading its rows only."""
    return any(
        case.status in transition.sources
        and _at_stage_kind(transition, case)
        and has_role(transition.role, case=case, user=user)
        for transition in ROWS[action]
    )


def action_names(case: Case, user) -> frozenset[str]:
    """`available_actions` as names, for a template's `"submit" in actions`."""
    return frozenset(t.action for t in available_actions(case, user))


class AlreadyDecided(WrongState):
    """Someone decided the case (or it moved on) before this decision arrived."""


def _latest_revision(case: Case) -> CaseRevision | None:
    return case.revisions.order_by("-number").first()


def _lock(case: Case) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("branch", "current_stage")
        .get(pk=case.pk)
    )


def _refuse_state(case: Case, message) -> None:
    raise WrongState(
        str(message) % {"status": case.get_status_display(), "title": case.title}
    )


def _refusal(transition: Transition, case: Case) -> str:
    if transition.refused:
        return str(transition.refused)
    if transition.role == Role.SECRETARY:
        return _("Only the secretary of %(branch)s may do this.") % {
            "branch": case.branch
        }
    if transition.role == Role.MEMBER:
        return _("You are not a member of %(branch)s.") % {"branch": case.branch}
    return _("Only editors may plan and publish the showcase.")


def _permit(action: str, *, case: Case, user) -> Transition:
    """Check the actor's role, then the state, against the table's row: the
    row of `action` for the case's state and the kind of stage it waits at."""
    rows = ROWS[action]
    fitting = [
        row for row in rows if case.status in row.sources and _at_stage_kind(row, case)
    ]
    transition = fitting[0] if fitting else rows[0]
    by_schedule = user is None and transition.automatic
    if not by_schedule and not has_role(transition.role, case=case, user=user):
        raise NotPermitted(_refusal(transition, case))
    if not fitting:
        _refuse_state(case, transition.wrong_state)
    return transition


def _stage_to_enter(stages) -> ReviewStage | None:
    """The first active stage of `stages`, locked until commit.

    review.stages counts a stage's waiting cases under the same lock before
    deactivating it, so a case either arrives first and is counted, or waits
    and then skips the stage that went out of use.
    """
    return (
        stages.filter(is_active=True)
        .order_by("position")
        .select_for_update(no_key=True)
        .first()
    )


def _first_stage() -> ReviewStage:
    stage = _stage_to_enter(ReviewStage.objects.all())
    if stage is None:
        raise WrongState(_("No review stage is set up; ask the administrator."))
    return stage


def _next_stage(stage: ReviewStage) -> ReviewStage | None:
    return _stage_to_enter(ReviewStage.objects.filter(position__gt=stage.position))


def _enter_stage(
    case: Case, stage: ReviewStage | None, revision: CaseRevision | None = None
) -> None:
    """Put the locked `case` at `stage` (None: out of review), with its dates.

    Every way into a stage comes here, so a case entering a scoring stage, by
    approval, submission or resubmission, gets its scorers here, in the same
    transaction; where the panel has nobody who may score it, the refusal
    undoes the whole move.
    """
    if stage is not None and stage.is_scoring:
        round_assign(case=case, stage=stage, revision=revision)
    now = timezone.now()
    case.current_stage = stage
    case.stage_entered_at = now if stage else None
    case.stage_due_at = now + timedelta(days=stage.due_in_days) if stage else None
    if stage is not None and stage.is_scoring and stage.scoring_deadline:
        case.stage_due_at = stage.scoring_deadline


_STAGE_FIELDS = ["current_stage", "stage_entered_at", "stage_due_at"]


def _missing_for_submit(case: Case) -> list[str]:
    missing = []
    if not case.title.strip():
        missing.append(_("title"))
    if not case.lead.strip():
        missing.append(_("lead paragraph"))
    if not case.body.strip():
        missing.append(_("body"))
    return missing


def revision_freeze(*, case: Case, acting_user) -> CaseRevision:
    """Snapshot everything a reviewer judges, as the next round of the case."""
    last = case.revisions.aggregate(last=Max("number"))["last"] or 0
    return CaseRevision.objects.create(
        case=case,
        number=last + 1,
        branch_name=case.branch.name,
        title=case.title,
        tagline=case.tagline,
        author_name=case.author_name,
        source=case.source_display,
        lead=case.lead,
        body=case.body,
        cover_image=case.cover_image.name or "",
        theme_names=[theme.name for theme in case.themes.all()],
        submitted_by=acting_user,
    )


def _send_to_review(*, case: Case, acting_user, stage: ReviewStage, action):
    missing = _missing_for_submit(case)
    if missing:
        raise WrongState(
            _("Fill in the %(fields)s before submitting.")
            % {"fields": _(", ").join(missing)}
        )
    if case.campaign_id is not None:
        # Also on resubmit: a returned case comes back under the same call.
        campaign_require_within_limits(campaign=case.campaign, body=case.body)
    revision = revision_freeze(case=case, acting_user=acting_user)
    from_status = case.status
    case.status = Case.Status.IN_REVIEW
    case.submitted_at = timezone.now()
    case.resume_stage = None
    _enter_stage(case, stage, revision)
    case.save(
        update_fields=[
            "status",
            "submitted_at",
            "resume_stage",
            *_STAGE_FIELDS,
            "updated_at",
        ]
    )
    event = case_event_record(
        case=case,
        actor=acting_user,
        action=action,
        from_status=from_status,
        revision=revision,
    )
    # Checked by the worker once the revision is there for it to read; a
    # worker that never runs it only costs the first reader the check, and
    # a broker that is down must not turn the submission into an error page.
    transaction.on_commit(lambda: revision_check_task.delay(revision.pk), robust=True)
    return event


@transaction.atomic
def case_submit(*, case: Case, acting_user) -> CaseEvent:
    """The secretary signs a draft (or a withdrawn case) off and sends it to review."""
    case = _lock(case)
    _permit(Action.SUBMIT, case=case, user=acting_user)
    if case.campaign_id is not None:
        # A case answering a call goes in while the call (or an extension
        # for the branch) runs; a returned case comes back whenever it is ready.
        campaign_require_accepting(campaign=case.campaign, branch=case.branch)
    return _send_to_review(
        case=case,
        acting_user=acting_user,
        stage=_first_stage(),
        action=CaseEvent.Action.SUBMIT,
    )


@transaction.atomic
def case_resubmit(*, case: Case, acting_user) -> CaseEvent:
    """Send a returned case back, to the stage its return asked for."""
    case = _lock(case)
    _permit(Action.RESUBMIT, case=case, user=acting_user)
    stage = None
    if case.resume_stage_id is not None:
        stage = _stage_to_enter(ReviewStage.objects.filter(pk=case.resume_stage_id))
    if stage is None:
        stage = _first_stage()
    previous = _latest_revision(case)
    event = _send_to_review(
        case=case,
        acting_user=acting_user,
        stage=stage,
        action=CaseEvent.Action.RESUBMIT,
    )
    if previous is not None:
        # The notes of the round that sent the case back, and those of
        # earlier rounds still open, found again in the new text
        # (review.anchors).
        notes_carry(previous=previous, revision=event.revision)
    return event


@transaction.atomic
def case_withdraw(*, case: Case, acting_user, comment: str = "") -> CaseEvent:
    """The branch takes a case back out of review before it is approved."""
    case = _lock(case)
    _permit(Action.WITHDRAW, case=case, user=acting_user)
    from_status, stage = case.status, case.current_stage
    case.status = Case.Status.WITHDRAWN
    _enter_stage(case, None)
    case.save(update_fields=["status", *_STAGE_FIELDS, "updated_at"])
    return case_event_record(
        case=case,
        actor=acting_user,
        action=CaseEvent.Action.WITHDRAW,
        from_status=from_status,
        stage=stage,
        revision=_latest_revision(case),
        comment=comment.strip(),
    )


def already_decided(case: Case) -> AlreadyDecided:
    """The refusal for a decision that came too late, naming who came first."""
    last = (
        case.decisions.select_related("reviewer").order_by("-created_at", "-pk").first()
    )
    if last is None:
        return AlreadyDecided(
            _("This case is no longer waiting for your decision; it is %(status)s.")
            % {"status": case.get_status_display()}
        )
    return AlreadyDecided(
        _(
            "Already decided by %(reviewer)s at %(time)s (%(outcome)s). "
            "Nothing was changed."
        )
        % {
            "reviewer": last.reviewer.get_full_name() or last.reviewer.get_username(),
            "time": date_format(timezone.localtime(last.created_at), "Y-m-d H:i:s"),
            "outcome": last.get_outcome_display(),
        }
    )


def _decide(
    *,
    case: Case,
    acting_user,
    stage: ReviewStage,
    revision: CaseRevision,
    outcome: str,
    comment: str,
) -> CaseEvent:
    case = _lock(case)
    if stage.is_scoring and outcome != Decision.Outcome.APPROVE:
        return _scoring_close(
            case=case,
            acting_user=acting_user,
            stage=stage,
            revision=revision,
            outcome=outcome,
            comment=comment,
        )
    if not roles.reviews_at(acting_user, stage):
        if not stage.is_active and roles.is_stage_member(acting_user, stage):
            raise WrongState(
                _("%(stage)s is not in use at the moment; ask the administrator.")
                % {"stage": stage}
            )
        raise NotPermitted(
            _("Only reviewers of %(stage)s may decide here.") % {"stage": stage}
        )
    latest = _latest_revision(case)
    if stage.is_scoring:
        raise WrongState(
            _("%(stage)s is a scoring round: its panel scores, it does not decide.")
            % {"stage": stage}
        )
    if (
        case.status != Case.Status.IN_REVIEW
        or case.current_stage_id != stage.pk
        or latest is None
        or revision is None
        or latest.pk != revision.pk
    ):
        raise already_decided(case)
    comment = comment.strip()
    if outcome in (Decision.Outcome.RETURN, Decision.Outcome.REJECT) and not comment:
        raise WrongState(_("Say why: a return or a rejection needs a comment."))
    try:
        with transaction.atomic():
            Decision.objects.create(
                case=case,
                revision=revision,
                stage=stage,
                reviewer=acting_user,
                outcome=outcome,
                comment=comment,
            )
    except IntegrityError:
        raise already_decided(case) from None

    from_status = case.status
    if outcome == Decision.Outcome.APPROVE:
        next_stage = _next_stage(stage)
        case.status = Case.Status.IN_REVIEW if next_stage else Case.Status.APPROVED
        if next_stage is None:
            case.approved_at = timezone.now()
        _enter_stage(case, next_stage, revision)
        action = CaseEvent.Action.APPROVE
    elif outcome == Decision.Outcome.RETURN:
        case.status = Case.Status.RETURNED
        resume_here = stage.resume_after_return == ReviewStage.Resume.THIS_STAGE
        case.resume_stage = stage if resume_here else None
        _enter_stage(case, None)
        action = CaseEvent.Action.RETURN
    else:
        case.status = Case.Status.REJECTED
        _enter_stage(case, None)
        action = CaseEvent.Action.REJECT
    case.save(
        update_fields=[
            "status",
            "resume_stage",
            "approved_at",
            *_STAGE_FIELDS,
            "updated_at",
        ]
    )
    return case_event_record(
        case=case,
        actor=acting_user,
        action=action,
        from_status=from_status,
        stage=stage,
        revision=revision,
        comment=comment,
        # The notes of the round go with the decision, a return's to the branch;
        # those withdrawn stay behind.
        note_count=Note.objects.filter(
            revision=revision, stage=stage, withdrawal__isnull=True
        ).count(),
    )


def _scoring_close(
    *,
    case: Case,
    acting_user,
    stage: ReviewStage,
    revision: CaseRevision,
    outcome: str,
    comment: str,
) -> CaseEvent:
    """An editor returns or rejects the locked `case` waiting at the scoring
    stage `stage`, by the table's row for a scoring stage.

    No `Decision` is written: the panel's scores stay as they were recorded,
    and the event names the editor and their reason.
    """
    action = Action.RETURN if outcome == Decision.Outcome.RETURN else Action.REJECT
    row = next(r for r in ROWS[action] if r.stage_kind == ReviewStage.Kind.SCORING)
    if not has_role(row.role, case=case, user=acting_user):
        raise NotPermitted(_refusal(row, case))
    latest = _latest_revision(case)
    if (
        case.status != Case.Status.IN_REVIEW
        or case.current_stage_id != stage.pk
        or latest is None
        or revision is None
        or latest.pk != revision.pk
    ):
        raise WrongState(
            _(
                "“%(title)s” is no longer being scored at %(stage)s; nothing "
                "was changed."
            )
            % {"title": case.title, "stage": stage}
        )
    _permit(action, case=case, user=acting_user)
    comment = comment.strip()
    if not comment:
        raise WrongState(_("Say why: a return or a rejection needs a comment."))
    from_status = case.status
    if action == Action.RETURN:
        case.status = Case.Status.RETURNED
        resume_here = stage.resume_after_return == ReviewStage.Resume.THIS_STAGE
        case.resume_stage = stage if resume_here else None
    else:
        case.status = Case.Status.REJECTED
    _enter_stage(case, None)
    case.save(update_fields=["status", "resume_stage", *_STAGE_FIELDS, "updated_at"])
    return case_event_record(
        case=case,
        actor=acting_user,
        action=action,
        from_status=from_status,
        stage=stage,
        revision=revision,
        comment=comment,
    )


@transaction.atomic
def case_approve(*, case, acting_user, stage, revision, comment="") -> CaseEvent:
    """Approve at `stage`: on to the next stage, or approved after the last one."""
    return _decide(
        case=case,
        acting_user=acting_user,
        stage=stage,
        revision=revision,
        outcome=Decision.Outcome.APPROVE,
        comment=comment,
    )


@transaction.atomic
def case_return(*, case, acting_user, stage, revision, comment) -> CaseEvent:
    """Send the case back to the branch for revision, with the reviewer's
    comment; at a scoring stage, an editor's (the table's row for it)."""
    return _decide(
        case=case,
        acting_user=acting_user,
        stage=stage,
        revision=revision,
        outcome=Decision.Outcome.RETURN,
        comment=comment,
    )


@transaction.atomic
def case_reject(*, case, acting_user, stage, revision, comment) -> CaseEvent:
    """Reject the case (at a scoring stage, an editor does); only an editor
    can reopen it."""
    return _decide(
        case=case,
        acting_user=acting_user,
        stage=stage,
        revision=revision,
        outcome=Decision.Outcome.REJECT,
        comment=comment,
    )


@transaction.atomic
def case_score_accept(*, case: Case, acting_user, comment: str = "") -> CaseEvent:
    """An editor takes a case scored at a scoring stage on to the approved
    cases; `showcase.services.scored_cases_accept` calls it for the top of a
    ranking, in rank order."""
    case = _lock(case)
    _permit(Action.SCORE_ACCEPT, case=case, user=acting_user)
    from_status, stage = case.status, case.current_stage
    case.status = Case.Status.APPROVED
    case.approved_at = timezone.now()
    _enter_stage(case, None)
    case.save(update_fields=["status", "approved_at", *_STAGE_FIELDS, "updated_at"])
    return case_event_record(
        case=case,
        actor=acting_user,
        action=Action.SCORE_ACCEPT,
        from_status=from_status,
        stage=stage,
        revision=_latest_revision(case),
        comment=comment,
    )


@transaction.atomic
def case_reopen(*, case: Case, acting_user, comment: str) -> CaseEvent:
    """An editor gives a rejected case back to its branch, with the reason."""
    case = _lock(case)
    _permit(Action.REOPEN, case=case, user=acting_user)
    comment = comment.strip()
    if not comment:
        raise WrongState(_("Say why the case is reopened."))
    from_status = case.status
    case.status = Case.Status.RETURNED
    case.resume_stage = None
    case.save(update_fields=["status", "resume_stage", "updated_at"])
    return case_event_record(
        case=case,
        actor=acting_user,
        action=CaseEvent.Action.REOPEN,
        from_status=from_status,
        revision=_latest_revision(case),
        comment=comment,
    )


# The moves a blocking finding stops, the schedule's included.
TEXT_CHECKED = frozenset({Action.SCHEDULE, Action.PUBLISH})
# Where an override has a purpose: the case waits for, or sits in, an issue.
OVERRIDABLE = frozenset({Status.APPROVED, Status.SCHEDULED})


def _require_no_block(case: Case) -> None:
    """Refuse a case whose latest revision has an open `block` finding.

    `revision_block_message` checks the revision inline when the worker has
    not, or when the dictionary changed since: a stale or missing result never
    lets a case through.
    """
    revision = _latest_revision(case)
    message = revision_block_message(revision) if revision is not None else None
    if message:
        raise WrongState(message)


def _showcase_move(
    case: Case, *, action: str, acting_user, comment: str = "", at=None
) -> CaseEvent:
    """A move into, out of or onto the public showcase, per the table's row.

    The editors' services in `showcase.services` lock the issue, change its
    entries and call these; the case's own status changes only here.
    """
    case = _lock(case)
    transition = _permit(action, case=case, user=acting_user)
    if action in TEXT_CHECKED:
        _require_no_block(case)
    from_status = case.status
    [target] = transition.targets
    case.status = target
    fields = ["status", "updated_at"]
    if case.status == Status.PUBLISHED:
        case.published_at = at or timezone.now()
        fields.append("published_at")
    case.save(update_fields=fields)
    return case_event_record(
        case=case,
        actor=acting_user,
        action=action,
        from_status=from_status,
        revision=_latest_revision(case),
        comment=comment,
    )


@transaction.atomic
def case_schedule(*, case: Case, acting_user, issue) -> CaseEvent:
    """An approved case goes into a planned issue."""
    return _showcase_move(
        case, action=Action.SCHEDULE, acting_user=acting_user, comment=str(issue)
    )


@transaction.atomic
def case_unschedule(*, case: Case, acting_user, issue) -> CaseEvent:
    """Out of a planned issue, back to the queue of approved cases."""
    return _showcase_move(
        case, action=Action.UNSCHEDULE, acting_user=acting_user, comment=str(issue)
    )


@transaction.atomic
def case_publish(*, case: Case, acting_user, issue) -> CaseEvent:
    """On the public site with its issue; `acting_user` None: the schedule."""
    return _showcase_move(
        case,
        action=Action.PUBLISH,
        acting_user=acting_user,
        comment=str(issue),
        at=issue.published_at,
    )


@transaction.atomic
def case_unpublish(*, case: Case, acting_user, reason: str) -> CaseEvent:
    """Off the public site with its issue, back among the approved cases."""
    return _showcase_move(
        case, action=Action.UNPUBLISH, acting_user=acting_user, comment=reason
    )


@transaction.atomic
def case_delete_draft(*, case: Case, acting_user) -> None:
    """Delete a draft that was never submitted; anything submitted stays forever."""
    case = _lock(case)
    _permit(DELETE, case=case, user=acting_user)
    if case.revisions.exists():
        _refuse_state(case, TRANSITION[DELETE].wrong_state)
    case.themes.clear()
    case.delete()


def case_edit_record(*, case: Case, acting_user) -> CaseEvent:
    """The audit row of a saved edit: who saved when, the state unchanged.

    It tells no one and stays off the case's timeline (`case_timeline`),
    which shows how the case moved; the admin's event list shows every save.
    """
    return case_event_record(
        case=case, actor=acting_user, action=Action.EDIT, from_status=case.status
    )


@transaction.atomic
def finding_override(
    *, case: Case, acting_user, field: str, finding: Finding, reason: str
) -> CaseEvent:
    """An editor lets one open finding of the latest revision through, saying why.

    The finding is looked up again among the open ones under the case's lock,
    so it is the stored finding that is overridden (not what the form said of
    it), and two editors overriding the same one record it once. The state
    does not change; the event puts the term and the reason on the timeline.
    """
    case = _lock(case)
    if not has_role(Role.PUBLISHER, case=case, user=acting_user):
        raise NotPermitted(_("Only editors may let a text check finding through."))
    if case.status not in OVERRIDABLE:
        _refuse_state(
            case,
            _(
                "“%(title)s” is %(status)s; findings are let through only on "
                "approved or scheduled cases."
            ),
        )
    reason = reason.strip()
    if not reason:
        raise WrongState(_("Say why this finding may stay as it is."))
    revision = _latest_revision(case)
    open_findings = revision_open_findings(revision) if revision is not None else []
    stored = next(
        (
            candidate
            for candidate_field, candidate in open_findings
            if candidate_field == field and candidate.key == finding.key
        ),
        None,
    )
    if stored is None:
        raise WrongState(
            _(
                "This finding is no longer open: it was let through already, "
                "or the text check has changed. Nothing was recorded."
            )
        )
    finding_override_record(
        revision=revision,
        field=field,
        finding=stored,
        reason=reason,
        actor=acting_user,
    )
    return case_event_record(
        case=case,
        actor=acting_user,
        action=Action.OVERRIDE,
        from_status=case.status,
        revision=revision,
        comment=_("“%(term)s”: %(reason)s") % {"term": stored.term, "reason": reason},
    )
