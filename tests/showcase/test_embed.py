"""The embeddable list of the latest issues, the origins allowed to embed it,
and CORS for the API, as another site's page meets them."""

import re
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from showcase import selectors, services
from showcase.cache import PAGES_KEY, page_field, page_get
from showcase.models import EmbedOrigin
from showcase.origins import origin_normalise
from showcase.views import EMBED_LIMIT_DEFAULT, EMBED_LIMIT_MAX, embed_params
from tests.conftest import redis_cache
from tests.review.factories import committed
from tests.showcase.factories import approved_case, planned_issue, published_issue
from tests.showcase.factories import series as series_make
from tests.showcase.test_front import HOST, front, get
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db

EMBED = "/embed/issues/"
ALLOWED = "https://www.example.gov.cn"
ALSO_ALLOWED = "http://192.0.2.10:8080"


def origin_add(origin, **fields) -> EmbedOrigin:
    with committed():
        return EmbedOrigin.objects.create(origin=origin, **fields)


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    found = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


class Links(HTMLParser):
    """Every <a> of a page, with its attributes, and the text of the list."""

    def __init__(self, html):
        super().__init__()
        self.links = []
        self.body_attrs = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs))
        if tag == "body":
            self.body_attrs = dict(attrs)


@pytest.fixture
def the_series():
    return series_make()


class OriginNormaliseTests:
    @pytest.mark.parametrize(
        ("typed", "normal"),
        [
            ("https://www.example.gov.cn", "https://www.example.gov.cn"),
            ("HTTPS://WWW.Example.GOV.cn/", "https://www.example.gov.cn"),
            ("  https://example.org  ", "https://example.org"),
            ("https://example.org:443", "https://example.org"),
            ("http://example.org:80/", "http://example.org"),
            ("http://example.org:443", "http://example.org:443"),
            ("http://192.0.2.10:8080", "http://192.0.2.10:8080"),
            ("https://example.org.", "https://example.org"),
            ("https://例子.中国", "https://xn--fsqu00a.xn--fiqs8s"),
            ("http://localhost:8001", "http://localhost:8001"),
        ],
    )
    def test_an_origin_is_written_as_browsers_send_it(self, typed, normal):
        assert origin_normalise(typed) == normal

    @pytest.mark.parametrize(
        "typed",
        [
            "",
            "   ",
            "example.org",
            "//example.org",
            "ftp://example.org",
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "https://*.example.org",
            "*",
            "https://example.org/path",
            "https://example.org/?q=1",
            "https://example.org#top",
            "https://user:secret@example.org",
            "https://user@example.org",
            "https://[::1]",
            "https://[::1]:8080",
            "https://example.org:0",
            "https://example.org:99999",
            "https://example.org:port",
            "https://example.org https://evil.example",
            "https://example.org,https://evil.example",
            "https://example.org;script-src *",
            "https://example.org'",
            'https://example.org"',
            "https://exa mple.org",
            "https://-bad.example.org",
            "https://bad-.example.org",
            "https://under_score.example.org",
            "https://1.2.3",
            "https://999.1.1.1",
            "https://example.org\x00",
            "https://example.org\r\nX-Injected: 1",
            "null",
            "https://" + "a" * 250 + ".org",
            "https://" + ".".join(["a" * 63] * 4) + ".org",
            "https://" + "a" * 64 + ".org",
        ],
    )
    def test_anything_but_one_origin_is_refused_with_a_message(self, typed):
        with pytest.raises(ValidationError) as refused:
            origin_normalise(typed)
        assert refused.value.messages and all(refused.value.messages)

    def test_refusals_are_translated(self):
        from django.utils import translation

        with translation.override("zh-hans"):
            with pytest.raises(ValidationError) as refused:
                origin_normalise("ftp://example.org")
            assert "只有" in refused.value.messages[0]


