"""Reading aids in Chromium: text size and high contrast chosen with the
keyboard and remembered, the editor's note folded on a phone, the series
filters folded away, and the QR code read back to the page's address."""

import io

import pytest
import zxingcpp
from django.core.cache import cache
from PIL import Image
from playwright.sync_api import expect

from showcase.models import Series

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
FIRST_CASE = "/series/dangjian-yinling/1/"
FONT_SIZE = "sel => parseFloat(getComputedStyle(document.querySelector(sel)).fontSize)"
# Nothing of the note is cut off: its box is as tall as its text.
WHOLE = "node => node.scrollHeight - node.clientHeight <= 1"
STYLE = "([sel, prop]) => getComputedStyle(document.querySelector(sel))[prop]"
# As long as the note of the real series: 367 characters, a whole phone screen.
LONG_NOTE = "<p>" + "以高质量党建引领高质量发展的生动实践，" * 19 + "</p>"


def case_open(reader):
    reader.go(FIRST_CASE)
    reader.page.click(".case-list__title >> nth=0")
    expect(reader.page.locator("article.case-article h1")).to_be_visible()


def tab_to(page, selector, limit=60):
    """Press Tab until `selector` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("sel => document.activeElement.matches(sel)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def qr_read(locator) -> list[str]:
    image = Image.open(io.BytesIO(locator.screenshot()))
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


class TextSizeTests:
    def test_keyboard_picks_a_size_that_holds_from_the_first_paint(
        self, demo_data, visitor
    ):
        reader = visitor()
        page = reader.page
        case_open(reader)
        body = ".case-article__body"
        standard = page.evaluate(FONT_SIZE, body)
        expect(page.locator("[data-size-choice=standard]")).to_have_attribute(
            "aria-pressed", "true"
        )

        tab_to(page, "[data-size-choice=large]")
        outline = page.evaluate(STYLE, [":focus", "outlineStyle"])
        assert outline == "solid"
        page.keyboard.press("Enter")
        expect(page.locator("[data-size-choice=large]")).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(page.locator("[data-size-choice=standard]")).to_have_attribute(
            "aria-pressed", "false"
        )
        large = page.evaluate(FONT_SIZE, body)
        assert large == pytest.approx(standard * 1.1875, rel=0.01)

        # Reloaded with the script that draws the switches held back: the page
        # is already in the large size, so it never shows in the standard one.
        held = []
        page.route("**/js/reading.js", lambda route: held.append(route))
        page.reload(wait_until="commit")
        page.wait_for_selector(body, state="attached")
        assert page.evaluate(FONT_SIZE, body) == pytest.approx(large)
        assert held, "reading.js was not asked for"
        for route in held:
            route.continue_()
        page.unroute("**/js/reading.js")
        expect(page.locator("[data-size-choice=large]")).to_have_attribute(
            "aria-pressed", "true"
        )

        tab_to(page, "[data-size-choice=x-large]")
        page.keyboard.press("Space")
        assert page.evaluate(FONT_SIZE, body) == pytest.approx(
            standard * 1.375, rel=0.01
        )
        page.click("[data-size-choice=standard]")
        page.reload()
        assert page.evaluate(FONT_SIZE, body) == pytest.approx(standard)
        assert page.evaluate("document.documentElement.dataset.textSize") is None
        assert reader.errors == []


class HighContrastTests:
    def test_high_contrast_changes_colours_and_is_remembered(self, demo_data, visitor):
        reader = visitor()
        page = reader.page
        reader.go("/")
        before = {
            "ground": page.evaluate(STYLE, ["body", "backgroundColor"]),
            "header": page.evaluate(STYLE, [".site-header", "backgroundColor"]),
        }
        assert before == {"ground": "rgb(247, 245, 242)", "header": "rgb(179, 38, 30)"}

        tab_to(page, "[data-contrast-toggle]")
        page.keyboard.press("Enter")
        toggle = page.locator("[data-contrast-toggle]")
        expect(toggle).to_have_attribute("aria-pressed", "true")
        high = {
            "ground": page.evaluate(STYLE, ["body", "backgroundColor"]),
            "header": page.evaluate(STYLE, [".site-header", "backgroundColor"]),
        }
        assert high == {"ground": "rgb(255, 255, 255)", "header": "rgb(0, 0, 0)"}

        case_open(reader)
        assert page.evaluate(STYLE, [".case-article__body", "color"]) == "rgb(0, 0, 0)"
        expect(toggle).to_have_attribute("aria-pressed", "true")
        reader.screenshot("case-high-contrast")
        page.reload()
        assert page.evaluate(STYLE, ["body", "backgroundColor"]) == high["ground"]
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "false")
        page.reload()
        assert page.evaluate(STYLE, ["body", "backgroundColor"]) == before["ground"]
        assert reader.errors == []


class PhoneTests:
    def test_editors_note_folds_on_a_phone_and_unfolds_by_keyboard(
        self, demo_data, visitor
    ):
        Series.objects.update(editors_note=LONG_NOTE)
        cache.clear()
        phone = visitor(viewport=PHONE)
        page = phone.page
        case_open(phone)
        text = page.locator(".editors-note__text")
        toggle = page.locator(".editors-note__toggle")
        expect(toggle).to_be_visible()
        expect(toggle).to_have_text("展开")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        folded = text.bounding_box()["height"]
        full = text.evaluate("node => node.scrollHeight")
        assert full > PHONE["height"] / 2
        assert folded < PHONE["height"] / 8
        phone.screenshot("case-phone-note-folded")

        tab_to(page, ".editors-note__toggle")
        page.keyboard.press("Enter")
        expect(toggle).to_have_text("收起")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        assert text.evaluate(WHOLE)
        assert text.bounding_box()["height"] > folded * 4
        page.keyboard.press("Space")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        assert text.bounding_box()["height"] == pytest.approx(folded, abs=2)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        assert phone.errors == []

    def test_on_a_desktop_the_note_is_whole_and_has_no_toggle(self, demo_data, visitor):
        Series.objects.update(editors_note=LONG_NOTE)
        cache.clear()
        reader = visitor()
        case_open(reader)
        text = reader.page.locator(".editors-note__text")
        expect(reader.page.locator(".editors-note__toggle")).to_be_hidden()
        assert text.evaluate(WHOLE)

    def test_series_filters_fold_away_on_a_phone_only(self, demo_data, visitor):
        phone = visitor(viewport=PHONE)
        phone.go("/series/dangjian-yinling/")
        fold = phone.page.locator("details.filter-fold")
        expect(fold).not_to_have_attribute("open", "")
        expect(phone.page.locator(".filter-bar")).to_be_hidden()
        tab_to(phone.page, "details.filter-fold > summary")
        phone.page.keyboard.press("Enter")
        expect(phone.page.locator(".filter-bar")).to_be_visible()

        desk = visitor()
        desk.go("/series/dangjian-yinling/")
        expect(desk.page.locator(".filter-bar")).to_be_visible()
        assert phone.errors == [] and desk.errors == []

    def test_without_scripts_the_note_is_whole(self, demo_data, browser, live_server):
        Series.objects.update(editors_note=LONG_NOTE)
        cache.clear()
        context = browser.new_context(viewport=PHONE, java_script_enabled=False)
        try:
            page = context.new_page()
            page.goto(live_server.url + FIRST_CASE)
            page.click(".case-list__title >> nth=0")
            text = page.locator(".editors-note__text")
            assert text.evaluate(WHOLE)
            expect(page.locator(".editors-note__toggle")).to_be_hidden()
            expect(page.locator(".reading-tools")).to_be_hidden()
        finally:
            context.close()


class QrCodeTests:
    def test_qr_code_reads_back_to_the_canonical_address_on_screen_and_in_print(
        self, demo_data, visitor
    ):
        reader = visitor()
        page = reader.page
        case_open(reader)
        canonical = page.get_attribute("link[rel=canonical]", "href")
        assert canonical.endswith(page.url.removeprefix(reader.base_url))
        code = page.locator(".share-qr__code")
        expect(page.locator(".share-qr")).to_contain_text("手机扫码阅读")
        expect(code).to_have_attribute("alt", "本页地址的二维码")
        assert qr_read(code) == [canonical]

        page.emulate_media(media="print")
        expect(code).to_be_visible()
        for hidden in (".site-header", ".reading-tools", ".article-tools"):
            expect(page.locator(hidden)).to_be_hidden()
        assert qr_read(code) == [canonical]
        reader.screenshot("case-print")
        assert reader.errors == []
