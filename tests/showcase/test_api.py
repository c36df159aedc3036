"""The public API (showcase.api): what it shows, what it never shows, its
pages, its validators and caching, and what it costs."""

import datetime
import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date

from review import workflow
from showcase import services
from showcase.counter import views_fold, views_pending
from showcase.models import Issue, Series, ViewCount
from tests.conftest import redis_cache
from tests.review.factories import committed, decide, draft
from tests.showcase.factories import (
    approved_case,
    planned_issue,
    published_issue,
    series,
)
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"
NOT_FOUND = "此地址下没有已发布的内容。"


@pytest.fixture
def the_series():
    return series()


def get(url, client=None, **headers):
    return (client or Client()).get(url, **headers)


def data(response):
    assert response["Content-Type"] == "application/json", response.content
    return json.loads(response.content)


def case_written(who, cover_image="", **content):
    """An approved case with this content, written and reviewed as people would
    (a cover as the upload leaves it: the image and its thumbnail)."""
    case = draft(who, **content)
    if cover_image:
        case.__class__.objects.filter(pk=case.pk).update(
            cover_image=cover_image,
            cover_thumbnail=cover_image.replace("covers/", "covers/thumbs/", 1),
        )
    workflow.case_submit(case=case, acting_user=who.secretary)
    decide(case, "approve", who.reviewer1)
    decide(case, "approve", who.reviewer2)
    case.refresh_from_db()
    return case


def api(name, *args):
    return reverse(f"api:{name}", args=args)


class ApiSeriesTests:
    def test_the_list_shows_every_field_of_active_series_only(self, who, the_series):
        published_issue(who, the_series)
        published_issue(who, the_series)
        series(slug="quiet", title="没有期数的系列")
        series(slug="off", title="停用的系列", is_active=False)
        body = data(get(api("series_list")))
        assert body["count"] == 2
        # By title: 「 comes before 没.
        assert [item["slug"] for item in body["items"]] == ["dangjian", "quiet"]
        item = body["items"][0]
        assert item == {
            "slug": "dangjian",
            "title": "「党建引领」系列案例展播",
            "name": "党建引领",
            "column": "基层党建",
            "editors_note_html": "<p>编者按：展示基层党建的生动实践。</p>",
            "url": f"{SITE}/series/dangjian/",
            "api_url": f"{SITE}/api/v1/series/dangjian/",
            "feed_url": f"{SITE}/series/dangjian/feed/",
            "issues_api_url": f"{SITE}/api/v1/series/dangjian/issues/",
            "issue_count": 2,
            "latest_issue_number": 2,
        }
        assert body["items"][1]["issue_count"] == 0
        assert body["items"][1]["latest_issue_number"] is None

    def test_an_inactive_series_is_missing_like_one_that_never_was(self, the_series):
        series(slug="off", is_active=False)
        assert data(get(api("series", "dangjian")))["slug"] == "dangjian"
        hidden = get(api("series", "off"))
        missing = get(api("series", "never"))
        assert hidden.status_code == missing.status_code == 404
        assert hidden.content == missing.content
        assert data(hidden)["detail"] == NOT_FOUND
        assert get(api("issue_list", "off")).content == missing.content

    def test_the_list_costs_two_queries_with_many_series(
        self, who, django_assert_num_queries
    ):
        for number in range(30):
            published_issue(who, series(slug=f"s{number}", title=f"系列{number:02}"))
        cache.clear()
        with django_assert_num_queries(2):
            body = data(get(api("series_list"), page_size="50"))
        assert body["count"] == 30
        assert all(item["issue_count"] == 1 for item in body["items"])