class EmbedOriginModelTests:
    def test_saved_in_normal_form_and_unique_however_typed(self):
        first = origin_add("HTTPS://WWW.Example.gov.cn:443/")
        first.refresh_from_db()
        assert first.origin == ALLOWED
        with pytest.raises(IntegrityError), transaction.atomic():
            EmbedOrigin.objects.create(origin="https://www.EXAMPLE.gov.cn")
        assert EmbedOrigin.objects.count() == 1

    def test_a_bad_origin_is_never_saved(self):
        with pytest.raises(ValidationError):
            EmbedOrigin.objects.create(origin="https://*.example.org")
        assert not EmbedOrigin.objects.exists()

    def test_full_clean_names_the_field(self):
        candidate = EmbedOrigin(origin="https://example.org/path")
        with pytest.raises(ValidationError) as refused:
            candidate.full_clean()
        assert set(refused.value.message_dict) == {"origin"}


class EmbedOriginAdminTests:
    @pytest.fixture
    def admin(self, django_user_model):
        return signed_in(
            django_user_model.objects.create_superuser(
                "embed-admin", "embed-admin@example.org", "unused"
            )
        )

    def test_added_in_the_admin_normalised_and_in_effect_at_once(self, admin):
        add = reverse("admin:showcase_embedorigin_add")
        page = admin.get(add)
        assert page.status_code == 200
        html = page.content.decode()
        for label in ("来源", "启用", "备注", "嵌入代码", "/static/js/embed.js"):
            assert label in html, label
        assert ALLOWED not in directives(Client().get(EMBED))["frame-ancestors"]
        with committed():
            response = admin.post(
                add, {"origin": "HTTPS://WWW.EXAMPLE.GOV.CN/", "is_active": "on"}
            )
        assert response.status_code == 302, response.content[:500]
        assert list(EmbedOrigin.objects.values_list("origin", flat=True)) == [ALLOWED]
        assert ALLOWED in directives(Client().get(EMBED))["frame-ancestors"]

    def test_a_bad_or_repeated_origin_is_refused_and_nothing_saved(self, admin):
        origin_add(ALLOWED)
        add = reverse("admin:showcase_embedorigin_add")
        for typed, message in (
            ("https://*.example.org", "不接受通配符"),
            ("https://example.org/column/", "不带路径"),
            ("https://www.Example.gov.cn", "已存在"),
        ):
            response = admin.post(add, {"origin": typed, "is_active": "on"})
            assert response.status_code == 200, typed
            assert message in response.content.decode(), typed
        assert EmbedOrigin.objects.count() == 1

    def test_the_series_page_shows_its_own_code(self, admin, the_series):
        page = admin.get(reverse("admin:showcase_series_change", args=[the_series.pk]))
        html = page.content.decode()
        assert "嵌入代码" in html
        assert "data-series=&quot;dangjian&quot;" in html
        assert "/static/js/embed.js" in html

    def test_deleting_in_the_admin_takes_the_origin_off_at_once(self, admin):
        origin = origin_add(ALLOWED)
        assert ALLOWED in directives(Client().get(EMBED))["frame-ancestors"]
        with committed():
            response = admin.post(
                reverse("admin:showcase_embedorigin_delete", args=[origin.pk]),
                {"post": "yes"},
            )
        assert response.status_code == 302
        assert not EmbedOrigin.objects.exists()
        assert ALLOWED not in directives(Client().get(EMBED))["frame-ancestors"]


