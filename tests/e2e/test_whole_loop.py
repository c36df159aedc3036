"""The whole loop, with the demo accounts, through the UI only, in Chromium:
written, returned, revised, approved twice, put in the next issue, published
by the publish task, found and read by an anonymous reader."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from showcase.counter import views_fold
from showcase.models import Issue
from showcase.tasks import issues_publish_due_task
from submissions.models import Case
from tests.images import image_bytes

pytestmark = [pytest.mark.browser]

TITLE = "党建引领 攻坚克难见成效"
RETURN_COMMENT = "请补充攻关成效的具体数据。"
PHONE = {"width": 390, "height": 844}


def write_case(secretary, photo):
    """secretary1 writes the case in CKEditor 5 and previews it."""
    page = secretary.page
    page.click("text=撰写新案例")
    page.fill("#id_title", TITLE)
    page.fill("#id_tagline", "聚焦·攻坚·突破")
    page.fill("#id_author_name", "李明")
    page.fill("#id_lead", "支部组建党员攻关队，三个月完成关键设备国产化替代。")
    page.check("text=科技创新")

    editable = page.locator(".ck-editor__editable")
    editable.click()
    page.locator(".ck-heading-dropdown button").first.click()
    page.locator(".ck-heading-dropdown .ck-button", has_text="标题 2").click()
    page.keyboard.type("一、组建党员攻关队")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="项目编号列表").first.click()
    page.keyboard.type("梳理技术难题清单")
    page.keyboard.press("Enter")
    page.keyboard.type("党员认领攻关任务")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # leaves the list
    page.keyboard.press("Control+B")
    page.keyboard.type("成效")
    page.keyboard.press("Control+B")
    page.keyboard.type("：设备国产化率达到百分之九十。")
    page.keyboard.press("Enter")
    page.locator(".ck-editor input[type=file]").set_input_files(str(photo))
    expect(editable.locator("img")).to_have_attribute(
        "src", re.compile(r"^/media/uploads/")
    )
    secretary.screenshot("loop-01-case-form")

    page.click("button[name=preview]")
    page.wait_for_url(re.compile(r"/submissions/\d+/preview/$"))
    article = page.locator("article.case-article")
    expect(article.locator("h1")).to_have_text(TITLE)
    expect(article.locator("h2")).to_have_text("一、组建党员攻关队")
    expect(article.locator("ol li")).to_have_count(2)
    expect(article.locator("strong")).to_have_text("成效")
    expect(article.locator("img")).to_have_count(1)
    secretary.screenshot("loop-02-preview")
    page.click("text=返回案例")


def decide(reviewer, case, outcome, comment=""):
    page = reviewer.page
    reviewer.go(f"/review/cases/{case.pk}/")
    page.check(f"input[name=outcome][value={outcome}]")
    if comment:
        page.fill("#id_comment", comment)
    page.click("button:has-text('提交审核结论')")
    expect(page.locator(".message--success")).to_be_visible()


class WholeLoopTests:
    def test_from_writing_to_reading(self, demo_data, visitor, tmp_path):
        photo = tmp_path / "攻关现场.jpg"
        photo.write_bytes(image_bytes("JPEG", size=(900, 600)))

        # secretary1 writes, previews and submits.
        secretary = visitor()
        secretary.sign_in("secretary1")
        write_case(secretary, photo)
        secretary.page.click("button:has-text('提交审核')")
        expect(secretary.page.locator(".badge").first).to_have_text("审核中")
        case = Case.objects.get(title=TITLE)

        # reviewer1 finds it in the queue and returns it with a comment.
        reviewer1 = visitor()
        reviewer1.sign_in_elsewhere("reviewer1")
        reviewer1.go("/review/")
        expect(reviewer1.page.locator("main")).to_contain_text(TITLE)
        reviewer1.screenshot("loop-03-review-queue")
        reviewer1.page.click(f"text={TITLE}")
        reviewer1.screenshot("loop-04-review-page")
        decide(reviewer1, case, "return", RETURN_COMMENT)

        # secretary1 reads the comment in the inbox, edits and resubmits.
        secretary.go("/inbox/")
        expect(secretary.page.locator(".inbox__item").first).to_contain_text(
            RETURN_COMMENT
        )
        secretary.screenshot("loop-05-inbox")
        secretary.page.locator(".inbox__open").first.click()
        expect(secretary.page.locator(".return-note")).to_contain_text(RETURN_COMMENT)
        secretary.page.click("a:has-text('编辑')")
        secretary.page.fill(
            "#id_lead",
            "支部组建党员攻关队，三个月完成关键设备国产化替代，节约经费四百万元。",
        )
        secretary.page.click("button[name=save]")
        expect(secretary.page.locator(".message--success")).to_be_visible()
        secretary.go(case.get_absolute_url())
        secretary.page.click("button:has-text('重新提交')")
        expect(secretary.page.locator(".badge").first).to_have_text("审核中")

        # reviewer1 sees what changed and approves; reviewer2 approves.
        reviewer1.go(f"/review/cases/{case.pk}/")
        diff = reviewer1.page.locator(".diff")
        expect(diff.locator("ins").first).to_be_visible()
        expect(diff).to_contain_text("节约经费四百万元")
        reviewer1.screenshot("loop-06-review-diff")
        decide(reviewer1, case, "approve")
        reviewer2 = visitor()
        reviewer2.sign_in_elsewhere("reviewer2")
        decide(reviewer2, case, "approve")
        case.refresh_from_db()
        assert case.status == Case.Status.APPROVED

        # editor1 puts it in the next planned issue.
        editor = visitor()
        editor.sign_in_elsewhere("editor1")
        editor.go("/editor/")
        planned = editor.page.locator("article.planned-issue").first
        planned.locator("select[name=case]").select_option(label=TITLE)
        planned.locator("button:has-text('加入本期')").click()
        expect(editor.page.locator(".message--success")).to_be_visible()
        expect(
            editor.page.locator("article.planned-issue").first.locator(
                ".planned-issue__cases"
            )
        ).to_contain_text(TITLE)
        editor.screenshot("loop-07-editor-desk")
        case.refresh_from_db()
        assert case.status == Case.Status.SCHEDULED

        # The slot's time comes and the publish task runs.
        issue = Issue.objects.get(cases=case)
        Issue.objects.filter(pk=issue.pk).update(
            scheduled_at=timezone.now() - timedelta(minutes=1)
        )
        assert issues_publish_due_task.delay().get() == [issue.pk]
        issue.refresh_from_db()
        assert issue.number == 4

        # An anonymous reader finds it from the home page.
        reader = visitor()
        page = reader.page
        reader.go("/")
        expect(page.locator(".issue-card__number").first).to_contain_text("第 4 期")
        reader.screenshot("loop-08-home")
        page.click(".issue-card__series a >> nth=0")
        expect(page.locator("h1")).to_have_text("「党建引领」系列案例展播")
        reader.screenshot("loop-09-series")
        page.click("text=第 4 期")
        expect(page.locator("h1")).to_have_text("第 4 期")
        reader.screenshot("loop-10-issue")
        page.click(f"text={TITLE}")
        article = page.locator("article.case-article")
        expect(article.locator("h1")).to_have_text(TITLE)
        expect(article.locator("ol li")).to_have_count(2)
        expect(article.locator("img")).to_have_count(1)
        expect(article.locator(".case-article__meta")).to_contain_text("浏览量：1")
        reader.screenshot("loop-11-case")

        # A second reader is counted; the first, reloading, is not again.
        other = visitor()
        other.page.set_extra_http_headers({"User-Agent": "second-reader"})
        other.page.goto(page.url)
        expect(other.page.locator(".case-article__meta")).to_contain_text("浏览量：2")
        page.reload()
        expect(article.locator(".case-article__meta")).to_contain_text("浏览量：2")
        views_fold()
        case.refresh_from_db()
        assert case.views.count == 2

        # The same page in English.
        page.click(".language-links button[lang=en]")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(article.locator(".case-article__meta")).to_contain_text("Views: 2")
        reader.screenshot("loop-12-case-english")

        everyone = (secretary, reviewer1, reviewer2, editor, reader, other)
        assert [v.errors for v in everyone] == [[]] * len(everyone)

    def test_the_main_pages_fit_a_phone(self, demo_data, visitor):
        pages = {
            "secretary1": [
                "/desk/",
                "/submissions/",
                "/submissions/new/",
                "/inbox/",
            ],
            "reviewer1": ["/desk/", "/review/"],
            "editor1": ["/desk/", "/editor/"],
            None: [
                "/",
                "/series/dangjian-yinling/",
                "/series/dangjian-yinling/1/",
            ],
        }
        case = Case.objects.filter(status=Case.Status.PUBLISHED).first()
        pages[None].append(f"/cases/{case.pk}/")
        in_review = Case.objects.filter(status=Case.Status.IN_REVIEW).first()
        pages["reviewer1"].append(f"/review/cases/{in_review.pk}/")
        for username, paths in pages.items():
            phone = visitor(viewport=PHONE)
            if username:
                phone.sign_in_elsewhere(username)
            for path in paths:
                phone.go(path)
                phone.page.wait_for_load_state("networkidle")
                width = phone.page.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"], (username, path, width)
                name = path.strip("/").replace("/", "-") or "home"
                phone.screenshot(f"phone-{username or 'reader'}-{name}")
            assert phone.errors == [], (username, phone.errors)
