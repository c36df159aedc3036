"""Notification emails and reminders, run by Celery.

Every task here can run twice (a retry, a worker lost mid-task, the sweep
queueing what is already queued) without a second inbox item or a second
email: notifications are unique per recipient and key, and an email is sent
only while its notification is locked and unsent.
"""

import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation

logger = logging.getLogger(__name__)

# The sweep leaves fresh notifications to the tasks queued for them, and gives
# up on an email after a day: news that old is read in the inbox.
SWEEP_AFTER_SECONDS = 120
SWEEP_WINDOW = timedelta(days=1)
SWEEP_BATCH = 500

RETRY = {
    "autoretry_for": (OSError, smtplib.SMTPException),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
}


@shared_task(**RETRY)
def notification_email_send(notification_id: int) -> None:
    """Email one notification, once."""
    from .models import Notification
    from .notifications import notification_email

    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related(
                "recipient", "case__branch", "campaign", "event__actor", "event__stage"
            )
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None or not notification.recipient.email:
            return
        with translation.override(settings.LANGUAGE_CODE):
            subject, body = notification_email(notification)
        # Sent while the row is locked and before it is marked: a crash after
        # sending and before commit is the one window for a repeat.
        send_mail(subject, body, None, [notification.recipient.email])
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])


@shared_task(**RETRY)
def overdue_reminders_send() -> int:
    """Remind reviewers of cases past their stage's due time, once a day per case."""
    from django.contrib.auth import get_user_model

    from submissions.models import Case

    from .models import Notification
    from .notifications import emails_queue, notify

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


@shared_task
def notification_emails_sweep(older_than_seconds: int = SWEEP_AFTER_SECONDS) -> int:
    """Queue the emails no task is carrying: their queueing failed (the broker
    was down when the change committed) or their retries ran out."""
    from .models import Notification

    now = timezone.now()
    unsent = (
        Notification.objects.filter(
            emailed_at__isnull=True,
            created_at__lte=now - timedelta(seconds=older_than_seconds),
            created_at__gte=now - SWEEP_WINDOW,
        )
        .exclude(recipient__email="")
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    ids = list(unsent)
    for notification_id in ids:
        notification_email_send.delay(notification_id)
    if ids:
        logger.info("queued %d unsent notification email(s)", len(ids))
    return len(ids)
