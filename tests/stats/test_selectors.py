"""The figures behind the statistics, against figures worked out by hand."""

import datetime
from datetime import timedelta

import pytest

from review.scoring import score_record
from showcase import services as showcase
from stats.selectors import branch_figures, percentile, stage_figures
from tests.review.factories import case_to_scoring, people, scoring_stage
from tests.stats import test_stats as dashboard
from tests.stats.test_stats import APRIL, DAY, MARCH, T0, at, figures_of
from tests.submissions.factories import UserFactory

pytestmark = pytest.mark.django_db

# The dashboard's history: two organisations' March, and one case of April.
history = dashboard.history


class FigureTests:
    def test_per_organisation_in_march(self, history):
        _who, cases = history
        a, b = cases["a1"].branch.name, cases["b1"].branch.name
        rows = branch_figures(period=MARCH)
        # submitted, returned, rejected, approved, published, overdue now, views
        assert figures_of(rows) == {a: (2, 1, 1, 1, 1, 0, 5), b: (1, 0, 0, 1, 1, 1, 7)}
        rates = {row.branch.name: row.approval_rate for row in rows}
        assert rates == {a: 0.5, b: 1.0}

    def test_per_organisation_in_april(self, history):
        _who, cases = history
        a, b = cases["a1"].branch.name, cases["b1"].branch.name
        rows = branch_figures(period=APRIL)
        assert figures_of(rows) == {a: (0, 0, 0, 0, 0, 0, 5), b: (1, 0, 0, 0, 0, 1, 7)}
        assert [row.approval_rate for row in rows] == [None, None]

    def test_time_in_each_stage(self, history):
        stages = {s.stage.name: s for s in stage_figures(period=MARCH)}
        first, final = stages["初审"], stages["终审"]
        # 初审 stays ended in March: 2 days, 1 day, 4 days, 6 hours.
        assert sorted(first.durations) == [
            timedelta(hours=6),
            DAY,
            2 * DAY,
            4 * DAY,
        ]
        # Between 1 and 2 days; 70% of the way from 2 to 4 days.
        assert (first.median, first.p90) == (1.5 * DAY, 3.4 * DAY)
        assert (final.count, final.median, final.p90) == (2, DAY, DAY)
        april = {s.stage.name: s for s in stage_figures(period=APRIL)}
        # b2's stay at 终审 has not ended: only its 初审 day counts.
        assert (april["初审"].durations, april["终审"].durations) == ([DAY], [])

    def test_a_call_narrows_the_figures_to_its_cases(self, history):
        who, cases = history
        from campaigns.services import campaign_save

        campaign = campaign_save(
            acting_user=who.editor,
            title="征集",
            description="",
            series=cases["a1"].issues.get().series,
            opens_on=datetime.date(2026, 1, 1),
            closes_on=datetime.date(2026, 12, 31),
        )
        cases["a2"].__class__.objects.filter(pk=cases["a2"].pk).update(
            campaign=campaign
        )
        rows = figures_of(branch_figures(period=MARCH, campaign=campaign))
        assert rows[cases["a2"].branch.name] == (1, 1, 1, 0, 0, 0, 0)
        assert rows[cases["b1"].branch.name] == (0, 0, 0, 0, 0, 0, 0)
        stages = {
            s.stage.name: s for s in stage_figures(period=MARCH, campaign=campaign)
        }
        assert sorted(stages["初审"].durations) == [DAY, 4 * DAY]

    def test_percentile_as_a_spreadsheet_computes_it(self):
        # The same figures as MEDIAN() and PERCENTILE.INC() in Excel.
        assert percentile([], 50) is None
        assert percentile([7], 90) == 7
        assert percentile([3, 1, 2], 50) == 2
        assert percentile([1, 9], 50) == 5
        assert percentile([1, 2, 3, 4], 50) == 2.5
        assert percentile([1, 2, 3, 4], 90) == pytest.approx(3.7)
        assert percentile(list(range(1, 11)), 90) == pytest.approx(9.1)
        assert percentile([DAY, 3 * DAY], 50) == 2 * DAY


class ScoringStayTests:
    def test_scores_at_a_scoring_stage_do_not_cut_the_stay(self):
        panel = [UserFactory(username=f"expert{n}") for n in (1, 2)]
        with at(T0):
            who = people()
            stage = scoring_stage(members=panel, per_case=2)
            case = case_to_scoring(who)
        for hours, scorer in ((6, panel[0]), (12, panel[1])):
            with at(T0 + timedelta(hours=hours)):
                score_record(
                    case=case,
                    acting_user=scorer,
                    kind="scored",
                    points={c.pk: 5 for c in stage.criteria.all()},
                )
        with at(T0 + 3 * DAY):
            showcase.scored_cases_accept(
                stage=stage, campaign_id=None, count=1, acting_user=who.editor
            )
        [scoring] = [s for s in stage_figures(period=MARCH) if s.stage == stage]
        assert scoring.durations == [3 * DAY]