class EmbedOriginsSelectorTests:
    def test_active_origins_sorted_and_read_once(self, django_assert_num_queries):
        origin_add(ALSO_ALLOWED)
        origin_add(ALLOWED)
        origin_add("https://retired.example.org", is_active=False)
        with django_assert_num_queries(1):
            assert selectors.embed_origins() == (ALSO_ALLOWED, ALLOWED)
        with django_assert_num_queries(0):
            for _ in range(5):
                assert selectors.embed_origins() == (ALSO_ALLOWED, ALLOWED)

    def test_a_change_is_read_at_once(self):
        origin = origin_add(ALLOWED)
        assert selectors.embed_origins() == (ALLOWED,)
        with committed():
            origin.is_active = False
            origin.save()
        assert selectors.embed_origins() == ()
        with committed():
            origin.is_active = True
            origin.save()
        assert selectors.embed_origins() == (ALLOWED,)
        with committed():
            EmbedOrigin.objects.all().delete()
        assert selectors.embed_origins() == ()

    def test_a_list_read_before_a_change_is_not_taken_after_it(self):
        assert selectors.embed_origins() == ()
        before = cache.get(selectors.EMBED_ORIGINS_VERSION_KEY)
        origin_add(ALLOWED)
        # A reader that read the version before the change and the rows
        # before its commit stores the old list late: it is not believed.
        cache.set(selectors.EMBED_ORIGINS_KEY, (before, ()))
        assert selectors.embed_origins() == (ALLOWED,)

    def test_an_origin_written_around_the_model_is_left_out(self):
        origin_add(ALLOWED)
        with committed():
            EmbedOrigin.objects.create(origin="https://other.example.org")
            # A bulk update skips the model's normalising and validation.
            EmbedOrigin.objects.filter(origin="https://other.example.org").update(
                origin="https://other.example.org; script-src *"
            )
        assert selectors.embed_origins() == (ALLOWED,)
        policy = Client().get(EMBED)["Content-Security-Policy"]
        assert "script-src *" not in policy

    def test_before_the_commit_the_cached_list_stands(self):
        assert selectors.embed_origins() == ()
        with committed():
            EmbedOrigin.objects.create(origin=ALLOWED)
            # Not committed yet: nobody else could see the row either.
            assert selectors.embed_origins() == ()
        assert selectors.embed_origins() == (ALLOWED,)


class EmbedParamsTests:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("", ("", EMBED_LIMIT_DEFAULT)),
            ("series=dangjian", ("dangjian", EMBED_LIMIT_DEFAULT)),
            ("series=dangjian&limit=3", ("dangjian", 3)),
            ("limit=0", ("", 1)),
            ("limit=-4", ("", EMBED_LIMIT_DEFAULT)),
            ("limit=21", ("", EMBED_LIMIT_MAX)),
            ("limit=9999", ("", EMBED_LIMIT_MAX)),
            ("limit=99999999999999999999", ("", EMBED_LIMIT_DEFAULT)),
            ("limit=1e3", ("", EMBED_LIMIT_DEFAULT)),
            ("limit=%D9%A3", ("", EMBED_LIMIT_DEFAULT)),
            ("limit=+3", ("", EMBED_LIMIT_DEFAULT)),
            ("limit=3&limit=7", ("", 7)),
            ("series=<script>", (None, EMBED_LIMIT_DEFAULT)),
            ("series=" + "a" * 61, (None, EMBED_LIMIT_DEFAULT)),
            ("series=%E5%85%9A%E5%BB%BA", (None, EMBED_LIMIT_DEFAULT)),
            ("series=../admin/", (None, EMBED_LIMIT_DEFAULT)),
        ],
    )
    def test_bounded(self, rf, query, expected):
        assert embed_params(rf.get(f"{EMBED}?{query}").GET) == expected


