"""Notifications: inbox items and their emails, made by Celery after commit.

Every task here can run twice (a retry, a worker lost mid-task) without a
second inbox item or a second email: notifications are unique per recipient and
key, and an email is sent only while its notification is locked and unsent.
"""

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

logger = logging.getLogger(__name__)

RETRY = {
    "autoretry_for": (OSError, smtplib.SMTPException),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
}


def _notify(*, recipients, case, kind, key, event=None) -> list[int]:
    """Create the missing inbox items; return the ids still to be emailed."""
    from .models import Notification

    pending = []
    for user in recipients:
        try:
            with transaction.atomic():
                notification, _created = Notification.objects.get_or_create(
                    recipient=user,
                    key=key,
                    defaults={"case": case, "kind": kind, "event": event},
                )
        except IntegrityError:
            # Another run of this task made it at the same moment.
            notification = Notification.objects.get(recipient=user, key=key)
        if notification.emailed_at is None and user.email:
            pending.append(notification.pk)
    return pending


def _queue_emails(notification_ids) -> None:
    for notification_id in notification_ids:
        notification_email_send.delay(notification_id)


@shared_task(**RETRY)
def case_event_notify(event_id: int) -> None:
    """Tell the people an audit event concerns, in their inbox and by email."""
    from .models import CaseEvent, Notification
    from .selectors import event_recipients

    event = (
        CaseEvent.objects.select_related("case__branch", "stage", "to_stage", "actor")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return
    pending = _notify(
        recipients=event_recipients(event=event),
        case=event.case,
        kind=Notification.Kind.EVENT,
        key=f"event:{event.pk}",
        event=event,
    )
    _queue_emails(pending)


@shared_task(**RETRY)
def notification_email_send(notification_id: int) -> None:
    """Email one notification, once."""
    from .models import Notification

    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient", "case__branch", "event__actor", "event__stage")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None or not notification.recipient.email:
            return
        with translation.override(settings.LANGUAGE_CODE):
            context = {
                "notification": notification,
                "event": notification.event,
                "case": notification.case,
                "site_url": settings.SITE_URL,
            }
            subject = render_to_string("review/email/notification_subject.txt", context)
            body = render_to_string("review/email/notification_body.txt", context)
        # Sent while the row is locked and before it is marked: a crash after
        # sending and before commit is the one window for a repeat.
        send_mail(" ".join(subject.split()), body, None, [notification.recipient.email])
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])


@shared_task(**RETRY)
def overdue_reminders_send() -> int:
    """Remind reviewers of cases past their stage's due time, once a day per case."""
    from django.contrib.auth import get_user_model

    from submissions.models import Case

    from .models import Notification

    now = timezone.now()
    today = timezone.localdate(now).isoformat()
    overdue = Case.objects.filter(
        status=Case.Status.IN_REVIEW, stage_due_at__lt=now, current_stage__isnull=False
    ).select_related("current_stage")
    User = get_user_model()
    reminded = 0
    for case in overdue.iterator():
        reviewers = User.objects.filter(
            is_active=True, groups=case.current_stage.reviewer_group_id
        ).order_by("pk")
        pending = _notify(
            recipients=reviewers,
            case=case,
            kind=Notification.Kind.REMINDER,
            key=f"reminder:{case.pk}:{today}",
        )
        _queue_emails(pending)
        reminded += 1
    logger.info("overdue reminders checked for %d case(s)", reminded)
    return reminded
