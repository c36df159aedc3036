from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from inbox.models import Notification
from inbox.notifications import notify
from inbox.tasks import RETRY, emails_queue
from submissions.models import Membership

from .models import Campaign
from .selectors import branches_not_submitted


@shared_task(**RETRY)
def campaign_reminders_send() -> int:
    """Remind the secretaries of organisations that have not submitted to a
    call closing within CAMPAIGN_REMINDER_DAYS, at most once a day each.

    Returns how many secretaries today's reminders cover; a second run on the
    same day counts them again but creates and sends nothing new."""
    today = timezone.localdate()
    closing = Campaign.objects.filter(
        opens_on__lte=today,
        closes_on__gte=today,
        closes_on__lte=today + timedelta(days=settings.CAMPAIGN_REMINDER_DAYS),
    )
    User = get_user_model()
    reminded = 0
    for campaign in closing:
        secretaries = User.objects.filter(
            is_active=True,
            memberships__role=Membership.Role.SECRETARY,
            memberships__branch__in=branches_not_submitted(campaign=campaign),
        ).distinct()
        pending = notify(
            recipients=secretaries.order_by("pk"),
            case=None,
            campaign=campaign,
            kind=Notification.Kind.CAMPAIGN,
            key=f"campaign:{campaign.pk}:{today.isoformat()}",
        )
        emails_queue(pending)
        reminded += secretaries.count()
    return reminded