class ApiIssueTests:
    def test_the_issues_of_a_series_newest_first_with_every_field(
        self, who, the_series
    ):
        first = published_issue(who, the_series)
        case = case_written(who, title="第二期的案例", tagline="筑基·创新·暖心")
        second = published_issue(who, the_series, cases=[case])
        with committed():
            services.issue_update(
                issue=second, acting_user=who.editor, note="<p>本期按语</p>"
            )
        body = data(get(api("issue_list", "dangjian")))
        assert [item["number"] for item in body["items"]] == [2, 1]
        item = body["items"][0]
        second.refresh_from_db()
        assert item == {
            "series": {
                "slug": "dangjian",
                "title": "「党建引领」系列案例展播",
                "url": f"{SITE}/series/dangjian/",
                "api_url": f"{SITE}/api/v1/series/dangjian/",
            },
            "number": 2,
            "title": "「党建引领」系列案例展播 · 第 2 期",
            "note_html": "<p>本期按语</p>",
            "published_at": timezone.localtime(second.published_at).isoformat(),
            "url": f"{SITE}/series/dangjian/2/",
            "api_url": f"{SITE}/api/v1/series/dangjian/issues/2/",
            "cases": [
                {
                    "id": case.pk,
                    "title": "第二期的案例",
                    "tagline": "筑基·创新·暖心",
                    "organisation": who.branch.name,
                    "url": f"{SITE}/cases/{case.pk}/",
                    "api_url": f"{SITE}/api/v1/cases/{case.pk}/",
                }
            ],
        }
        # Without a note of its own, the issue shows the series' note.
        assert body["items"][1]["note_html"] == the_series.editors_note
        assert first.number == 1

    def test_planned_and_unpublished_issues_are_missing(self, who, the_series):
        shown = published_issue(who, the_series)
        withdrawn = published_issue(who, the_series)
        planned_issue(who, the_series)
        with committed():
            services.issue_unpublish(
                issue=withdrawn, acting_user=who.editor, reason="内容需更正"
            )
        body = data(get(api("issue_list", "dangjian")))
        assert [item["number"] for item in body["items"]] == [shown.number]
        missing = get(api("issue", "dangjian", 99))
        gone = get(api("issue", "dangjian", withdrawn.number))
        assert gone.status_code == missing.status_code == 404
        assert gone.content == missing.content
        assert get(api("issue", "dangjian", shown.number)).status_code == 200

    def test_an_issue_shows_its_cases_in_their_order(self, who, the_series):
        cases = [
            case_written(who, title=title, lead="导语" + title)
            for title in ("甲案例", "乙案例", "丙案例")
        ]
        issue = planned_issue(who, the_series, cases=cases)
        for _ in range(2):
            services.issue_case_move(
                issue=issue, case=cases[2], acting_user=who.editor, offset=-1
            )
        with committed():
            services.issue_publish(issue=issue, acting_user=who.editor)
        body = data(get(api("issue", "dangjian", 1)))
        assert [entry["title"] for entry in body["cases"]] == [
            "丙案例",
            "甲案例",
            "乙案例",
        ]
        entry = body["cases"][0]
        assert entry == {
            "id": cases[2].pk,
            "title": "丙案例",
            "tagline": "",
            "organisation": who.branch.name,
            "lead": "导语丙案例",
            "cover_thumbnail_url": None,
            "url": f"{SITE}/cases/{cases[2].pk}/",
            "api_url": f"{SITE}/api/v1/cases/{cases[2].pk}/",
        }
        assert body["number"] == 1
        assert body["note_html"] == the_series.editors_note

    def test_the_pages_of_the_list(self, who, the_series):
        for _ in range(5):
            published_issue(who, the_series)
        url = api("issue_list", "dangjian")
        first = data(get(url, data={"page_size": 2}))
        assert first["count"] == 5
        assert first["pages"] == 3
        assert first["page_size"] == 2
        assert [item["number"] for item in first["items"]] == [5, 4]
        assert first["previous"] is None
        assert first["next"] == f"{SITE}{url}?page=2&page_size=2"
        last = data(get(url, data={"page_size": 2, "page": 3}))
        assert [item["number"] for item in last["items"]] == [1]
        assert last["next"] is None
        assert last["previous"] == f"{SITE}{url}?page=2&page_size=2"
        # The default size is left out of the links.
        assert data(get(url))["next"] is None
        beyond = get(url, data={"page_size": 2, "page": 4})
        assert beyond.status_code == 404
        assert data(beyond)["detail"] == NOT_FOUND

    def test_a_series_without_issues_has_one_empty_page(self, the_series):
        body = data(get(api("issue_list", "dangjian")))
        assert (body["count"], body["pages"], body["items"]) == (0, 1, [])
        assert get(api("issue_list", "dangjian"), data={"page": 2}).status_code == 404

    @pytest.mark.parametrize(
        ("query", "parameter", "message"),
        [
            ({"page": "x"}, "page", "参数 page 必须是整数。"),
            ({"page": "0"}, "page", "参数 page 不能小于 1。"),
            ({"page": "-3"}, "page", "参数 page 不能小于 1。"),
            ({"page": "1.5"}, "page", "参数 page 必须是整数。"),
            ({"page_size": "51"}, "page_size", "参数 page_size 不能大于 50。"),
            ({"page_size": "0"}, "page_size", "参数 page_size 不能小于 1。"),
        ],
    )
    def test_a_page_not_a_whole_number_in_bounds_is_refused_with_a_message(
        self, who, the_series, query, parameter, message
    ):
        published_issue(who, the_series)
        response = get(api("issue_list", "dangjian"), data=query)
        assert response.status_code == 422
        body = data(response)
        assert body["detail"] == "请求参数无效。"
        assert body["errors"] == [{"parameter": parameter, "message": message}]

    def test_the_refusal_is_in_the_readers_language(self, the_series):
        response = get(
            api("issue_list", "dangjian"),
            data={"page": "x"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert data(response)["errors"][0]["message"] == "page must be a whole number."

    def test_the_list_costs_three_queries_with_many_issues(
        self, who, the_series, django_assert_num_queries
    ):
        for _ in range(30):
            published_issue(who, the_series, cases=[approved_case(who)])
        cache.clear()
        with django_assert_num_queries(3):
            body = data(get(api("issue_list", "dangjian"), data={"page_size": 50}))
        assert len(body["items"]) == 30
        assert all(len(item["cases"]) == 1 for item in body["items"])

    def test_an_issues_cases_are_as_their_own_answers_show_them(self, who, the_series):
        case = case_written(who, title="送审时的标题", tagline="原副题", lead="原导语")
        issue = published_issue(who, the_series, cases=[case])
        old_name = who.branch.name
        # The organisation renamed in the admin after publication, and a
        # write behind the workflow's back: neither is what was published.
        who.branch.name = "改名后的党支部"
        who.branch.save()
        case.__class__.objects.filter(pk=case.pk).update(
            title="改动过的标题", tagline="改动过的副题", lead="改动过的导语"
        )
        own = data(get(api("case", case.pk)))
        entry = data(get(api("issue", "dangjian", issue.number)))["cases"][0]
        listed = data(get(api("issue_list", "dangjian")))["items"][0]["cases"][0]
        for shown in (own, entry, listed):
            assert shown["title"] == "送审时的标题"
            assert shown["tagline"] == "原副题"
            assert shown["organisation"] == old_name
        assert own["lead"] == entry["lead"] == "原导语"

    def test_an_issue_costs_four_queries_with_many_cases(
        self, who, the_series, django_assert_num_queries
    ):
        published_issue(who, the_series, cases=[approved_case(who) for _ in range(12)])
        cache.clear()
        # The series, the issue, its cases and their published revisions.
        with django_assert_num_queries(4):
            body = data(get(api("issue", "dangjian", 1)))
        assert len(body["cases"]) == 12


class ApiLatestIssuesTests:
    def test_the_latest_issues_of_every_active_series_newest_first(
        self, who, the_series
    ):
        other = series(slug="other", title="另一个系列")
        off = series(slug="off", title="停用的系列")
        published_issue(who, the_series)
        published_issue(who, other)
        published_issue(who, off)
        published_issue(who, the_series)
        Series.objects.filter(pk=off.pk).update(is_active=False)
        body = data(get(api("latest_issues")))
        assert [(item["series"]["slug"], item["number"]) for item in body["items"]] == [
            ("dangjian", 2),
            ("other", 1),
            ("dangjian", 1),
        ]

    def test_one_series_and_a_limit(self, who, the_series):
        other = series(slug="other", title="另一个系列")
        for _ in range(4):
            published_issue(who, the_series)
        published_issue(who, other)
        body = data(get(api("latest_issues"), data={"series": "dangjian", "limit": 2}))
        assert [item["number"] for item in body["items"]] == [4, 3]
        assert body["items"][0]["cases"][0]["title"] == "党建引领新篇章"

    def test_the_limit_is_bounded_and_an_unknown_series_is_missing(self, the_series):
        assert get(api("latest_issues"), data={"limit": 21}).status_code == 422
        assert get(api("latest_issues"), data={"limit": 0}).status_code == 422
        assert data(get(api("latest_issues"), data={"limit": 20}))["items"] == []
        unknown = get(api("latest_issues"), data={"series": "never"})
        assert unknown.status_code == 404
        assert data(unknown)["detail"] == NOT_FOUND

    def test_costs_one_query_with_many_issues(
        self, who, the_series, django_assert_num_queries
    ):
        for _ in range(25):
            published_issue(who, the_series)
        cache.clear()
        with django_assert_num_queries(1):
            body = data(get(api("latest_issues"), data={"limit": 20}))
        assert len(body["items"]) == 20


class ApiCaseTests:
    def test_a_published_case_with_every_field_as_its_page_shows_it(
        self, who, the_series
    ):
        case = case_written(
            who,
            title="党建引领新篇章",
            tagline="筑基·创新·暖心",
            author_name="李晓梅",
            source="",
            lead="导语一段。\n第二行。",
            body="<h2>一、筑基</h2><p>一是加强组织建设。</p>",
        )
        issue = published_issue(who, the_series, cases=[case])
        ViewCount.objects.create(case=case, count=41)
        case.refresh_from_db()
        body = data(get(api("case", case.pk)))
        assert body == {
            "id": case.pk,
            "title": "党建引领新篇章",
            "tagline": "筑基·创新·暖心",
            "organisation": who.branch.name,
            "author": "李晓梅",
            # Left empty, the source is the organisation, as on the page.
            "source": who.branch.name,
            "published_at": timezone.localtime(case.published_at).isoformat(),
            "views": 41,
            "lead": "导语一段。\n第二行。",
            "body_html": case.revisions.get().body,
            "cover_image_url": None,
            "cover_thumbnail_url": None,
            "url": f"{SITE}/cases/{case.pk}/",
            "api_url": f"{SITE}/api/v1/cases/{case.pk}/",
            "issue": {
                "series": {
                    "slug": "dangjian",
                    "title": "「党建引领」系列案例展播",
                    "url": f"{SITE}/series/dangjian/",
                    "api_url": f"{SITE}/api/v1/series/dangjian/",
                },
                "number": issue.number,
                "title": "「党建引领」系列案例展播 · 第 1 期",
                "url": f"{SITE}/series/dangjian/1/",
                "api_url": f"{SITE}/api/v1/series/dangjian/issues/1/",
            },
        }
        assert "<h2>一、筑基</h2>" in body["body_html"]

    def test_addresses_in_the_text_are_made_absolute_on_the_site(self, who, the_series):
        case = case_written(
            who,
            body=(
                '<p>见<a href="/series/dangjian/">本系列</a>和'
                '<a href="https://www.example.org/a">外链</a>；'
                '文字 src="/x" 不是地址。</p>'
                '<figure class="image"><img src="/media/editor/2026/03/a.png" '
                'alt="图"></figure>'
            ),
        )
        published_issue(who, the_series, cases=[case])
        html = data(get(api("case", case.pk)))["body_html"]
        assert f'<a href="{SITE}/series/dangjian/"' in html
        assert '<a href="https://www.example.org/a"' in html
        assert f'<img src="{SITE}/media/editor/2026/03/a.png"' in html
        assert '文字 src="/x" 不是地址。' in html
        # The page keeps them as they were stored.
        stored = case.revisions.get().body
        assert '<img src="/media/editor/2026/03/a.png"' in stored

    def test_the_cover_is_an_address_on_the_site(self, who, the_series):
        case = case_written(who, cover_image="covers/2026/03/cover.jpg")
        published_issue(who, the_series, cases=[case])
        body = data(get(api("case", case.pk)))
        assert body["cover_image_url"] == f"{SITE}/media/covers/2026/03/cover.jpg"
        assert body["cover_thumbnail_url"] == (
            f"{SITE}/media/covers/thumbs/2026/03/cover.jpg"
        )

    def test_the_cover_is_the_one_of_the_published_revision(self, who, the_series):
        case = case_written(who, cover_image="covers/2026/03/cover.jpg")
        issue = published_issue(who, the_series, cases=[case])
        # A cover the case row holds that no reviewer saw is not published.
        case.__class__.objects.filter(pk=case.pk).update(
            cover_image="covers/2026/04/later.jpg",
            cover_thumbnail="covers/thumbs/2026/04/later.jpg",
        )
        body = data(get(api("case", case.pk)))
        assert body["cover_image_url"] == f"{SITE}/media/covers/2026/03/cover.jpg"
        assert body["cover_thumbnail_url"] is None
        entry = data(get(api("issue", "dangjian", issue.number)))["cases"][0]
        assert entry["cover_thumbnail_url"] is None
        assert "later" not in get(api("case", case.pk)).content.decode()

    def test_the_page_shows_the_revision_that_was_published(self, who, the_series):
        case = case_written(who, title="送审时的标题")
        # A write behind the workflow's back is not what readers see.
        case.__class__.objects.filter(pk=case.pk).update(title="改动过的标题")
        published_issue(who, the_series, cases=[case])
        assert data(get(api("case", case.pk)))["title"] == "送审时的标题"

    @pytest.mark.parametrize(
        "state", ["draft", "in_review_1", "returned", "rejected", "withdrawn"]
    )
    def test_a_case_not_published_is_missing_like_one_that_never_was(
        self, who, the_series, state
    ):
        from tests.review.factories import case_in_state

        case = case_in_state(who, state)
        hidden = get(api("case", case.pk))
        missing = get(api("case", case.pk + 1000))
        assert hidden.status_code == missing.status_code == 404
        assert hidden.content == missing.content

    def test_a_case_taken_down_and_published_again_names_its_new_issue_only(
        self, who, the_series
    ):
        case = approved_case(who)
        first = published_issue(who, the_series, cases=[case, approved_case(who)])
        with committed():
            services.issue_unpublish(issue=first, acting_user=who.editor, reason="撤下")
        case.refresh_from_db()
        services.queue_hold(case=case, acting_user=who.editor, held=False)
        second = published_issue(who, the_series, cases=[case])
        assert second.number == 2
        body = data(get(api("case", case.pk)))
        assert body["issue"]["number"] == 2
        assert get(api("issue", "dangjian", 1)).status_code == 404
        listed = data(get(api("issue_list", "dangjian")))["items"]
        assert [item["number"] for item in listed] == [2]
        latest = data(get(api("latest_issues")))["items"]
        assert [item["number"] for item in latest] == [2]
        # The other case of the issue taken down stays down.
        other = first.cases.exclude(pk=case.pk).get()
        assert get(api("case", other.pk)).status_code == 404
        shown = [entry["id"] for item in latest for entry in item["cases"]]
        assert shown == [case.pk]

    def test_nothing_for_editors_and_reviewers_only_is_in_any_answer(
        self, who, the_series
    ):
        case = draft(who, title="已发布的案例")
        workflow.case_submit(case=case, acting_user=who.secretary)
        decide(case, "approve", who.reviewer1, comment="内部评审意见甲")
        decide(case, "approve", who.reviewer2, comment="内部评审意见乙")
        case.refresh_from_db()
        shown = published_issue(who, the_series, cases=[case])
        taken_down = published_issue(who, the_series)
        with committed():
            services.issue_unpublish(
                issue=taken_down, acting_user=who.editor, reason="内部撤下原因"
            )
        planned = planned_issue(who, the_series, cases=[approved_case(who)])
        with committed():
            services.issue_update(
                issue=planned, acting_user=who.editor, note="<p>未发布的按语</p>"
            )
        urls = [
            api("series_list"),
            api("series", "dangjian"),
            api("issue_list", "dangjian"),
            api("issue", "dangjian", shown.number),
            api("latest_issues"),
            api("case", case.pk),
        ]
        text = "".join(get(url).content.decode() for url in urls)
        assert "已发布的案例" in text
        for secret in ("内部评审意见", "内部撤下原因", "未发布的按语", "意见"):
            assert secret not in text, secret

    def test_approved_scheduled_and_taken_down_cases_are_missing(self, who, the_series):
        approved = approved_case(who)
        scheduled = approved_case(who)
        planned_issue(who, the_series, cases=[scheduled])
        taken_down = approved_case(who)
        issue = published_issue(who, the_series, cases=[taken_down])
        with committed():
            services.issue_unpublish(issue=issue, acting_user=who.editor, reason="撤下")
        missing = get(api("case", 99999)).content
        for case in (approved, scheduled, taken_down):
            response = get(api("case", case.pk))
            assert response.status_code == 404, case.status
            assert response.content == missing

    def test_a_read_through_the_api_is_not_counted(self, who, the_series):
        case = approved_case(who)
        published_issue(who, the_series, cases=[case])
        for _ in range(3):
            assert get(api("case", case.pk), REMOTE_ADDR="10.0.0.7").status_code == 200
        assert views_pending(case.pk) == 0
        views_fold()
        assert not ViewCount.objects.filter(case=case, count__gt=0).exists()
        # A read of the page is.
        Client().get(reverse("showcase:case", args=[case.pk]))
        assert views_pending(case.pk) == 1

    def test_the_count_is_the_pages_as_of_the_last_fold(self, who, the_series):
        case = approved_case(who)
        published_issue(who, the_series, cases=[case])
        assert data(get(api("case", case.pk)))["views"] == 0
        Client().get(reverse("showcase:case", args=[case.pk]))
        # Counted, not folded in yet: the cached answer stands.
        assert data(get(api("case", case.pk)))["views"] == 0
        assert views_fold() == 1
        assert data(get(api("case", case.pk)))["views"] == 1

    def test_costs_two_queries(self, who, the_series, django_assert_num_queries):
        case = approved_case(who)
        published_issue(who, the_series, cases=[case])
        cache.clear()
        with django_assert_num_queries(2):
            assert get(api("case", case.pk)).status_code == 200


class ApiEveryoneTests:
    def test_a_signed_in_editor_gets_what_anyone_gets(self, who, the_series):
        issue = published_issue(who, the_series)
        planned_issue(who, the_series, cases=[approved_case(who)])
        editor = signed_in(who.editor)
        for url in (
            api("series_list"),
            api("issue_list", "dangjian"),
            api("issue", "dangjian", issue.number),
            api("latest_issues"),
            api("case", issue.cases.get().pk),
        ):
            cache.clear()
            anonymous = get(url)
            cache.clear()
            assert get(url, editor).content == anonymous.content, url
        planned = Issue.objects.get(status=Issue.Status.PLANNED)
        assert get(api("case", planned.cases.get().pk), editor).status_code == 404

    def test_only_get_and_head_are_answered(self, who, the_series):
        issue = published_issue(who, the_series)
        url = api("case", issue.cases.get().pk)
        client = Client(enforce_csrf_checks=True)
        for method in ("post", "put", "patch", "delete", "options"):
            response = getattr(client, method)(url)
            assert response.status_code == 405, method
            assert response["Allow"] == "GET, HEAD"
            assert data(response)["detail"] == "此处只接受 GET 和 HEAD 请求。"
        assert Issue.objects.get().status == Issue.Status.PUBLISHED

    def test_head_is_the_get_without_its_body(self, who, the_series):
        issue = published_issue(who, the_series)
        case_id = issue.cases.get().pk
        for url in (
            api("series_list"),
            api("issue", "dangjian", issue.number),
            api("case", case_id),
            api("openapi"),
            api("case", case_id + 1000),
        ):
            full = get(url)
            head = Client().head(url)
            assert head.status_code == full.status_code, url
            assert head.content == b"", url
            for name in ("Content-Type", "ETag", "Last-Modified", "Cache-Control"):
                assert head.get(name) == full.get(name), (url, name)
            assert int(head["Content-Length"]) == len(full.content), url
        first = get(api("case", case_id))
        again = Client().head(api("case", case_id), HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304
        assert again["ETag"] == first["ETag"]


class ApiHostTests:
    """Every address in an answer is on SITE_URL: the answer is cached and
    handed to every later client, so no request's Host may end up in it."""

    def test_the_host_a_client_names_is_never_in_the_answer(
        self, who, the_series, settings
    ):
        settings.ALLOWED_HOSTS = [
            "testserver",
            "localhost",
            "casehub.example.org",
        ]
        settings.USE_X_FORWARDED_HOST = True
        issue = published_issue(who, the_series)
        url = api("issue", "dangjian", issue.number)
        first = get(
            url,
            HTTP_HOST="casehub.example.org:8443",
            HTTP_X_FORWARDED_HOST="localhost:9999",
            HTTP_X_FORWARDED_PROTO="https",
        )
        assert first.status_code == 200
        text = first.content.decode()
        assert "example.org" not in text
        assert "localhost" not in text
        assert "https:" not in text
        assert data(first)["url"] == f"{SITE}/series/dangjian/1/"
        cache.clear()
        assert get(url).content == first.content

    def test_a_host_not_allowed_is_refused_and_nothing_kept(
        self, who, the_series, django_assert_num_queries
    ):
        issue = published_issue(who, the_series)
        url = api("issue", "dangjian", issue.number)
        assert get(url, HTTP_HOST="evil.example").status_code == 400
        # Nothing was built for it: the next answer is built from the database.
        with django_assert_num_queries(4):
            assert get(url).status_code == 200


class ApiCachingTests:
    def test_an_answer_carries_its_validators_and_may_be_kept(self, who, the_series):
        published_issue(who, the_series)
        response = get(api("issue_list", "dangjian"))
        assert response["ETag"].startswith('"')
        assert response["Last-Modified"]
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert directives == {"public", "max-age=0", "must-revalidate"}
        assert "Accept-Language" in response["Vary"]
        assert not response.cookies

    def test_each_language_has_its_own_answer(self, who, the_series):
        published_issue(who, the_series)
        url = api("issue", "dangjian", 1)
        chinese = get(url)
        english = get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert data(chinese)["title"] == "「党建引领」系列案例展播 · 第 1 期"
        assert data(english)["title"] == "「党建引领」系列案例展播 · No. 1"
        assert english["Content-Language"] == "en"
        assert chinese["ETag"] != english["ETag"]
        assert data(get(url))["title"] == data(chinese)["title"]

    def test_the_client_that_has_it_is_told_so(self, who, the_series):
        published_issue(who, the_series)
        url = api("issue_list", "dangjian")
        first = get(url)
        same = get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert same.status_code == 304
        assert same.content == b""
        assert same["ETag"] == first["ETag"]
        since = first["Last-Modified"]
        assert get(url, HTTP_IF_MODIFIED_SINCE=since).status_code == 304
        earlier = http_date((timezone.now() - datetime.timedelta(days=1)).timestamp())
        assert get(url, HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200
        assert get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200

    def test_if_none_match_lists_weak_tags_and_any(self, who, the_series):
        published_issue(who, the_series)
        url = api("issue_list", "dangjian")
        first = get(url)
        etag = first["ETag"]
        assert not etag.startswith("W/")  # strong: a digest of the very bytes
        for header in (
            f'"other", {etag}',
            f'"a",{etag} ,"b"',
            f"W/{etag}",
            "*",
        ):
            same = get(url, HTTP_IF_NONE_MATCH=header)
            assert same.status_code == 304, header
            assert same["ETag"] == etag, header
            assert same["Cache-Control"] == first["Cache-Control"], header
            assert set(same["Vary"].split(", ")) >= {"Accept-Language", "Origin"}
        # If-None-Match decides alone: a stale date beside a matching tag is
        # no reason for a body, a fresh date beside another tag no 304.
        earlier = http_date((timezone.now() - datetime.timedelta(days=1)).timestamp())
        stale_date = get(url, HTTP_IF_NONE_MATCH=etag, HTTP_IF_MODIFIED_SINCE=earlier)
        assert stale_date.status_code == 304
        assert (
            get(
                url,
                HTTP_IF_NONE_MATCH='"other"',
                HTTP_IF_MODIFIED_SINCE=first["Last-Modified"],
            ).status_code
            == 200
        )
        assert get(api("series", "no-such"), HTTP_IF_NONE_MATCH="*").status_code == 404

    def test_the_answer_is_kept_until_the_next_change(
        self, who, the_series, django_assert_num_queries
    ):
        published_issue(who, the_series)
        url = api("issue_list", "dangjian")
        first = get(url)
        with django_assert_num_queries(0):
            again = get(url)
        assert again.content == first.content
        assert again["Last-Modified"] == first["Last-Modified"]

    def test_a_publication_changes_the_answer_and_its_etag(self, who, the_series):
        published_issue(who, the_series)
        url = api("latest_issues")
        before = get(url)
        published_issue(who, the_series)
        after = get(url, HTTP_IF_NONE_MATCH=before["ETag"])
        assert after.status_code == 200
        assert after["ETag"] != before["ETag"]
        assert [item["number"] for item in data(after)["items"]] == [2, 1]

    def test_an_edited_note_shows_up_at_once(self, who, the_series):
        issue = published_issue(who, the_series)
        url = api("issue", "dangjian", issue.number)
        before = get(url)
        with committed():
            services.issue_update(
                issue=issue, acting_user=who.editor, note="<p>更正后的按语</p>"
            )
        after = get(url, HTTP_IF_NONE_MATCH=before["ETag"])
        assert after.status_code == 200
        assert data(after)["note_html"] == "<p>更正后的按语</p>"

    def test_unpublishing_takes_every_answer_down_at_once(self, who, the_series):
        issue = published_issue(who, the_series)
        case = issue.cases.get()
        urls = {
            "issue": api("issue", "dangjian", issue.number),
            "case": api("case", case.pk),
        }
        etags = {name: get(url)["ETag"] for name, url in urls.items()}
        assert data(get(api("latest_issues")))["items"]
        with committed():
            services.issue_unpublish(issue=issue, acting_user=who.editor, reason="撤下")
        for name, url in urls.items():
            response = get(url, HTTP_IF_NONE_MATCH=etags[name])
            assert response.status_code == 404, name
        assert data(get(api("latest_issues")))["items"] == []
        assert data(get(api("issue_list", "dangjian")))["items"] == []


@pytest.mark.services
class ApiRedisCacheTests:
    """The same with Redis as the cache, as the site runs in production."""

    def test_kept_in_redis_and_retired_by_an_unpublication(
        self, who, the_series, django_assert_num_queries
    ):
        with redis_cache(9) as client:
            issue = published_issue(who, the_series)
            url = api("case", issue.cases.get().pk)
            first = get(url)
            assert first.status_code == 200
            assert any(
                field.endswith(f"api-case:{issue.cases.get().pk}".encode())
                for field in client.hkeys("casehub:pages")
            )
            with django_assert_num_queries(0):
                assert get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
            with committed():
                services.issue_unpublish(
                    issue=issue, acting_user=who.editor, reason="撤下"
                )
            assert get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 404

    def test_a_fold_refreshes_the_count_in_redis(self, who, the_series):
        with redis_cache(9):
            case = approved_case(who)
            published_issue(who, the_series, cases=[case])
            assert data(get(api("case", case.pk)))["views"] == 0
            Client().get(reverse("showcase:case", args=[case.pk]))
            assert views_fold() == 1
            assert data(get(api("case", case.pk)))["views"] == 1
