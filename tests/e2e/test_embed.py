"""The latest issues on another site's page, in Chromium.

The other sites are plain HTTP servers on other ports of 127.0.0.1 (the
showcase runs on localhost), each serving one page with the embedding tag, as
the institute's CMS would: one whose origin the admin allowed, one not.
"""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from showcase import services
from showcase.models import EmbedOrigin, Issue, Series
from tests.e2e.test_accessibility import axe_check

pytestmark = [pytest.mark.browser]

HOST_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>基层党建 · 研究院门户</title></head>
<body>
  <h1>基层党建</h1>
  <div id="column" style="width: 100%">
    <script src="{showcase}/static/js/embed.js" data-series="{series}"
            data-limit="2" async></script>
  </div>
  <p id="footer">研究院门户 · 页尾</p>
</body>
</html>
"""


@contextmanager
def other_site(html: str):
    """A web server of its own on 127.0.0.1, serving `html` at /; yields its origin."""
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# A read of the API by the other site's page, as its script would make it.
READ = """async ({url, credentials, headers}) => {
  try {
    const response = await fetch(url, {credentials, headers: headers || {}});
    return {status: response.status, body: await response.json()};
  } catch (error) {
    return {refused: String(error)};
  }
}"""


def frame_height(page) -> float:
    return page.evaluate(
        "parseFloat(document.querySelector('iframe.casehub-embed').style.height)"
    )


def list_height(frame) -> float:
    return frame.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")


class EmbedInChromiumTests:
    def test_an_allowed_site_shows_the_latest_issues_sized_to_fit(
        self, demo_data, visitor, live_server
    ):
        the_series = Series.objects.get(slug="dangjian-yinling")
        html = HOST_PAGE.format(showcase=live_server.url, series=the_series.slug)
        with other_site(html) as origin:
            EmbedOrigin.objects.create(origin=origin, note="研究院门户")
            reader = visitor(viewport={"width": 900, "height": 900})
            page = reader.page
            page.goto(origin + "/")
            frame_element = page.locator("iframe.casehub-embed")
            expect(frame_element).to_have_count(1)
            inside = page.frame_locator("iframe.casehub-embed")
            items = inside.locator(".embed-list__item")
            expect(items).to_have_count(2)
            expect(items.nth(0).locator(".embed-list__issue")).to_have_text("第 3 期")
            expect(items.nth(1).locator(".embed-list__issue")).to_have_text("第 2 期")
            expect(inside.locator("text=第 1 期")).to_have_count(0)
            # The frame takes the list's height, told by the frame itself.
            frame = frame_element.element_handle().content_frame()
            page.wait_for_function(
                "() => document.querySelector('iframe.casehub-embed')"
                ".style.height !== '320px'"
            )
            assert abs(frame_height(page) - list_height(frame)) <= 1
            wide = frame_height(page)
            reader.screenshot("embed-allowed-wide")
            # A height from anyone but the frame itself is not taken.
            page.evaluate(
                "window.postMessage({type: 'casehub-embed:height', height: 3000}, '*')"
            )
            page.wait_for_timeout(200)
            assert frame_height(page) == wide

            # Narrower, the titles wrap: the frame grows with the list.
            page.set_viewport_size({"width": 340, "height": 900})
            page.wait_for_function(
                f"() => parseFloat(document.querySelector('iframe.casehub-embed')"
                f".style.height) > {wide}"
            )
            assert abs(frame_height(page) - list_height(frame)) <= 1
            reader.screenshot("embed-allowed-narrow")

            # A case opens on the showcase in a tab of its own.
            with page.context.expect_page() as opened:
                inside.locator(".embed-list__cases a").first.click()
            case_page = opened.value
            case_page.wait_for_load_state()
            assert case_page.url.startswith(live_server.url + "/cases/")
            expect(case_page.locator("article.case-article h1")).to_be_visible()
            assert page.url == origin + "/"
            assert reader.errors == []

            # Taken down on the editors' desk: gone from the frame at once.
            latest = Issue.objects.get(series=the_series, number=3)
            editor = get_user_model().objects.get(username="editor1")
            services.issue_unpublish(issue=latest, acting_user=editor, reason="更正")
            page.set_viewport_size({"width": 900, "height": 900})
            page.reload()
            items = page.frame_locator("iframe.casehub-embed").locator(
                ".embed-list__item"
            )
            expect(items).to_have_count(2)
            expect(items.nth(0).locator(".embed-list__issue")).to_have_text("第 2 期")
            expect(items.nth(1).locator(".embed-list__issue")).to_have_text("第 1 期")
            assert reader.errors == []

    def test_a_site_not_allowed_gets_no_list(self, demo_data, visitor, live_server):
        html = HOST_PAGE.format(showcase=live_server.url, series="dangjian-yinling")
        with other_site(html) as allowed, other_site(html) as stranger:
            EmbedOrigin.objects.create(origin=allowed)
            EmbedOrigin.objects.create(origin=stranger, is_active=False)
            reader = visitor()
            page = reader.page
            with page.expect_response(
                lambda response: "/embed/issues/" in response.url
            ) as answered:
                page.goto(stranger + "/")
            frame_element = page.locator("iframe.casehub-embed")
            expect(frame_element).to_have_count(1)
            # Chromium was given the list and refused to show it here.
            answer = answered.value
            assert answer.status == 200
            policy = answer.headers["content-security-policy"]
            assert f"frame-ancestors 'self' {allowed}" in policy
            assert stranger not in policy
            for _ in range(50):
                if any("frame-ancestors" in error for error in reader.errors):
                    break
                page.wait_for_timeout(100)
            frame = frame_element.element_handle().content_frame()
            assert frame is None or frame.url.startswith("chrome-error://")
            if frame is not None:
                assert frame.locator(".embed-list__item").count() == 0
            assert any("frame-ancestors" in error for error in reader.errors), (
                reader.errors
            )
            # No height came, as no list was shown.
            assert frame_height(page) == 320
            reader.screenshot("embed-refused")

    def test_the_list_reads_well_with_assistive_technology(self, demo_data, visitor):
        reader = visitor()
        for path in (
            "/embed/issues/",
            "/embed/issues/?series=dangjian-yinling&limit=3",
            "/embed/issues/?series=no-such-series",
        ):
            axe_check(reader, path)
        assert reader.errors == [
            "Failed to load resource: the server responded "
            "with a status of 404 (Not Found)"
        ]

    def test_the_api_is_read_from_an_allowed_site_only(
        self, demo_data, visitor, live_server
    ):
        html = (
            '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            "<title>研究院门户</title></head><body><p>门户</p></body></html>"
        )
        api = live_server.url + "/api/v1/series/"
        with other_site(html) as allowed, other_site(html) as stranger:
            EmbedOrigin.objects.create(origin=allowed)
            reader = visitor()
            page = reader.page
            page.goto(allowed + "/")
            read = page.evaluate(READ, {"url": api, "credentials": "omit"})
            assert read["status"] == 200, read
            assert "dangjian-yinling" in [
                item["slug"] for item in read["body"]["items"]
            ]
            # With the reader's cookies it is not allowed, from anywhere.
            read = page.evaluate(READ, {"url": api, "credentials": "include"})
            assert "refused" in read, read
            # A header beyond a plain read's is refused at the preflight.
            read = page.evaluate(
                READ, {"url": api, "credentials": "omit", "headers": {"X-Token": "1"}}
            )
            assert "refused" in read, read
            page.goto(stranger + "/")
            read = page.evaluate(READ, {"url": api, "credentials": "omit"})
            assert "refused" in read, read
            assert any("CORS" in error for error in reader.errors), reader.errors
