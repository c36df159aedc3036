"""导入 Word in Chromium: a secretary imports a .docx, checks what was
recognised, saves the draft and previews it as readers will see it."""

import re

import pytest
from django.core.files.base import ContentFile
from django.utils import translation
from playwright.sync_api import expect

from authoring.docx_import import docx_read
from submissions.models import Case, EditorImage
from tests.authoring.docx_files import docx_bytes, official_case
from tests.e2e.test_autosave import COPY_HOLDS

pytestmark = [pytest.mark.browser]

LEAVING_ASKS = """() => {
    const leaving = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(leaving);
    return leaving.defaultPrevented;
}"""
SECTIONS = ["一、把支部建在课题组上", "二、创新组织生活方式", "三、暖心服务"]


class DocxImportTests:
    def test_secretary_imports_a_word_file_saves_and_previews(
        self, demo_data, visitor, tmp_path
    ):
        data = docx_bytes(official_case)
        path = tmp_path / "党建引领案例.docx"
        path.write_bytes(data)
        with translation.override("zh-hans"):
            expected = docx_read(ContentFile(data, name=path.name)).summary
        cases_before = set(Case.objects.values_list("pk", flat=True))

        secretary = visitor()
        page = secretary.page
        secretary.sign_in("secretary1")
        secretary.go("/submissions/new/")
        page.click(".docx-import > summary")
        page.set_input_files("#id_docx_file", str(path))
        page.click("button[name=docx_import]")
        page.wait_for_load_state()

        expect(page.locator(".docx-import__summary")).to_have_text(expected)
        # The document names the organisation above the writer's own.
        expect(page.locator(".docx-import__notes li")).to_have_count(1)
        expect(page.locator("#id_title")).to_have_value("党建引领新篇章")
        expect(page.locator("#id_tagline")).to_have_value("筑基·创新·暖心")
        expect(page.locator("#id_lead")).to_have_value(
            re.compile(r"^中心党总支坚持以党建引领科研攻关")
        )
        editable = page.locator(".ck-editor__editable")
        expect(editable.locator("h2")).to_have_text(SECTIONS)
        expect(editable.locator("h3")).to_have_text(["（一）“三会一课”进实验室"])
        expect(editable.locator("img")).to_have_attribute(
            "src", re.compile(r"^/media/uploads/")
        )
        expect(editable.locator("table td")).to_have_count(4)
        secretary.screenshot("docx-import-recognised")
        # Shown, not yet saved: the browser keeps a copy, and leaving would ask.
        assert set(Case.objects.values_list("pk", flat=True)) == cases_before
        page.wait_for_function(COPY_HOLDS, arg="把支部建在课题组上")
        # The page's leave handler asks (tests/e2e/test_autosave.py shows the
        # dialog itself; here, that the imported text counts as unsaved).
        assert page.evaluate(LEAVING_ASKS)

        page.click("button[name=preview]")
        page.wait_for_url(re.compile(r"/submissions/\d+/preview/$"))
        article = page.locator("article.case-article")
        expect(article.locator("h1")).to_have_text("党建引领新篇章")
        expect(article.locator(".case-article__tagline")).to_have_text("筑基·创新·暖心")
        expect(article.locator("h2")).to_have_text(SECTIONS)
        expect(article.locator("img")).to_have_count(1)
        expect(article.locator("table")).to_have_count(1)
        secretary.screenshot("docx-import-preview")

        case = Case.objects.exclude(pk__in=cases_before).get()
        assert case.title == "党建引领新篇章"
        assert case.status == Case.Status.DRAFT
        assert case.branch.name == "精密测量第一党支部"
        stored = EditorImage.objects.get(uploaded_by__username="secretary1")
        assert f'src="{stored.image.url}"' in case.body
        assert secretary.errors == []

    def test_a_hostile_file_is_refused_on_the_form(self, demo_data, visitor, tmp_path):
        path = tmp_path / "宏.docx"
        path.write_bytes(b"not a word document")
        secretary = visitor()
        page = secretary.page
        secretary.sign_in("secretary1")
        secretary.go("/submissions/new/")
        page.click(".docx-import > summary")
        page.set_input_files("#id_docx_file", str(path))
        page.click("button[name=docx_import]")
        page.wait_for_load_state()
        expect(page.locator(".docx-import .field__error")).to_have_count(1)
        expect(page.locator(".docx-import")).to_have_attribute("open", "")
        secretary.screenshot("docx-import-refused")
        assert secretary.errors == []
