"""Tasks queued by the web process and run by a real Celery worker on Redis."""

import pytest

from casehub.images import image_clean
from review.services import case_submit
from submissions.models import Case, Membership
from submissions.services import CaseContent, case_create
from tests.images import image_bytes, upload
from tests.integration.conftest import sent_mails, wait_for
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

    def test_worker_mails_the_branch_after_submit(self, with_worker, worker_dirs):
        secretary = member(Membership.Role.SECRETARY, username="shuji_int")
        writer = member(
            Membership.Role.CORRESPONDENT,
            branch=secretary.memberships.get().branch,
            username="writer_int",
        )
        case = case_create(
            branch=writer.memberships.get().branch,
            acting_user=writer,
            content=CaseContent(title="邮件测试案例", lead="导语", body="<p>正文</p>"),
        )
        case_submit(case=case, acting_user=secretary)
        recipient = "writer_int@example.org"
        mails = wait_for(lambda: [m for m in sent_mails(worker_dirs) if recipient in m])
        assert len(mails) == 1
