"""站内搜索: Chinese queries, the index kept by publish and unpublish, filters,
marked snippets that stay escaped, a constant query count and the cache."""

import html
import io
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from review import workflow
from showcase import search, services
from showcase.models import SearchEntry
from submissions.models import Branch
from tests.review.factories import committed, decide, draft
from tests.showcase.factories import published_issue, series
from tests.submissions.factories import ThemeFactory

pytestmark = pytest.mark.django_db

ORGANISATION = "先进制造计量研究中心党总支"
SEARCH = reverse("showcase:search")


def approved(who, *, themes=(), **content):
    """An approved case with this content, written and reviewed as people would."""
    case = draft(who, **content)
    if themes:
        case.themes.set(themes)
    workflow.case_submit(case=case, acting_user=who.secretary)
    decide(case, "approve", who.reviewer1)
    decide(case, "approve", who.reviewer2)
    case.refresh_from_db()
    return case


def reader():
    return Client(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="reader")


RESULT_TITLE = re.compile(r'class="search-result__title"><a href="[^"]*">(.*?)</a>')


def found(query, **params) -> list[str]:
    """The titles a reader is shown, read from the page (cached or not)."""
    page = reader().get(SEARCH, {"q": query, **params})
    assert page.status_code == 200
    return [
        html.unescape(re.sub(r"</?mark>", "", title))
        for title in RESULT_TITLE.findall(page.content.decode())
    ]


@pytest.fixture
def site(who):
    """Three published cases in two issues of the 党建引领 series."""
    cache.clear()
    the_series = series()
    Branch.objects.filter(pk=who.branch.pk).update(name=ORGANISATION)
    who.branch.refresh_from_db()
    theme = ThemeFactory(name="科技创新")
    metrology = approved(
        who,
        themes=[theme],
        title="党建引领新篇章",
        lead="以高质量党建引领高质量发展。",
        body="<p>推动科研攻关与志愿服务深度融合。</p>",
    )
    platform = approved(
        who,
        title="数字服务惠民生",
        lead="群众办事更方便。",
        body="<p>支部打造云智联服务平台，服务群众。</p>",
    )
    hostile = approved(
        who,
        title="防范<script>alert(1)</script>注入",
        lead="警惕<script>alert(1)</script>这样的文字。",
        body="<p>网络安全人人有责。</p>",
    )
    first = published_issue(who, the_series, cases=[metrology, platform])
    second = published_issue(who, the_series, cases=[hostile])
    return {
        "series": the_series,
        "theme": theme,
        "issues": (first, second),
        "cases": (metrology, platform, hostile),
    }


class SegmentationTests:
    @pytest.mark.parametrize(
        ("query", "words"),
        [
            # Whole, from the user dictionary: a series name, an organisation.
            ("党建引领", ["党建引领"]),
            (ORGANISATION, [ORGANISATION]),
            # A query jieba cuts: every piece must be found.
            ("科研志愿", ["科研", "志愿"]),
            ("智联服", ["智联", "服"]),
            ("  \x00 ", []),
        ],
    )
    def test_query_words(self, site, query, words):
        assert search.query_words(search.query_normalise(query)) == words

    @pytest.mark.parametrize(
        ("raw", "normalised"),
        [
            ("  党建\x00引领\t ", "党建 引领"),
            ("党" * 80, "党" * search.MAX_QUERY_CHARS),
            ("\u200b\ufeff", ""),
            ("ＡＢＣ", "ABC"),
        ],
    )
    def test_query_normalise(self, raw, normalised):
        assert search.query_normalise(raw) == normalised


