"""Inbox items and the text of the emails that go with them.

An inbox item is written in the same transaction as the event it tells of, so
it exists exactly when the event does, with or without a queue. The functions
that write items return the ids still to be emailed; the caller hands them to
`tasks.emails_queue`, which queues the emails once that transaction commits.
An email the queue never took (the broker was down) is picked up by the
periodic sweep in `tasks`.

Who hears of what is the workflow's business: the apps above the inbox choose
the recipients and call these functions.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from casehub.text import bidi_strip, subject_line, text_render

from .models import Notification


def notify(*, recipients, case, kind, key, event=None, campaign=None) -> list[int]:
    """Create the missing inbox items; return the ids still to be emailed."""
    pending = []
    for user in recipients:
        try:
            with transaction.atomic():
                notification, _created = Notification.objects.get_or_create(
                    recipient=user,
                    key=key,
                    defaults={
                        "case": case,
                        "campaign": campaign,
                        "kind": kind,
                        "event": event,
                    },
                )
        except IntegrityError:
            # Another run made it at the same moment.
            notification = Notification.objects.get(recipient=user, key=key)
        if notification.emailed_at is None and user.email:
            pending.append(notification.pk)
    return pending


def event_items_create(*, event, recipients) -> list[int]:
    """Write one inbox item per recipient of a case event just recorded;
    return the ids to be emailed.

    One insert for all of them: the event is new, so none of its items can
    exist yet, unlike the reminders `notify` may be asked for twice.
    """
    created = Notification.objects.bulk_create(
        Notification(
            recipient=user,
            case=event.case,
            event=event,
            kind=Notification.Kind.EVENT,
            key=f"event:{event.pk}",
        )
        for user in recipients
    )
    return [notification.pk for notification in created if notification.recipient.email]


def notification_email(notification: Notification) -> tuple[str, str]:
    """The subject and plain-text body of a notification's email.

    Both are plain text, so a title's `"` or `&` reaches the reader as typed.
    """
    context = {
        "notification": notification,
        "event": notification.event,
        "case": notification.case,
        "site_url": settings.SITE_URL,
    }
    return _subject(notification), text_render(
        "inbox/email/notification_body.txt", context
    )


def _subject(notification: Notification) -> str:
    if notification.kind == Notification.Kind.CAMPAIGN:
        subject = _("[Call for cases] %(title)s closes soon") % {
            "title": notification.campaign.title
        }
    elif notification.kind == Notification.Kind.SCORING:
        subject = _("[Scoring] Closes soon: %(title)s") % {
            "title": notification.case.title
        }
    elif notification.kind == Notification.Kind.REMINDER:
        subject = _("[Case] Overdue: %(title)s") % {"title": notification.case.title}
    else:
        subject = _("[Case] %(title)s: %(action)s") % {
            "title": notification.case.title,
            "action": notification.event.get_action_display(),
        }
    return subject_line(bidi_strip(subject))
