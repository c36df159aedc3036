"""Nothing typed in the case form is lost, in Chromium: a closed tab, leaving
the page, an expired session, signing in again in another tab."""

import re

import pytest
from playwright.sync_api import expect

from demo import demo
from submissions.models import Case, EditorImage
from tests.browser import Visitor
from tests.images import image_bytes

pytestmark = [pytest.mark.browser]

DRAFT = "“三会一课”进实验室 理论学习见实效"
COPY_HOLDS = """(text) => Object.keys(localStorage).some(
    (key) => key.startsWith('casehub.autosave:')
        && localStorage.getItem(key).includes(text))"""
COPIES = (
    "Object.keys(localStorage).filter((key) => key.startsWith('casehub.autosave:'))"
)


def edit_path(case) -> str:
    return f"/submissions/{case.pk}/edit/"


def form_open(visitor, path):
    """Open the case form and wait for the editor."""
    visitor.go(path)
    editable = visitor.page.locator(".ck-editor__editable")
    expect(editable).to_be_visible()
    return editable


def type_at_the_end(visitor, editable, text):
    editable.click()
    visitor.page.keyboard.press("Control+End")
    visitor.page.keyboard.press("Enter")
    visitor.page.keyboard.type(text)


def dialogs_seen(visitor) -> list:
    seen = []
    visitor.page.on("dialog", lambda dialog: seen.append(dialog.type))
    return seen


def sign_in_here(visitor, username="secretary1"):
    """Sign in on the sign-in page already shown, keeping its `next`."""
    visitor.page.fill("#id_username", username)
    visitor.page.fill("#id_password", demo.DEMO_PASSWORD)
    visitor.page.click("main button[type=submit]")
    visitor.page.wait_for_load_state()


