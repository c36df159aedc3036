import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.contrib.messages import INFO
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from showcase import services
from showcase.cache import page_field, page_get
from showcase.counter import views_fold
from tests.review.factories import case_in_state, committed
from tests.showcase.factories import (
    approved_case,
    planned_issue,
    published_issue,
    series,
)
from tests.submissions.factories import BranchFactory, ThemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def the_series():
    return series()


def reader():
    return Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="reader")


class PublicPagesTests:
    def test_case_page_shows_everything_a_reader_expects(self, who, the_series):
        case = approved_case(who)
        issue = published_issue(who, the_series, cases=[case])
        page = reader().get(reverse("showcase:case", args=[case.pk]))
        html = page.content.decode()
        assert page.status_code == 200
        for text in (
            "基层党建",
            "党建引领",
            "「党建引领」系列案例展播 · 第 1 期",
            case.title,
            case.branch.name,
            "作者：",
            "来源：",
            "发布时间：",
            "浏览量：1",
            'property="og:title"',
            "编者按",
        ):
            assert text in html, text
        assert issue.get_absolute_url() in html

    def test_issue_and_series_pages(self, who, the_series):
        case = approved_case(who)
        issue = published_issue(who, the_series, cases=[case])
        issue_page = reader().get(issue.get_absolute_url()).content.decode()
        assert "第 1 期" in issue_page and case.title in issue_page
        series_page = reader().get(the_series.get_absolute_url()).content.decode()
        assert case.title in series_page and "编者按" in series_page
        home = reader().get("/").content.decode()
        assert case.title in home and the_series.title in home

    def test_previous_and_next_issue_links(self, who, the_series):
        first = published_issue(who, the_series)
        second = published_issue(who, the_series)
        third = published_issue(who, the_series)
        case = second.cases.get()
        html = reader().get(reverse("showcase:case", args=[case.pk])).content.decode()
        assert first.get_absolute_url() in html and third.get_absolute_url() in html

    @pytest.mark.parametrize(
        "state", ["draft", "in_review_1", "approved", "rejected", "withdrawn"]
    )
    def test_anything_not_published_is_404(self, who, state):
        case = case_in_state(who, state)
        assert reader().get(reverse("showcase:case", args=[case.pk])).status_code == 404

    def test_scheduled_case_and_planned_issue_are_404(self, who, the_series):
        issue = planned_issue(who, the_series)
        case = issue.cases.get()
        assert reader().get(reverse("showcase:case", args=[case.pk])).status_code == 404
        url = reverse("showcase:issue", args=[the_series.slug, 1])
        assert reader().get(url).status_code == 404

    def test_unpublished_issue_shows_a_notice_and_its_cases_are_gone(
        self, who, the_series
    ):
        issue = published_issue(who, the_series)
        case = issue.cases.get()
        services.issue_unpublish(
            issue=issue, acting_user=who.editor, reason="内容需核实"
        )
        page = reader().get(issue.get_absolute_url())
        assert page.status_code == 410
        assert "内容需核实" in page.content.decode()
        assert reader().get(reverse("showcase:case", args=[case.pk])).status_code == 404
        listing = reader().get(the_series.get_absolute_url()).content.decode()
        assert "内容需核实" in listing

    def test_missing_and_hostile_urls_are_404(self, the_series):
        client = reader()
        for url in (
            "/cases/999999/",
            "/cases/99999999999999999999/",
            "/series/nope/",
            f"/series/{the_series.slug}/0/",
            f"/series/{the_series.slug}/99999999999999999999/",
        ):
            assert client.get(url).status_code == 404, url

    def test_inactive_series_is_404(self, who, the_series):
        issue = published_issue(who, the_series)
        the_series.is_active = False
        the_series.save()
        assert reader().get(the_series.get_absolute_url()).status_code == 404
        assert reader().get(issue.get_absolute_url()).status_code == 404

    def test_series_filters(self, who, the_series):
        theme = ThemeFactory(name="科技创新")
        tagged = approved_case(who, title="科技攻关的故事")
        tagged.themes.add(theme)
        published_issue(who, the_series, cases=[tagged])
        published_issue(who, the_series, cases=[approved_case(who, title="别的故事")])
        client = reader()
        url = the_series.get_absolute_url()

        def numbers(params):
            response = client.get(url, params)
            return [issue.number for issue in response.context["issues"]]

        assert numbers({}) == [2, 1]
        assert numbers({"theme": theme.pk}) == [1]
        assert numbers({"q": "攻关"}) == [1]
        assert numbers({"branch": who.branch.pk}) == [2, 1]
        assert numbers({"branch": BranchFactory().pk}) == []
        assert numbers({"year": "2019"}) == [2, 1]  # not a choice: ignored
        assert client.get(url, {"page": "x"}).status_code == 200


