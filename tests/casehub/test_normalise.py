"""The normaliser, on text shaped as branches really paste, import and type it.

Every row is checked four ways: the structure that is stored (block by block,
after the sanitiser), every visible character unchanged but the indents and
the empty paragraphs, normalising again changing nothing, and cleaning again
changing nothing (a stored text is cleaned again at every save).
"""

import time
from html.parser import HTMLParser
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from casehub import normalise, richtext
from casehub.normalise import normalise_html
from casehub.richtext import richtext_clean, sanitize_html
from submissions.models import Case, Membership
from tests.casehub.test_richtext import FORBIDDEN, HOSTILE
from tests.security import test_xss as xss
from tests.showcase.factories import planned_issue, series
from tests.submissions.factories import member, signed_in

INDENT = " \t\n\f\r\u00a0\u3000"
BLOCKS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "table",
        "caption",
        "tr",
        "td",
        "th",
        "figure",
        "figcaption",
        "br",
        "hr",
    }
)
HIDDEN = frozenset({"script", "style", "title", "head"})


class _Reader(HTMLParser):
    """Text and block edges, read by the standard library's parser (not ours)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces: list[str | None] = []  # None: a block starts or ends here
        self.hidden = 0
        self.structured = False
        self.depth = 0
        self.top: list[list] = []  # [tag, text] of each top-level block

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN:
            self.hidden += 1
        if tag in BLOCKS:
            self.structured = True
            self.pieces.append(None)
        if tag not in ("br", "img", "hr"):
            if self.depth == 0:
                self.top.append([tag, ""])
            self.depth += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in HIDDEN:
            self.hidden -= 1
        if tag in BLOCKS:
            self.pieces.append(None)
        if tag not in ("br", "img", "hr"):
            self.depth = max(self.depth - 1, 0)

    def handle_data(self, data):
        if self.hidden:
            return
        self.pieces.append(data)
        if self.depth:
            self.top[-1][1] += data
        elif data.strip(INDENT):
            self.top.append(["#text", data])


def visible_text(html: str) -> str:
    """What a reader sees, with the freedom the normaliser has taken out:
    line by line (a block, a <br>, and in text without block markup a line
    end), without the spaces a line starts with, without empty lines."""
    reader = _Reader()
    reader.feed(html.replace("\r\n", "\n").replace("\r", "\n"))
    reader.close()
    lines, line = [], []
    for piece in reader.pieces:
        if piece is None:
            lines.append("".join(line))
            line = []
        elif reader.structured:
            line.append(piece)
        else:
            *complete, piece = piece.split("\n")
            for part in complete:
                lines.append("".join(line) + part)
                line = []
            line.append(piece)
    lines.append("".join(line))
    return "".join(text.lstrip(INDENT) for text in lines)


def blocks(html: str) -> list[tuple[str, str]]:
    """Each top-level element as (tag, its text without the leading indent)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return [(tag, text.strip(INDENT)) for tag, text in reader.top]


WORD_HEAD = (
    '<html xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:w="urn:schemas-microsoft-com:office:word" '
    'xmlns="http://www.w3.org/TR/REC-html40"><head>'
    '<meta http-equiv=Content-Type content="text/html; charset=utf-8">'
    '<meta name=Generator content="Microsoft Word 15">'
    "<title>案例</title>"
    "<!--[if gte mso 9]><xml><w:WordDocument><w:View>Normal</w:View>"
    "<w:Zoom>0</w:Zoom></w:WordDocument></xml><![endif]-->"
    "<style><!-- p.MsoNormal {margin:0cm; font-size:10.5pt;} --></style>"
    "</head><body lang=ZH-CN style='tab-interval:21.0pt'>"
    "<div class=WordSection1 style='layout-grid:15.6pt'><!--StartFragment-->"
)
WORD_TAIL = "<!--EndFragment--></div></body></html>"

