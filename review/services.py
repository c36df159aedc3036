"""Workflow transitions of a case. Every change of a case's status goes through here.

Each transition locks the case row, checks the state and the actor's right,
changes the case, appends one audit event and queues its notifications to run
after the transaction commits.
"""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from submissions.exceptions import NotPermitted, WrongState
from submissions.models import Case, CaseRevision, Membership
from submissions.selectors import membership_role

from .models import CaseEvent
from .tasks import case_event_notify


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("branch").get(pk=case.pk)


def _require_secretary(*, user, case: Case) -> None:
    role = membership_role(user=user, branch=case.branch)
    if role != Membership.Role.SECRETARY:
        raise NotPermitted(
            _("Only the secretary of %(branch)s may do this.") % {"branch": case.branch}
        )


def _record(*, case: Case, actor, action, from_status, revision=None, comment=""):
    event = CaseEvent.objects.create(
        case=case,
        revision=revision,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=case.status,
        comment=comment,
    )
    event_id = event.pk
    transaction.on_commit(lambda: case_event_notify.delay(event_id))
    return event


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


@transaction.atomic
def case_submit(*, case: Case, acting_user) -> CaseEvent:
    """The secretary signs the case off and sends it to review."""
    case = _lock(case)
    _require_secretary(user=acting_user, case=case)
    if not case.is_editable:
        raise WrongState(
            _("This case is %(status)s and cannot be submitted.")
            % {"status": case.get_status_display()}
        )
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
    case.save(update_fields=["status", "submitted_at", "updated_at"])
    return _record(
        case=case,
        actor=acting_user,
        action=CaseEvent.Action.SUBMIT,
        from_status=from_status,
        revision=revision,
    )


@transaction.atomic
def case_withdraw(*, case: Case, acting_user, comment: str = "") -> CaseEvent:
    """The branch takes a case back out of review before it is approved."""
    case = _lock(case)
    _require_secretary(user=acting_user, case=case)
    if case.status != Case.Status.IN_REVIEW:
        raise WrongState(
            _("Only a case in review can be withdrawn; this one is %(status)s.")
            % {"status": case.get_status_display()}
        )
    from_status = case.status
    case.status = Case.Status.WITHDRAWN
    case.save(update_fields=["status", "updated_at"])
    return _record(
        case=case,
        actor=acting_user,
        action=CaseEvent.Action.WITHDRAW,
        from_status=from_status,
        revision=case.revisions.order_by("-number").first(),
        comment=comment.strip(),
    )