class EmbedPageTests:
    def test_lists_the_latest_published_issues_linking_out(self, who, the_series):
        first = published_issue(who, the_series)
        case = approved_case(who, title="嵌入列表里的案例")
        second = published_issue(who, the_series, cases=[case])
        planned_issue(who, the_series, cases=[approved_case(who, title="排期未发")])
        response = Client().get(f"{EMBED}?series={the_series.slug}")
        assert response.status_code == 200
        html = response.content.decode()
        assert html.index("第 2 期") < html.index("第 1 期")
        assert "嵌入列表里的案例" in html and case.branch.name in html
        assert f"{timezone.localtime(second.published_at):%Y-%m-%d}" in html
        assert "排期未发" not in html
        links = Links(html).links
        hrefs = {link["href"] for link in links}
        assert {first.get_absolute_url(), second.get_absolute_url()} <= hrefs
        assert reverse("showcase:case", args=[case.pk]) in hrefs
        for link in links:
            assert link.get("target") == "_blank", link
            assert "noopener" in link.get("rel", ""), link
        assert "<script src=" in html and "embed-frame.js" in html
        assert re.search(r"<script(?![^>]*\bsrc=)", html) is None

    def test_every_series_when_none_is_named(self, who, the_series):
        other = series_make(slug="jingshen", title="「精神谱系」系列", name="精神谱系")
        published_issue(who, the_series, cases=[approved_case(who, title="甲系列案例")])
        published_issue(who, other, cases=[approved_case(who, title="乙系列案例")])
        hidden = series_make(slug="hidden", title="停用系列", is_active=False)
        published_issue(who, hidden, cases=[approved_case(who, title="停用系列案例")])
        html = Client().get(EMBED).content.decode()
        assert "甲系列案例" in html and "乙系列案例" in html
        assert "精神谱系 · 第 1 期" in html
        assert "停用系列案例" not in html
        only = Client().get(f"{EMBED}?series=jingshen").content.decode()
        assert "乙系列案例" in only and "甲系列案例" not in only
        assert Client().get(f"{EMBED}?series=hidden").status_code == 404

    def test_limit_bounds_the_list(self, who, the_series):
        for _ in range(3):
            published_issue(who, the_series)
        html = Client().get(f"{EMBED}?limit=2").content.decode()
        assert "第 3 期" in html and "第 2 期" in html and "第 1 期" not in html
        html = Client().get(f"{EMBED}?limit=1").content.decode()
        assert html.count('class="embed-list__item"') == 1

    def test_an_unpublished_issue_leaves_the_embed_at_once(self, who, the_series):
        kept = published_issue(
            who, the_series, cases=[approved_case(who, title="留下的")]
        )
        gone = published_issue(
            who, the_series, cases=[approved_case(who, title="撤下的")]
        )
        url = f"{EMBED}?series={the_series.slug}"
        assert "撤下的" in Client().get(url).content.decode()
        field = page_field("embed", the_series.slug, EMBED_LIMIT_DEFAULT)
        assert page_get(field) is not None
        with committed():
            services.issue_unpublish(issue=gone, acting_user=who.editor, reason="更正")
        html = Client().get(url).content.decode()
        assert "撤下的" not in html and "留下的" in html
        assert "第 2 期" not in html and kept.get_absolute_url() in html
        assert "撤下的" not in Client().get(EMBED).content.decode()

    def test_a_new_issue_shows_at_once(self, who, the_series):
        published_issue(who, the_series)
        assert "第 2 期" not in Client().get(EMBED).content.decode()
        published_issue(who, the_series)
        assert "第 2 期" in Client().get(EMBED).content.decode()

    @pytest.mark.parametrize(
        "query",
        [
            "series=<script>alert(1)</script>",
            "series=%00",
            "series=" + "x" * 5000,
            "series=dangjian&series=<x>",
            "limit=" + "9" * 5000,
            "limit=-1&series=dangjian",
            "limit[]=1",
            "series=%E2%80%AE&limit=%EF%BC%93",
            "%ZZ=%ZZ",
        ],
    )
    def test_hostile_queries_never_fail(self, who, the_series, query):
        published_issue(who, the_series)
        response = Client().get(f"{EMBED}?{query}")
        assert response.status_code in (200, 400, 404), response.status_code
        html = response.content.decode()
        assert "<script>alert" not in html and "<x>" not in html
        if response.status_code != 400:
            assert "frame-ancestors 'self'" in response["Content-Security-Policy"]

    def test_an_unknown_series_is_a_small_404_still_frameable(self, the_series):
        origin_add(ALLOWED)
        response = Client().get(f"{EMBED}?series=no-such-series")
        assert response.status_code == 404
        assert "案例展播中没有这个系列" in response.content.decode()
        assert directives(response)["frame-ancestors"] == ["'self'", ALLOWED]
        assert "X-Frame-Options" not in response

    def test_in_the_readers_language(self, who, the_series):
        published_issue(who, the_series)
        english = Client(HTTP_ACCEPT_LANGUAGE="en").get(EMBED)
        assert "No. 1" in english.content.decode()
        assert "第 1 期" in Client().get(EMBED).content.decode()
        assert "Accept-Language" in english["Vary"]

    def test_only_get(self, the_series):
        assert Client().post(EMBED).status_code == 405