class AutosaveTests:
    def test_a_closed_tab_gives_the_text_back_and_it_saves(self, demo_data, visitor):
        draft = Case.objects.get(title=DRAFT)
        writer = visitor()
        writer.sign_in_elsewhere("secretary1")
        editable = form_open(writer, edit_path(draft))
        type_at_the_end(writer, editable, "四、关掉标签页之前写下的一段")
        writer.page.fill("#id_title", "关掉标签页之前改的标题")
        # Kept within seconds while typing, not only when the page goes away:
        # a crash gives no warning.
        writer.page.wait_for_function(COPY_HOLDS, arg="关掉标签页之前写下的一段")
        context = writer.page.context
        writer.page.close()

        again = Visitor(context.new_page(), writer.base_url)
        dialogs = dialogs_seen(again)
        page = again.page
        editable = form_open(again, edit_path(draft))
        offer = page.locator("[data-autosave-offer]")
        expect(offer).to_be_visible()
        expect(offer.locator("time")).to_have_text(
            re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$")
        )
        expect(editable).not_to_contain_text("关掉标签页之前写下的一段")
        again.screenshot("autosave-offer")

        page.click("[data-autosave-restore]")
        expect(offer).to_be_hidden()
        expect(page.locator("[data-autosave-restored]")).to_be_visible()
        expect(editable).to_contain_text("四、关掉标签页之前写下的一段")
        expect(page.locator("#id_title")).to_have_value("关掉标签页之前改的标题")

        with page.expect_navigation():
            page.click("button[name=save]")
        expect(page.locator(".messages .message--success")).to_be_visible()
        draft.refresh_from_db()
        assert draft.title == "关掉标签页之前改的标题"
        assert "四、关掉标签页之前写下的一段" in draft.body
        assert draft.version == 2
        # Saved, so the copy is gone and the form offers nothing.
        expect(page.locator("[data-autosave-offer]")).to_be_hidden()
        page.wait_for_function(f"() => {COPIES}.length === 0")
        assert "beforeunload" not in dialogs, "saving the form does not ask"
        assert again.errors == []

    def test_leaving_with_changes_asks_and_signing_out_forgets_the_copies(
        self, demo_data, visitor
    ):
        draft = Case.objects.get(title=DRAFT)
        writer = visitor()
        writer.sign_in_elsewhere("secretary1")
        context = writer.page.context

        untouched = Visitor(context.new_page(), writer.base_url)
        dialogs = dialogs_seen(untouched)
        form_open(untouched, edit_path(draft))
        untouched.page.click("#id_title")  # the page may ask now, but need not
        with untouched.page.expect_event("close"):
            untouched.page.close(run_before_unload=True)
        assert dialogs == []

        typed = Visitor(context.new_page(), writer.base_url)
        dialogs = dialogs_seen(typed)
        editable = form_open(typed, edit_path(draft))
        type_at_the_end(typed, editable, "还没保存的一段")
        with (
            typed.page.expect_event("close"),
            typed.page.expect_event("dialog") as asked,
        ):
            typed.page.close(run_before_unload=True)
        assert asked.value.type == "beforeunload"

        page = writer.page
        editable = form_open(writer, edit_path(draft))
        expect(page.locator("[data-autosave-offer]")).to_be_visible()
        page.click("[data-autosave-discard]")
        expect(page.locator("[data-autosave-offer]")).to_be_hidden()
        assert page.evaluate(COPIES) == []
        type_at_the_end(writer, editable, "退出登录前写下的一段")
        page.wait_for_function(COPY_HOLDS, arg="退出登录前写下的一段")
        with page.expect_navigation():
            page.click("form[data-sign-out] button")  # the visitor says leave
        assert page.evaluate(COPIES) == []
        assert writer.errors == []

    def test_a_save_after_the_session_expired_comes_back_after_signing_in(
        self, demo_data, visitor
    ):
        draft = Case.objects.get(title=DRAFT)
        writer = visitor()
        writer.sign_in_elsewhere("secretary1")
        page = writer.page
        editable = form_open(writer, edit_path(draft))
        type_at_the_end(writer, editable, "会话过期前写下的一段")
        page.fill("#id_title", "会话过期前改的标题")
        page.context.clear_cookies(name="sessionid")  # the session has expired

        with page.expect_navigation():
            page.click("button[name=save]")
        assert "/accounts/login/?next=" in page.url
        expect(page.locator(".messages .message--info")).to_be_visible()
        draft.refresh_from_db()
        assert draft.version == 1

        sign_in_here(writer)
        page.wait_for_url(f"**{edit_path(draft)}")
        editable = page.locator(".ck-editor__editable")
        expect(editable).to_contain_text("会话过期前写下的一段")
        expect(page.locator("#id_title")).to_have_value("会话过期前改的标题")
        expect(page.locator(".messages .message--warning")).to_be_visible()
        draft.refresh_from_db()
        assert draft.version == 1, "nothing is saved before pressing save"

        with page.expect_navigation():
            page.click("button[name=save]")
        draft.refresh_from_db()
        assert draft.title == "会话过期前改的标题"
        assert "会话过期前写下的一段" in draft.body
        assert writer.errors == []

    def test_signing_in_again_in_another_tab_refuses_no_save_or_upload(
        self, demo_data, visitor, tmp_path
    ):
        draft = Case.objects.get(title=DRAFT)
        writer = visitor()
        writer.sign_in_elsewhere("secretary1")
        page = writer.page
        editable = form_open(writer, edit_path(draft))
        type_at_the_end(writer, editable, "另一个标签页重新登录后保存的一段")

        other_tab = Visitor(page.context.new_page(), writer.base_url)
        other_tab.go("/submissions/")
        with other_tab.page.expect_navigation():
            other_tab.page.click("form[data-sign-out] button")
        other_tab.sign_in_elsewhere("secretary1")  # a new CSRF token

        # The editor started with the old token; an image upload still goes in.
        picture = tmp_path / "支部活动.png"
        picture.write_bytes(image_bytes("PNG"))
        editable.click()
        with page.expect_response("**/submissions/images/") as answer:
            page.locator(".ck-editor input[type=file]").set_input_files(str(picture))
        assert answer.value.status == 200
        expect(editable.locator("img[src^='/media/']")).to_have_count(1)

        with page.expect_navigation():
            page.click("button[name=save]")
        expect(page.locator(".messages .message--success")).to_be_visible()
        draft.refresh_from_db()
        assert "另一个标签页重新登录后保存的一段" in draft.body
        assert EditorImage.objects.get().image.url in draft.body
        assert writer.errors == [] and other_tab.errors == []
