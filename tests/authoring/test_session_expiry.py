"""A save sent after the session expired keeps its text through signing in again.

The client checks CSRF tokens as a browser's requests are checked, and signs
in through the sign-in form, so the token rotation on sign-in is the real one.
"""

import re
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from authoring import unsaved
from authoring.services import CaseContent, case_update
from submissions.models import Case, Membership
from tests.images import image_bytes, upload
from tests.submissions.factories import PASSWORD, CaseFactory, member

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
OWNER = re.compile(r'name="autosave_owner" value="([^"]+)"')
KEPT = "Your session had expired. Your text has been kept: check it and save."
SIGN_IN_AGAIN = (
    "Your session has expired. Sign in again and your text will be back in the "
    "form, ready to save."
)


def in_site_language(msgid: str) -> str:
    """The message as the pages show it: the site speaks zh-hans by default."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(msgid)


class Browser:
    """One browser: its cookies, and the tokens of the last page it was shown."""

    def __init__(self):
        self.client = Client(enforce_csrf_checks=True)
        self.token = None
        self.owner = None

    def get(self, url):
        response = self.client.get(url)
        html = response.content.decode()
        if found := TOKEN.search(html):
            self.token = found[1]
        if found := OWNER.search(html):
            self.owner = found[1]
        return response

    def post(self, url, data, *, token=None):
        body = {"csrfmiddlewaretoken": token or self.token, **data}
        return self.client.post(url, body)

    def save(self, url, **fields):
        """Press save on the form last shown, with these fields typed."""
        return self.post(url, {"autosave_owner": self.owner, **form_data(**fields)})

    def sign_in(self, user, next_url=""):
        self.get(reverse("login"))
        credentials = {"username": user.username, "password": PASSWORD}
        return self.post(reverse("login"), {**credentials, "next": next_url})

    def session_expire(self):
        key = self.client.cookies[settings.SESSION_COOKIE_NAME].value
        Session.objects.filter(session_key=key).update(
            expire_date=timezone.now() - timedelta(seconds=1)
        )

    def csrf_cookie(self) -> str:
        return self.client.cookies[settings.CSRF_COOKIE_NAME].value


def form_data(**fields):
    data = {
        "title": "会话过期前写好的标题",
        "tagline": "筑基·创新·暖心",
        "author_name": "李晓梅",
        "source": "",
        "lead": "写了一个小时的导语。",
        "body": "<h2>一、筑基</h2><p>一是写了一个小时的正文。</p>",
    }
    data.update(fields)
    return data


def login_redirect(url) -> str:
    return f"{reverse('login')}?next={url}"


@pytest.fixture
def secretary():
    return member(Membership.Role.SECRETARY, username="shuji")


@pytest.fixture
def branch(secretary):
    return secretary.memberships.get().branch


@pytest.fixture
def draft(branch, secretary):
    return CaseFactory(
        branch=branch, created_by=secretary, title="保存过的标题", body="<p>旧正文</p>"
    )


@pytest.fixture
def edit_url(draft):
    return reverse("submissions:case_update", args=[draft.pk])


@pytest.fixture
def expired(secretary, edit_url):
    """A browser that opened the draft's form, then lost its session."""
    browser = Browser()
    browser.sign_in(secretary)
    browser.get(edit_url)
    browser.session_expire()
    return browser