class EmbedHeadersTests:
    def test_frame_ancestors_lists_exactly_the_allowed_origins(self, who, the_series):
        published_issue(who, the_series)
        response = Client().get(EMBED)
        assert directives(response)["frame-ancestors"] == ["'self'"]
        origin_add(ALLOWED)
        origin_add(ALSO_ALLOWED)
        origin_add("https://retired.example.org", is_active=False)
        response = Client().get(EMBED)
        assert directives(response)["frame-ancestors"] == [
            "'self'",
            ALSO_ALLOWED,
            ALLOWED,
        ]
        assert "X-Frame-Options" not in response
        # Cached as the public pages are: by the site, retired on publication,
        # not kept by browsers past it; no cookie for the other site's readers.
        assert "Cache-Control" not in response and not response.cookies
        assert "Accept-Language" in response["Vary"]
        # The rest of the policy is the site's.
        assert directives(response)["script-src"] == ["'self'"]
        assert directives(response)["default-src"] == ["'self'"]
        # The frame's own script answers the same origins.
        body = Links(response.content.decode()).body_attrs
        assert body["data-embed-origins"].split() == [ALSO_ALLOWED, ALLOWED]

    def test_every_other_page_still_refuses_to_be_framed(self, who, the_series):
        issue = published_issue(who, the_series)
        origin_add(ALLOWED)
        pages = [
            "/",
            the_series.get_absolute_url(),
            issue.get_absolute_url(),
            reverse("showcase:case", args=[issue.cases.get().pk]),
            reverse("showcase:search") + "?q=党建",
            "/accounts/login/",
            "/no-such-page/",
        ]
        for url in pages:
            response = Client().get(url)
            assert response["X-Frame-Options"] == "DENY", url
            assert directives(response)["frame-ancestors"] == ["'none'"], url
        signed = signed_in(who.editor).get(reverse("showcase_editor:desk"))
        assert signed["X-Frame-Options"] == "DENY"
        assert directives(signed)["frame-ancestors"] == ["'none'"]

    def test_signed_in_readers_get_the_same_list_kept_private(self, who, the_series):
        published_issue(who, the_series)
        origin_add(ALLOWED)
        anonymous = Client().get(EMBED)
        signed = signed_in(who.editor).get(EMBED)
        assert signed.content == anonymous.content
        assert "private" in signed["Cache-Control"]
        assert "X-Frame-Options" not in signed
        assert directives(signed)["frame-ancestors"] == ["'self'", ALLOWED]


class EmbedCachingTests:
    def test_cached_answer_costs_no_query(
        self, who, the_series, django_assert_num_queries
    ):
        cases = [approved_case(who) for _ in range(3)]
        for case in cases:
            published_issue(who, the_series, cases=[case])
        for _ in range(6):
            published_issue(who, the_series)
        origin_add(ALLOWED)
        url = f"{EMBED}?series={the_series.slug}&limit=20"
        # The origins, the series, its issues: whatever the number of issues.
        with django_assert_num_queries(3):
            first = Client().get(url)
        assert first.content.decode().count('class="embed-list__item"') == 9
        with django_assert_num_queries(0):
            again = Client().get(url)
        assert again.content == first.content
        assert directives(again)["frame-ancestors"] == ["'self'", ALLOWED]
        assert "X-Frame-Options" not in again

    def test_a_new_origin_retires_the_cached_list(self, who, the_series):
        published_issue(who, the_series)
        before = Client().get(EMBED)
        assert Links(before.content.decode()).body_attrs["data-embed-origins"] == ""
        origin_add(ALLOWED)
        after = Client().get(EMBED)
        assert Links(after.content.decode()).body_attrs["data-embed-origins"] == ALLOWED

    def test_hostile_slugs_are_not_cached(self, who, the_series):
        published_issue(who, the_series)
        for number in range(5):
            Client().get(f"{EMBED}?series=missing-{number}")
        for number in range(5):
            assert page_get(page_field("embed", f"missing-{number}", 5)) is None
        assert page_get(page_field("embed", "-", 5)) is None
        Client().get(EMBED)
        assert page_get(page_field("embed", "-", 5)) is not None

    def test_not_served_from_the_published_copy(
        self, who, the_series, settings, tmp_path
    ):
        from showcase import published
        from showcase.cache import public_cache_bump

        settings.FRONT_ROOT = str(tmp_path / "front")
        public_cache_bump()
        published_issue(who, the_series)
        Client().get(EMBED)
        Client().get("/")
        written = [
            path.relative_to(tmp_path / "front" / "current").as_posix()
            for path in (tmp_path / "front" / "current").rglob("index.html")
        ]
        assert written == ["zh-hans/index.html"]
        assert published.relative_path(page_field("embed", "-", 5)) is None


