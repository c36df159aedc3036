from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def case_event_notify(event_id: int) -> None:
    """Email the people of the case's organisation about a transition."""
    from submissions.models import Membership

    from .models import CaseEvent

    event = (
        CaseEvent.objects.select_related(
            "case__branch", "case__last_edited_by", "actor"
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return
    case = event.case
    secretaries = [
        membership.user
        for membership in Membership.objects.filter(
            branch=case.branch, role=Membership.Role.SECRETARY
        ).select_related("user")
    ]
    recipients = {
        user.email
        for user in [*secretaries, case.last_edited_by]
        if user.email and user.is_active and user.pk != event.actor_id
    }
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        context = {"event": event, "case": case, "site_url": settings.SITE_URL}
        subject = render_to_string("review/email/case_event_subject.txt", context)
        body = render_to_string("review/email/case_event_body.txt", context)
    send_mail(" ".join(subject.split()), body, None, sorted(recipients))
