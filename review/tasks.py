"""Overdue reminders, run by Celery.

The task can run twice (a retry, a worker lost mid-task) without a second
inbox item or a second email: a reminder's key names its case and day, and
notifications are unique per recipient and key. The emails themselves are
the inbox's tasks.
"""

import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from inbox.models import Notification
from inbox.notifications import notify
from inbox.tasks import RETRY, emails_queue
from submissions.models import Case

from .models import ScoreAssignment
from .scoring import reminders_due

logger = logging.getLogger(__name__)


@shared_task(**RETRY)
def overdue_reminders_send() -> int:
    """Remind reviewers of cases past their stage's due time, once a day per case."""
    now = timezone.now()
    today = timezone.localdate(now).isoformat()
    overdue = Case.objects.overdue(now).select_related("current_stage")
    User = get_user_model()
    reminded = 0
    for case in overdue.iterator():
        reviewers = User.objects.filter(
            is_active=True, groups=case.current_stage.reviewer_group_id
        ).order_by("pk")
        pending = notify(
            recipients=reviewers,
            case=case,
            kind=Notification.Kind.REMINDER,
            key=f"reminder:{case.pk}:{today}",
        )
        emails_queue(pending)
        reminded += 1
    logger.info("overdue reminders checked for %d case(s)", reminded)
    return reminded


@shared_task(**RETRY)
def scoring_reminders_send() -> int:
    """Remind panel members of unscored cases a day before the deadline, once.

    An assignment is marked reminded in the transaction of its inbox item,
    and the item's key names the assignment, so a second run adds nothing.
    """
    reminded = 0
    for assignment in reminders_due().iterator():
        with transaction.atomic():
            marked = ScoreAssignment.objects.filter(
                pk=assignment.pk, reminded_at__isnull=True
            ).update(reminded_at=timezone.now())
            if not marked:
                continue
            pending = notify(
                recipients=[assignment.scorer],
                case=assignment.case,
                kind=Notification.Kind.SCORING,
                key=f"scoring-reminder:{assignment.pk}",
            )
            emails_queue(pending)
        reminded += 1
    logger.info("scoring reminders sent for %d assignment(s)", reminded)
    return reminded
