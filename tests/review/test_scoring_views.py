"""评选's pages: the panel's list and form, the results and their downloads,
the editor's reassignment and taking the top into the queue."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from review.models import CaseEvent, Score, ScoreAssignment
from submissions.models import Case
from tests.review.factories import case_to_scoring, scoring_stage
from tests.submissions.factories import UserFactory, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def stage(panel_members):
    return scoring_stage(members=panel_members, per_case=2)


def form_for(stage, *points, kind="scored", comment="意见"):
    criteria = list(stage.criteria.all())
    body = {"kind": kind, "comment": comment}
    body.update(
        {f"criterion_{c.pk}": p for c, p in zip(criteria, points, strict=False)}
    )
    return body


def assigned(case):
    return [a.scorer for a in ScoreAssignment.objects.filter(case=case)]


class ScoringListViewTests:
    def test_the_panel_member_sees_their_cases(self, who, stage):
        case = case_to_scoring(who, title="待评分的案例")
        page = signed_in(assigned(case)[0]).get("/review/scoring/")
        assert page.status_code == 200
        assert "待评分的案例" in page.content.decode()

    def test_the_header_leads_the_panel_to_scoring_not_to_review(
        self, who, stage, panel_members
    ):
        page = signed_in(panel_members[0]).get("/desk/").content.decode()
        assert 'href="/review/scoring/"' in page
        assert 'href="/review/"' not in page
        reviewer_page = signed_in(who.reviewer1).get("/desk/").content.decode()
        assert 'href="/review/"' in reviewer_page
        assert 'href="/review/scoring/"' not in reviewer_page

    def test_someone_off_the_panel_is_refused(self, who, stage):
        assert signed_in(who.reviewer1).get("/review/scoring/").status_code == 403

    def test_the_list_costs_the_same_with_many_cases(
        self, who, stage, django_assert_max_num_queries
    ):
        for n in range(8):
            case_to_scoring(who, title=f"案例{n}")
        scorer = ScoreAssignment.objects.first().scorer
        client = signed_in(scorer)
        with django_assert_max_num_queries(12):
            assert client.get("/review/scoring/").status_code == 200


class ScoreCaseViewTests:
    def test_a_score_is_recorded_once(self, who, stage):
        case = case_to_scoring(who)
        client = signed_in(assigned(case)[0])
        url = f"/review/scoring/cases/{case.pk}/"
        assert client.post(url, form_for(stage, 7, 8, 9)).status_code == 302
        again = client.post(url, form_for(stage, 1, 1, 1))
        assert again.status_code == 409
        assert "未作任何更改" in again.content.decode()
        score = Score.objects.get()
        assert score.points == {
            str(c.pk): p for c, p in zip(stage.criteria.all(), (7, 8, 9), strict=True)
        }

    def test_a_missing_criterion_is_explained_and_nothing_recorded(self, who, stage):
        case = case_to_scoring(who)
        response = signed_in(assigned(case)[0]).post(
            f"/review/scoring/cases/{case.pk}/", form_for(stage, 7, 8)
        )
        assert response.status_code == 400
        assert "请为每项标准评分" in response.content.decode()
        assert not Score.objects.exists()

    def test_an_abstention_needs_no_points(self, who, stage):
        case = case_to_scoring(who)
        response = signed_in(assigned(case)[0]).post(
            f"/review/scoring/cases/{case.pk}/", form_for(stage, kind="abstain")
        )
        assert response.status_code == 302
        assert Score.objects.get().kind == Score.Kind.ABSTAIN

    def test_someone_not_assigned_gets_404(self, who, stage, panel_members):
        case = case_to_scoring(who)
        free = next(p for p in panel_members if p not in assigned(case))
        url = f"/review/scoring/cases/{case.pk}/"
        assert signed_in(free).get(url).status_code == 404
        assert signed_in(free).post(url, form_for(stage, 5, 5, 5)).status_code == 404
        assert not Score.objects.exists()


class ResultsViewTests:
    def test_results_and_downloads(self, who, stage):
        first = case_to_scoring(who, title="第一名案例")
        second = case_to_scoring(who, title="第二名案例")
        for case, points in ((first, (9, 9, 9)), (second, (5, 5, 5))):
            for scorer in assigned(case):
                signed_in(scorer).post(
                    f"/review/scoring/cases/{case.pk}/", form_for(stage, *points)
                )
        client = signed_in(who.editor)
        page = client.get(f"/review/scoring/stages/{stage.pk}/").content.decode()
        assert page.index("第一名案例") < page.index("第二名案例")
        download = client.get(
            f"/review/scoring/stages/{stage.pk}/?table=scores&format=csv"
        )
        rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
        assert len(rows) == 1 + 4
        assert "90.00" in rows[1]
        ranking = client.get(
            f"/review/scoring/stages/{stage.pk}/?table=ranking&format=xlsx"
        )
        assert ranking.status_code == 200
        assert ranking["Content-Type"].startswith("application/vnd.openxml")

    def test_the_results_page_costs_the_same_with_many_cases(
        self, who, stage, django_assert_max_num_queries
    ):
        client = signed_in(who.editor)
        url = f"/review/scoring/stages/{stage.pk}/"

        def cost():
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            return len(queries)

        def add(n):
            case = case_to_scoring(who, title=f"案例{n}")
            signed_in(assigned(case)[0]).post(
                f"/review/scoring/cases/{case.pk}/", form_for(stage, n, n, n)
            )

        add(0)
        add(1)
        few = cost()
        for n in range(2, 10):
            add(n)
        assert cost() == few
        with django_assert_max_num_queries(22):
            page = client.get(url)
        assert page.content.decode().count("data-scoring-case=") == 10

    def test_the_panel_sees_results_others_do_not(self, who, stage, panel_members):
        url = f"/review/scoring/stages/{stage.pk}/"
        assert signed_in(panel_members[0]).get(url).status_code == 200
        assert signed_in(who.reviewer1).get(url).status_code == 403

    def test_the_editor_takes_the_top_one(self, who, stage):
        first = case_to_scoring(who, title="第一名案例")
        second = case_to_scoring(who, title="第二名案例")
        for case, points in ((first, (9, 9, 9)), (second, (5, 5, 5))):
            for scorer in assigned(case):
                signed_in(scorer).post(
                    f"/review/scoring/cases/{case.pk}/", form_for(stage, *points)
                )
        response = signed_in(who.editor).post(
            f"/editor/scoring/{stage.pk}/accept/", {"campaign": "", "count": 1}
        )
        assert response.status_code == 302
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.status == Case.Status.APPROVED
        assert second.status == Case.Status.IN_REVIEW

    def test_the_editor_reassigns_and_a_conflict_is_refused(
        self, who, stage, panel_members
    ):
        case = case_to_scoring(who)
        assignment = ScoreAssignment.objects.filter(case=case).first()
        free = next(p for p in panel_members if p not in assigned(case))
        url = f"/review/scoring/assignments/{assignment.pk}/reassign/"
        assert (
            signed_in(panel_members[0]).post(url, {"new_scorer": free.pk}).status_code
            == 403
        )
        response = signed_in(who.editor).post(url, {"new_scorer": free.pk})
        assert response.status_code == 302
        assignment.refresh_from_db()
        assert assignment.scorer == free


class DeadlineAndPanelViewTests:
    def test_past_the_deadline_the_form_is_gone_and_a_post_records_nothing(
        self, who, stage
    ):
        case = case_to_scoring(who)
        stage.scoring_deadline = timezone.now() - datetime.timedelta(hours=1)
        stage.save()
        client = signed_in(assigned(case)[0])
        url = f"/review/scoring/cases/{case.pk}/"
        page = client.get(url).content.decode()
        assert "data-scoring-closed" in page and "data-score-form" not in page
        response = client.post(url, form_for(stage, 5, 5, 5))
        assert response.status_code == 409
        assert "评分截止时间" in response.content.decode()
        assert not Score.objects.exists()

    def test_someone_taken_off_the_panel_gets_404(self, who, stage):
        case = case_to_scoring(who)
        scorer = assigned(case)[0]
        scorer.groups.remove(stage.reviewer_group)
        client = signed_in(scorer)
        url = f"/review/scoring/cases/{case.pk}/"
        assert client.get(url).status_code == 404
        assert client.post(url, form_for(stage, 5, 5, 5)).status_code == 404
        assert "党建引领新篇章" not in client.get("/review/scoring/").content.decode()
        assert not Score.objects.exists()


class BlindResultsViewTests:
    def test_before_the_deadline_a_panel_member_sees_only_their_own(self, who, stage):
        stage.scoring_deadline = timezone.now() + datetime.timedelta(days=2)
        stage.save()
        case = case_to_scoring(who, title="待评分的案例")
        first, second = assigned(case)
        signed_in(first).post(
            f"/review/scoring/cases/{case.pk}/", form_for(stage, 9, 9, 9)
        )
        signed_in(second).post(
            f"/review/scoring/cases/{case.pk}/", form_for(stage, 3, 3, 3)
        )
        url = f"/review/scoring/stages/{stage.pk}/"
        page = signed_in(first).get(url).content.decode()
        assert "data-results-closed" in page and "data-ranking" not in page
        assert "90.00" in page and "30.00" not in page and "60.00" not in page
        for table in ("ranking", "scores"):
            download = signed_in(first).get(f"{url}?table={table}&format=csv")
            assert download.status_code == 403
        editor_page = signed_in(who.editor).get(url).content.decode()
        assert "60.00" in editor_page

    def test_after_the_deadline_the_panel_sees_the_ranking(self, who, stage):
        case = case_to_scoring(who, title="待评分的案例")
        first, second = assigned(case)
        for scorer, points in ((first, (9, 9, 9)), (second, (3, 3, 3))):
            signed_in(scorer).post(
                f"/review/scoring/cases/{case.pk}/", form_for(stage, *points)
            )
        stage.scoring_deadline = timezone.now() - datetime.timedelta(minutes=1)
        stage.save()
        page = signed_in(first).get(f"/review/scoring/stages/{stage.pk}/")
        assert "60.00" in page.content.decode()
        # Only editors act on the cases.
        assert "data-close-form" not in page.content.decode()


class EditorActionViewTests:
    def test_the_editor_returns_a_case_from_the_results_page(self, who, stage):
        case = case_to_scoring(who, title="无人评分的案例")
        url = f"/review/scoring/stages/{stage.pk}/"
        page = signed_in(who.editor).get(url).content.decode()
        assert "data-close-form" in page and "data-add-scorer" in page
        body = {
            "outcome": "return",
            "comment": "请修改后再报",
            "revision": case.revisions.get().pk,
        }
        close = f"/review/scoring/cases/{case.pk}/close/"
        panelist = assigned(case)[0]
        assert signed_in(panelist).post(close, body).status_code == 403
        case.refresh_from_db()
        assert case.status == Case.Status.IN_REVIEW
        response = signed_in(who.editor).post(close, {**body, "comment": ""})
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.status == Case.Status.IN_REVIEW
        assert signed_in(who.editor).post(close, body).status_code == 302
        case.refresh_from_db()
        assert case.status == Case.Status.RETURNED
        event = CaseEvent.objects.filter(case=case).order_by("-pk").first()
        assert (event.action, event.actor) == ("return", who.editor)
        # It has left the round, and the ranking.
        page = signed_in(who.editor).get(url).content.decode()
        assert "无人评分的案例" not in page

    def test_the_editor_adds_a_scorer(self, who, stage, panel_members):
        case = case_to_scoring(who)
        free = next(p for p in panel_members if p not in assigned(case))
        url = f"/review/scoring/cases/{case.pk}/scorers/"
        assert signed_in(free).post(url, {"new_scorer": free.pk}).status_code == 403
        response = signed_in(who.editor).post(url, {"new_scorer": free.pk})
        assert response.status_code == 302
        assert free in assigned(case)
        page = signed_in(free).get("/review/scoring/").content.decode()
        assert case.title in page


class ScoringLinkTests:
    def test_editors_see_the_link_only_with_a_scoring_stage_in_use(self, who):
        client = signed_in(who.editor)
        assert 'href="/review/scoring/"' not in client.get("/desk/").content.decode()
        stage = scoring_stage(members=[UserFactory(username="expert")], per_case=1)
        assert 'href="/review/scoring/"' in client.get("/desk/").content.decode()
        stage.is_active = False
        stage.save()
        assert 'href="/review/scoring/"' not in client.get("/desk/").content.decode()
