"""评选 in Chromium: a three-member panel scores five cases on the rubric, and
the editor takes the top two of the ranking into the showcase queue, and from
there into the next issue."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from review.models import Score, ScoreAssignment
from review.stages import stage_update
from showcase.models import Issue
from submissions.models import Case
from tests.review.factories import case_to_scoring, people, scoring_stage
from tests.showcase.factories import planned_issue, series
from tests.submissions.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser]

# Points per case on 创新性 / 实效性 / 示范性, the same from every scorer.
POINTS = {
    "甲案例": (6, 6, 6),
    "乙案例": (9, 9, 9),
    "丙案例": (4, 4, 4),
    "丁案例": (8, 8, 8),
    "戊案例": (2, 2, 2),
}


class ScoringFlowTests:
    def test_a_panel_scores_five_cases_and_the_editor_takes_the_top_two(
        self, transactional_db, visitor
    ):
        who = people()
        panel = [UserFactory(username=f"expert{n}") for n in (1, 2, 3)]
        stage = scoring_stage(members=panel, per_case=3, blind=True)
        for title in POINTS:
            case_to_scoring(who, title=title)
        assert ScoreAssignment.objects.filter(stage=stage).count() == 15
        criteria = list(stage.criteria.all())

        for expert in panel:
            window = visitor()
            window.sign_in(expert.username, PASSWORD)
            window.go("/review/scoring/")
            for title, points in POINTS.items():
                window.page.click(f"[data-scoring-list] a:has-text('{title}')")
                expect(window.page.locator("[data-blind]")).to_be_visible()
                for criterion, value in zip(criteria, points, strict=True):
                    window.page.fill(f"#id_criterion_{criterion.pk}", str(value))
                window.page.fill("#id_comment", "评分意见")
                window.page.click("button:has-text('提交评分')")
                expect(window.page.locator(".message--success")).to_contain_text(title)
        assert Score.objects.filter(stage=stage).count() == 15

        editor = visitor()
        editor.sign_in("editor", PASSWORD)
        editor.go(f"/review/scoring/stages/{stage.pk}/")
        rows = editor.page.locator("[data-ranking] tbody tr")
        expect(rows.first).to_contain_text("乙案例")
        expect(rows.nth(1)).to_contain_text("丁案例")
        editor.screenshot("scoring-results")
        editor.page.fill("[data-accept-form] input[name=count]", "2")
        editor.page.click("button:has-text('将排名靠前的案例选入待发队列')")
        expect(editor.page.locator(".message--success")).to_contain_text("2")

        statuses = dict(Case.objects.values_list("title", "status"))
        assert statuses["乙案例"] == statuses["丁案例"] == Case.Status.APPROVED
        assert {statuses[t] for t in ("甲案例", "丙案例", "戊案例")} == {
            Case.Status.IN_REVIEW
        }
        queue_text = editor.page.content()
        assert queue_text.index("乙案例") < queue_text.index("丁案例")
        assert "甲案例" not in queue_text

        # … and from the queue into the next issue, in rank order.
        issue = planned_issue(who, series(), cases=[])
        editor.go("/editor/")
        planned = editor.page.locator("article.planned-issue").first
        for title in ("乙案例", "丁案例"):
            planned.locator("select[name=case]").select_option(label=title)
            planned.locator("button:has-text('加入本期')").click()
            expect(editor.page.locator(".message--success")).to_be_visible()
            planned = editor.page.locator("article.planned-issue").first
        cases_shown = planned.locator(".planned-issue__cases")
        expect(cases_shown).to_contain_text("乙案例")
        expect(cases_shown).to_contain_text("丁案例")
        editor.screenshot("scoring-top-two-in-issue")
        assert list(
            Issue.objects.get(pk=issue.pk)
            .entries.order_by("position")
            .values_list("case__title", flat=True)
        ) == ["乙案例", "丁案例"]
        statuses = dict(Case.objects.values_list("title", "status"))
        assert statuses["乙案例"] == statuses["丁案例"] == Case.Status.SCHEDULED


class ScoringWayOutTests:
    def test_blind_until_the_deadline_then_the_editor_returns_an_unscored_case(
        self, transactional_db, visitor
    ):
        who = people()
        panel = [UserFactory(username=f"expert{n}") for n in (1, 2)]
        stage = scoring_stage(
            members=panel,
            per_case=2,
            deadline=timezone.now() + datetime.timedelta(days=1),
        )
        scored = case_to_scoring(who, title="已评案例")
        case_to_scoring(who, title="无人评分的案例")
        criteria = list(stage.criteria.all())

        first = visitor()
        first.sign_in("expert1", PASSWORD)
        first.go(f"/review/scoring/cases/{scored.pk}/")
        for criterion in criteria:
            first.page.fill(f"#id_criterion_{criterion.pk}", "9")
        first.page.click("button:has-text('提交评分')")
        expect(first.page.locator(".message--success")).to_contain_text("已评案例")
        second = visitor()
        second.sign_in("expert2", PASSWORD)
        second.go(f"/review/scoring/stages/{stage.pk}/")
        expect(second.page.locator("[data-results-closed]")).to_be_visible()
        expect(second.page.locator("[data-ranking]")).to_have_count(0)
        assert "90.00" not in second.page.content()

        # The deadline passes with the second case unscored.
        stage_update(
            stage=stage,
            acting_user=UserFactory(username="root", is_superuser=True),
            scoring_deadline=timezone.now() - datetime.timedelta(minutes=1),
        )
        second.go(f"/review/scoring/cases/{scored.pk}/")
        expect(second.page.locator("[data-scoring-closed]")).to_be_visible()
        expect(second.page.locator("[data-score-form]")).to_have_count(0)

        editor = visitor()
        editor.sign_in("editor", PASSWORD)
        editor.go(f"/review/scoring/stages/{stage.pk}/")
        card = editor.page.locator("[data-scoring-case]", has_text="无人评分的案例")
        card.locator("select[name=outcome]").select_option("return")
        card.locator("textarea[name=comment]").fill("截止前无人评分，请完善后再报")
        card.locator("button:has-text('结束评分')").click()
        expect(editor.page.locator(".message--success")).to_contain_text(
            "无人评分的案例"
        )
        editor.screenshot("scoring-editor-returns")
        expect(editor.page.locator("[data-ranking]")).not_to_contain_text(
            "无人评分的案例"
        )
        returned = Case.objects.get(title="无人评分的案例")
        assert returned.status == Case.Status.RETURNED
        assert returned.events.order_by("-pk").first().actor.username == "editor"
