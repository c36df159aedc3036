"""A real Chromium driven by Playwright against the live test server.

Loaded once for the whole run as a pytest plugin (see tests/conftest.py), so
the browser tests of every folder share one browser.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from demo import demo
from tests.conftest import service_missing

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "e2e"

# Playwright's sync API keeps an event loop on the main thread; the test's own
# database calls are still plain synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        service_missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def demo_data(transactional_db):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115


class Visitor:
    """One person at one browser window, with the console errors it saw."""

    def __init__(self, page, base_url):
        self.page = page
        self.base_url = base_url
        self.errors = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept())

    def _console(self, message):
        if message.type == "error":
            self.errors.append(message.text)

    def go(self, path):
        return self.page.goto(self.base_url + path)

    def sign_in(self, username, password=demo.DEMO_PASSWORD):
        """Sign in; everyone lands on their desk (工作台)."""
        self.sign_in_elsewhere(username, password)
        self.page.wait_for_url("**/desk/")

    def sign_in_elsewhere(self, username, password=demo.DEMO_PASSWORD):
        self.go("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state()

    def screenshot(self, name):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def visitor(browser, live_server, settings, tmp_path):
    def open_window(viewport=None):
        context = browser.new_context(
            locale="zh-CN", viewport=viewport or {"width": 1280, "height": 900}
        )
        contexts.append(context)
        return Visitor(context.new_page(), live_server.url)

    contexts = []
    yield open_window
    for context in contexts:
        context.close()
