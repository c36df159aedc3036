"""The text check in Chromium: a reviewer sees a dictionary term marked in the
revision, goes from the mark to its finding and back, quotes the finding into
the return comment in one click, and the branch reads the quote."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from authoring.services import CaseContent, case_create
from review import workflow
from submissions.models import Case
from textcheck.models import RevisionCheck
from textcheck.services import term_save

pytestmark = [pytest.mark.browser]

WORD = "有关领导"
SUGGESTION = "写明具体职务"
TITLE = "实验室里的主题党日"


def case_in_review() -> Case:
    """A case of the demo branch whose body has the term, submitted."""
    users = get_user_model().objects
    writer = users.get(username="correspondent1")
    case = case_create(
        branch=writer.memberships.get().branch,
        acting_user=writer,
        content=CaseContent(
            title=TITLE,
            lead="支部把主题党日搬进实验室。",
            body=(
                "<h2>一、学在一线</h2>"
                f"<p>一是邀请<strong>有关</strong>领导讲党课。二是{WORD}带头攻关。</p>"
            ),
        ),
    )
    workflow.case_submit(case=case, acting_user=users.get(username="secretary1"))
    return case


class TextCheckReviewTests:
    def test_reviewer_quotes_a_finding_into_the_return_comment(
        self, demo_data, visitor
    ):
        term_save(
            kind="expression",
            term=WORD,
            replacement=SUGGESTION,
            severity="block",
            note="测试词条",
            acting_user=None,
        )
        case = case_in_review()
        # Checked by the task queued on submit, before anyone opens the page.
        [first, second] = RevisionCheck.objects.get(revision__case=case).findings[
            "body"
        ]
        assert first["term"] == second["term"] == WORD

        reviewer = visitor()
        page = reviewer.page
        reviewer.sign_in("reviewer1")
        reviewer.go(f"/review/cases/{case.pk}/")
        marks = page.locator(".case-article__body mark.finding-block")
        # The first is split by <strong>: a mark on each side of the tag.
        expect(marks).to_have_count(3)
        expect(page.locator("#finding-body-0")).to_have_text("有关")
        expect(page.locator("#finding-body-1")).to_have_text(WORD)
        items = page.locator(".findings .finding-item")
        expect(items).to_have_count(2)
        expect(items.first).to_contain_text(SUGGESTION)
        reviewer.screenshot("text-check-review")

        # Mark → its finding, and back.
        page.locator("#finding-body-1").click()
        expect(page.locator("#finding-item-body-1")).to_be_focused()
        page.locator("#finding-item-body-1 [data-finding-mark]").click()
        expect(page.locator("#finding-body-1")).to_be_focused()

        page.fill("#id_comment", "请修改以下表述：")
        page.locator("#finding-item-body-1 [data-finding-quote]").click()
        quote = page.locator("#finding-item-body-1 [data-finding-quote]").get_attribute(
            "data-finding-quote"
        )
        assert WORD in quote and SUGGESTION in quote
        expect(page.locator("#id_comment")).to_have_value(f"请修改以下表述：\n{quote}")
        page.check("input[name=outcome][value=return]")
        page.click("form button[type=submit]:has-text('提交审核结论')")
        expect(page.locator(".message--success")).to_contain_text("退回修改")
        case.refresh_from_db()
        assert case.status == Case.Status.RETURNED

        secretary = visitor()
        secretary.sign_in("secretary1")
        secretary.go(case.get_absolute_url())
        expect(secretary.page.locator(".return-note")).to_contain_text(quote)
        assert reviewer.errors == secretary.errors == []


class TextCheckWriterTests:
    def test_writer_checks_the_text_in_the_form_before_saving(self, demo_data, visitor):
        term_save(
            kind="expression",
            term=WORD,
            replacement=SUGGESTION,
            severity="warn",
            note="测试词条",
            acting_user=None,
        )
        case = Case.objects.filter(status=Case.Status.DRAFT).first()
        saved_lead = case.lead
        writer = visitor()
        page = writer.page
        writer.sign_in("correspondent1")
        writer.go(f"/submissions/{case.pk}/edit/")
        panel = page.locator("[data-findings-panel]")
        expect(panel.locator(".finding-item")).to_have_count(0)
        page.fill("#id_lead", f"支部邀请{WORD}讲党课。")
        panel.locator("[data-findings-check]").click()
        expect(panel.locator(".finding-item")).to_have_count(1)
        expect(panel.locator(".finding-item")).to_contain_text(SUGGESTION)
        expect(panel.locator("[data-findings-status]")).to_contain_text("1")
        writer.screenshot("text-check-writer")
        case.refresh_from_db()
        assert case.lead == saved_lead
        assert writer.errors == []