class AsPublishedTests:
    """The issue page and the case page name what was published, whatever the
    case row or its branch became since."""

    def test_the_issue_page_names_the_published_revision(self, who, the_series):
        case = approved_case(who, cover_image="covers/2026/03/cover.jpg")
        case.revisions.update(cover_image="covers/2026/03/cover.jpg")
        issue = published_issue(who, the_series, cases=[case])
        published_name = case.branch.name
        case.branch.name = "改名后的党支部"
        case.branch.save(update_fields=["name"])
        type(case).objects.filter(pk=case.pk).update(
            title="未经审核的标题", cover_image="covers/2026/04/other.jpg"
        )
        cache.clear()
        issue_html = reader().get(issue.get_absolute_url()).content.decode()
        case_html = reader().get(reverse("showcase:case", args=[case.pk]))
        case_html = case_html.content.decode()
        for html in (issue_html, case_html):
            assert published_name in html
            assert case.title in html
            assert "改名后的党支部" not in html
            assert "未经审核的标题" not in html
        assert "covers/2026/03/cover.jpg" in case_html
        assert "covers/2026/04/other.jpg" not in case_html


class QueryBudgetTests:
    def test_uncached_case_page_takes_at_most_four_queries(
        self, who, the_series, django_assert_max_num_queries
    ):
        cases = [approved_case(who) for _ in range(3)]
        for case in cases:
            published_issue(who, the_series, cases=[case])
        cache.clear()
        with django_assert_max_num_queries(4):
            response = reader().get(reverse("showcase:case", args=[cases[1].pk]))
        assert response.status_code == 200

    def test_series_page_takes_at_most_five_queries_with_many_issues(
        self, who, the_series, django_assert_max_num_queries
    ):
        for _ in range(30):
            published_issue(who, the_series, cases=[approved_case(who)])
        cache.clear()
        with django_assert_max_num_queries(5):
            response = reader().get(the_series.get_absolute_url())
        assert len(response.context["issues"]) == 20

    def test_cached_case_page_needs_no_query(
        self, who, the_series, django_assert_num_queries
    ):
        case = approved_case(who)
        published_issue(who, the_series, cases=[case])
        url = reverse("showcase:case", args=[case.pk])
        reader().get(url)
        with django_assert_num_queries(0):
            assert reader().get(url).status_code == 200


class SharedPageTests:
    """A page cached for every reader names only its own address, whatever
    query string the reader who had it built sent."""

    @pytest.mark.parametrize("kind", ["home", "case", "issue", "series"])
    def test_a_readers_query_string_stays_out_of_the_shared_page(
        self, who, the_series, kind
    ):
        issue = published_issue(who, the_series)
        url = {
            "home": "/",
            "case": reverse("showcase:case", args=[issue.cases.get().pk]),
            "issue": issue.get_absolute_url(),
            "series": the_series.get_absolute_url(),
        }[kind]
        first = reader().get(url + "?from=groupmessage&x=%22evil%22").content.decode()
        shared = reader().get(url).content.decode()
        for page in (first, shared) if kind != "series" else (shared,):
            assert f'name="next" value="{url}"' in page
            assert "evil" not in page and "groupmessage" not in page

    @pytest.mark.parametrize("kind", ["home", "case", "search"])
    def test_a_message_waiting_for_one_reader_is_not_shared(
        self, who, the_series, kind
    ):
        issue = published_issue(who, the_series)
        url = {
            "home": "/",
            "case": reverse("showcase:case", args=[issue.cases.get().pk]),
            "search": "/search/?q=%E5%85%9A%E5%BB%BA",
        }[kind]
        storage = CookieStorage(RequestFactory().get("/"))
        waiting = reader()
        waiting.cookies["messages"] = storage._encode(
            [Message(INFO, "给你一个人的提示")]
        )
        assert "给你一个人的提示" in waiting.get(url).content.decode()
        assert "给你一个人的提示" not in reader().get(url).content.decode()

    def test_a_search_page_names_its_query_as_the_cache_keeps_it(self, who):
        page = reader().get("/search/?q=%20%E5%85%9A%E5%BB%BA%20&page=1")
        assert 'name="next" value="/search/?q=%E5%85%9A%E5%BB%BA"' in (
            page.content.decode()
        )