WORD = (
    WORD_HEAD + "<p class=MsoNormal align=center style='text-align:center'><b><span "
    "style='font-size:22.0pt;font-family:方正小标宋简体'>党建引领新篇章<span "
    "lang=EN-US><o:p></o:p></span></span></b></p>\n"
    "<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>\n"
    "<p class=MsoNormal style='text-indent:32.0pt;mso-char-indent-count:2.0'>"
    "<span style='font-size:16.0pt;font-family:仿宋_GB2312'>　　近年来，中心党总支"
    "坚持以党建引领业务发展。<span lang=EN-US><o:p></o:p></span></span></p>\n"
    "<p class=MsoNormal><b><span style='font-size:16.0pt;font-family:黑体'>"
    "一、强化政治引领，筑牢思想根基<span lang=EN-US><o:p></o:p></span></span></b></p>\n"
    "<p class=MsoNormal style='text-indent:32.0pt'><b><span style='font-family:"
    "楷体_GB2312'>一是</span></b><span style='font-family:仿宋_GB2312'>"
    "坚持“第一议题”制度。<span lang=EN-US><o:p></o:p></span></span></p>\n"
    "<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>\n"
    "<p class=MsoNormal style='margin-left:32.0pt'><span style='font-family:"
    "楷体_GB2312'>（一）健全组织体系</span></p>\n"
    "<p class=MsoNormal>&nbsp;&nbsp;&nbsp;&nbsp;<span lang=EN-US "
    "style='font-size:16.0pt'>2023</span><span style='font-size:16.0pt'>"
    "年，新建党小组<span lang=EN-US>3</span>个。</span></p>\n" + WORD_TAIL
)

# WPS copies its own flavour: styles on every span, indents as text-indent or
# typed full-width spaces, the heading's number in a span of its own.
WPS = (
    '<html><head><meta charset="utf-8"><style>p{margin:0}</style></head><body>'
    '<p class="MsoNormal" style="text-indent:32.0000pt;mso-char-indent-count:'
    "2.0000;\"><span style=\"mso-spacerun:'yes';font-family:黑体;font-size:"
    "16.0000pt;\">二、</span><span style=\"mso-spacerun:'yes';font-family:黑体;"
    'font-size:16.0000pt;">深化融合发展</span><span style="font-family:黑体;">'
    "<o:p></o:p></span></p>"
    '<p class="MsoNormal"><span style="font-family:仿宋_GB2312;">'
    "\u3000\u3000二是推动党建与业务同频共振。</span></p>"
    '<p class="MsoNormal"><span style="font-family:仿宋_GB2312;">'
    "<o:p>&nbsp;</o:p></span></p>"
    '<p class="MsoNormal"><font face="楷体_GB2312">(二)</font>'
    '<font face="楷体_GB2312">建强党员队伍</font></p>'
    "</body></html>"
)

WORD_STYLES = (
    "<h1 style='mso-outline-level:1'><span lang=EN-US>三、</span>"
    "<span style='font-family:黑体'>提升服务效能</span></h1>"
    "<h2><span style='font-family:楷体'>（三）优化服务流程</span></h2>"
    "<h1><span>主要成效</span></h1>"
    "<p class=MsoHeading2>典型经验</p>"
    "<p class=MsoNormal style='mso-outline-level:1'>工作体会</p>"
    "<p>正文一段。</p>"
)

