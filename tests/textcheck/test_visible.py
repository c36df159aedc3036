"""Marks put back on the HTML: across tags, escaped, nothing else changed."""

import html
import re

import pytest

from textcheck.check import Finding
from textcheck.visible import highlight_html, highlight_text, visible_text


def finding(start, end, *, severity="warn", message="提示", term="", kind="sensitive"):
    return Finding(kind, term, start, end, severity, "", message)


def unmarked(html):
    return re.sub(r"<mark [^>]*>|</mark>", "", html)


def test_a_range_across_tags_is_marked_in_each_element():
    html = "<p>由<strong>张</strong>三主持</p>"
    marked = highlight_html(html, [finding(1, 3, severity="block")], id_prefix="body")
    assert marked == (
        '<p>由<strong><mark class="finding finding-block" id="body-0" '
        'data-finding="0" title="提示">张</mark></strong>'
        '<mark class="finding finding-block" data-finding="0" title="提示">三</mark>'
        "主持</p>"
    )


def test_outside_the_marks_the_input_is_unchanged():
    html = (
        '<h2>一、总体</h2>\n<p>甲&amp;乙&nbsp;丙 &lt;b&gt; <a href="/x?a=1&amp;b=2" '
        'title="a&gt;b">链接</a></p><figure class="table"><table><tbody><tr>'
        "<td>格一</td><td>格二</td></tr></tbody></table></figure>"
    )
    text = visible_text(html)
    assert text == "一、总体\n甲&乙\xa0丙 <b> 链接\n格一\n格二"
    marks = [
        finding(text.index("乙"), text.index("丙") + 1),
        finding(text.index("格一"), text.index("格二") + 2),
    ]
    marked = highlight_html(html, marks, id_prefix="f")
    assert unmarked(marked) == html
    # Text and its entities with no tag between: one mark.
    assert (
        '&amp;<mark class="finding finding-warn" id="f-0" data-finding="0" '
        'title="提示">乙&nbsp;丙</mark> &lt;b&gt;'
    ) in marked
    assert (
        '<td><mark class="finding finding-warn" id="f-1" data-finding="1" '
        'title="提示">格一</mark></td>'
    ) in marked
    assert (
        '<td><mark class="finding finding-warn" data-finding="1" '
        'title="提示">格二</mark></td>'
    ) in marked


def test_an_entity_is_marked_whole():
    html = "<p>甲&lt;乙</p>"
    marked = highlight_html(html, [finding(1, 2)], id_prefix="x")
    assert 'title="提示">&lt;</mark>乙' in marked


@pytest.mark.parametrize(
    "hostile", ['"><script>alert(1)</script>', "<b>粗</b>", "a&b", "'\"<>"]
)
def test_messages_and_ids_are_escaped(hostile):
    source = "<p>甲乙丙</p>"
    marked = highlight_html(
        source,
        [finding(0, 1, message=hostile, severity=hostile, term=hostile)],
        id_prefix=hostile,
    )
    escaped = html.escape(hostile, quote=True)
    assert marked == (
        f'<p><mark class="finding finding-{escaped}" id="{escaped}-0" '
        f'data-finding="0" title="{escaped}">甲</mark>乙丙</p>'
    )


def test_overlapping_findings_each_keep_an_anchor():
    html = "<p>甲乙丙丁</p>"
    marked = highlight_html(
        html, [finding(0, 4), finding(1, 2), finding(0, 4)], id_prefix="o"
    )
    assert unmarked(marked) == html
    for index in range(3):
        assert f'id="o-{index}"' in marked
    assert marked.count('id="o-') == 3


def test_nothing_to_mark_returns_the_input():
    html = "<p>甲</p>"
    assert highlight_html(html, [], id_prefix="n") == html


def test_plain_text_fields_are_escaped_and_marked():
    marked = highlight_text('甲<乙>"丙', [finding(1, 3)], id_prefix="t")
    assert marked == (
        '甲<mark class="finding finding-warn" id="t-0" data-finding="0" '
        'title="提示">&lt;乙</mark>&gt;"丙'
    )


def test_hidden_content_and_layout_whitespace_are_not_text():
    html = (
        "<html><head><title>题</title><style>p{}</style></head><body>\n"
        "<p>正文</p>\n<script>x()</script></body></html>"
    )
    assert visible_text(html) == "正文"
