"""The check engine: each dictionary kind, each built-in rule, HTML offsets."""

import pytest

from tests.textcheck.factories import dictionary_set
from textcheck.check import (
    MAX_FIELD_FINDINGS,
    Finding,
    case_text_check,
    text_check,
)
from textcheck.models import BuiltinCheck
from textcheck.rules import numeral_text, numeral_value
from textcheck.services import builtin_mode_save, highlight_html, visible_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dictionary(db):
    dictionary_set()


def found(text, kinds=None):
    """(kind, term, start, suggestion) of the findings, of `kinds` if given."""
    return [
        (finding.kind, finding.term, finding.start, finding.suggestion)
        for finding in text_check(text=text)
        if kinds is None or finding.kind in kinds
    ]


DICTIONARY = ("sensitive", "expression", "person")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # sensitive: the term, its replacement as suggestion (may be empty)
        ("他称台湾总统如何", [("sensitive", "台湾总统", 2, "台湾地区领导人")]),
        ("不说瞎子", [("sensitive", "瞎子", 2, "")]),
        # expression: the wrong form, unless the standard form covers it
        ("学习十九大精神", [("expression", "十九大", 2, "党的十九大")]),
        ("学习党的十九大精神", []),
        ("学习党的十九大和十九大精神", [("expression", "十九大", 8, "党的十九大")]),
        ("深刻领悟“两个确立”", []),
        ("深刻领悟两个确立", [("expression", "两个确立", 4, "“两个确立”")]),
        # overlapping terms: the leftmost, longest one, once
        ("甲乙丙丁", [("sensitive", "甲乙丙", 0, "")]),
        ("甲乙", [("sensitive", "甲乙", 0, "")]),
        ("乙丙丁", [("sensitive", "乙丙丁", 0, "")]),
        (
            "甲乙丙乙丙丁",
            [("sensitive", "甲乙丙", 0, ""), ("sensitive", "乙丙丁", 3, "")],
        ),
        # person: a known title that is not the person's, before or after
        ("张三院长讲话", []),
        ("张三研究员讲话", []),
        ("张三副院长讲话", [("person", "张三副院长", 0, "张三院长")]),
        ("副院长张三讲话", [("person", "副院长张三", 0, "院长张三")]),
        ("张三同志副院长", [("person", "张三同志副院长", 0, "张三同志院长")]),
        ("李四院长讲话", [("person", "李四院长", 0, "李四副院长")]),
        ("李四副院长讲话", []),
        ("张三院长和张三副院长", [("person", "张三副院长", 5, "张三院长")]),
        ("张三同志讲话", []),
        ("张三的副院长", []),
        ("张三、李四副院长", []),
        ("张三\n副院长", []),
        ("王五党委书记", []),
        ("王五副书记", [("person", "王五副书记", 0, "王五书记")]),
    ],
)
def test_dictionary_kinds(text, expected):
    assert found(text, DICTIONARY) == expected


def test_a_finding_has_the_entrys_severity_and_a_message():
    (finding,) = text_check(text="台湾总统")
    assert finding == Finding(
        kind="sensitive",
        term="台湾总统",
        start=0,
        end=4,
        severity="block",
        suggestion="台湾地区领导人",
        message=finding.message,
    )
    assert "台湾地区领导人" in finding.message
    (person,) = text_check(text="张三副院长")
    assert (person.severity, person.end) == ("block", 5)
    assert "院长、研究员" in person.message


def test_html_term_split_across_tags_is_found_in_visible_offsets():
    html = "<h2>一、总体</h2><p>由<strong>张</strong>三<em>副</em>院长主持。</p>"
    assert visible_text(html) == "一、总体\n由张三副院长主持。"
    (finding,) = [f for f in text_check(html=html) if f.kind == "person"]
    assert (finding.term, finding.start, finding.end) == ("张三副院长", 6, 11)
    assert visible_text(html)[finding.start : finding.end] == "张三副院长"


def test_findings_of_html_are_marked_on_the_html():
    html = "<p>由<strong>张</strong>三副院长主持</p>"
    findings = text_check(html=html)
    marked = highlight_html(html, findings, id_prefix="body")
    assert marked.count('data-finding="0"') == 2
    assert '<strong><mark class="finding finding-block" id="body-0"' in marked
    assert 'data-finding="0" title="' in marked and "三副院长</mark>主持" in marked


def test_entities_and_blocks_make_the_visible_text():
    html = (
        "<p>甲&amp;乙</p>\n<ul><li>一</li><li>二<br>三</li></ul>"
        "<table><tr><td>格</td></tr></table>"
    )
    assert visible_text(html) == "甲&乙\n一\n二\n三\n格"


