"""Security headers on public pages, and CSRF on each form-handling URL."""

import pytest
from django.test import Client

from tests.showcase.factories import published_issue, series
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db


class SecurityHeaderTests:
    def test_public_pages_carry_a_strict_policy(self, who):
        issue = published_issue(who, series())
        case = issue.cases.get()
        for url in (
            "/",
            issue.series.get_absolute_url(),
            issue.get_absolute_url(),
            f"/cases/{case.pk}/",
            "/accounts/login/",
        ):
            response = Client().get(url)
            policy = response["Content-Security-Policy"]
            script_src = next(
                part
                for part in policy.split(";")
                if part.strip().startswith("script-src")
            )
            assert "'unsafe-inline'" not in script_src, url
            assert "'unsafe-eval'" not in script_src, url
            assert "default-src 'self'" in policy
            assert "frame-ancestors 'none'" in policy
            assert response["X-Frame-Options"] == "DENY"
            assert response["X-Content-Type-Options"] == "nosniff"
            assert response["Referrer-Policy"] == "same-origin"

    def test_pages_have_no_inline_scripts(self, who):
        issue = published_issue(who, series())
        for url in ("/", f"/cases/{issue.cases.get().pk}/", "/accounts/login/"):
            html = Client().get(url).content.decode()
            for chunk in html.split("<script")[1:]:
                tag = chunk.split(">", 1)[0]
                assert "src=" in tag or "application/json" in tag, (url, tag)


class CsrfTests:
    """Every form-handling URL refuses a POST without the CSRF token."""

    @pytest.mark.parametrize(
        "url",
        [
            "/submissions/1/submit/",
            "/submissions/1/resubmit/",
            "/submissions/1/withdraw/",
            "/submissions/1/delete/",
            "/submissions/1/edit/",
            "/submissions/new/",
            "/submissions/images/",
            "/review/cases/1/",
            "/review/rejected/1/reopen/",
            "/inbox/1/read/",
            "/inbox/read-all/",
            "/editor/plan/",
            "/editor/queue/pin/",
            "/editor/queue/hold/",
            "/editor/issues/1/add/",
            "/editor/issues/1/remove/",
            "/editor/issues/1/up/",
            "/editor/issues/1/down/",
            "/editor/issues/1/note/",
            "/editor/issues/1/publish/",
            "/editor/issues/1/unpublish/",
            "/editor/issues/1/delete/",
            "/i18n/setlang/",
            "/accounts/login/",
            "/accounts/logout/",
            "/accounts/password/",
        ],
    )
    def test_a_post_without_token_is_refused(self, who, url):
        client = signed_in(who.editor, enforce_csrf_checks=True)
        response = client.post(url, {"comment": "x", "reason": "x"})
        assert response.status_code == 403
        assert "表单已失效" in response.content.decode()