# (id, incoming, top-level blocks stored, substrings the stored text has)
ROWS = [
    (
        "word-html",
        WORD,
        [
            ("p", "党建引领新篇章"),
            ("p", "近年来，中心党总支坚持以党建引领业务发展。"),
            ("h2", "一、强化政治引领，筑牢思想根基"),
            ("p", "一是坚持“第一议题”制度。"),
            ("h3", "（一）健全组织体系"),
            ("p", "2023年，新建党小组3个。"),
        ],
        ["<h2>一、强化政治引领，筑牢思想根基</h2>", "<p><b><span>一是</span></b>"],
    ),
    (
        "wps-html",
        WPS,
        [
            ("h2", "二、深化融合发展"),
            ("p", "二是推动党建与业务同频共振。"),
            ("h3", "(二)建强党员队伍"),
        ],
        ["<h2>二、深化融合发展</h2>"],
    ),
    (
        "plain-single-line-breaks",
        "第一段，写在记事本里。\n第二段。\n第三段。",
        [("p", "第一段，写在记事本里。"), ("p", "第二段。"), ("p", "第三段。")],
        ["<p>第一段，写在记事本里。</p><p>第二段。</p>"],
    ),
    (
        "plain-double-line-breaks-and-indents",
        "\u3000\u3000编者按第一段。\r\n\r\n\u3000\u3000第二段。\r\n\r\n"
        "一、总体要求\r\n    正文，用空格缩进。\r\n\r\n",
        [
            ("p", "编者按第一段。"),
            ("p", "第二段。"),
            ("h2", "一、总体要求"),
            ("p", "正文，用空格缩进。"),
        ],
        ["<p>编者按第一段。</p>", "<p>正文，用空格缩进。</p>"],
    ),
    (
        "plain-text-with-markup-characters",
        "甲 < 乙 & 丙 AT&amp;T\n\n第二段",
        [("p", "甲 < 乙 & 丙 AT&T"), ("p", "第二段")],
        ["<p>甲 &lt; 乙 &amp; 丙 AT&amp;T</p>"],
    ),
    (
        "bold-paragraph-headings",
        "<p><strong>一、筑基</strong></p><p>正文。</p>"
        "<p><strong>（一）</strong><strong>强化组织</strong></p>"
        "<p><b>(二)半角括号</b></p><p><strong>十一、第十一部分</strong></p>",
        [
            ("h2", "一、筑基"),
            ("p", "正文。"),
            ("h3", "（一）强化组织"),
            ("h3", "(二)半角括号"),
            ("h2", "十一、第十一部分"),
        ],
        ["<h2>一、筑基</h2>", "<h3>（一）强化组织</h3>"],
    ),
    (
        "plain-numbered-lines",
        "<p>一、筑基</p><p>\u3000\u3000（二）创新</p>",
        [("h2", "一、筑基"), ("h3", "（二）创新")],
        [],
    ),
    (
        "headings-with-word-styles",
        WORD_STYLES,
        [
            ("h2", "三、提升服务效能"),
            ("h3", "（三）优化服务流程"),
            ("h2", "主要成效"),
            ("h3", "典型经验"),
            ("h2", "工作体会"),
            ("p", "正文一段。"),
        ],
        ["<h2>三、提升服务效能</h2>"],
    ),
    (
        "sentences-that-start-with-a-number",
        "<p>一、加强学习。通过组织学习，党员干部的理论水平不断提高。</p>"
        "<p><strong>（一）加强组织领导。</strong>各支部要把案例征集摆上重要议程。</p>"
        "<p>二、为什么要写案例？</p>"
        "<p>三、本段很长但没有句号它说的是党建引领业务发展的一系列做法和成效以及经验体会和下一步打算</p>",
        [
            ("p", "一、加强学习。通过组织学习，党员干部的理论水平不断提高。"),
            ("p", "（一）加强组织领导。各支部要把案例征集摆上重要议程。"),
            ("p", "二、为什么要写案例？"),
            (
                "p",
                "三、本段很长但没有句号它说的是党建引领业务发展的一系列做法和成效以及经验体会和下一步打算",
            ),
        ],
        ["<p><strong>（一）加强组织领导。</strong>各支部"],
    ),
    (
        "points-and-run-in-bold",
        "<p><strong>一是强化政治引领。</strong>通过“三会一课”凝聚共识。</p>"
        "<p>二是推动融合</p><p><b>三是</b>示范带动</p>",
        [
            ("p", "一是强化政治引领。通过“三会一课”凝聚共识。"),
            ("p", "二是推动融合"),
            ("p", "三是示范带动"),
        ],
        ["<p><strong>一是强化政治引领。</strong>通过", "<p><b>三是</b>示范带动</p>"],
    ),
    (
        "empty-paragraphs",
        "<p>前一段</p><p>&nbsp;</p><p><br></p><p><o:p></o:p></p><p> \u3000 </p>"
        "<p><span lang=EN-US><o:p>&nbsp;</o:p></span></p><h2>&nbsp;</h2><p>后一段</p>",
        [("p", "前一段"), ("p", "后一段")],
        ["<p>前一段</p><p>后一段</p>"],
    ),
    (
        "line-breaks-split-paragraphs",
        "<p>第一行<br>第二行<br/><br />\u3000\u3000第三行</p>"
        '<p><span style="font-size:16pt">甲<br>乙</span>丙</p>',
        [
            ("p", "第一行"),
            ("p", "第二行"),
            ("p", "第三行"),
            ("p", "甲"),
            ("p", "乙丙"),
        ],
        ["<p>第一行</p><p>第二行</p><p>第三行</p>", "<p><span>乙</span>丙</p>"],
    ),
    (
        "line-break-after-a-heading",
        "<p><strong>一、筑基</strong><br>正文紧跟在标题下一行。</p>",
        [("h2", "一、筑基"), ("p", "正文紧跟在标题下一行。")],
        [],
    ),
    (
        "table-with-line-breaks-in-cells",
        '<figure class="table"><table><tbody><tr><td><p>甲<br>乙</p></td>'
        "<td>\u3000\u3000丙<br>一、丁</td></tr><tr><td><p>&nbsp;</p></td>"
        "<td>戊</td></tr></tbody></table></figure>",
        [("figure", "甲乙\u3000\u3000丙一、丁\u00a0戊")],
        ["<td><p>甲<br>乙</p></td><td>\u3000\u3000丙<br>一、丁</td>"],
    ),
    (
        "bare-table-with-line-breaks",
        "<table><tr><td>甲<br>乙</td></tr></table><p>表后</p>",
        [("table", "甲乙"), ("p", "表后")],
        ["<td>甲<br>乙</td>"],
    ),
    (
        "nested-lists",
        "<ul><li>一、第一项<ul><li>（一）子项<br>续行</li><li>&nbsp;</li></ul></li>"
        "<li><p>\u3000\u3000二、第二项</p></li></ul>"
        "<ol><li><p>甲</p><ol><li>乙</li></ol></li></ol>",
        [
            ("ul", "一、第一项（一）子项续行\u00a0\u3000\u3000二、第二项"),
            ("ol", "甲乙"),
        ],
        [
            "<li>（一）子项<br>续行</li>",
            "<li><p>\u3000\u3000二、第二项</p></li>",
            "<ol><li><p>甲</p><ol><li>乙</li></ol></li></ol>",
        ],
    ),
    (
        "editor-output-stays-as-it-is",
        '<h2>一、筑基</h2><p>一是<strong>强化</strong>引领。</p><figure class="image">'
        '<img src="/media/uploads/a.png" alt="图"><figcaption>图一</figcaption>'
        "</figure><h3>（一）小标题</h3><p>正文</p>",
        [
            ("h2", "一、筑基"),
            ("p", "一是强化引领。"),
            ("figure", "图一"),
            ("h3", "（一）小标题"),
            ("p", "正文"),
        ],
        [
            "<h2>一、筑基</h2><p>一是<strong>强化</strong>引领。</p>"
            '<figure class="image"><img src="/media/uploads/a.png" alt="图">'
            "<figcaption>图一</figcaption></figure><h3>（一）小标题</h3><p>正文</p>"
        ],
    ),
    (
        "quotation",
        "<blockquote><p>一、引文中的编号</p><p>&nbsp;</p><p>第二句<br>第三句</p>"
        "</blockquote>",
        [("blockquote", "一、引文中的编号第二句第三句")],
        ["<blockquote><p>一、引文中的编号</p><p>第二句</p><p>第三句</p></blockquote>"],
    ),
    (
        "web-and-wechat-paste",
        "<section><span>\u3000\u3000公众号第一段</span><br><span>第二段</span>"
        "</section><div>甲</div><div><br></div><div>乙</div>",
        [("p", "公众号第一段"), ("p", "第二段"), ("p", "甲"), ("p", "乙")],
        ["<p><span>公众号第一段</span></p><p><span>第二段</span></p>"],
    ),
    (
        "word-list-numbering",
        "<p class=MsoListParagraph style='margin-left:18.0pt;text-indent:-18.0pt;"
        "mso-list:l0 level1 lfo1'><![if !supportLists]><span lang=EN-US>四、"
        "<span style='font:7.0pt \"Times New Roman\"'>&nbsp;&nbsp; </span></span>"
        "<![endif]><span>下一步打算</span></p>",
        [("h2", "四、\u00a0\u00a0 下一步打算")],
        [],
    ),
    (
        "image-and-link-in-a-paragraph",
        '<p>\u3000\u3000见<a href="https://example.org/a?x=1&amp;copy=2">链接</a>'
        '<img src="/media/uploads/b.png" alt="b"><br>下一行</p>',
        [("p", "见链接"), ("p", "下一行")],
        [
            'href="https://example.org/a?x=1&amp;copy=2"',
            '<img src="/media/uploads/b.png"',
        ],
    ),
    (
        "heading-and-sub-heading-broken-inside-a-word-span",
        "<p><span>一、总体情况<br>（一）基本情况</span></p>",
        [("h2", "一、总体情况"), ("h3", "（一）基本情况")],
        ["<h2>一、总体情况</h2><h3>（一）基本情况</h3>"],
    ),
    (
        "heading-elements-broken-by-line-breaks",
        "<h2>一、总体情况<br>（一）基本情况</h2>"
        "<p class=MsoHeading2>典型经验<br>（二）主要做法</p>"
        "<p style='mso-outline-level:1'><b>工作体会<br></b></p>",
        [
            ("h2", "一、总体情况"),
            ("h3", "（一）基本情况"),
            ("h3", "典型经验"),
            ("h3", "（二）主要做法"),
            ("h2", "工作体会"),
        ],
        ["<h2>一、总体情况</h2><h3>（一）基本情况</h3><h3>典型经验</h3>"],
    ),
    (
        "blocks-inside-a-heading",
        "<h1><o:p>一、总体情况<h1>（一）基本情况</h1></o:p></h1>"
        "<h2>工作体会<div>正文。</div></h2>",
        [
            ("h2", "一、总体情况"),
            ("h3", "（一）基本情况"),
            ("h2", "工作体会"),
            ("p", "正文。"),
        ],
        [],
    ),
    (
        "bold-heading-broken-inside-its-bold",
        "<p><strong>一、总体情况<br></strong>正文。</p>",
        [("h2", "一、总体情况"), ("p", "正文。")],
        ["<h2>一、总体情况</h2><p>正文。</p>"],
    ),
    (
        "span-around-an-empty-paragraph",
        "<span><p>&nbsp;</p></span><p>正文。</p>",
        [("p", "正文。")],
        ["<p>正文。</p>"],
    ),
    (
        "bold-around-an-empty-paragraph",
        "<strong><p>&nbsp;</p></strong><p>正文。</p>",
        [("p", "正文。")],
        ["<p>正文。</p>"],
    ),
    (
        "link-around-an-empty-paragraph",
        '<a href="/x"><p>&nbsp;</p></a><p>正文。</p>',
        [("p", "正文。")],
        ["<p>正文。</p>"],
    ),
    (
        "formatting-around-empty-blocks-before-text",
        "<span><div><p><br></p></div></span>正文<b><div>　</div></b>",
        [("p", "正文")],
        ["<p>正文</p>"],
    ),
    (
        "first-and-second-quarters-are-no-heading",
        "<p>一、二季度完成率达95%</p>",
        [("p", "一、二季度完成率达95%")],
        [],
    ),
    (
        "third-and-fourth-quarters-are-no-heading",
        "<p><b>三、四季度工作安排</b></p>",
        [("p", "三、四季度工作安排")],
        ["<p><b>三、四季度工作安排</b></p>"],
    ),
    (
        "first-and-second-prizes-are-no-heading",
        "<p>一、二等奖名单</p>",
        [("p", "一、二等奖名单")],
        [],
    ),
    (
        "a-numeral-out-of-sequence-starts-a-heading",
        "<p>一、三措并举促发展</p><p>一、二十大精神进基层</p><p>十、十一月工作</p>",
        [
            ("h2", "一、三措并举促发展"),
            ("h2", "一、二十大精神进基层"),
            ("p", "十、十一月工作"),
        ],
        [],
    ),
]


