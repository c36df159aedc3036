"""Notification emails, run by Celery.

Every task here can run twice (a retry, a worker lost mid-task, the sweep
queueing what is already queued) without a second email: an email is sent
only while its notification is locked and unsent.

`emails_queue` lives here, beside the task it queues, so that the items
(`notifications`) and their emails (here) import in one direction only.
"""

import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation

from .models import Notification
from .notifications import notification_email

logger = logging.getLogger(__name__)

# The sweep leaves fresh notifications to the tasks queued for them, and gives
# up on an email after a day: news that old is read in the inbox.
SWEEP_AFTER_SECONDS = 120
SWEEP_WINDOW = timedelta(days=1)
SWEEP_BATCH = 500

# One policy for the tasks that send mail or queue it: a mail server or broker
# away for a while is waited for, with growing pauses, not given up on.
RETRY = {
    "autoretry_for": (OSError, smtplib.SMTPException),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
}


def emails_queue(notification_ids) -> None:
    """Queue one email task per notification once the transaction commits.

    Robust: an unreachable broker must not turn the saved change into an error
    page; the sweep sends what was not queued.
    """
    ids = list(notification_ids)
    if not ids:
        return

    def send():
        for notification_id in ids:
            notification_email_send.delay(notification_id)

    transaction.on_commit(send, robust=True)


@shared_task(**RETRY)
def notification_email_send(notification_id: int) -> None:
    """Email one notification, once."""
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


@shared_task
def notification_emails_sweep(older_than_seconds: int = SWEEP_AFTER_SECONDS) -> int:
    """Queue the emails no task is carrying: their queueing failed (the broker
    was down when the change committed) or their retries ran out."""
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
