"""axe-core on every public page and the main signed-in pages, in Chromium.

axe-core comes from the npm registry, pinned in package-lock.json (`make test`
runs `npm ci`), and is injected into each page from that file: no CDN. A
serious or critical violation fails; moderate and minor ones are printed.
"""

import functools
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from casehub.richtext import sanitize_html
from showcase import services as showcase_services
from showcase.models import Issue
from submissions.models import Case
from tests.conftest import service_missing
from tests.images import image_bytes

pytestmark = [pytest.mark.browser]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
FAILING = ("serious", "critical")

FIGURES = (
    '<figure class="image"><img src="/media/uploads/a11y/photo.png" '
    'alt="支部党员在实验室开展现场教学"><figcaption>现场教学</figcaption></figure>'
    '<figure class="table"><table><thead><tr><th>项目</th><th>数量</th></tr>'
    "</thead><tbody><tr><td>关键测量装置</td><td>2</td></tr></tbody></table>"
    "</figure>"
)


@functools.cache
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_check(visitor, path):
    """axe's violations on `path`; fails on serious or critical ones with the
    rule, its impact and the elements, and prints the rest."""
    if not AXE.exists():
        service_missing(f"no axe-core at {AXE} (npm ci --no-audit --no-fund)")
    page = visitor.page
    if path is not None:
        visitor.go(path)
    page.wait_for_load_state("load")
    # Evaluated rather than added as a <script>: our CSP refuses inline
    # scripts, and the page is checked with its real CSP in force.
    page.evaluate(axe_source())
    violations = page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ["violations"]});
            return results.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                targets: v.nodes.map((node) => node.target.join(" ")),
            }));
        }"""
    )
    where = path or page.url
    failing, other = [], []
    for v in violations:
        targets = ", ".join(v["targets"][:8])
        line = f"{v['impact']}: {v['id']} ({v['help']}) at {targets}"
        (failing if v["impact"] in FAILING else other).append(line)
    if other:
        print(f"axe on {where}, not failing:\n  " + "\n  ".join(other))
    assert not failing, f"axe on {where}:\n  " + "\n  ".join(failing)


def published_case_with_figures():
    """The public page of a published case whose body holds an image and a table."""
    case = Case.objects.get(title="把支部建在攻关一线")
    photo = Path(settings.MEDIA_ROOT) / "uploads" / "a11y" / "photo.png"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(image_bytes("PNG", size=(320, 200)))
    revision = case.revisions.order_by("-number").first()
    # The demo's cases have neither; a revision refuses save() once written,
    # so the test sets the published text directly.
    case.revisions.filter(pk=revision.pk).update(
        body=sanitize_html(revision.body + FIGURES)
    )
    return reverse("showcase:case", args=[case.pk])


def unpublished_issue_path():
    issue = Issue.objects.filter(status=Issue.Status.PUBLISHED).order_by("pk").first()
    editor = issue.created_by
    showcase_services.issue_unpublish(
        issue=issue, acting_user=editor, reason="数据待核实"
    )
    return issue.get_absolute_url()


class AccessibilityTests:
    @pytest.mark.parametrize("contrast", ["standard", "high"])
    def test_public_pages(self, demo_data, visitor, contrast):
        case_path = published_case_with_figures()
        gone = unpublished_issue_path()
        reader = visitor()
        if contrast == "high":
            reader.go("/")
            reader.page.click("[data-contrast-toggle]")
            expect(reader.page.locator("html")).to_have_attribute(
                "data-contrast", "high"
            )
        paths = [
            "/",
            "/series/dangjian-yinling/",
            "/series/dangjian-yinling/?year=2026",
            "/series/dangjian-yinling/2/",
            case_path,
            gone,
            "/cases/987654/",
            "/accounts/login/",
            "/search/",
            "/search/?q=攻关",
        ]
        for path in paths:
            axe_check(reader, path)
            if contrast == "high":
                expect(reader.page.locator("html")).to_have_attribute(
                    "data-contrast", "high"
                )
        reader.go(case_path)
        expect(reader.page.locator("article img")).to_have_attribute(
            "alt", "支部党员在实验室开展现场教学"
        )
        assert reader.go(gone).status == 410
        assert reader.go("/cases/987654/").status == 404

    def test_signed_in_pages(self, demo_data, visitor):
        draft = Case.objects.get(title="“三会一课”进实验室 理论学习见实效")
        in_review = Case.objects.get(title="精准计量助力“菜篮子”")
        assert in_review.status == Case.Status.IN_REVIEW

        secretary = visitor()
        secretary.sign_in("secretary1")
        axe_check(secretary, "/desk/")
        axe_check(secretary, "/submissions/")
        axe_check(secretary, f"/submissions/{draft.pk}/")
        for path in ("/submissions/new/", f"/submissions/{draft.pk}/edit/"):
            secretary.go(path)
            expect(secretary.page.locator(".ck-editor__editable")).to_be_visible()
            axe_check(secretary, None)

        reviewer = visitor()
        reviewer.sign_in("reviewer1")
        axe_check(reviewer, "/review/")
        axe_check(reviewer, f"/review/cases/{in_review.pk}/")

        editor = visitor()
        editor.sign_in("editor1")
        axe_check(editor, "/editor/")

    def test_the_writer_is_asked_for_the_text_alternative(
        self, demo_data, visitor, tmp_path
    ):
        draft = Case.objects.get(title="“三会一课”进实验室 理论学习见实效")
        photo = tmp_path / "xianchang.png"
        photo.write_bytes(image_bytes("PNG", size=(400, 300)))
        secretary = visitor()
        page = secretary.page
        secretary.sign_in("secretary1")
        secretary.go(f"/submissions/{draft.pk}/edit/")
        editable = page.locator(".ck-editor__editable")
        editable.click()
        page.keyboard.press("Control+End")
        page.locator(".ck-editor input[type=file]").set_input_files(str(photo))
        expect(editable.locator("img")).to_have_attribute(
            "src", re.compile(r"^/media/uploads/")
        )
        page.click("button[name=preview]")
        note = page.locator(".alt-text-note")
        expect(note.locator("li")).to_have_count(1)

        page.click("text=编辑")
        editable.locator("img").click()
        page.get_by_role("button", name="更改图片替换文本").click()
        page.locator(".ck-text-alternative-form input").fill("支部党员现场教学")
        page.keyboard.press("Enter")
        page.click("button[name=preview]")
        expect(page.locator("article.case-article img")).to_have_attribute(
            "alt", "支部党员现场教学"
        )
        expect(note).to_have_count(0)
        axe_check(secretary, None)
        assert 'alt="支部党员现场教学"' in Case.objects.get(pk=draft.pk).body
        assert secretary.errors == []


def test_the_check_fails_on_a_serious_violation(demo_data, visitor):
    """The harness itself: an image with no alt is a critical violation."""
    reader = visitor()
    reader.go("/accounts/login/")
    reader.page.evaluate(
        """() => document.querySelector("main").append(document.createElement("img"))"""
    )
    with pytest.raises(AssertionError, match=r"critical: image-alt \(.*\) at img"):
        axe_check(reader, None)
