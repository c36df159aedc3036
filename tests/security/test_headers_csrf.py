"""Security headers on public pages, and CSRF on each form-handling URL."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.cache import get_max_age

from exports.models import ExportJob
from tests.exports.factories import two_case_issue
from tests.showcase.factories import published_issue, series
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db

DENIED_FEATURES = (
    "camera",
    "microphone",
    "geolocation",
    "payment",
    "usb",
    "serial",
    "bluetooth",
    "display-capture",
    "interest-cohort",
    "browsing-topics",
)


def cache_directives(response) -> set[str]:
    header = response.headers.get("Cache-Control", "")
    return {part.strip().split("=")[0] for part in header.split(",") if part.strip()}


def assert_private(response, what):
    assert {"private", "no-store"} <= cache_directives(response), (
        what,
        response.headers.get("Cache-Control"),
    )


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


class PermissionsPolicyTests:
    def test_every_kind_of_answer_denies_the_features_the_site_does_not_use(self, who):
        issue = published_issue(who, series())
        answers = {
            "public page": Client().get(f"/cases/{issue.cases.get().pk}/"),
            "sign-in page": Client().get("/accounts/login/"),
            "signed-in page": signed_in(who.editor).get("/submissions/"),
            "not found": Client().get("/no-such-page/"),
            "bad request": Client().get("/?q=%00"),
            "robots": Client().get("/robots.txt"),
        }
        for what, response in answers.items():
            policy = {
                part.strip() for part in response["Permissions-Policy"].split(",")
            }
            for feature in DENIED_FEATURES:
                assert f"{feature}=()" in policy, (what, feature)


class CacheControlTests:
    """Whatever is shown to one signed-in user stays out of every cache."""

    def test_anonymous_public_pages_keep_their_caching(self, who):
        issue = published_issue(who, series())
        case_url = f"/cases/{issue.cases.get().pk}/"
        for url in ("/", issue.get_absolute_url(), case_url, case_url, "/robots.txt"):
            response = Client().get(url)
            assert response.status_code == 200
            assert "Cache-Control" not in response, url
            assert not response.cookies, url

    def test_signed_in_pages_are_private_and_not_stored(self, who):
        issue = published_issue(who, series())
        client = signed_in(who.editor)
        for url in (
            "/",
            f"/cases/{issue.cases.get().pk}/",
            "/submissions/",
            "/editor/",
            "/statistics/",
            "/inbox/",
            "/accounts/password/",
        ):
            response = client.get(url)
            assert response.status_code == 200, url
            assert_private(response, url)

    def test_table_downloads_are_private_and_not_stored(self, who):
        client = signed_in(who.editor)
        for fmt in ("csv", "xlsx"):
            response = client.get(
                "/statistics/?start=2026-03-01&end=2026-03-31"
                f"&table=branches&format={fmt}"
            )
            assert response.status_code == 200
            assert "attachment" in response["Content-Disposition"]
            assert_private(response, fmt)

    def test_word_export_download_is_private_and_not_stored(
        self, who, django_capture_on_commit_callbacks
    ):
        issue = two_case_issue(who)
        client = signed_in(who.editor)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("exports:start", args=["issue", issue.pk]))
        job = ExportJob.objects.get()
        response = client.get(reverse("exports:job_download", args=[job.public_id]))
        assert response.status_code == 200
        assert_private(response, "export")
        assert get_max_age(response) in (None, 0)

    def test_an_answer_setting_a_cookie_is_not_stored(self):
        response = Client().get("/accounts/login/")
        assert "csrftoken" in response.cookies
        assert_private(response, "sign-in page")


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