class SearchTests:
    @pytest.mark.parametrize(
        ("query", "titles"),
        [
            # Whole words from the user dictionary: the series, the organisation.
            (
                "党建引领",
                [
                    "党建引领新篇章",
                    "数字服务惠民生",
                    "防范<script>alert(1)</script>注入",
                ],
            ),
            (
                ORGANISATION,
                [
                    "党建引领新篇章",
                    "数字服务惠民生",
                    "防范<script>alert(1)</script>注入",
                ],
            ),
            # Cut in two, the two found apart in the text (no substring).
            ("科研志愿", ["党建引领新篇章"]),
            # Cut as the text is not (智联 / 服 against 智联 / 服务):
            # only the substring search finds it.
            ("智联服", ["数字服务惠民生"]),
            ("量子计算机", []),
        ],
    )
    def test_chinese_queries(self, site, query, titles):
        assert sorted(found(query)) == sorted(titles)

    def test_every_page_has_the_search_box(self, site):
        home = reader().get(reverse("home")).content.decode()
        assert f'class="site-search" method="get" action="{SEARCH}"' in home
        assert 'name="q"' in home

    def test_the_best_match_comes_first(self, site):
        assert found("党建")[0] == "党建引领新篇章"

    def test_no_result_says_so(self, site):
        page = reader().get(SEARCH, {"q": "量子计算机"}).content.decode()
        assert "“量子计算机”" in page
        assert 'class="search-results"' not in page

    def test_an_empty_query_shows_the_box_and_nothing_else(self, site):
        page = reader().get(SEARCH)
        html = page.content.decode()
        assert page.status_code == 200
        assert 'name="q"' in html and 'class="empty"' not in html
        assert page.context["results"] == []

    def test_unpublished_cases_are_gone_at_once(self, who, site):
        first, _second = site["issues"]
        assert found("科研志愿") == ["党建引领新篇章"]
        with committed():
            services.issue_unpublish(issue=first, acting_user=who.editor, reason="核实")
        assert found("科研志愿") == []
        assert found("智联服") == []
        assert not SearchEntry.objects.filter(issue=first).exists()

    def test_published_cases_are_found_once_committed(self, who, site):
        case = approved(who, title="红色驿站暖人心", body="<p>驿站服务。</p>")
        issue = published_issue(who, site["series"], cases=[case])
        assert found("红色驿站") == ["红色驿站暖人心"]
        entry = SearchEntry.objects.get(case=case)
        assert (entry.issue, entry.issue_number, entry.branch_name) == (
            issue,
            3,
            ORGANISATION,
        )

    def test_reindex_rebuilds_everything(self, site):
        SearchEntry.objects.all().delete()
        assert found("党建") == []
        out = io.StringIO()
        call_command("search_reindex", stdout=out)
        assert "3" in out.getvalue()
        assert found("科研志愿") == ["党建引领新篇章"]
        assert found("智联服") == ["数字服务惠民生"]


class FilterTests:
    def test_filters(self, who, site):
        other = series(slug="kejiao", title="「科教兴国」系列", name="科教兴国")
        case = approved(who, title="科教兴国党建先行", body="<p>党建工作。</p>")
        published_issue(who, other, cases=[case])
        assert len(found("党建")) == 4
        assert found("党建", series="kejiao") == ["科教兴国党建先行"]
        assert len(found("党建", series="dangjian")) == 3
        assert found("党建", theme=site["theme"].pk) == ["党建引领新篇章"]
        SearchEntry.objects.filter(case=case).update(year=2020)
        assert found("党建", year=2020) == ["科教兴国党建先行"]
        assert len(found("党建", year=SearchEntry.objects.first().year)) == 3
        assert len(found("党建", organisation=who.branch.pk)) == 4
        elsewhere = Branch.objects.create(name="别处党支部", kind=Branch.Kind.BRANCH)
        assert found("党建", organisation=elsewhere.pk) == []

    @pytest.mark.parametrize(
        "params",
        [
            {"series": "nope"},
            {"year": "twenty"},
            {"organisation": "999999"},
            {"theme": "-1"},
            {"page": "99999"},
            {"page": "abc"},
            {"page": "²"},
            {"page": "9" * 5000},
        ],
    )
    def test_invalid_filters_are_ignored(self, site, params):
        assert len(found("党建", **params)) == 3


