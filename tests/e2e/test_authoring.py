"""A branch writes a case in CKEditor 5, previews it and submits it, in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from submissions.models import Case, EditorImage
from tests.images import image_bytes

pytestmark = [pytest.mark.browser]


class AuthoringTests:
    def test_home_and_login_pages_are_served_in_chinese(self, demo_data, visitor):
        reader = visitor()
        reader.go("/")
        expect(reader.page.locator("h1")).to_have_text("党建引领案例征集与展播平台")
        reader.screenshot("home")
        reader.go("/accounts/login/")
        expect(reader.page.locator("main h1")).to_have_text("登录")
        reader.screenshot("login")
        assert reader.errors == []

    def test_secretary_writes_with_an_image_previews_and_submits(
        self, demo_data, visitor, tmp_path
    ):
        photo = tmp_path / "活动照片.jpg"
        photo.write_bytes(image_bytes("JPEG", size=(800, 600)))
        secretary = visitor()
        page = secretary.page
        secretary.sign_in("secretary1")
        page.click("text=撰写新案例")
        page.fill("#id_title", "党建引领 科研攻关见实效")
        page.fill("#id_tagline", "聚力·攻坚·育人")
        page.fill("#id_author_name", "王建国")
        page.fill("#id_lead", "支部把党小组建在课题组上,推动党建与科研深度融合。")
        page.check("text=科技创新")

        editable = page.locator(".ck-editor__editable")
        expect(editable).to_be_visible()
        editable.click()
        page.locator(".ck-heading-dropdown button").first.click()
        page.locator(".ck-heading-dropdown .ck-button", has_text="标题 2").click()
        page.keyboard.type("一、把支部建在课题组上")
        page.keyboard.press("Enter")
        page.keyboard.press("Control+B")
        page.keyboard.type("一是")
        page.keyboard.press("Control+B")
        page.keyboard.type("调整党小组设置。")
        page.keyboard.press("Enter")
        page.locator(".ck-editor input[type=file]").set_input_files(str(photo))
        expect(editable.locator("img")).to_have_attribute(
            "src", re.compile(r"^/media/uploads/")
        )
        secretary.screenshot("case-form")

        page.click("button[name=preview]")
        page.wait_for_url(re.compile(r"/submissions/\d+/preview/$"))
        article = page.locator("article.case-article")
        expect(article.locator("h1")).to_have_text("党建引领 科研攻关见实效")
        expect(article.locator(".case-article__tagline")).to_have_text("聚力·攻坚·育人")
        expect(article.locator(".case-article__branch")).to_have_text(
            "精密测量第一党支部"
        )
        expect(article.locator("h2")).to_have_text("一、把支部建在课题组上")
        expect(article.locator("strong")).to_have_text("一是")
        expect(article.locator("img")).to_have_count(1)
        secretary.screenshot("case-preview")

        page.click("text=返回案例")
        page.click("button:has-text('提交审核')")
        expect(page.locator(".badge")).to_have_text("审核中")
        expect(page.locator(".message--success")).to_contain_text("已提交审核")
        secretary.screenshot("case-submitted")

        case = Case.objects.get(title="党建引领 科研攻关见实效")
        assert case.status == Case.Status.IN_REVIEW
        assert case.revisions.get().body.count("<img") == 1
        assert (
            EditorImage.objects.filter(uploaded_by__username="secretary1").count() == 1
        )
        assert secretary.errors == []

    def test_correspondent_cannot_submit(self, demo_data, visitor):
        correspondent = visitor()
        page = correspondent.page
        correspondent.sign_in("correspondent1")
        draft = Case.objects.get(title="“三会一课”进实验室 理论学习见实效")
        correspondent.go(f"/submissions/{draft.pk}/")
        expect(page.locator("main")).to_contain_text("案例由本党组织书记审定后提交")
        expect(page.locator("button:has-text('提交审核')")).to_have_count(0)
        # Posting anyway, as a crafted request would, is refused.
        status = page.evaluate(
            """async (url) => {
                const field = document.querySelector('[name=csrfmiddlewaretoken]');
                const token = field.value;
                const response = await fetch(url, {
                    method: 'POST', headers: {'X-CSRFToken': token},
                });
                return response.status;
            }""",
            f"/submissions/{draft.pk}/submit/",
        )
        assert status == 403
        draft.refresh_from_db()
        assert draft.status == Case.Status.DRAFT

    def test_case_list_on_a_phone(self, demo_data, visitor):
        phone = visitor(viewport={"width": 390, "height": 844})
        phone.sign_in("secretary1")
        phone.go("/submissions/")
        expect(phone.page.locator("main h1")).to_have_text("我的案例")
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        phone.screenshot("case-list-phone")
