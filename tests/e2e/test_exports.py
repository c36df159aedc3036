"""An editor takes a published issue to Word, in Chromium, and opens the file."""

import re

import docx
import pytest
from playwright.sync_api import expect

from exports import services
from exports.models import ExportJob

pytestmark = [pytest.mark.browser]

DOWNLOAD = "下载 Word 文档"


def headings(path) -> tuple[list[str], list[str]]:
    document = docx.Document(str(path))
    by_style = {}
    for paragraph in document.paragraphs:
        by_style.setdefault(paragraph.style.name, []).append(paragraph.text)
    return by_style.get("Title", []), by_style.get("Heading 1", [])


class WordExportTests:
    def test_the_progress_page_turns_into_a_download(
        self, demo_data, visitor, monkeypatch
    ):
        # Held in the queue until the test builds it, as a busy worker would.
        queued = []
        monkeypatch.setattr(
            services, "_build_queue", lambda job_id, build: queued.append(job_id)
        )
        editor = visitor()
        page = editor.page
        page.clock.install()
        editor.sign_in_elsewhere("editor1")
        editor.go("/series/dangjian-yinling/2/")
        editor.screenshot("export-issue-page")
        page.click("text=导出 Word")
        page.wait_for_url(re.compile(r"/exports/[0-9a-f-]{36}/$"))
        panel = page.locator(".export-job")
        expect(panel.locator("[data-export-status]")).to_have_text("等待开始")
        expect(panel.locator("progress")).to_be_visible()
        expect(panel.get_by_role("link", name="刷新")).to_be_visible()
        expect(page.get_by_role("link", name=DOWNLOAD)).to_have_count(0)
        editor.screenshot("export-progress")

        # The page's polling is paused while the file is built here, so that
        # the two do not share the test database's connection at once.
        page.clock.pause_at(page.evaluate("Date.now()") + 100)
        page.wait_for_timeout(300)
        (job_id,) = queued
        services.export_job_build(job_id=job_id)
        page.clock.resume()

        link = page.get_by_role("link", name=DOWNLOAD)
        expect(link).to_be_visible(timeout=15_000)
        expect(panel.locator("[data-export-status]")).to_have_text("已完成")
        editor.screenshot("export-done")
        with page.expect_download() as info:
            link.click()
        download = info.value
        assert download.suggested_filename == "党建引领-第2期.docx"
        title, cases = headings(download.path())
        assert title == ["「党建引领」系列案例展播 · 第 2 期"]
        assert cases == ["把支部建在攻关一线", "“青蓝结对”育新人"]
        assert ExportJob.objects.get().status == ExportJob.Status.DONE
        assert editor.errors == []

    def test_from_the_desk_a_finished_export_is_offered_at_once(
        self, demo_data, visitor
    ):
        editor = visitor()
        page = editor.page
        editor.sign_in_elsewhere("editor1")
        editor.go("/editor/")
        editor.screenshot("export-desk")
        recent = page.locator(".card", has_text="第 3 期")
        recent.get_by_role("button", name="导出 Word").click()
        page.wait_for_url(re.compile(r"/exports/[0-9a-f-]{36}/$"))
        link = page.get_by_role("link", name=DOWNLOAD)
        expect(link).to_be_visible()
        expect(page.locator(".export-job progress")).to_have_count(0)
        with page.expect_download() as info:
            link.click()
        download = info.value
        assert download.suggested_filename == "党建引领-第3期.docx"
        title, cases = headings(download.path())
        assert title == ["「党建引领」系列案例展播 · 第 3 期"]
        assert cases == ["计量开放日 走近“度量衡”"]
        assert editor.errors == []