# 一、 to 二十、, one heading a line.
TWENTY = "".join(f"{numeral_text(value)}、节\n" for value in range(1, 21))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一、总体\n二、做法\n三、成效", []),
        (TWENTY, []),
        ("一、总体\n二、做法\n四、成效\n五、展望", [("numbering", "四", 10, "三")]),
        ("一、总体\n二、做法\n二、成效", [("numbering", "二", 10, "三")]),
        ("二、做法", [("numbering", "二", 0, "一")]),
        ("（一）甲\n（三）乙", [("numbering", "三", 6, "二")]),
        # level 2 starts again under each level-1 heading
        ("一、甲\n（一）子\n（二）丑\n二、乙\n（一）寅", []),
        # points: gap mid-line after 。, again from 一是 anywhere
        ("一是学习。二是实践。四是总结。", [("numbering", "四", 10, "三")]),
        ("一是学习；二是实践。\n一是总结。二是提高。", []),
        ("（一）甲\n一是学。二是做。\n（二）乙\n一是学。二是做。三是改。", []),
        ("统一是前提。", []),
        (TWENTY + "二十二、丙", [("numbering", "二十二", len(TWENTY), "二十一")]),
        ("九十八、甲\n九十九、乙", [("numbering", "九十八", 0, "一")]),
    ],
)
def test_numbering(text, expected):
    assert found(text, ("numbering",)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我们,你们", [("punctuation", ",", 2, "，")]),
        ("时间 : 下午", [("punctuation", " : ", 2, "：")]),
        (
            "是吗?好的!行;走",
            [
                ("punctuation", "?", 2, "？"),
                ("punctuation", "!", 5, "！"),
                ("punctuation", ";", 7, "；"),
            ],
        ),
        (
            "支部(党总支)学习",
            [("punctuation", "(", 2, "（"), ("punctuation", ")", 6, "）")],
        ),
        (
            "支部(党总支)。",
            [("punctuation", "(", 2, "（"), ("punctuation", ")", 6, "）")],
        ),
        ("Hello, world: fine", []),
        ("版本2.0,发布", []),
        (
            "好。。再见，，",
            [("punctuation", "。。", 1, "。"), ("punctuation", "，，", 5, "，")],
        ),
        ("等等……然后——结束", []),
        ("他说：“好的”。《规定》【注】（甲）", []),
        ("他说：“好的。", [("punctuation", "“", 3, "")]),
        ("好的”。", [("punctuation", "”", 2, "")]),
        (
            "学习《规定\n》",
            [("punctuation", "《", 2, ""), ("punctuation", "》", 6, "")],
        ),
        ("it’s fine", []),
    ],
)
def test_punctuation(text, expected):
    assert found(text, ("punctuation",)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我们的的工作", [("repeat", "的的", 2, "的")]),
        ("我们我们要学", [("repeat", "我们我们", 0, "我们")]),
        ("要进一步进一步加强", [("repeat", "进一步进一步", 1, "进一步")]),
        ("在在基层", [("repeat", "在在", 0, "在")]),
        ("的的的", [("repeat", "的的的", 0, "的")]),
        # legitimate reduplication
        ("常常学习，人人参与，一一落实", []),
        ("天天看看，谢谢大家", []),
        ("分清是是非非", []),
        ("研究研究，讨论讨论，雪白雪白", []),
        ("实实在在，的的确确", []),
        ("为了了解情况，他现在在北京，达到目的的手段", []),
        ("一把把钥匙，一步一步地，一个一个来", []),
        ("等等，哈哈哈哈", []),
        ("ABAB和abab", []),
    ],
)
def test_repeat(text, expected):
    assert found(text, ("repeat",)) == expected


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("numbering", "一、甲\n三、乙"),
        ("punctuation", "我们,你们"),
        ("repeat", "我们的的工作"),
    ],
)
@pytest.mark.parametrize("mode", ["off", "warn", "block"])
def test_builtin_modes(kind, text, mode):
    builtin_mode_save(kind=kind, mode=mode, acting_user=None)
    severities = [f.severity for f in text_check(text=text) if f.kind == kind]
    assert severities == ([] if mode == "off" else [mode])
    assert BuiltinCheck.objects.get(kind=kind).mode == mode


def test_case_text_check_gives_each_field():
    result = case_text_check(
        title="学习十九大",
        tagline="",
        lead="我们的的工作",
        body="<p>他称<strong>台湾</strong>总统</p>",
    )
    assert list(result) == ["title", "tagline", "lead", "body"]
    assert [f.term for f in result["title"]] == ["十九大"]
    assert result["tagline"] == []
    assert [f.term for f in result["lead"]] == ["的的"]
    assert [(f.term, f.start) for f in result["body"]] == [("台湾总统", 2)]


def test_findings_sorted_and_round_trip_as_dicts():
    findings = text_check(text="瞎子说,台湾总统的的")
    assert [f.start for f in findings] == sorted(f.start for f in findings)
    for finding in findings:
        data = finding.as_dict()
        assert list(data) == [
            "kind",
            "term",
            "start",
            "end",
            "severity",
            "suggestion",
            "message",
        ]
        assert Finding.from_dict(data) == finding
        assert finding.key == (finding.kind, finding.term, finding.start)


def test_exactly_one_of_text_and_html():
    with pytest.raises(TypeError):
        text_check()
    with pytest.raises(TypeError):
        text_check(text="a", html="<p>a</p>")


def test_the_automaton_is_rebuilt_when_the_dictionary_changes():
    assert found("说丙丁戊", DICTIONARY) == []
    dictionary_set([("sensitive", "丙丁戊", "", "warn")])
    assert found("说丙丁戊", DICTIONARY) == [("sensitive", "丙丁戊", 1, "")]


def test_the_automaton_is_kept_while_the_version_holds(django_assert_num_queries):
    text_check(text="预热")
    with django_assert_num_queries(1):
        text_check(text="台湾总统")


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("一", 1),
        ("十", 10),
        ("十一", 11),
        ("二十", 20),
        ("二十一", 21),
        ("九十九", 99),
        ("一十", None),
        ("十十", None),
        ("二二", None),
        ("一百", None),
        ("十二十", None),
    ],
)
def test_numerals(numeral, value):
    assert numeral_value(numeral) == value
    if value is not None:
        assert numeral_text(value) == numeral


def test_a_field_keeps_at_most_a_thousand_findings_blocking_first():
    lead = "我们,你们" * 1200 + "台湾总统"
    assert len(text_check(text=lead)) == 1201
    kept = case_text_check(title="", tagline="", lead=lead, body="")["lead"]
    assert len(kept) == MAX_FIELD_FINDINGS
    assert kept[-1].term == "台湾总统" and kept[-1].severity == "block"
    assert [f.start for f in kept] == sorted(f.start for f in kept)
