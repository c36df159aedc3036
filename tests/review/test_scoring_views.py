"""评选's pages: the panel's list and form, the results and their downloads,
the editor's reassignment and taking the top into the queue."""

import csv
import io

import pytest

from review.models import Score, ScoreAssignment
from submissions.models import Case
from tests.review.factories import case_to_scoring, people, scoring_stage
from tests.submissions.factories import UserFactory, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def who():
    return people()


@pytest.fixture
def panel_members():
    return [
        UserFactory(username=f"expert{n}", first_name=f"专家{n}") for n in (1, 2, 3)
    ]


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
        for n in range(8):
            case = case_to_scoring(who, title=f"案例{n}")
            signed_in(assigned(case)[0]).post(
                f"/review/scoring/cases/{case.pk}/", form_for(stage, n, n, n)
            )
        client = signed_in(who.editor)
        with django_assert_max_num_queries(20):
            page = client.get(f"/review/scoring/stages/{stage.pk}/")
        assert page.status_code == 200

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
