"""The revision diff: character marks for ordinary edits, bounded for any edit."""

import random
import time

import pytest
from django.urls import reverse

from authoring.services import CaseContent, case_update
from review import diff, workflow
from review.diff import Span, paragraphs_diff, revision_diff
from tests.review.factories import decide, draft
from tests.submissions.factories import signed_in

CHARACTERS = (
    "党建引领新篇章筑基创新暖心一是加强组织建设二是三是推进落实基层群众服务学习"
)


def chinese_text(length: int, seed: int) -> str:
    chooser = random.Random(seed)
    return "".join(chooser.choice(CHARACTERS) for _ in range(length))


def kinds(spans: list[Span]) -> list[str]:
    return [span.kind for span in spans]


class ParagraphsDiffTests:
    def test_an_ordinary_edit_is_marked_character_by_character(self):
        result = paragraphs_diff(
            ["支部组织党员开展学习。", "不变的一段。"],
            ["支部组织全体党员开展专题学习。", "不变的一段。"],
        )
        assert result[0] == [
            Span("same", "支部组织"),
            Span("added", "全体"),
            Span("same", "党员开展"),
            Span("added", "专题"),
            Span("same", "学习。"),
        ]
        assert result[1] == [Span("same", "不变的一段。")]

    def test_paragraphs_added_and_removed(self):
        result = paragraphs_diff(["一", "二", "三"], ["一", "三", "四"])
        assert result == [
            [Span("same", "一")],
            [Span("removed", "二")],
            [Span("same", "三")],
            [Span("added", "四")],
        ]

    def test_a_huge_paragraph_changed_throughout_is_shown_replaced(self):
        old, new = chinese_text(40000, 1), chinese_text(40000, 2)
        started = time.perf_counter()
        result = paragraphs_diff([old], [new])
        assert time.perf_counter() - started < 1
        assert result == [[Span("removed", old), Span("added", new)]]

    def test_a_small_change_in_a_huge_paragraph_is_still_marked_exactly(self):
        old = chinese_text(40000, 1)
        new = old[:20000] + "新增的一句话" + old[20010:]
        result = paragraphs_diff([old], [new])
        assert kinds(result[0])[0] == "same" and kinds(result[0])[-1] == "same"
        changed = "".join(span.text for span in result[0] if span.kind != "same")
        assert len(changed) <= 16
        assert "".join(s.text for s in result[0] if s.kind != "removed") == new
        assert "".join(s.text for s in result[0] if s.kind != "added") == old

    def test_the_replaced_middle_keeps_the_shared_start_and_end(self, monkeypatch):
        monkeypatch.setattr(diff, "CHAR_BUDGET", 10)
        result = paragraphs_diff(
            ["开头" + "甲乙丙丁戊" + "结尾"], ["开头" + "己庚辛壬癸" + "结尾"]
        )
        assert result == [
            [
                Span("same", "开头"),
                Span("removed", "甲乙丙丁戊"),
                Span("added", "己庚辛壬癸"),
                Span("same", "结尾"),
            ]
        ]

    def test_worst_case_repetitions_stay_within_the_budget(self):
        # One character repeated: every comparison SequenceMatcher could make.
        old = ["乙" + "甲" * 5000 + "乙"] * 3
        new = ["丙" + "甲" * 5000 + "丙"] * 3
        started = time.perf_counter()
        result = paragraphs_diff(old, new)
        assert time.perf_counter() - started < 1
        assert len(result) == 3
        for spans in result:
            assert "".join(s.text for s in spans if s.kind != "added") == old[0]

    def test_many_paragraphs_are_matched_within_the_budget(self):
        old = [f"第{index % 7}段" for index in range(20000)]
        new = [f"第{index % 5}段" for index in range(20000)]
        started = time.perf_counter()
        result = paragraphs_diff(old, new)
        assert time.perf_counter() - started < 2
        removed = [s.text for spans in result for s in spans if s.kind == "removed"]
        assert removed  # the change is shown

    def test_the_paragraph_match_falls_back_when_over_its_budget(self, monkeypatch):
        monkeypatch.setattr(diff, "PARAGRAPH_BUDGET", 1)
        result = paragraphs_diff(["一", "二", "三"], ["一", "甲", "乙", "三"])
        assert result[0] == [Span("same", "一")]
        assert result[-1] == [Span("same", "三")]
        texts = [(s.kind, s.text) for spans in result[1:-1] for s in spans]
        assert ("removed", "二") in texts
        assert ("added", "乙") in texts

    def test_the_revision_budget_is_shared_by_all_fields(self, monkeypatch):
        # Each field's comparison costs 100 here: room for the first only.
        monkeypatch.setattr(diff, "CALL_COST", 0)
        monkeypatch.setattr(diff, "REVISION_CHAR_BUDGET", 150)

        class Revision:
            def __init__(self, lead, body):
                self.lead, self.body = lead, body

        old = Revision("甲乙丙丁戊" * 4, "<p>" + "子丑寅卯辰" * 4 + "</p>")
        new = Revision("戊丁丙乙甲" * 4, "<p>" + "辰卯寅丑子" * 4 + "</p>")
        lead, body = revision_diff(old, new, labels={"lead": "导语", "body": "正文"})
        assert len(lead.paragraphs[0]) > 2  # within the budget: marked
        assert kinds(body.paragraphs[0]) == ["removed", "added"]  # spent: replaced


@pytest.mark.django_db
class ReviewPageLongParagraphTests:
    def _second_round(self, who, old_text, new_text):
        case = draft(who, body=f"<p>{old_text}</p>")
        workflow.case_submit(case=case, acting_user=who.secretary)
        decide(case, "return", who.reviewer1, comment="请修改")
        case.refresh_from_db()
        case_update(
            case=case,
            acting_user=who.correspondent,
            expected_version=case.version,
            content=CaseContent(
                title=case.title, lead=case.lead, body=f"<p>{new_text}</p>"
            ),
        )
        workflow.case_resubmit(case=case, acting_user=who.secretary)
        return case

    def test_a_40000_character_paragraph_rewritten_opens_fast(self, who):
        old, new = chinese_text(40000, 1), chinese_text(40000, 2)
        case = self._second_round(who, old, new)
        client = signed_in(who.reviewer1)
        started = time.perf_counter()
        response = client.get(reverse("review:case", args=[case.pk]))
        assert time.perf_counter() - started < 3
        assert response.status_code == 200
        assert response.context["diff_has_changes"]
        html = response.content.decode()
        assert f"<del>{old}</del>" in html
        assert f"<ins>{new}</ins>" in html

    def test_a_small_change_in_a_40000_character_paragraph_is_marked(self, who):
        old = chinese_text(40000, 3)
        case = self._second_round(who, old, old[:30000] + "补充的成效" + old[30000:])
        started = time.perf_counter()
        response = signed_in(who.reviewer1).get(reverse("review:case", args=[case.pk]))
        assert time.perf_counter() - started < 3
        assert "<ins>补充的成效</ins>" in response.content.decode()
