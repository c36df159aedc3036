"""Tasks queued by the web process and run by a real Celery worker on Redis."""

import pytest

from casehub.images import image_clean
from review import services
from review.models import Notification
from submissions.models import Case, Membership
from submissions.services import CaseContent, case_create
from tests.images import image_bytes, upload
from tests.integration.conftest import sent_mails, wait_for
from tests.review.factories import draft, people
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
        services.case_submit(case=case, acting_user=who.secretary)
        recipient = who.reviewer1.email
        mails = wait_for(lambda: [m for m in sent_mails(worker_dirs) if recipient in m])
        assert len(mails) == 1
        notification = Notification.objects.get(recipient=who.reviewer1)
        assert wait_for(
            lambda: Notification.objects.filter(
                pk=notification.pk, emailed_at__isnull=False
            ).exists()
        )
