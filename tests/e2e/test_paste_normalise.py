"""Pasting into the case editor in Chromium: the headings show at once."""

import pytest
from playwright.sync_api import expect

from casehub.richtext import richtext_clean
from tests.casehub.test_normalise import ROWS, WORD, WPS, blocks

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

# Pasted as Word and WPS put them: (html, the blocks the server stores).
SAME_AS_THE_SERVER = {
    "break-inside-a-word-span": (
        "<p><span>一、总体情况<br>（一）基本情况</span></p>",
        [("h2", "一、总体情况"), ("h3", "（一）基本情况")],
    ),
    "break-inside-the-heading-bold": (
        "<p><strong>一、总体情况<br></strong>正文。</p>",
        [("h2", "一、总体情况"), ("p", "正文。")],
    ),
    "numbers-counted-on": (
        "<p>一、二季度完成率达95%</p><p>三、四季度工作安排</p>"
        "<p>一、二等奖名单</p><p>一、三措并举促发展</p>",
        [
            ("p", "一、二季度完成率达95%"),
            ("p", "三、四季度工作安排"),
            ("p", "一、二等奖名单"),
            ("h2", "一、三措并举促发展"),
        ],
    ),
}


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

    @pytest.mark.parametrize(
        "html, expected", SAME_AS_THE_SERVER.values(), ids=SAME_AS_THE_SERVER.keys()
    )
    def test_what_the_editor_shows_is_what_the_server_stores(
        self, demo_data, visitor, html, expected
    ):
        writer = editor_page(visitor)
        data = writer.page.evaluate(PASTE, ["text/html", html])
        stored = richtext_clean(html)
        assert blocks(data) == expected == blocks(stored)
        assert data == stored
        assert richtext_clean(data) == data  # what the writer saves stays
        assert writer.errors == []

    def test_the_editors_normaliser_agrees_with_the_servers_on_every_row(
        self, demo_data, visitor
    ):
        # What the editor makes of each row of the server's table is stored
        # as the row itself is: the server agrees, or corrects it.
        writer = editor_page(visitor)
        rows = {name: html for name, html, *_expected in ROWS}
        shown = writer.page.evaluate(
            """(rows) => Object.fromEntries(Object.entries(rows).map(
                ([name, html]) => [name, window.casehubPasteNormalise(html)]))""",
            rows,
        )
        differ = {
            name: (blocks(richtext_clean(shown[name])), blocks(richtext_clean(html)))
            for name, html in rows.items()
            if blocks(richtext_clean(shown[name])) != blocks(richtext_clean(html))
        }
        assert differ == {}
        assert writer.errors == []
