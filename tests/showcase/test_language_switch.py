"""The language switch: a POST from our own pages, never a GET, and no token
in the pages the cache shares."""

from urllib.parse import urljoin

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tests.showcase.factories import approved_case, published_issue, series
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"}


def reader():
    return Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="reader")


def switch_url(code="en"):
    return reverse("language_switch", args=[code])


class LanguageSwitchTests:
    def test_a_post_from_our_page_switches_and_goes_back(self):
        client = reader()
        response = client.post(
            switch_url(), {"next": "/accounts/login/"}, headers=SAME_ORIGIN
        )
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/"
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
        assert 'lang="en"' in client.get("/accounts/login/").content.decode()

    @pytest.mark.parametrize(
        "headers",
        [
            {"Origin": "http://testserver"},
            {"Referer": "http://testserver/cases/1/"},
        ],
    )
    def test_browsers_without_fetch_metadata_are_judged_by_origin(self, headers):
        response = reader().post(switch_url(), {"next": "/"}, headers=headers)
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"

    @pytest.mark.parametrize(
        "headers",
        [
            {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
            {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"},
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Referer": "http://testserver.evil.example/"},
            {},
        ],
    )
    def test_a_post_from_anywhere_else_is_refused(self, headers):
        response = reader().post(switch_url(), {"next": "/"}, headers=headers)
        assert response.status_code == 403
        assert settings.LANGUAGE_COOKIE_NAME not in response.cookies

    @pytest.mark.parametrize("src", ["/lang/en/?next=/", "/media/../lang/en/?next=/"])
    def test_a_get_changes_nothing(self, who, src):
        client = signed_in(who.secretary)
        sessions = list(Session.objects.values_list("session_key", "session_data"))
        # As a browser resolves an image's address before fetching it.
        response = client.get(urljoin("http://testserver/cases/1/", src))
        assert response.status_code == 302
        assert response["Location"] == "/"
        assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
        assert settings.LANGUAGE_COOKIE_NAME not in client.cookies
        assert (
            list(Session.objects.values_list("session_key", "session_data")) == sessions
        )
        assert 'lang="zh-hans"' in client.get("/").content.decode()

    @pytest.mark.parametrize(
        "next_url", ["https://evil.example/", "//evil.example/", "/\\evil.example"]
    )
    def test_next_outside_the_site_goes_home(self, next_url):
        response = reader().post(switch_url(), {"next": next_url}, headers=SAME_ORIGIN)
        assert response["Location"] == "/"

    def test_an_unknown_language_changes_nothing(self):
        response = reader().post(switch_url("xx"), {"next": "/"}, headers=SAME_ORIGIN)
        assert response["Location"] == "/"
        assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


class LanguageSwitchFormTests:
    def test_the_footer_switch_is_a_form_that_works_without_script(self):
        html = reader().get("/accounts/login/?next=/a%26b/").content.decode()
        assert (
            f'<form class="inline-form" method="post" action="{switch_url()}">' in html
        )
        assert (
            '<input type="hidden" name="next" value="/accounts/login/?next=/a%26b/">'
            in html
        )
        assert 'lang="en">English</button>' in html
        assert 'hreflang="en"' not in html

    def test_a_cached_public_page_carries_no_csrf_token(self, who):
        issue = published_issue(who, series(), cases=[approved_case(who)])
        case_url = reverse("showcase:case", args=[issue.cases.get().pk])
        for url in ("/", issue.get_absolute_url(), case_url):
            first = reader().get(url)
            again = reader().get(url)  # from the cache
            for response in (first, again):
                html = response.content.decode()
                assert response.status_code == 200, url
                assert f'action="{switch_url()}"' in html, url
                assert "csrfmiddlewaretoken" not in html, url
                assert settings.CSRF_COOKIE_NAME not in response.cookies, url
