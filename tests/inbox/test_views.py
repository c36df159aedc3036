"""The inbox pages: the badge, the list, opening a notification (a GET leads
the way, only a POST marks it read) and marking read, each for its owner only."""

from urllib.parse import urljoin

import pytest
from django.urls import reverse

from inbox.models import Notification
from review import workflow
from review.models import CaseEvent
from tests.review.factories import committed, decide, draft
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db


def submitted(who, **content):
    case = draft(who, **content)
    workflow.case_submit(case=case, acting_user=who.secretary)
    case.refresh_from_db()
    return case


class InboxViewTests:
    def test_badge_list_open_and_mark_read(self, who):
        with committed():
            case = submitted(who, title="收件箱测试")
        client = signed_in(who.reviewer1)
        home = client.get("/").content.decode()
        assert 'class="inbox-link__count">1' in home
        inbox = client.get(reverse("inbox:list"))
        notification = inbox.context["notifications"][0]
        assert "收件箱测试" in inbox.content.decode()
        response = client.post(reverse("inbox:open", args=[notification.pk]))
        assert response["Location"] == reverse("review:case", args=[case.pk])
        notification.refresh_from_db()
        assert notification.read_at is not None
        assert "inbox-link__count" not in client.get("/").content.decode()

    def test_the_inbox_opens_a_notification_by_post(self, who):
        with committed():
            submitted(who)
        notification = Notification.objects.get()
        page = signed_in(who.reviewer1).get(reverse("inbox:list")).content.decode()
        url = reverse("inbox:open", args=[notification.pk])
        assert f'method="post" action="{url}"' in page
        assert f'href="{url}"' not in page

    # The email's link, and an image whose address a browser resolves to it.
    @pytest.mark.parametrize("src", ["/inbox/{pk}/", "/media/../inbox/{pk}/"])
    def test_a_get_leads_the_way_and_leaves_it_unread(self, who, src):
        with committed():
            case = submitted(who)
        notification = Notification.objects.get()
        client = signed_in(who.reviewer1)
        url = urljoin("http://testserver/cases/1/", src.format(pk=notification.pk))
        response = client.get(url, follow=True)
        assert response.redirect_chain[-1][0] == reverse("review:case", args=[case.pk])
        notification.refresh_from_db()
        assert notification.read_at is None
        assert 'class="inbox-link__count">1' in response.content.decode()

    def test_opening_needs_the_csrf_token(self, who):
        with committed():
            submitted(who)
        notification = Notification.objects.get()
        client = signed_in(who.reviewer1, enforce_csrf_checks=True)
        response = client.post(reverse("inbox:open", args=[notification.pk]))
        assert response.status_code == 403
        notification.refresh_from_db()
        assert notification.read_at is None

    def test_mark_all_read(self, who):
        with committed():
            submitted(who)
            submitted(who)
        client = signed_in(who.reviewer1)
        client.post(reverse("inbox:mark_all_read"))
        assert not Notification.objects.filter(read_at__isnull=True).exists()

    def test_mark_one_read(self, who):
        with committed():
            submitted(who)
        notification = Notification.objects.get()
        signed_in(who.reviewer1).post(
            reverse("inbox:mark_read", args=[notification.pk])
        )
        notification.refresh_from_db()
        assert notification.read_at is not None

    def test_someone_elses_notification_is_404(self, who):
        with committed():
            submitted(who)
        notification = Notification.objects.get()
        client = signed_in(who.reviewer2)
        url = reverse("inbox:open", args=[notification.pk])
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
        client.post(reverse("inbox:mark_read", args=[notification.pk]))
        notification.refresh_from_db()
        assert notification.read_at is None

    def test_branch_member_is_taken_to_their_case_page(self, who):
        with committed():
            case = submitted(who)
            decide(case, "return", who.reviewer1, comment="请修改")
        notification = Notification.objects.get(recipient=who.secretary)
        response = signed_in(who.secretary).post(
            reverse("inbox:open", args=[notification.pk])
        )
        assert response["Location"] == case.get_absolute_url()
        event = CaseEvent.objects.get(action="return")
        assert notification.event == event

    def test_outsider_with_a_stale_link_lands_in_the_inbox(self, who):
        with committed():
            case = submitted(who)
        notification = Notification.objects.get(recipient=who.reviewer1)
        decide(case, "approve", who.reviewer1, comment="")
        response = signed_in(who.reviewer1).post(
            reverse("inbox:open", args=[notification.pk])
        )
        assert response["Location"] == reverse("inbox:list")
