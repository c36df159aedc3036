"""Absolute addresses come from SITE_URL, whatever Host header a request sends."""

import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.urls import reverse

from tests.showcase.factories import approved_case, published_issue, series

pytestmark = pytest.mark.django_db

SITE = "https://dangjian.example.org"
FORGED_HOST = "localhost:6666"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]


@pytest.fixture
def published(who):
    case = approved_case(who, cover_image="covers/2026/03/cover.jpg")
    case.revisions.update(cover_image="covers/2026/03/cover.jpg")
    issue = published_issue(who, series(), cases=[case])
    return case, issue


def forged_then_plain(url):
    """The first reader names another host; the next reader asks normally."""
    forged = Client(REMOTE_ADDR="203.0.113.9").get(url, HTTP_HOST=FORGED_HOST)
    plain = Client(REMOTE_ADDR="203.0.113.10").get(url)
    assert forged.status_code == plain.status_code == 200
    return forged.content.decode(), plain.content.decode()


class SiteUrlTests:
    def test_case_page_links_name_the_site_not_the_host(self, published):
        case, _issue = published
        for html in forged_then_plain(reverse("showcase:case", args=[case.pk])):
            assert "6666" not in html
            page = f"{SITE}/cases/{case.pk}/"
            assert f'<link rel="canonical" href="{page}">' in html
            assert f'<meta property="og:url" content="{page}">' in html
            assert (
                f'<meta property="og:image" content="{SITE}/media/'
                'covers/2026/03/cover.jpg">' in html
            )

    def test_feed_links_name_the_site(self, published):
        case, issue = published
        url = reverse("showcase:feed", args=[issue.series.slug])
        for body in forged_then_plain(url):
            assert "6666" not in body
            channel = ET.fromstring(body).find("channel")
            assert channel.findtext("link") == f"{SITE}/series/{issue.series.slug}/"
            item = channel.find("item")
            assert item.findtext("link") == f"{SITE}/cases/{case.pk}/"
            assert item.findtext("guid") == f"{SITE}/cases/{case.pk}/"
            self_link = channel.find("{http://www.w3.org/2005/Atom}link")
            assert self_link.get("href") == f"{SITE}{url}"

    def test_sitemap_names_the_site(self, published):
        case, issue = published
        namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
        for body in forged_then_plain("/sitemap.xml"):
            assert "6666" not in body
            locations = [
                loc.text for loc in ET.fromstring(body).findall(".//s:loc", namespace)
            ]
            assert f"{SITE}/cases/{case.pk}/" in locations
            assert f"{SITE}{issue.get_absolute_url()}" in locations
            assert all(loc.startswith(f"{SITE}/") for loc in locations)

    def test_robots_names_the_site(self):
        for body in forged_then_plain("/robots.txt"):
            assert "6666" not in body
            assert f"Sitemap: {SITE}/sitemap.xml" in body.splitlines()

    def test_a_site_url_with_a_path_prefix_is_kept(self, settings, published):
        settings.SITE_URL = "https://www.example.org/dangjian"
        case, _issue = published
        body = Client().get("/sitemap.xml").content.decode()
        assert f"https://www.example.org/dangjian/cases/{case.pk}/" in body