class HostileInputTests:
    @pytest.mark.parametrize(
        "query",
        [
            '"',
            '"党建" OR "引领"',
            "党建 AND 引领 NOT",
            "NEAR(党建 引领)",
            "党*",
            "^党建",
            "党建:引领",
            "tokens:党建",
            "(((",
            "%_\\",
            "'; DROP TABLE showcase_searchentry; --",
            "党" * 5000,
            "!&|<->",
        ],
    )
    def test_operators_and_oddities_never_raise(self, site, query):
        page = reader().get(SEARCH, {"q": query})
        assert page.status_code == 200
        assert SearchEntry.objects.count() == 3

    @pytest.mark.parametrize(
        "params", [{"q": "党\x00建"}, {"q": "党建", "year": "\x00"}]
    )
    def test_nul_is_refused_before_any_search(self, site, params):
        page = reader().get(SEARCH, params)
        assert page.status_code == 400
        assert "search-result" not in page.content.decode()

    def test_like_wildcards_are_text(self, site):
        assert found("%%%") == []
        assert found("___") == []

    def test_marks_come_escaped_in_title_and_snippet(self, site):
        page = reader().get(SEARCH, {"q": "<script>alert(1)</script>"})
        html = page.content.decode()
        assert found("<script>alert(1)</script>") == [
            "防范<script>alert(1)</script>注入"
        ]
        assert "<script>alert(1)" not in html
        assert "<mark>&lt;script&gt;alert(1)&lt;/script&gt;</mark>" in html

    def test_a_query_is_never_markup(self, site):
        html = reader().get(SEARCH, {"q": "<b>党建</b>"}).content.decode()
        assert "<b>党建" not in html
        assert "&lt;b&gt;" in html


class HighlightTests:
    @pytest.mark.parametrize(
        ("text", "terms", "width", "expected"),
        [
            ("党建引领发展", ["党建"], None, "<mark>党建</mark>引领发展"),
            ("a<b>党建</b>", ["党建"], None, "a&lt;b&gt;<mark>党建</mark>&lt;/b&gt;"),
            ("ABC abc", ["abc"], None, "<mark>ABC</mark> <mark>abc</mark>"),
            ("党建引领", ["党建", "党建引领"], None, "<mark>党建引领</mark>"),
            ("没有匹配", ["党建"], None, "没有匹配"),
            (
                "一" * 50 + "党建" + "二" * 50,
                ["党建"],
                12,
                "…" + "一" * 4 + "<mark>党建</mark>" + "二" * 6 + "…",
            ),
        ],
    )
    def test_highlight(self, text, terms, width, expected):
        assert search.highlight(text, terms, width=width) == expected


class QueryCountTests:
    def _queries(self, query) -> int:
        client = Client()  # signed out, but the cache is bypassed by a filter
        search.dictionary_refresh()
        with CaptureQueriesContext(connection) as queries:
            page = client.get(SEARCH, {"q": query, "theme": ""})
        assert page.status_code == 200
        return len(queries), len(page.context["results"])

    def test_constant_in_the_number_of_results(self, who, site):
        few, shown = self._queries("党建")
        assert shown == 3
        cases = [
            approved(who, title=f"党建案例{n}", body="<p>党建。</p>") for n in range(6)
        ]
        published_issue(who, site["series"], cases=cases)
        many, shown = self._queries("党建")
        assert shown == 9
        assert many == few


class CacheTests:
    def test_anonymous_search_is_cached_and_publication_retires_it(self, who, site):
        cache.clear()
        assert found("驿站") == []
        with CaptureQueriesContext(connection) as queries:
            assert found("驿站") == []
        assert len(queries) == 0
        case = approved(who, title="驿站故事", body="<p>驿站。</p>")
        published_issue(who, site["series"], cases=[case])
        assert found("驿站") == ["驿站故事"]

    def test_signed_in_and_filtered_searches_are_not_cached(self, who, site):
        cache.clear()
        found("党建", series="dangjian")
        signed_in = Client()
        signed_in.force_login(who.editor)
        signed_in.get(SEARCH, {"q": "党建"})
        with CaptureQueriesContext(connection) as queries:
            reader().get(SEARCH, {"q": "党建", "series": "dangjian"})
        assert len(queries) > 0
        with CaptureQueriesContext(connection) as queries:
            reader().get(SEARCH, {"q": "党建"})
        assert len(queries) > 0

    def test_the_number_of_cached_searches_is_bounded(self, site, monkeypatch):
        from showcase import views

        cache.clear()
        monkeypatch.setattr(views, "SEARCH_PAGES_CACHED", 1)
        found("党建")
        found("引领")
        with CaptureQueriesContext(connection) as queries:
            found("党建")
        assert len(queries) == 0
        with CaptureQueriesContext(connection) as queries:
            found("引领")
        assert len(queries) > 0
