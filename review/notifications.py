"""Who hears of a case event, told through the inbox.

The inbox writes the items and sends the emails; the workflow decides who
they are for (`selectors.event_recipients`). The items are written in the
same transaction as the event; their emails are queued once it commits.
"""

from inbox.notifications import event_items_create
from inbox.tasks import emails_queue

from .models import CaseEvent
from .selectors import event_recipients


def event_notify(event: CaseEvent) -> None:
    """Tell the people `event` concerns: inbox items now, emails after commit."""
    recipients = event_recipients(event=event)
    if not recipients:
        return
    emails_queue(event_items_create(event=event, recipients=recipients))