class ExpiredSessionSaveTests:
    def test_the_text_comes_back_after_signing_in_and_saves(
        self, expired, secretary, draft, edit_url
    ):
        response = expired.save(edit_url, title="会话过期后保存的标题", version=1)
        assert response.status_code == 302
        assert response["Location"] == login_redirect(edit_url)
        draft.refresh_from_db()
        assert (draft.title, draft.version) == ("保存过的标题", 1)

        login_page = expired.get(response["Location"])
        assert in_site_language(SIGN_IN_AGAIN) in login_page.content.decode()
        signed_in = expired.sign_in(secretary, next_url=edit_url)
        assert signed_in["Location"] == edit_url

        page = expired.get(edit_url)
        form = page.context["form"]
        assert form["title"].value() == "会话过期后保存的标题"
        assert form["body"].value() == form_data()["body"]
        assert str(form["version"].value()) == "1"
        assert in_site_language(KEPT) in page.content.decode()
        assert 'data-unsaved="1"' in page.content.decode()
        draft.refresh_from_db()
        assert draft.title == "保存过的标题", "nothing is saved before pressing save"

        saved = expired.save(
            edit_url, title="会话过期后保存的标题", version=form["version"].value()
        )
        assert saved.status_code == 302
        draft.refresh_from_db()
        assert (draft.title, draft.version) == ("会话过期后保存的标题", 2)
        assert draft.last_edited_by == secretary

    def test_the_kept_text_is_shown_once(self, expired, secretary, edit_url):
        expired.save(edit_url, title="会话过期后保存的标题", version=1)
        expired.sign_in(secretary, next_url=edit_url)
        assert expired.get(edit_url).context["form"].is_bound
        again = expired.get(edit_url)
        assert not again.context["form"].is_bound
        assert again.context["form"]["title"].value() == "保存过的标题"

    def test_a_save_made_meanwhile_still_meets_the_edit_conflict(
        self, expired, secretary, branch, draft, edit_url
    ):
        expired.save(edit_url, title="我的标题", version=1)
        colleague = member(Membership.Role.CORRESPONDENT, branch=branch)
        case_update(
            case=draft,
            acting_user=colleague,
            expected_version=1,
            content=CaseContent(title="同事的标题", body="<p>同事的正文</p>"),
        )
        expired.sign_in(secretary, next_url=edit_url)
        page = expired.get(edit_url)
        assert str(page.context["form"]["version"].value()) == "1"

        response = expired.save(edit_url, title="我的标题", version=1)
        assert response.status_code == 409
        assert response.context["form"]["title"].value() == "我的标题"
        assert response.context["conflict_with"].title == "同事的标题"
        draft.refresh_from_db()
        assert (draft.title, draft.version) == ("同事的标题", 2)

    def test_a_new_case_is_kept_too_and_saved_by_its_author(self, secretary, branch):
        new_url = reverse("submissions:case_create")
        browser = Browser()
        browser.sign_in(secretary)
        browser.get(new_url)
        browser.session_expire()
        response = browser.post(
            new_url,
            {
                "autosave_owner": browser.owner,
                "branch": branch.pk,
                "cover_image": upload(image_bytes()),
                **form_data(title="新案例的标题"),
            },
        )
        assert response["Location"] == login_redirect(new_url)
        assert not Case.objects.exists()
        login_page = browser.get(response["Location"])
        cover_lost = in_site_language(
            "The cover image you chose could not be kept; choose it again after "
            "signing in."
        )
        assert cover_lost in login_page.content.decode()

        browser.sign_in(secretary, next_url=new_url)
        form = browser.get(new_url).context["form"]
        assert form["title"].value() == "新案例的标题"
        assert str(form["branch"].value()) == str(branch.pk)
        assert not Case.objects.exists()
        browser.post(new_url, {"branch": branch.pk, **form_data(title="新案例的标题")})
        case = Case.objects.get()
        assert (case.title, case.created_by) == ("新案例的标题", secretary)

    def test_too_large_a_form_is_refused_with_a_message_and_not_kept(
        self, expired, secretary, edit_url, settings
    ):
        settings.CASEHUB_RICHTEXT_MAX_BYTES = 4 * 1024
        body = "<p>" + "字" * (unsaved.kept_limit() // 3 + 10) + "</p>"
        response = expired.save(edit_url, body=body, version=1)
        assert response.status_code == 413
        html = response.content.decode()
        assert f"{unsaved.kept_limit() // 1024} KB" in html
        assert f'href="{login_redirect(edit_url)}"' in html
        expired.sign_in(secretary, next_url=edit_url)
        assert not expired.get(edit_url).context["form"].is_bound

    def test_someone_else_signing_in_at_that_browser_does_not_see_it(
        self, expired, branch, edit_url
    ):
        expired.save(edit_url, title="书记的未保存标题", version=1)
        colleague = member(Membership.Role.CORRESPONDENT, branch=branch)
        expired.sign_in(colleague, next_url=edit_url)
        page = expired.get(edit_url)
        assert not page.context["form"].is_bound
        assert "书记的未保存标题" not in page.content.decode()
        assert unsaved.KEPT_FORM not in expired.client.session

    @pytest.mark.parametrize("owner", ["", "42", "a:forged:token"])
    def test_a_form_that_names_no_owner_of_ours_is_not_kept(
        self, expired, secretary, edit_url, owner
    ):
        fields = {"autosave_owner": owner, **form_data(title="无主的标题", version=1)}
        response = expired.post(edit_url, fields)
        assert response["Location"] == login_redirect(edit_url)
        expired.sign_in(secretary, next_url=edit_url)
        assert not expired.get(edit_url).context["form"].is_bound

    def test_an_owner_signature_older_than_a_week_is_not_honoured(
        self, expired, secretary, edit_url, monkeypatch
    ):
        later = time.time() + unsaved.OWNER_TOKEN_MAX_AGE + 60
        monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: later))
        response = expired.save(edit_url, title="一周前打开的表单", version=1)
        assert response["Location"] == login_redirect(edit_url)
        monkeypatch.undo()
        expired.sign_in(secretary, next_url=edit_url)
        assert not expired.get(edit_url).context["form"].is_bound

    def test_only_a_few_forms_an_hour_are_kept_for_one_owner(
        self, expired, secretary, edit_url
    ):
        for _ in range(unsaved.KEPT_PER_OWNER_HOURLY):
            expired.save(edit_url, title="反复发送的标题", version=1)
            expired.client.cookies.pop(settings.SESSION_COOKIE_NAME, None)
        sessions = Session.objects.count()
        expired.save(edit_url, title="超出次数的标题", version=1)
        assert Session.objects.count() == sessions  # no session opened for it
        expired.sign_in(secretary, next_url=edit_url)
        assert "超出次数的标题" not in expired.get(edit_url).content.decode()

    def test_without_a_valid_csrf_token_nothing_is_kept(
        self, expired, secretary, edit_url
    ):
        response = expired.post(
            edit_url,
            {"autosave_owner": expired.owner, **form_data(version=1)},
            token="x" * 64,
        )
        assert response.status_code == 403
        expired.sign_in(secretary, next_url=edit_url)
        assert not expired.get(edit_url).context["form"].is_bound


