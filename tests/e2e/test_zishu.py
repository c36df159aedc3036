"""The 字数 under the editor, in Chromium: the server's count, updated as one types."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.services import campaign_save
from casehub.zishu import digits_grouped, zishu
from showcase.models import Series
from submissions.models import Case
from tests.casehub.test_zishu import TABLE

pytestmark = [pytest.mark.browser]

SENTENCES = [
    "支部坚持把党小组建在课题组上，推动党建工作与科研攻关同频共振。",
    "2024年，支部围绕国家计量基准建设，组织开展专题攻关12项，覆盖党员骨干46名。",
    "依托 CNAS 认可实验室和 ISO/IEC 17025 质量体系，支部把“三会一课”开到实验室一线。",
    "青年党员牵头完成校准规范修订3项，测量不确定度降低至0.5%以内。",
    "支部书记带头讲党课，党员先锋岗在急难险重任务中亮身份、作表率。",
]
HEADINGS = ["一、筑基", "二、创新", "三、暖心", "四、成效"]
POINTS = ["一是", "二是", "三是", "四是", "五是"]


def real_sized_body() -> str:
    """Four sections of five points, as branches write them: about 2,400 字."""
    parts = []
    for number, heading in enumerate(HEADINGS):
        parts.append(f"<h2>{heading}：把支部建在课题组上</h2>")
        for index, point in enumerate(POINTS):
            text = "".join(
                SENTENCES[(number + index + turn) % len(SENTENCES)] for turn in range(4)
            )
            parts.append(f"<p><strong>{point}</strong>{text}</p>")
    return "".join(parts)


def set_body(page, html):
    page.evaluate(
        """(html) => document.querySelector('.ck-editor__editable')
            .ckeditorInstance.setData(html)""",
        html,
    )


class ZishuCounterTests:
    def test_the_browser_counts_as_the_server_does(self, demo_data, visitor):
        writer = visitor()
        writer.sign_in("secretary1")
        writer.go("/submissions/new/")
        writer.page.wait_for_function("window.casehubZishu !== undefined")
        counted = writer.page.evaluate(
            """(rows) => rows.map((html) => [
                window.casehubZishu.zishu(html), window.casehubZishu.imageCount(html),
            ])""",
            [html for _name, html, _count, _images in TABLE],
        )
        expected = [[count, images] for _name, _html, count, images in TABLE]
        mismatches = [
            (row[0], got, want)
            for row, got, want in zip(TABLE, counted, expected, strict=True)
            if got != want
        ]
        assert mismatches == []
        body = real_sized_body()
        assert writer.page.evaluate("(h) => window.casehubZishu.zishu(h)", body) == (
            zishu(body)
        )
        assert writer.errors == []

    def test_the_counter_shows_the_count_and_the_call_limits(self, demo_data, visitor):
        secretary_user = get_user_model().objects.get(username="secretary1")
        campaign = campaign_save(
            acting_user=get_user_model().objects.get(username="editor1"),
            title="字数征集",
            description="",
            series=Series.objects.first(),
            opens_on=timezone.localdate() - timedelta(days=1),
            closes_on=timezone.localdate() + timedelta(days=10),
            branches=[secretary_user.memberships.get().branch],
            min_zishu=2000,
            max_zishu=3000,
            max_images=1,
        )
        body = real_sized_body()
        count = zishu(body)
        assert 2000 <= count <= 3000 - 10, count

        writer = visitor()
        page = writer.page
        writer.sign_in("secretary1")
        writer.go(f"/submissions/new/?campaign={campaign.pk}")
        counter = page.locator("#id_body_zishu")
        expect(counter).to_have_attribute("data-zishu", "0")
        # CKEditor's own word count (单词数) is gone.
        expect(page.locator(".ck-word-count")).to_have_count(0)
        expect(page.locator("main")).not_to_contain_text("单词数")
        expect(counter).to_contain_text("2,000–3,000")
        expect(counter).to_have_class(re.compile(r"\bzishu--outside\b"))

        set_body(page, body)
        expect(counter).to_have_attribute("data-zishu", str(count))
        expect(counter).to_contain_text(digits_grouped(count))
        expect(counter).not_to_have_class(re.compile(r"\bzishu--outside\b"))

        # Typing moves it on: five characters and a word.
        page.locator(".ck-editor__editable").click()
        page.keyboard.press("Control+End")
        page.keyboard.type("新增五个字 CaseHub")
        expect(counter).to_have_attribute("data-zishu", str(count + 6))
        writer.screenshot("zishu-counter")

        # Leaving the call: no limits shown.
        page.select_option("#id_campaign", "")
        expect(counter).not_to_contain_text("2,000–3,000")

        page.fill("#id_title", "字数与服务器一致")
        page.fill("#id_lead", "导语。")
        page.select_option("#id_campaign", str(campaign.pk))
        page.click("button[name=save]")
        page.wait_for_url(re.compile(r"/submissions/\d+/edit/$"))
        case = Case.objects.get(title="字数与服务器一致")
        assert zishu(case.body) == count + 6
        expect(page.locator("#id_body_zishu")).to_have_attribute(
            "data-zishu", str(zishu(case.body))
        )

        writer.go(f"/submissions/{case.pk}/")
        page.click("button:has-text('提交审核')")
        expect(page.locator(".message--success")).to_contain_text("已提交审核")
        assert writer.errors == []
