"""批注 in Chromium: a reviewer notes a passage and returns the case; the
branch finds the note at its passage, marks it done and resubmits; the
reviewer sees it addressed."""

import pytest
from playwright.sync_api import expect

from review.models import Note, NoteResponse
from submissions.models import Case

pytestmark = [pytest.mark.browser]

TITLE = "“三会一课”进实验室 理论学习见实效"
PASSAGE = "邀请离退休老专家"

SELECT = """(passage) => {
  const body = document.querySelector("[data-notes-text] .case-article__body");
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(passage);
    if (at !== -1) {
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + passage.length);
      const selection = document.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      return true;
    }
  }
  return false;
}"""


class NoteFlowTests:
    def test_note_return_done_resubmit(self, demo_data, visitor):
        case = Case.objects.get(title=TITLE)

        secretary = visitor()
        secretary.sign_in("secretary1")
        secretary.go(case.get_absolute_url())
        secretary.page.click("button:has-text('提交审核')")
        expect(secretary.page.locator(".badge").first).to_have_text("审核中")

        # reviewer1 selects a passage of the body and notes it.
        reviewer1 = visitor()
        reviewer1.sign_in_elsewhere("reviewer1")
        reviewer1.go(f"/review/cases/{case.pk}/")
        assert reviewer1.page.evaluate(SELECT, PASSAGE)
        expect(reviewer1.page.locator("[data-note-selection]")).to_contain_text(PASSAGE)
        # A decision comment typed before the note outlives the page reload.
        reviewer1.page.fill("#id_comment", "请按批注修改。")
        reviewer1.page.fill("#id_text", "请写明邀请了哪几位专家、讲了几次。")
        reviewer1.page.fill("#id_suggestion", "邀请三位离退休老专家")
        reviewer1.page.click("button:has-text('添加批注')")
        expect(reviewer1.page.locator(".message--success")).to_contain_text(
            "批注已添加"
        )
        expect(reviewer1.page.locator("mark.finding-note")).to_have_text(PASSAGE)
        note = Note.objects.get()
        assert note.quote == PASSAGE and note.field == "body"
        reviewer1.screenshot("note-added")

        # … and returns the case with it.
        expect(reviewer1.page.locator("#id_comment")).to_have_value("请按批注修改。")
        reviewer1.page.check("input[name=outcome][value=return]")
        reviewer1.page.click("button:has-text('提交审核结论')")
        expect(reviewer1.page.locator(".message--success")).to_contain_text("退回修改")

        # secretary1 is told how many notes came with the return.
        secretary.go("/inbox/")
        expect(secretary.page.locator(".inbox__item").first).to_contain_text(
            "附 1 条批注"
        )
        # The case page lists the note; the revision shows it at its passage.
        secretary.go(case.get_absolute_url())
        notes = secretary.page.locator(".notes")
        expect(notes).to_contain_text(PASSAGE)
        expect(notes).to_contain_text("请写明邀请了哪几位专家")
        secretary.page.click("a:has-text('查看标注了批注的正文')")
        expect(secretary.page.locator("mark.finding-note")).to_have_text(PASSAGE)
        secretary.screenshot("note-at-passage")
        secretary.page.locator("mark.finding-note").click()
        item = secretary.page.locator(f"#note-{note.pk}")
        expect(item).to_be_focused()
        item.locator("button:has-text('标记已完成')").click()
        expect(secretary.page.locator(".message--success")).to_contain_text(
            "对批注的答复已记录"
        )
        assert NoteResponse.objects.get().kind == "done"

        # It revises the text and resubmits.
        secretary.page.click("a:has-text('编辑')")
        secretary.page.fill(
            "#id_lead", "支部探索把理论学习课堂搬进实验室，全年开展现场教学十二次。"
        )
        secretary.page.click("button[name=save]")
        expect(secretary.page.locator(".message--success")).to_be_visible()
        secretary.go(case.get_absolute_url())
        secretary.page.click("button:has-text('重新提交')")
        expect(secretary.page.locator(".badge").first).to_have_text("审核中")

        # reviewer1 sees on the new revision that the note was addressed.
        reviewer1.go(f"/review/cases/{case.pk}/")
        carried = reviewer1.page.locator("#carried-notes-heading + .notes__list")
        expect(carried.locator("[data-note-status=done]")).to_contain_text(PASSAGE)
        expect(carried).to_contain_text("已完成")
        expect(reviewer1.page.locator("mark.finding-note")).to_have_text(PASSAGE)
        reviewer1.screenshot("note-addressed")
        assert secretary.errors == reviewer1.errors == []


SELECT_IN = """([selector, first, last]) => {
  // From the start of `first` to the end of `last`, each in a text node of
  // the element `selector` names (they may be different nodes).
  const root = document.querySelector(selector);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let startNode = null, startAt = -1, endNode = null, endAt = -1;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!startNode && node.data.includes(first)) {
      startNode = node;
      startAt = node.data.indexOf(first);
    }
    if (startNode && node.data.includes(last)) {
      endNode = node;
      endAt = node.data.indexOf(last) + last.length;
      break;
    }
  }
  if (!startNode || !endNode) {
    return false;
  }
  const range = document.createRange();
  range.setStart(startNode, startAt);
  range.setEnd(endNode, endAt);
  const selection = document.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return true;
}"""

