"""The department's view of the demo call, and a branch's view of it, in Chromium."""

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign
from demo import demo

pytestmark = [pytest.mark.browser]


class OversightTests:
    def test_the_dashboard_draws_the_demo_calls_charts(self, demo_data, visitor):
        campaign = Campaign.objects.get(title=demo.CAMPAIGN["title"])
        editor = visitor()
        editor.sign_in_elsewhere("editor1")
        editor.page.click("nav >> text=统计")
        editor.page.select_option("#id_campaign", label=campaign.title)
        editor.page.click("button:has-text('查看')")
        charts = editor.page.locator("svg.chart")
        expect(charts).to_have_count(3)
        for index in range(3):
            assert charts.nth(index).locator("rect").count() > 0
        expect(editor.page.locator("main")).to_contain_text("各审核阶段用时")
        editor.screenshot("statistics-demo-call")

        editor.page.click("nav >> text=案例征集")
        editor.page.click(f"text={campaign.title}")
        expect(editor.page.locator(".summary-counts")).to_contain_text("已发布")
        expect(editor.page.locator(".case-table")).to_contain_text("精密测量第一党支部")
        editor.screenshot("campaign-participation")
        with editor.page.expect_download() as download:
            editor.page.click("text=Excel")
        assert download.value.suggested_filename.endswith(".xlsx")
        assert editor.errors == []

    def test_a_secretary_sees_the_open_call_and_writes_for_it(self, demo_data, visitor):
        campaign = Campaign.objects.get(title=demo.CAMPAIGN["title"])
        secretary = visitor()
        secretary.sign_in("secretary1")
        calls = secretary.page.locator(".open-calls")
        expect(calls).to_contain_text(campaign.title)
        expect(calls).to_contain_text("还剩 10 天")
        secretary.screenshot("open-calls")
        secretary.page.click("text=撰写征集案例")
        expect(secretary.page.locator("#id_campaign")).to_have_value(str(campaign.pk))
        assert secretary.errors == []
