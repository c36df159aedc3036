"""A script-carrying SVG picked, dropped or pasted into the body editor is
refused with a clear message."""

import base64

import pytest
from playwright.sync_api import expect

from submissions.models import EditorImage
from tests.images import SVG_WITH_SCRIPT, image_bytes

pytestmark = [pytest.mark.browser]

NOT_AN_IMAGE = "文件不是 JPEG、PNG、WebP 或 GIF 图片。"

# Hands a file to the editor as a drop or a paste would.
HAND_OVER = """([how, name, mime, base64Content]) => {
  const bytes = Uint8Array.from(atob(base64Content), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type: mime}));
  const target = document.querySelector(".ck-editor__editable p")
    || document.querySelector(".ck-editor__editable");
  const options = {bubbles: true, cancelable: true};
  target.dispatchEvent(how === "paste"
    ? new ClipboardEvent("paste", {...options, clipboardData: transfer})
    : new DragEvent("drop", {...options, dataTransfer: transfer}));
}"""


class UploadRefusedTests:
    def test_secretary_is_told_why_an_svg_with_script_is_refused(
        self, demo_data, visitor, tmp_path, settings
    ):
        svg = tmp_path / "picked" / "党徽.svg"
        svg.parent.mkdir()
        svg.write_bytes(SVG_WITH_SCRIPT)
        # The same file renamed, so the browser calls it a PNG and sends it.
        renamed = svg.with_name("党徽.png")
        renamed.write_bytes(SVG_WITH_SCRIPT)
        secretary = visitor()
        page = secretary.page
        uploads = []

        def note_upload(request):
            if "/submissions/images/" in request.url:
                uploads.append(request.url)

        page.on("request", note_upload)
        secretary.sign_in("secretary1")
        page.click("text=撰写新案例")
        page.fill("#id_title", "党建引领 图片测试")
        editable = page.locator(".ck-editor__editable")
        expect(editable).to_be_visible()
        editable.click()
        file_input = page.locator(".ck-editor input[type=file]")

        # CKEditor keeps an SVG out of the upload; the page says why.
        with page.expect_event("dialog") as shown:
            file_input.set_input_files(str(svg))
        assert shown.value.message == NOT_AN_IMAGE
        assert uploads == []

        # Disguised as a PNG it reaches the server, which refuses it the same way.
        with (
            page.expect_response("**/submissions/images/") as answer,
            page.expect_event("dialog") as shown,
        ):
            file_input.set_input_files(str(renamed))
        assert answer.value.status == 400
        assert shown.value.message == NOT_AN_IMAGE
        secretary.screenshot("upload-refused")

        expect(editable.locator("img")).to_have_count(0)
        expect(page.locator("#id_title")).to_have_value("党建引领 图片测试")
        assert not EditorImage.objects.exists()
        media = settings.MEDIA_ROOT
        assert not media.exists() or not any(
            path.is_file() for path in media.rglob("*")
        )
        # The browser logs the refused upload; nothing else went wrong.
        assert secretary.errors == [
            "Failed to load resource: the server responded with a status of 400 "
            "(Bad Request)"
        ]

    def test_a_dropped_or_pasted_svg_is_refused_and_a_png_goes_in(
        self, demo_data, visitor
    ):
        secretary = visitor()
        page = secretary.page
        dialogs = []

        def note_dialog(dialog):
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", note_dialog)
        secretary.sign_in("secretary1")
        page.click("text=撰写新案例")
        editable = page.locator(".ck-editor__editable")
        expect(editable).to_be_visible()
        editable.click()
        svg = base64.b64encode(SVG_WITH_SCRIPT).decode()
        for how in ("drop", "paste"):
            page.evaluate(HAND_OVER, [how, "党徽.svg", "image/svg+xml", svg])
        assert dialogs == [NOT_AN_IMAGE, NOT_AN_IMAGE]
        expect(editable.locator("img")).to_have_count(0)

        # A picture of a type the editor takes is uploaded without a word.
        png = base64.b64encode(image_bytes()).decode()
        with page.expect_response("**/submissions/images/") as answer:
            page.evaluate(HAND_OVER, ["paste", "照片.png", "image/png", png])
        assert answer.value.status == 200
        expect(editable.locator("img")).to_have_count(1)
        assert dialogs == [NOT_AN_IMAGE, NOT_AN_IMAGE]
        assert EditorImage.objects.count() == 1
