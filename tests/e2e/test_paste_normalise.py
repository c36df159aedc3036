"""Pasting into the case editor in Chromium: the headings show at once."""

import pytest
from playwright.sync_api import expect

from casehub.richtext import richtext_clean
from tests.casehub.test_normalise import WORD, WPS

pytestmark = [pytest.mark.browser]

PASTE = """([type, data]) => {
    const editable = document.querySelector('.ck-editor__editable');
    editable.focus();
    const transfer = new DataTransfer();
    transfer.setData(type, data);
    editable.dispatchEvent(new ClipboardEvent('paste', {
        clipboardData: transfer, bubbles: true, cancelable: true,
    }));
    return editable.ckeditorInstance.getData();
}"""

PLAIN = "一、总体要求\n\u3000\u3000正文第一段。\n（一）小标题\n正文第二段。"


def editor_page(visitor):
    writer = visitor()
    writer.sign_in("secretary1")
    writer.go("/submissions/new/")
    editable = writer.page.locator(".ck-editor__editable")
    expect(editable).to_be_visible()
    editable.click()
    return writer


class PasteNormaliseTests:
    @pytest.mark.parametrize(
        "html, headings",
        [
            (
                WORD,
                [
                    "<h2>一、强化政治引领，筑牢思想根基</h2>",
                    "<h3>（一）健全组织体系</h3>",
                ],
            ),
            (WPS, ["<h2>二、深化融合发展</h2>", "<h3>(二)建强党员队伍</h3>"]),
        ],
        ids=["word", "wps"],
    )
    def test_pasted_office_html_shows_its_headings(
        self, demo_data, visitor, html, headings
    ):
        writer = editor_page(visitor)
        data = writer.page.evaluate(PASTE, ["text/html", html])
        for heading in headings:
            assert heading in data
            assert heading in richtext_clean(html)  # as the server stores it
        assert "&nbsp;" not in data
        writer.screenshot("paste-office-html")
        assert writer.errors == []

    def test_pasted_plain_text_becomes_headings_and_paragraphs(
        self, demo_data, visitor
    ):
        writer = editor_page(visitor)
        data = writer.page.evaluate(PASTE, ["text/plain", PLAIN])
        expected = (
            "<h2>一、总体要求</h2><p>正文第一段。</p>"
            "<h3>（一）小标题</h3><p>正文第二段。</p>"
        )
        assert data == expected == richtext_clean(PLAIN)
        assert writer.errors == []
