"""Tasks queued by the web process and run by a real Celery worker on Redis."""

import os
import signal
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from authoring.services import CaseContent, case_create
from casehub.celery import app as celery_app
from casehub.images import image_clean
from inbox.models import Notification
from review import workflow
from showcase.models import Issue
from submissions.models import Case, Membership
from tests.images import image_bytes, upload
from tests.integration.conftest import mails_to, wait_for
from tests.review.factories import draft, people
from tests.showcase.factories import planned_issue, series
from tests.submissions.factories import member

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


class WorkerTests:
    def test_worker_makes_the_cover_thumbnail(self, with_worker):
        writer = member(Membership.Role.CORRESPONDENT)
        cover = image_clean(
            upload(image_bytes("JPEG", size=(1600, 900)), "c.jpg", "image/jpeg")
        )
        case = case_create(
            branch=writer.memberships.get().branch,
            acting_user=writer,
            content=CaseContent(title="封面测试", cover=cover),
        )
        thumbnail = wait_for(
            lambda: (
                Case.objects.filter(pk=case.pk)
                .values_list("cover_thumbnail", flat=True)
                .get()
            )
        )
        assert thumbnail.startswith("covers/thumbs/")

    def test_worker_notifies_the_stage_reviewers_after_submit(
        self, with_worker, worker_dirs
    ):
        who = people()
        case = draft(who, title="邮件测试案例")
        workflow.case_submit(case=case, acting_user=who.secretary)
        recipient = who.reviewer1.email
        assert len(wait_for(lambda: mails_to(worker_dirs, recipient))) == 1
        notification = Notification.objects.get(recipient=who.reviewer1)
        assert wait_for(
            lambda: Notification.objects.filter(
                pk=notification.pk, emailed_at__isnull=False
            ).exists()
        )

    def test_the_beat_schedules_publish_task_publishes_the_due_issue(self, with_worker):
        who = people()
        issue = planned_issue(who, series())
        later = planned_issue(who, series(slug="later"))
        # Time passes: the first issue's slot is behind us.
        Issue.objects.filter(pk=issue.pk).update(
            scheduled_at=timezone.now() - timedelta(minutes=1)
        )
        entry = settings.CELERY_BEAT_SCHEDULE["showcase-publish-due"]
        celery_app.send_task(entry["task"])
        assert wait_for(
            lambda: Issue.objects.filter(
                pk=issue.pk, status=Issue.Status.PUBLISHED, number=1
            ).exists()
        )
        assert issue.cases.get().status == Case.Status.PUBLISHED
        later.refresh_from_db()
        assert (later.status, later.number) == (Issue.Status.PLANNED, None)

    def test_a_worker_killed_while_sending_still_sends_exactly_one_email(
        self, with_worker, worker_dirs
    ):
        who = people()
        hold = worker_dirs / "mail" / "hold"
        holding = worker_dirs / "mail" / "holding"
        holding.unlink(missing_ok=True)
        hold.touch()
        try:
            workflow.case_submit(case=draft(who), acting_user=who.secretary)
            pid = wait_for(lambda: holding.exists() and holding.read_text())
            assert pid, "the email task never started"
            # The pool child dies in the middle of the task, before the email
            # left; the task was not acknowledged, so it goes back to the queue.
            os.kill(int(pid), signal.SIGKILL)
        finally:
            hold.unlink(missing_ok=True)
        recipient = who.reviewer1.email
        assert len(wait_for(lambda: mails_to(worker_dirs, recipient))) == 1
        notification = Notification.objects.get(recipient=who.reviewer1)
        assert wait_for(
            lambda: Notification.objects.filter(
                pk=notification.pk, emailed_at__isnull=False
            ).exists()
        )
        time.sleep(2)  # time enough for a second delivery, were there one
        assert len(mails_to(worker_dirs, recipient)) == 1