@pytest.mark.parametrize(
    "incoming, expected_blocks, contains",
    [row[1:] for row in ROWS],
    ids=[row[0] for row in ROWS],
)
class NormaliseRowsTests:
    def test_structure_stored(self, incoming, expected_blocks, contains):
        stored = richtext_clean(incoming)
        assert blocks(stored) == expected_blocks
        for fragment in contains:
            assert fragment in stored

    def test_visible_text_unchanged(self, incoming, expected_blocks, contains):
        expected = visible_text(incoming)
        assert expected  # the helper read something
        assert visible_text(normalise_html(incoming)) == expected
        assert visible_text(richtext_clean(incoming)) == expected

    def test_idempotent(self, incoming, expected_blocks, contains):
        once = normalise_html(incoming)
        assert normalise_html(once) == once
        stored = richtext_clean(incoming)
        assert richtext_clean(stored) == stored


class VisibleTextHelperTests:
    """The helper above is what the rows rely on: it must be able to fail."""

    def test_it_sees_a_changed_character(self):
        assert visible_text("<p>\u3000\u3000甲乙</p>") == visible_text("<p>甲乙</p>")
        assert visible_text("<p>甲乙</p>") != visible_text("<p>甲丙</p>")
        assert visible_text("<p>甲 乙</p>") != visible_text("<p>甲乙</p>")
        assert visible_text("<p>甲<b>乙</b></p>") != visible_text("<p>甲</p>")

    def test_it_reads_line_ends_only_in_text_without_blocks(self):
        assert visible_text("甲\n\u3000乙") == "甲乙"
        assert visible_text("<p>甲\n乙</p>") == "甲\n乙"


