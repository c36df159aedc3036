"""An anonymous reader on the public site, in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from showcase.counter import views_fold

pytestmark = [pytest.mark.browser]


class ReadingTests:
    def test_reader_goes_from_home_to_a_case_and_is_counted(self, demo_data, visitor):
        reader = visitor()
        page = reader.page
        reader.go("/")
        expect(page.locator(".issue-card__number")).to_contain_text("第 3 期")
        reader.screenshot("public-home")
        page.click(".issue-card__series a")
        expect(page.locator("h1")).to_have_text("「党建引领」系列案例展播")
        expect(page.locator(".issue-list__item")).to_have_count(3)
        reader.screenshot("public-series")
        page.click("text=第 2 期")
        expect(page.locator("h1")).to_have_text("第 2 期")
        reader.screenshot("public-issue")
        page.click("text=把支部建在攻关一线")
        article = page.locator("article.case-article")
        expect(article.locator("h1")).to_have_text("把支部建在攻关一线")
        expect(page.locator(".breadcrumb")).to_contain_text(
            "首页 › 基层党建 › 党建引领"
        )
        expect(article.locator(".case-article__meta")).to_contain_text("浏览量：1")
        expect(page.locator(".issue-nav a[rel=prev]")).to_contain_text("第 1 期")
        expect(page.locator(".issue-nav a[rel=next]")).to_contain_text("第 3 期")
        reader.screenshot("public-case")
        url = page.url

        # A second reader, elsewhere, is counted too; the first is not again.
        other = visitor()
        other.page.set_extra_http_headers({"User-Agent": "another-reader"})
        other.page.goto(url)
        expect(other.page.locator(".case-article__meta")).to_contain_text("浏览量：2")
        page.reload()
        expect(article.locator(".case-article__meta")).to_contain_text("浏览量：2")
        assert views_fold() == 2
        page.reload()
        expect(article.locator(".case-article__meta")).to_contain_text("浏览量：2")
        assert re.search(r"/cases/\d+/$", url)
        assert reader.errors == [] and other.errors == []

    def test_pages_fit_a_phone_and_switch_to_english(self, demo_data, visitor):
        phone = visitor(viewport={"width": 390, "height": 844})
        for path in ("/", "/series/dangjian-yinling/", "/series/dangjian-yinling/1/"):
            phone.go(path)
            width = phone.page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
        phone.go("/series/dangjian-yinling/1/")
        phone.page.click(".case-list__title >> nth=0")
        phone.screenshot("public-case-phone")
        phone.page.click(".language-links button[lang=en]")
        expect(phone.page.locator(".case-article__meta")).to_contain_text("Views:")
        expect(phone.page.locator("html")).to_have_attribute("lang", "en")
        assert phone.errors == []

    def test_unknown_case_is_a_404_page(self, demo_data, visitor):
        reader = visitor()
        response = reader.go("/cases/987654/")
        assert response.status == 404
        expect(reader.page.locator("h1")).to_have_text("页面不存在")