class CacheInvalidationTests:
    def test_publishing_shows_up_on_cached_pages(self, who, the_series):
        published_issue(who, the_series)
        url = the_series.get_absolute_url()
        assert "第 2 期" not in reader().get(url).content.decode()
        published_issue(who, the_series)
        assert "第 2 期" in reader().get(url).content.decode()

    def test_unpublishing_takes_the_case_page_down(self, who, the_series):
        issue = published_issue(who, the_series)
        url = reverse("showcase:case", args=[issue.cases.get().pk])
        assert reader().get(url).status_code == 200
        with committed():
            services.issue_unpublish(issue=issue, acting_user=who.editor, reason="撤下")
        assert reader().get(url).status_code == 404

    def test_editing_the_note_shows_up(self, who, the_series):
        issue = published_issue(who, the_series)
        assert (
            "新的本期说明"
            not in reader().get(issue.get_absolute_url()).content.decode()
        )
        with committed():
            services.issue_update(
                issue=issue, acting_user=who.editor, note="<p>新的本期说明</p>"
            )
        assert "新的本期说明" in reader().get(issue.get_absolute_url()).content.decode()

    def test_renaming_a_series_in_the_admin_shows_up(
        self, who, the_series, admin_client
    ):
        issue = published_issue(who, the_series)
        assert (
            "改过的系列名"
            not in reader().get(issue.get_absolute_url()).content.decode()
        )
        with committed():
            response = admin_client.post(
                reverse("admin:showcase_series_change", args=[the_series.pk]),
                {
                    "title": "改过的系列名",
                    "name": the_series.name,
                    "slug": the_series.slug,
                    "column": the_series.column,
                    "editors_note": the_series.editors_note,
                    "publish_weekday": the_series.publish_weekday,
                    "publish_time": "09:00",
                    "is_active": "on",
                },
            )
        assert response.status_code == 302, response.content[:300]
        for url in (issue.get_absolute_url(), the_series.get_absolute_url()):
            assert "改过的系列名" in reader().get(url).content.decode(), url


class ViewCountTests:
    def test_a_visitor_counts_once_an_hour_and_cached_pages_count(
        self, who, the_series
    ):
        case = approved_case(who)
        published_issue(who, the_series, cases=[case])
        url = reverse("showcase:case", args=[case.pk])
        first = reader()
        assert "浏览量：1" in first.get(url).content.decode()
        assert "浏览量：1" in first.get(url).content.decode()  # same visitor
        other = Client(REMOTE_ADDR="198.51.100.9", HTTP_USER_AGENT="another")
        assert "浏览量：2" in other.get(url).content.decode()  # served from cache
        assert views_fold() == 2
        assert case.views.count == 2
        assert "浏览量：2" in first.get(url).content.decode()
        assert views_fold() == 0

    def test_no_raw_address_is_stored(self, who, the_series):
        case = approved_case(who)
        published_issue(who, the_series, cases=[case])
        reader().get(reverse("showcase:case", args=[case.pk]))
        stored = " ".join(str(key) for key in cache._cache)  # local-memory cache
        assert "203.0.113.7" not in stored


class FeedSitemapRobotsTests:
    def test_feed_is_valid_rss_with_published_cases(self, who, the_series):
        case = approved_case(who)
        published_issue(who, the_series, cases=[case])
        planned_issue(who, the_series)
        response = reader().get(reverse("showcase:feed", args=[the_series.slug]))
        assert response["Content-Type"].startswith("application/rss+xml")
        channel = ET.fromstring(response.content).find("channel")
        items = channel.findall("item")
        assert [item.findtext("title") for item in items] == [f"第 1 期 · {case.title}"]
        link = items[0].findtext("link")
        assert link.startswith("http") and link.endswith(f"/cases/{case.pk}/")
        guid = items[0].find("guid")
        assert guid.text == link and guid.get("isPermaLink") == "true"
        assert items[0].findtext("pubDate")

    def test_sitemap_lists_only_published_pages(self, who, the_series):
        case = approved_case(who)
        published_issue(who, the_series, cases=[case])
        hidden = planned_issue(who, the_series).cases.get()
        response = reader().get("/sitemap.xml")
        namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
        locations = [
            loc.text
            for loc in ET.fromstring(response.content).findall(".//s:loc", namespace)
        ]
        assert any(loc.endswith(f"/cases/{case.pk}/") for loc in locations)
        assert not any(loc.endswith(f"/cases/{hidden.pk}/") for loc in locations)
        assert any(loc.endswith(f"/series/{the_series.slug}/1/") for loc in locations)

    def test_robots_txt(self):
        body = reader().get("/robots.txt").content.decode()
        assert (
            "Disallow: /admin/" in body
            and f"Sitemap: {settings.SITE_URL}/sitemap.xml" in body
        )


class HealthTests:
    def test_healthy(self):
        response = reader().get("/healthz")
        assert response.status_code == 200
        assert response.json()["database"] == "ok"
        assert response.json()["cache"] == "ok"

    def test_a_dead_cache_answers_503(self):
        dead_redis = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:9/0",
            }
        }
        with override_settings(CACHES=dead_redis):
            response = reader().get("/healthz")
        assert response.status_code == 503
        assert response.json()["cache"].startswith("down")
        assert response.json()["database"] == "ok"


class SeriesCacheTests:
    def test_only_plain_listing_pages_are_cached(self, who, the_series):
        published_issue(who, the_series)
        client = reader()
        url = the_series.get_absolute_url()
        client.get(url)
        client.get(url, {"q": "随便什么"})
        client.get(url, {"page": "99999999"})
        assert page_get(page_field("series", the_series.slug, "1")) is not None
        assert page_get(page_field("series", the_series.slug, "99999999")) is None
