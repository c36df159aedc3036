"""The review loop with the demo accounts, through the UI only, in Chromium."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from inbox.models import Notification
from submissions.models import Case

pytestmark = [pytest.mark.browser]

TITLE = "“三会一课”进实验室 理论学习见实效"


def new_mail_to():
    """Addresses of the emails sent since the last call."""
    addresses = sorted(address for message in mail.outbox for address in message.to)
    mail.outbox.clear()
    return addresses


def inbox_texts(user):
    return [
        str(n.event.get_action_display()) if n.event else n.kind
        for n in Notification.objects.filter(
            recipient__username=user, case__title=TITLE
        ).order_by("pk")
    ]


class ReviewFlowTests:
    def test_submit_return_resubmit_approve_approve(self, demo_data, visitor):
        mail.outbox.clear()
        case = Case.objects.get(title=TITLE)

        # secretary1 submits the branch's draft.
        secretary = visitor()
        secretary.sign_in("secretary1")
        secretary.go(case.get_absolute_url())
        secretary.page.click("button:has-text('提交审核')")
        expect(secretary.page.locator(".badge").first).to_have_text("审核中")
        assert new_mail_to() == ["reviewer1@example.org"]
        assert inbox_texts("reviewer1") == ["已提交"]

        # reviewer1 returns it with a comment.
        reviewer1 = visitor()
        reviewer1.sign_in_elsewhere("reviewer1")
        reviewer1.go("/review/")
        reviewer1.page.click(f"text={TITLE}")
        reviewer1.page.check("input[name=outcome][value=return]")
        reviewer1.page.fill("#id_comment", "请补充学习成效的具体事例。")
        reviewer1.screenshot("review-decision")
        reviewer1.page.click("button:has-text('提交审核结论')")
        expect(reviewer1.page.locator(".message--success")).to_contain_text("退回修改")
        assert new_mail_to() == ["secretary1@example.org"]

        # secretary1 reads the comment in the inbox, edits and resubmits.
        secretary.go("/inbox/")
        expect(secretary.page.locator(".inbox__item").first).to_contain_text(
            "请补充学习成效的具体事例"
        )
        secretary.screenshot("inbox")
        secretary.page.locator(".inbox__open").first.click()
        expect(secretary.page.locator(".return-note")).to_contain_text(
            "请补充学习成效的具体事例"
        )
        secretary.page.click("a:has-text('编辑')")
        secretary.page.fill(
            "#id_lead",
            "支部探索把理论学习课堂搬进实验室，全年开展现场教学十二次，"
            "让学习从“读文件”变成“解难题”。",
        )
        secretary.page.click("button[name=save]")
        expect(secretary.page.locator(".message--success")).to_be_visible()
        secretary.go(case.get_absolute_url())
        secretary.page.click("button:has-text('重新提交')")
        expect(secretary.page.locator(".badge").first).to_have_text("审核中")
        assert new_mail_to() == ["reviewer1@example.org"]

        # reviewer1 sees what changed and approves.
        reviewer1.go(f"/review/cases/{case.pk}/")
        diff = reviewer1.page.locator(".diff")
        expect(diff.locator("ins").first).to_be_visible()
        expect(diff).to_contain_text("全年开展现场教学十二次")
        reviewer1.screenshot("review-diff")
        reviewer1.page.check("input[name=outcome][value=approve]")
        reviewer1.page.click("button:has-text('提交审核结论')")
        assert new_mail_to() == ["reviewer2@example.org"]

        # reviewer2 approves at the final stage.
        reviewer2 = visitor()
        reviewer2.sign_in_elsewhere("reviewer2")
        reviewer2.go(f"/review/cases/{case.pk}/")
        reviewer2.page.check("input[name=outcome][value=approve]")
        reviewer2.page.click("button:has-text('提交审核结论')")
        case.refresh_from_db()
        assert case.status == Case.Status.APPROVED
        assert new_mail_to() == ["editor1@example.org", "secretary1@example.org"]

        # The branch sees the whole story on its case page.
        secretary.go(case.get_absolute_url())
        expect(secretary.page.locator(".badge").first).to_have_text("已通过")
        timeline = secretary.page.locator(".timeline")
        for step in (
            "已提交",
            "初审 · 退回修改",
            "已重新提交",
            "初审 · 已通过",
            "终审 · 已通过",
        ):
            expect(timeline).to_contain_text(step)
        secretary.screenshot("case-approved")
        assert inbox_texts("secretary1") == ["退回修改", "已通过"]
        assert inbox_texts("editor1") == ["已通过"]
        assert secretary.errors == reviewer1.errors == reviewer2.errors == []
