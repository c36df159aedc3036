"""A NUL anywhere in a request is answered, never passed on to PostgreSQL."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from submissions.models import Case, Membership
from tests.showcase.factories import published_issue, series
from tests.submissions.factories import member, signed_in

pytestmark = pytest.mark.django_db

REFUSED = "网址中含有空字符"


@pytest.fixture
def admin():
    return get_user_model().objects.create_superuser(
        "admin", "admin@example.org", "x", first_name="管理员"
    )


class NullCharacterTests:
    def test_admin_list_filter_with_a_nul_is_a_bad_request(self, admin):
        response = signed_in(admin).get("/admin/submissions/case/?status__exact=%00")
        assert response.status_code == 400
        assert REFUSED in response.content.decode()
        # The same filter without the NUL still works.
        plain = signed_in(admin).get("/admin/submissions/case/?status__exact=draft")
        assert plain.status_code == 200

    @pytest.mark.parametrize(
        "query",
        ["?q=%00", "?q=a%00b", "?%00=1", "?page=1&title=%00", "?q=%2500&x=%00"],
    )
    def test_public_urls_refuse_a_nul_in_the_query(self, who, query):
        issue = published_issue(who, series())
        for url in (
            "/",
            issue.series.get_absolute_url(),
            "/cases/1/",
            reverse("showcase:embed_issues"),
        ):
            response = Client().get(url + query)
            assert response.status_code == 400, url + query
            assert REFUSED in response.content.decode()

    def test_the_refusal_is_in_the_readers_language(self):
        response = Client().get("/?q=%00", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        assert "null character" in response.content.decode()

    def test_an_escaped_percent_is_not_a_nul(self, who):
        issue = published_issue(who, series())
        response = Client().get(issue.series.get_absolute_url() + "?q=%2500")
        assert response.status_code == 200

    def test_a_nul_in_the_path_is_a_bad_request(self):
        for path in ("/media/%00.jpg", "/lang/%00/", "/series/a%00b/"):
            assert Client().get(path).status_code == 400, path

    def test_a_session_cookie_with_a_nul_is_ignored(self, who):
        client = Client()
        client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
        assert client.get("/").status_code == 200
        assert client.get(reverse("submissions:case_list")).status_code == 302

    def test_a_nul_in_a_case_title_is_refused_with_the_form_kept(self):
        secretary = member(Membership.Role.SECRETARY)
        branch = secretary.memberships.get().branch
        response = signed_in(secretary).post(
            reverse("submissions:case_create"),
            {
                "branch": branch.pk,
                "title": "党建引领\x00新篇章",
                "tagline": "筑基·创新·暖心",
                "author_name": "李晓梅",
                "lead": "导语\x00一段。",
                "body": "<p>一是\x00加强组织建设。</p>",
            },
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "不能包含空字符" in html
        assert "筑基·创新·暖心" in html and "李晓梅" in html
        assert not Case.objects.exists()