class NormaliseTests:
    def test_empty_input(self):
        assert normalise_html("") == ""
        assert normalise_html(None) == ""
        assert richtext_clean("") == richtext_clean(None) == ""
        assert normalise_html("<p>&nbsp;</p>\n<p><br></p>") == ""

    def test_a_numbered_heading_keeps_links_and_emphasis(self):
        assert (
            normalise_html('<p><b>一、<a href="/x">筑基</a><em>强魂</em></b></p>')
            == '<h2>一、<a href="/x">筑基</a><em>强魂</em></h2>'
        )

    def test_a_number_alone_is_not_a_heading(self):
        assert normalise_html("<p>一、</p>") == "<p>一、</p>"
        assert normalise_html("<p>一是</p>") == "<p>一是</p>"

    def test_the_heading_bound(self):
        title = "一、" + "字" * (normalise.HEADING_MAX_CHARS - 2)
        assert normalise_html(f"<p>{title}</p>") == f"<h2>{title}</h2>"
        assert normalise_html(f"<p>{title}字</p>") == f"<p>{title}字</p>"

    def test_a_title_goes_with_its_text_by_the_normalisers_choice(self):
        # It names the document Word copied from; the sanitiser would keep it.
        assert sanitize_html("<p>a<title>重要</title>b</p>") == "<p>a重要b</p>"
        assert richtext_clean("<p>a<title>重要</title>b</p>") == "<p>ab</p>"

    def test_cleaning_is_the_same_for_text_the_normaliser_leaves(self):
        html = '<p>正文<a href="https://example.org/?a=1&copy=2">x</a></p>'
        assert richtext_clean(html) == sanitize_html(html)

    def test_svg_and_mathml_end_where_a_browser_ends_them(self):
        assert richtext_clean("<svg><p>一、标题</p>") == "<h2>一、标题</h2>"
        assert richtext_clean("<math><mi>x</mi></math><p>后文</p>") == "<p>后文</p>"
        # Inside SVG a <style> is no raw text: the <img> ends the SVG.
        assert richtext_clean("<svg><style><img src=x>后文") == "<p><img>后文</p>"

    def test_a_link_inside_a_link_ends_the_first(self):
        assert normalise_html('<a href="/a">甲<a href="/b">乙</a></a>') == (
            '<p><a href="/a">甲</a><a href="/b">乙</a></p>'
        )

    def test_preformatted_lines_become_paragraphs(self):
        assert richtext_clean("<pre>一、标题\n  正文。\n</pre>") == (
            "<h2>一、标题</h2><p>正文。</p>"
        )

    def test_it_never_hides_a_paragraph_the_sanitiser_shows(self):
        # After every payload of the XSS corpus, a paragraph that comes
        # through the sanitiser alone comes through the normaliser too.
        hidden = []
        for payload in xss.corpus():
            probe = f"{payload}<p>xss-probe</p>"
            try:
                cleaned = richtext_clean(probe)
            except ValidationError:
                continue
            shown = "xss-probe" in xss.PageReading(sanitize_html(probe)).paragraphs
            if shown and "xss-probe" not in xss.PageReading(cleaned).paragraphs:
                hidden.append(payload)
        assert hidden == []

    @pytest.mark.parametrize("payload", HOSTILE)
    def test_hostile_markup_is_still_cleaned(self, payload):
        cleaned = richtext_clean(payload).lower()
        for forbidden in FORBIDDEN:
            assert forbidden not in cleaned
        assert richtext_clean(richtext_clean(payload)) == richtext_clean(payload)