class SignedInElsewhereTests:
    def test_signing_in_again_rotates_the_token_and_the_cookie_token_still_saves(
        self, secretary, draft, edit_url
    ):
        """What autosave.js does on save: send the CSRF cookie's current value,
        since signing in again in another tab replaced the page's token."""
        browser = Browser()
        browser.sign_in(secretary)
        browser.get(edit_url)
        page_token = browser.token
        browser.post(reverse("logout"), {})
        browser.sign_in(secretary)

        fields = {"autosave_owner": browser.owner, **form_data(version=1)}
        refused = browser.post(edit_url, fields, token=page_token)
        assert refused.status_code == 403
        draft.refresh_from_db()
        assert draft.version == 1

        saved = browser.post(edit_url, fields, token=browser.csrf_cookie())
        assert saved.status_code == 302
        draft.refresh_from_db()
        assert (draft.title, draft.version) == (form_data()["title"], 2)

    def test_a_form_opened_for_another_account_is_not_saved_under_this_one(
        self, secretary, branch, draft, edit_url
    ):
        browser = Browser()
        browser.sign_in(secretary)
        browser.get(edit_url)
        opened_for_secretary = browser.owner
        browser.post(reverse("logout"), {})
        colleague = member(Membership.Role.CORRESPONDENT, branch=branch)
        browser.sign_in(colleague)

        response = browser.post(
            edit_url,
            {"autosave_owner": opened_for_secretary, **form_data(version=1)},
            token=browser.csrf_cookie(),
        )
        assert response.status_code == 409
        draft.refresh_from_db()
        assert (draft.title, draft.version) == ("保存过的标题", 1)


class AutosaveHandoverTests:
    """What the form page tells static/js/autosave.js."""

    def test_a_saved_copy_is_named_on_the_next_form_page(
        self, secretary, draft, edit_url
    ):
        browser = Browser()
        browser.sign_in(secretary)
        names = [f"{number:032x}" for number in range(12)]
        for version, name in enumerate(names, start=1):
            browser.get(edit_url)
            browser.post(
                edit_url, {"autosave_copy": name, **form_data(version=version)}
            )
        html = browser.get(edit_url).content.decode()
        assert f'data-saved-copies="{" ".join(names[-10:])}"' in html

    @pytest.mark.parametrize("name", ["", "not-a-copy", "0" * 31, "<b>" * 11])
    def test_a_malformed_copy_name_is_not_passed_on(
        self, secretary, draft, edit_url, name
    ):
        browser = Browser()
        browser.sign_in(secretary)
        browser.get(edit_url)
        saved = browser.post(edit_url, {"autosave_copy": name, **form_data(version=1)})
        assert saved.status_code == 302
        assert 'data-saved-copies=""' in browser.get(edit_url).content.decode()

    def test_the_page_says_when_the_form_holds_unsaved_text(
        self, secretary, draft, edit_url
    ):
        browser = Browser()
        browser.sign_in(secretary)
        fresh = browser.get(edit_url).content.decode()
        assert 'data-unsaved=""' in fresh
        assert f'data-case="{draft.pk}"' in fresh
        assert f'data-user="{secretary.pk}"' in fresh
        refused = browser.save(edit_url, title="", version=1)
        assert refused.status_code == 200
        assert 'data-unsaved="1"' in refused.content.decode()
