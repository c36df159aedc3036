"""Reading aids on the public pages: the QR code, the folded editor's note,
the folded series filters and the text size and contrast switches."""

import re

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.html import escape

from showcase.cache import page_field, page_get
from showcase.qr import QR_TEXT_MAX_CHARS, qr_img, qr_svg_uri
from tests.showcase.factories import approved_case, published_issue, series

pytestmark = pytest.mark.django_db

SITE = "https://dangjian.example.org"
# The headers a page is sent with, whether built now or served from the cache.
PAGE_HEADERS = (
    "Content-Type",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
)

SIZE_LABELS = (("standard", "标准"), ("large", "大"), ("x-large", "特大"))


def reader():
    return Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="reader")


def qr_images(html: str) -> list[str]:
    """The data: address of every QR code in the page."""
    return re.findall(r'<img class="share-qr__code" src="([^"]+)"', html)


@pytest.fixture
def the_series():
    return series()


@pytest.fixture
def published(who, the_series):
    case = approved_case(who)
    issue = published_issue(who, the_series, cases=[case])
    return case, issue


class QrCodeTests:
    @override_settings(SITE_URL=SITE)
    def test_case_page_has_the_qr_of_its_canonical_address(self, published):
        case, _ = published
        cache.clear()
        html = reader().get(reverse("showcase:case", args=[case.pk])).content.decode()
        canonical = f"{SITE}/cases/{case.pk}/"
        assert f'<link rel="canonical" href="{canonical}">' in html
        assert qr_images(html) == [escape(qr_svg_uri(canonical))]
        assert "手机扫码阅读" in html
        assert 'alt="本页地址的二维码"' in html
        # Drawn as an image: a published page holds no inline <svg> at all.
        assert "<svg" not in html
        assert f'<p class="share-qr__url">{canonical}</p>' in html

    def test_qr_is_outside_what_print_hides(self, published):
        case, _ = published
        html = reader().get(reverse("showcase:case", args=[case.pk])).content.decode()
        tools = re.search(r'<div class="article-tools">.*?</div>', html, re.S).group()
        assert "share-qr" not in tools and "data-print" in tools
        assert html.index("share-qr__code") > html.index("case-article__body")

    def test_cached_page_keeps_the_qr_and_every_header(
        self, published, django_assert_num_queries
    ):
        case, _ = published
        url = reverse("showcase:case", args=[case.pk])
        cache.clear()
        built = reader().get(url)
        assert page_get(page_field("case", case.pk)) is not None
        with django_assert_num_queries(0):
            served = reader().get(url)
        assert qr_images(served.content.decode()) == qr_images(built.content.decode())
        assert len(qr_images(served.content.decode())) == 1
        for header in PAGE_HEADERS:
            assert built.headers.get(header), header
            assert served.headers.get(header) == built.headers.get(header), header
        assert "script-src 'self'" in served.headers["Content-Security-Policy"]

    @pytest.mark.parametrize(
        ("text", "drawn"),
        [
            ("", False),
            ("https://example.org/cases/1/", True),
            ("https://example.org/" + "a" * QR_TEXT_MAX_CHARS, False),
        ],
    )
    def test_qr_is_bounded(self, text, drawn):
        assert bool(qr_img(text=text, label="码")) is drawn

    def test_label_is_escaped(self):
        img = str(qr_img(text="https://example.org/", label='"><script>x</script>'))
        assert "<script>" not in img
        assert 'alt="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in img
        assert img.startswith('<img class="share-qr__code" src="data:image/svg+xml')


class EditorsNoteTests:
    NOTE = "<p>编者按：" + "展示基层党建的生动实践。" * 30 + "</p>"

    def test_note_is_whole_in_the_page_with_a_hidden_toggle(self, who):
        the_series = series(editors_note=self.NOTE)
        case = approved_case(who)
        issue = published_issue(who, the_series, cases=[case])
        for url in (
            reverse("showcase:case", args=[case.pk]),
            issue.get_absolute_url(),
            the_series.get_absolute_url(),
        ):
            html = reader().get(url).content.decode()
            assert self.NOTE in html, url
            assert html.count("data-collapsible") == 1, url
            assert re.search(
                r'<div class="editors-note__text" id="editors-note-text">\s*'
                + re.escape(self.NOTE),
                html,
            ), url
            toggle = re.search(r"<button[^>]*editors-note__toggle[^>]*>", html).group()
            for attribute in (
                'aria-controls="editors-note-text"',
                'aria-expanded="true"',
                'data-label-expand="展开"',
                'data-label-collapse="收起"',
                " hidden",
            ):
                assert attribute in toggle, (url, attribute)


class SeriesFiltersTests:
    @pytest.mark.parametrize(("query", "active"), [("", False), ("?year=2026", True)])
    def test_filters_sit_in_a_fold_open_without_scripts(
        self, published, the_series, query, active
    ):
        html = reader().get(the_series.get_absolute_url() + query).content.decode()
        fold = re.search(r"<details[^>]*filter-fold[^>]*>", html).group()
        assert " open" in fold
        assert ("data-filters-active" in fold) is active
        assert '<summary id="series-filters-label">筛选</summary>' in html
        assert 'role="search" aria-labelledby="series-filters-label"' in html
        assert html.index("filter-fold") < html.index('class="filter-bar"')


class ReadingToolsTests:
    def test_every_public_page_has_the_switches_and_the_early_script(
        self, published, the_series
    ):
        case, issue = published
        for url in (
            reverse("home"),
            the_series.get_absolute_url(),
            issue.get_absolute_url(),
            reverse("showcase:case", args=[case.pk]),
            reverse("login"),
        ):
            html = reader().get(url).content.decode()
            head = html[: html.index("</head>")]
            assert re.search(r'<script src="[^"]*js/reading-prefs\.js"></script>', head)
            assert re.search(r'<script src="[^"]*js/reading\.js" defer></script>', html)
            assert "<script>" not in html, url
            for size, label in SIZE_LABELS:
                assert re.search(
                    rf'<button type="button" class="reading-tools__button" '
                    rf'data-size-choice="{size}" aria-pressed="(true|false)">{label}'
                    "</button>",
                    html,
                ), (url, size)
            assert "data-contrast-toggle" in html and ">高对比度</button>" in html
            assert '<a class="skip-link" href="#main">' in html
            assert '<main id="main"' in html