class NormaliseBoundsTests:
    def test_a_256_kb_word_document_stays_within_the_bound(self, settings):
        unit = WORD.split("<!--StartFragment-->")[1].split("<!--EndFragment-->")[0]
        body = unit * (settings.CASEHUB_RICHTEXT_MAX_BYTES // len(unit.encode()) - 1)
        html = WORD_HEAD + body + WORD_TAIL
        assert 200 * 1024 < len(html.encode()) <= settings.CASEHUB_RICHTEXT_MAX_BYTES
        # A bound against a quadratic slip, with room for a busy machine;
        # the speed itself is make bench's (richtext_clean_worst_ms).
        started = time.process_time()
        normalised = normalise_html(html)
        elapsed = time.process_time() - started
        assert elapsed < 2.0
        assert normalised.count("<h2>") == body.count("一、强化")

    @pytest.mark.parametrize(
        "unit",
        ["<!--", "<!x", '<p a="', "a<", "</x>a", "<p>\u3000<br>"],
    )
    def test_hostile_shapes_stay_fast(self, unit, settings):
        # Unclosed comments and declarations are quadratic in Python 3.11's
        # html.parser (over a minute at this size); here every shape is linear, the
        # worst (a tag and a paragraph every few bytes) under a second when
        # the machine is idle.
        html = unit * (settings.CASEHUB_RICHTEXT_MAX_BYTES // len(unit.encode()))
        started = time.process_time()
        normalise_html(html)
        assert time.process_time() - started < 2.0

    def test_beyond_its_own_depth_the_text_is_handed_on_unchanged(self):
        html = "<div>" * (normalise.MAX_DEPTH + 1) + "<p>一、标题</p>"
        assert normalise_html(html) == html
        shallow = "<div>" * (normalise.MAX_DEPTH - 2) + "<p>一、标题</p>"
        assert "<h2>一、标题</h2>" in normalise_html(shallow)

    def test_copies_of_formatting_around_breaks_are_bounded(self):
        # Every <br> inside deep formatting copies the formatting: past the
        # budget the text is handed on unchanged rather than multiplied.
        html = '<p><span style="x">' * 200 + "甲<br>" * 5000 + "</p>"
        assert normalise_html(html) == html
        few = '<p><span style="x">' * 3 + "甲<br>乙</span></span></span></p>"
        assert normalise_html(few).count("<p>") == 2

    def test_bounds_are_checked_before_the_normaliser_parses(self, settings):
        # Beyond what may be stored: text within that comes back unchanged
        # when it is stored text, which only the normaliser can tell.
        stored_max = richtext.STORED_GROWTH * settings.CASEHUB_RICHTEXT_MAX_BYTES
        too_long = "<p>字</p>" * (stored_max // 10 + 1)
        with mock.patch("casehub.richtext.normalise_html") as normaliser:
            with pytest.raises(ValidationError):
                richtext_clean(too_long)
            with pytest.raises(ValidationError):
                richtext_clean("<div>" * (settings.CASEHUB_RICHTEXT_MAX_DEPTH + 1))
        normaliser.assert_not_called()

    def test_text_cleaned_again_is_not_parsed_again(self, settings):
        html = "<p>\u3000\u3000一、只在这里的标题</p><p>正文。</p>"
        with mock.patch(
            "casehub.richtext.normalise_html", wraps=normalise_html
        ) as normaliser:
            first = richtext_clean(html)
            assert richtext_clean(html) == first  # the form, then the model
            assert normaliser.call_count == 1
            settings.CASEHUB_RICHTEXT_MAX_BYTES = 16
            with pytest.raises(ValidationError):
                richtext_clean(html)  # the settings it read are part of it

    def test_deep_text_within_the_bounds_is_normalised(self, settings):
        depth = settings.CASEHUB_RICHTEXT_MAX_DEPTH - 2
        html = "<div>" * depth + "<p>一、标题</p>" + "</div>" * depth
        assert richtext_clean(html) == "<h2>一、标题</h2>"


@pytest.mark.django_db
class NormaliseThroughTheFormsTests:
    def test_a_word_body_pasted_into_the_case_form_comes_back_with_headings(self):
        secretary = member(Membership.Role.SECRETARY)
        branch = secretary.memberships.get().branch
        client = signed_in(secretary)
        response = client.post(
            reverse("submissions:case_create"),
            {
                "branch": branch.pk,
                "title": "党建引领新篇章",
                "source": "",
                "lead": "导语。",
                "body": WORD,
                "preview": "1",
            },
        )
        case = Case.objects.get()
        assert response["Location"] == reverse(
            "submissions:case_preview", args=[case.pk]
        )
        assert "<h2>一、强化政治引领，筑牢思想根基</h2>" in case.body
        assert "<h3>（一）健全组织体系</h3>" in case.body
        assert "&nbsp;" not in case.body and "\u00a0" not in case.body
        preview = client.get(response["Location"]).content.decode()
        assert "<h2>一、强化政治引领，筑牢思想根基</h2>" in preview
        edit = client.get(reverse("submissions:case_update", args=[case.pk]))
        assert "&lt;h2&gt;一、强化政治引领" in edit.content.decode()

    def test_an_issue_note_typed_with_blank_lines_is_stored_as_paragraphs(self, who):
        issue = planned_issue(who, series())
        signed_in(who.editor).post(
            reverse("showcase_editor:issue_note", args=[issue.pk]),
            {"note": "\u3000\u3000本期展播两个案例。\r\n\r\n第二段说明。\r\n"},
        )
        issue.refresh_from_db()
        assert issue.note == "<p>本期展播两个案例。</p><p>第二段说明。</p>"

    def test_the_series_note_is_stored_as_paragraphs(self):
        the_series = series(editors_note="编者按第一段。\n\n编者按第二段。")
        the_series.refresh_from_db()
        assert the_series.editors_note == "<p>编者按第一段。</p><p>编者按第二段。</p>"
