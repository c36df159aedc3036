"""The case's one audit trail: `case_event_record` appends a `CaseEvent`.

Kept apart from review.workflow, which re-exports it, so that the modules the
workflow itself calls (review.scoring) write the same events without
importing it back.
"""

from submissions.models import Case

from .models import CaseEvent
from .notifications import event_notify


def case_event_record(
    *,
    case: Case,
    actor,
    action,
    from_status,
    stage=None,
    revision=None,
    comment="",
    note_count=0,
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
        note_count=note_count,
    )
    event_notify(event)
    return event