class ApiCorsTests:
    URL = "/api/v1/series/"

    @pytest.fixture(autouse=True)
    def _origins(self):
        origin_add(ALLOWED)
        origin_add("https://retired.example.org", is_active=False)

    def test_an_allowed_origin_may_read(self, the_series, django_assert_num_queries):
        plain = Client().get(self.URL)
        assert plain.status_code == 200
        assert "Access-Control-Allow-Origin" not in plain
        selectors.embed_origins()
        # The answer and the list of origins are both cached by now.
        with django_assert_num_queries(0):
            response = Client().get(self.URL, HTTP_ORIGIN=ALLOWED)
        assert response.status_code == 200
        assert response.content == plain.content
        assert [item["slug"] for item in response.json()["items"]] == ["dangjian"]
        assert response["Access-Control-Allow-Origin"] == ALLOWED
        assert "Origin" in response["Vary"]
        assert "Access-Control-Allow-Credentials" not in response
        # Checked again with what the other site's browser kept: still its own.
        again = Client().get(
            self.URL, HTTP_ORIGIN=ALLOWED, HTTP_IF_NONE_MATCH=response["ETag"]
        )
        assert again.status_code == 304
        assert again["Access-Control-Allow-Origin"] == ALLOWED
        assert "Origin" in again["Vary"]

    def test_every_address_of_the_api_and_its_errors(self, who, the_series):
        issue = published_issue(who, the_series)
        for url in (
            f"/api/v1/series/{the_series.slug}/",
            f"/api/v1/series/{the_series.slug}/issues/",
            f"/api/v1/series/{the_series.slug}/issues/{issue.number}/",
            "/api/v1/issues/latest/?limit=3",
            f"/api/v1/cases/{issue.cases.get().pk}/",
            "/api/v1/openapi.json",
            "/api/v1/series/no-such-series/",
            "/api/v1/series/?page=abc",
        ):
            response = Client().get(url, HTTP_ORIGIN=ALLOWED)
            assert response.status_code in (200, 404, 422), url
            assert response["Access-Control-Allow-Origin"] == ALLOWED, url
            assert "Origin" in response["Vary"], url
            stranger = Client().get(url, HTTP_ORIGIN="https://evil.example")
            assert "Access-Control-Allow-Origin" not in stranger, url
            assert stranger.content == response.content, url

    @pytest.mark.parametrize(
        "origin",
        [
            "https://evil.example",
            "https://retired.example.org",
            "null",
            "HTTPS://WWW.EXAMPLE.GOV.CN",
            ALLOWED + "/",
            ALLOWED + ":443",
            "http://www.example.gov.cn",
            "https://www.example.gov.cn.evil.example",
            "*",
        ],
    )
    def test_any_other_origin_may_not(self, origin):
        response = Client().get(self.URL, HTTP_ORIGIN=origin)
        assert "Access-Control-Allow-Origin" not in response
        assert "Origin" in response["Vary"]

    def test_without_origin_no_cors_but_vary(self):
        response = Client().get(self.URL)
        assert "Access-Control-Allow-Origin" not in response
        assert "Origin" in response["Vary"]

    def test_a_write_is_never_allowed_across_origins(self):
        for method in ("post", "put", "patch", "delete"):
            response = getattr(Client(), method)(self.URL, HTTP_ORIGIN=ALLOWED)
            assert "Access-Control-Allow-Origin" not in response, method

    def test_preflight_for_a_read(self):
        response = Client().options(
            self.URL,
            HTTP_ORIGIN=ALLOWED,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="Accept-Language, accept",
        )
        assert response.status_code == 204
        assert response["Access-Control-Allow-Origin"] == ALLOWED
        assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
        assert response["Access-Control-Allow-Headers"] == "accept, accept-language"
        assert int(response["Access-Control-Max-Age"]) > 0
        assert "Access-Control-Allow-Credentials" not in response
        assert "Origin" in response["Vary"]

    @pytest.mark.parametrize(
        ("origin", "method", "headers"),
        [
            ("https://evil.example", "GET", ""),
            ("https://retired.example.org", "GET", ""),
            (ALLOWED, "POST", ""),
            (ALLOWED, "DELETE", ""),
            (ALLOWED, "PUT", "content-type"),
            (ALLOWED, "GET", "Authorization"),
            (ALLOWED, "GET", "X-CSRFToken"),
            (ALLOWED, "GET", "cookie"),
            (ALLOWED, "GET", "accept," * 2000),
        ],
    )
    def test_preflight_refused(self, origin, method, headers):
        response = Client().options(
            self.URL,
            HTTP_ORIGIN=origin,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
        )
        assert response.status_code == 403
        assert not [name for name in response.headers if name.startswith("Access-")]

    def test_cors_is_for_the_api_only(self, the_series):
        for url in (EMBED, "/", "/robots.txt"):
            response = Client().get(url, HTTP_ORIGIN=ALLOWED)
            assert "Access-Control-Allow-Origin" not in response, url
        refused = Client().options(
            "/", HTTP_ORIGIN=ALLOWED, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
        )
        assert "Access-Control-Allow-Origin" not in refused