LEAD = (
    "支部探索把理论学习课堂搬进实验室。\n\n"
    "让学习从“读文件”变成“解难题”，\n"
    "形成了以问题为导向、以成果为检验的学习机制。"
)


class LeadNoteTests:
    def test_a_passage_of_the_lead_across_a_line_break(self, demo_data, visitor):
        from authoring.services import CaseContent, case_update
        from review import workflow
        from submissions.models import Membership

        case = Case.objects.get(title=TITLE)
        secretary = (
            Membership.objects.filter(
                branch=case.branch, role=Membership.Role.SECRETARY
            )
            .get()
            .user
        )
        case_update(
            case=case,
            acting_user=secretary,
            expected_version=case.version,
            content=CaseContent(
                title=case.title, tagline=case.tagline, lead=LEAD, body=case.body
            ),
        )
        case.refresh_from_db()
        assert case.lead == LEAD
        workflow.case_submit(case=case, acting_user=secretary)

        reviewer1 = visitor()
        reviewer1.sign_in_elsewhere("reviewer1")
        reviewer1.go(f"/review/cases/{case.pk}/")
        expect(reviewer1.page.locator("[data-note-selection]")).to_contain_text(
            "在导语或正文中选中"
        )
        assert reviewer1.page.evaluate(
            SELECT_IN, ["[data-notes-text] .case-article__lead", "变成", "以问题"]
        )
        quote = "变成“解难题”，\n形成了以问题"
        form = reviewer1.page.locator("#note-form")
        expect(form.locator("input[name=field]")).to_have_value("lead")
        # The offsets are the lead's own, paragraph breaks and all.
        expect(form.locator("input[name=start]")).to_have_value(str(LEAD.index(quote)))
        expect(form.locator("input[name=quote]")).to_have_value(quote)
        reviewer1.page.fill("#id_text", "导语请更简洁。")
        reviewer1.page.click("button:has-text('添加批注')")
        expect(reviewer1.page.locator(".message--success")).to_contain_text(
            "批注已添加"
        )
        note = Note.objects.get()
        assert (note.field, note.quote) == ("lead", quote)
        anchor = note.anchors.get()
        assert LEAD[anchor.start : anchor.end] == quote
        assert reviewer1.errors == []


class NoteWithdrawTests:
    def test_a_note_withdrawn_before_the_return_never_reaches_the_branch(
        self, demo_data, visitor
    ):
        from review import workflow
        from review.models import NoteWithdrawal
        from submissions.models import Membership

        case = Case.objects.get(title=TITLE)
        writer = Membership.objects.get(
            branch=case.branch, role=Membership.Role.SECRETARY
        ).user
        workflow.case_submit(case=case, acting_user=writer)

        reviewer1 = visitor()
        reviewer1.sign_in_elsewhere("reviewer1")
        reviewer1.go(f"/review/cases/{case.pk}/")
        for passage, text in (
            (PASSAGE, "写错了的批注"),
            ("学习成果台账", "请说明台账记了哪些内容。"),
        ):
            assert reviewer1.page.evaluate(SELECT, passage)
            expect(reviewer1.page.locator("[data-note-selection]")).to_contain_text(
                passage
            )
            reviewer1.page.fill("#id_text", text)
            reviewer1.page.click("button:has-text('添加批注')")
            expect(reviewer1.page.locator(".message--success")).to_contain_text(
                "批注已添加"
            )
        expect(reviewer1.page.locator("mark.finding-note")).to_have_count(2)
        wrong = Note.objects.get(text="写错了的批注")

        # The comment typed first outlives the withdrawal's reload.
        reviewer1.page.fill("#id_comment", "请按批注修改。")
        item = reviewer1.page.locator(f"#note-{wrong.pk}")
        item.locator("button:has-text('撤回批注')").click()
        expect(reviewer1.page.locator(".message--success")).to_contain_text(
            "批注已撤回"
        )
        item = reviewer1.page.locator(f"#note-{wrong.pk}")
        expect(item).to_have_attribute("data-note-status", "withdrawn")
        expect(item).to_contain_text("已撤回")
        expect(item.locator("button:has-text('撤回批注')")).to_have_count(0)
        expect(item.locator("[data-note-mark]")).to_have_count(0)
        expect(reviewer1.page.locator("mark.finding-note")).to_have_count(1)
        expect(reviewer1.page.locator("mark.finding-note")).to_have_text("学习成果台账")
        assert NoteWithdrawal.objects.get().note == wrong
        reviewer1.screenshot("note-withdrawn")

        expect(reviewer1.page.locator("#id_comment")).to_have_value("请按批注修改。")
        reviewer1.page.check("input[name=outcome][value=return]")
        reviewer1.page.click("button:has-text('提交审核结论')")
        expect(reviewer1.page.locator(".message--success")).to_contain_text("退回修改")

        secretary = visitor()
        secretary.sign_in("secretary1")
        secretary.go("/inbox/")
        expect(secretary.page.locator(".inbox__item").first).to_contain_text(
            "附 1 条批注"
        )
        secretary.go(case.get_absolute_url())
        notes = secretary.page.locator(".notes .note-item")
        expect(notes).to_have_count(1)
        expect(notes).to_contain_text("学习成果台账")
        expect(secretary.page.locator("main")).not_to_contain_text("写错了的批注")
        assert secretary.errors == reviewer1.errors == []
