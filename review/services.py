"""Workflow transitions of a case. Every change of a case's status goes through here.

Each transition locks the case row, checks the state and the actor's right,
changes the case, appends one audit event with its inbox items, and queues
their emails to go out after the transaction commits.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from campaigns.services import campaign_require_accepting
from casehub.exceptions import NotPermitted, WrongState
from submissions.models import Case, CaseRevision, Membership
from submissions.selectors import membership_role

from .models import CaseEvent, Decision, ReviewStage
from .notifications import event_notify
from .selectors import is_editor, is_stage_member, is_stage_reviewer


class AlreadyDecided(WrongState):
    """Someone decided the case (or it moved on) before this decision arrived."""


def _lock(case: Case) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("branch", "current_stage")
        .get(pk=case.pk)
    )


def _refuse_state(case: Case, message: str):
    raise WrongState(message % {"status": case.get_status_display()})


def _require_secretary(*, user, case: Case) -> None:
    role = membership_role(user=user, branch=case.branch)
    if role != Membership.Role.SECRETARY:
        raise NotPermitted(
            _("Only the secretary of %(branch)s may do this.") % {"branch": case.branch}
        )


def case_event_record(
    *, case: Case, actor, action, from_status, stage=None, revision=None, comment=""
):
    """Append one audit event for a change already made to the locked `case`."""
    event = CaseEvent.objects.create(
        case=case,
        revision=revision,
        stage=stage,
        to_stage=case.current_stage,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=case.status,
        comment=comment,
    )
    event_notify(event)
    return event


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


def _enter_stage(case: Case, stage: ReviewStage | None) -> None:
    now = timezone.now()
    case.current_stage = stage
    case.stage_entered_at = now if stage else None
    case.stage_due_at = now + timedelta(days=stage.due_in_days) if stage else None


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
    _require_secretary(user=acting_user, case=case)
    missing = _missing_for_submit(case)
    if missing:
        raise WrongState(
            _("Fill in the %(fields)s before submitting.")
            % {"fields": _(", ").join(missing)}
        )
    revision = revision_freeze(case=case, acting_user=acting_user)
    from_status = case.status
    case.status = Case.Status.IN_REVIEW
    case.submitted_at = timezone.now()
    case.resume_stage = None
    _enter_stage(case, stage)
    case.save(
        update_fields=[
            "status",
            "submitted_at",
            "resume_stage",
            *_STAGE_FIELDS,
            "updated_at",
        ]
    )
    return case_event_record(
        case=case,
        actor=acting_user,
        action=action,
        from_status=from_status,
        revision=revision,
    )


@transaction.atomic
def case_submit(*, case: Case, acting_user) -> CaseEvent:
    """The secretary signs a draft (or a withdrawn case) off and sends it to review."""
    case = _lock(case)
    _require_secretary(user=acting_user, case=case)
    if case.status not in (Case.Status.DRAFT, Case.Status.WITHDRAWN):
        _refuse_state(case, _("This case is %(status)s and cannot be submitted."))
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
    _require_secretary(user=acting_user, case=case)
    if case.status != Case.Status.RETURNED:
        _refuse_state(
            case, _("Only a returned case is resubmitted; this one is %(status)s.")
        )
    stage = None
    if case.resume_stage_id is not None:
        stage = _stage_to_enter(ReviewStage.objects.filter(pk=case.resume_stage_id))
    if stage is None:
        stage = _first_stage()
    return _send_to_review(
        case=case,
        acting_user=acting_user,
        stage=stage,
        action=CaseEvent.Action.RESUBMIT,
    )


@transaction.atomic
def case_withdraw(*, case: Case, acting_user, comment: str = "") -> CaseEvent:
    """The branch takes a case back out of review before it is approved."""
    case = _lock(case)
    _require_secretary(user=acting_user, case=case)
    if case.status != Case.Status.IN_REVIEW:
        _refuse_state(
            case, _("Only a case in review can be withdrawn; this one is %(status)s.")
        )
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
        revision=case.revisions.order_by("-number").first(),
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
    if not is_stage_reviewer(user=acting_user, stage=stage):
        if not stage.is_active and is_stage_member(user=acting_user, stage=stage):
            raise WrongState(
                _("%(stage)s is not in use at the moment; ask the administrator.")
                % {"stage": stage}
            )
        raise NotPermitted(
            _("Only reviewers of %(stage)s may decide here.") % {"stage": stage}
        )
    latest = case.revisions.order_by("-number").first()
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
        _enter_stage(case, next_stage)
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
    """Send the case back to the branch for revision, with the reviewer's comment."""
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
    """Reject the case; only an editor can reopen it."""
    return _decide(
        case=case,
        acting_user=acting_user,
        stage=stage,
        revision=revision,
        outcome=Decision.Outcome.REJECT,
        comment=comment,
    )


@transaction.atomic
def case_reopen(*, case: Case, acting_user, comment: str) -> CaseEvent:
    """An editor gives a rejected case back to its branch, with the reason."""
    case = _lock(case)
    if not is_editor(acting_user):
        raise NotPermitted(_("Only editors may reopen a rejected case."))
    if case.status != Case.Status.REJECTED:
        _refuse_state(
            case, _("Only a rejected case can be reopened; this one is %(status)s.")
        )
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
        revision=case.revisions.order_by("-number").first(),
        comment=comment,
    )