def test_the_snippet_in_the_readme_is_the_one_the_admin_shows():
    from pathlib import Path

    from django.conf import settings

    from showcase.admin import embed_snippet

    readme = (Path(settings.BASE_DIR) / "README.md").read_text("utf-8")
    assert "## Embedding the showcase" in readme
    assert 'src="https://casehub.example.org/static/js/embed.js"' in readme
    assert embed_snippet().startswith(f'<script src="{settings.SITE_URL}/static/')


class EmbedOnRedisTests:
    """As in production: Redis as the cache, the fast path in front of Django."""

    @pytest.fixture
    def redis(self, settings):
        settings.ALLOWED_HOSTS = [HOST, "testserver"]
        with redis_cache(10) as client:
            yield client

    def test_kept_in_the_pages_hash_and_retired_on_unpublish(
        self, redis, who, the_series, django_assert_num_queries
    ):
        origin_add(ALLOWED)
        kept = published_issue(who, the_series, cases=[approved_case(who, title="留")])
        gone = published_issue(who, the_series, cases=[approved_case(who, title="撤")])
        url = f"{EMBED}?series={the_series.slug}"
        first = Client().get(url)
        assert "撤" in first.content.decode()
        field = page_field("embed", the_series.slug, EMBED_LIMIT_DEFAULT)
        assert redis.hget(PAGES_KEY, field) is not None
        with django_assert_num_queries(0):
            again = Client().get(url)
        assert again.content == first.content
        assert directives(again)["frame-ancestors"] == ["'self'", ALLOWED]
        with committed():
            services.issue_unpublish(issue=gone, acting_user=who.editor, reason="更正")
        assert redis.hget(PAGES_KEY, field) is None
        html = Client().get(url).content.decode()
        assert "撤" not in html and kept.get_absolute_url() in html

    # Through the WSGI handler, which closes the connection after each request.
    @pytest.mark.django_db(transaction=True)
    def test_the_fast_path_leaves_it_to_django(self, redis, who, the_series):
        origin_add(ALLOWED)
        published_issue(who, the_series)
        app = front()
        for _ in range(3):
            answer = get(app, EMBED, query=f"series={the_series.slug}")
            assert answer.status == 200 and answer.by_django
            assert answer.header("X-Frame-Options") is None
            policy = answer.header("Content-Security-Policy")
            assert f"frame-ancestors 'self' {ALLOWED}" in policy
        for _ in range(2):
            home = get(app, "/")
        assert not home.by_django
        assert home.header("X-Frame-Options") == "DENY"
        assert "frame-ancestors 'none'" in home.header("Content-Security-Policy")

    def test_origins_read_from_redis(self, redis, django_assert_num_queries):
        origin_add(ALLOWED)
        with django_assert_num_queries(1):
            assert selectors.embed_origins() == (ALLOWED,)
        with django_assert_num_queries(0):
            assert selectors.embed_origins() == (ALLOWED,)
            response = Client().get("/api/v1/openapi.json", HTTP_ORIGIN=ALLOWED)
        assert response["Access-Control-Allow-Origin"] == ALLOWED
        with committed():
            EmbedOrigin.objects.filter(origin=ALLOWED).delete()
        assert selectors.embed_origins() == ()
