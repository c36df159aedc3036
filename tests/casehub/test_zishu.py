"""字数: one counting rule for the editor's counter and the submit check.

TABLE is read by tests/e2e/test_zishu.py too, which runs every row through
static/js/zishu.js in Chromium: the browser and the server count alike.
"""

import time

import pytest
from django.utils import translation

from casehub.zishu import digits_grouped, image_count, visible_text, zishu

# (what it shows, html or text, 字数, images)
TABLE = [
    ("nothing", "", 0, 0),
    ("Chinese", "<p>党建引领新篇章</p>", 7, 0),
    (
        "CJK punctuation is not counted",
        "<p>一是，调整党小组设置。“党建”《引领》——好！</p>",
        14,
        0,
    ),
    ("punctuation alone", "。，、；：？！“”‘’《》（）【】——……·", 0, 0),
    ("ASCII punctuation alone", "<p>. , ; : ? ! ( ) - ' \" %</p>", 0, 0),
    ("Latin words count one each", "<p>CaseHub 平台支持 PDF 和 Word 导出</p>", 10, 0),
    (
        "numbers count one each, with their separators",
        "<p>2024年共开展活动12次，覆盖2,096人，增长3.5%。</p>",
        16,
        0,
    ),
    ("joined words", "<p>COVID-19 it's e-mail don’t</p>", 4, 0),
    ("full-width letters and digits", "<p>ＣＰＵ占用１２％</p>", 4, 0),
    ("the ideographic zero", "<p>二〇二四年</p>", 5, 0),
    ("extension A", "<p>㐀㐁䶵</p>", 3, 0),
    ("extension B, outside the BMP", "<p>𠀀𪚥</p>", 2, 0),
    ("compatibility ideographs", "<p>\uf900\ufa11</p>", 2, 0),
    ("compatibility supplement", "<p>\U0002f800</p>", 1, 0),
    ("other scripts are not counted", "<p>かなカナ한글αβγ ⺀⼀</p>", 0, 0),
    (
        "entities count as what they show",
        "<p>&#20013;&#x6587;&nbsp;&amp;&lt;p&gt;A&amp;B</p>",
        5,
        0,
    ),
    ("a no-break space separates words", "<p>Case&nbsp;Hub</p>", 2, 0),
    ("inline tags join", "<p>Case<strong>Hub</strong> <a href='/x'>链</a>接</p>", 3, 0),
    ("paragraphs separate", "<p>Case</p><p>Hub</p>", 2, 0),
    ("line breaks separate", "<p>Case<br>Hub</p>", 2, 0),
    ("headings and lists", "<h2>一、筑基</h2><ul><li>one</li><li>two</li></ul>", 5, 0),
    (
        "table cells separate",
        "<table><tbody><tr><td>A</td><td>B</td></tr></tbody></table>",
        2,
        0,
    ),
    (
        "attributes are not counted",
        '<p><a href="https://example.com/党建/page" title="链接说明">链接</a></p>',
        2,
        0,
    ),
    (
        "images and captions",
        '<figure class="image"><img src="/media/uploads/a.png" alt="活动照片">'
        "<figcaption>图为支部活动</figcaption></figure><p>正文</p>"
        '<p><img src="/media/uploads/b.png"></p>',
        8,
        2,
    ),
    ("a quoted > inside a tag", '<img alt="a>b" src="/media/x.png">正文', 2, 1),
    ("tags in any case", "<P>正文</P><IMG SRC='/media/x.png'>", 2, 1),
    ("an end tag is not an image", "<p>正文</p></img>", 2, 0),
    ("comments", "<!-- 注释 <img src=x> -->正文", 2, 0),
    ("an unclosed comment", "正文<!-- 注释 ABC", 2, 0),
    ("an unclosed tag", '正文<img src="/media/x.png" alt="说明', 2, 1),
    ("a lone < is text", "<p>a < b 和 c>d</p>", 5, 0),
    ("plain text", "党建 引领\nCaseHub\n\n2024", 6, 0),
]


class ZishuTableTests:
    @pytest.mark.parametrize(
        ("html", "expected"),
        [pytest.param(html, count, id=name) for name, html, count, _ in TABLE],
    )
    def test_counts(self, html, expected):
        assert zishu(html) == expected

    @pytest.mark.parametrize(
        ("html", "expected"),
        [pytest.param(html, images, id=name) for name, html, _, images in TABLE],
    )
    def test_images(self, html, expected):
        assert image_count(html) == expected

    def test_a_real_sized_case(self):
        # 20 paragraphs of 100 characters each, and an English product name
        # and a year in every one.
        paragraph = "<p>支部" + "党" * 96 + "建设 CaseHub 2024。</p>"
        assert zishu(paragraph * 20) == 20 * (2 + 96 + 2 + 2)

    def test_none_is_nothing(self):
        assert zishu(None) == 0
        assert image_count(None) == 0

    def test_the_visible_text_has_no_markup(self):
        text = visible_text('<p class="x">甲<strong>乙</strong></p><p>&lt;丙&gt;</p>')
        assert text.split() == ["甲乙", "<丙>"]


class ZishuBoundsTests:
    def test_reads_at_most_the_size_limit(self, settings):
        settings.CASEHUB_RICHTEXT_MAX_BYTES = 10
        assert zishu("中" * 25) == 10
        assert image_count("<img>" * 4) == 2  # 10 characters: two whole tags

    @pytest.mark.parametrize(
        "unit",
        ["<p>", "<a", '<a "', "<!--", "<", "中", "a,", "<img alt='>'>", "&amp;"],
    )
    def test_the_worst_input_costs_little(self, unit, settings):
        limit = settings.CASEHUB_RICHTEXT_MAX_BYTES
        # Twice the limit: what lies past it must cost nothing.
        text = unit * (2 * limit // len(unit))
        started = time.perf_counter()
        zishu(text)
        image_count(text)
        assert time.perf_counter() - started < 1.5


class DigitsGroupedTests:
    def test_thousands_are_grouped_in_both_languages(self):
        for language in ("zh-hans", "en"):
            with translation.override(language):
                assert digits_grouped(2096) == "2,096"
        assert digits_grouped(100) == "100"
