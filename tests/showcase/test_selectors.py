"""The readers' reads: only what is out, and the same 404 for what is missing
and what is not (yet, or any more) for readers."""

import pytest
from django.http import Http404

from showcase import services
from showcase.models import Series
from showcase.selectors import (
    case_get_published,
    issue_entries,
    issue_get_for_readers,
    issue_get_published,
    series_get,
)
from tests.review.factories import committed
from tests.showcase.factories import (
    approved_case,
    planned_issue,
    published_issue,
    series,
)

pytestmark = pytest.mark.django_db


def unpublished(issue, who):
    with committed():
        services.issue_unpublish(issue=issue, acting_user=who.editor, reason="更正")
    issue.refresh_from_db()
    return issue


class SeriesGetTests:
    def test_an_inactive_series_is_the_same_404_as_a_missing_one(self):
        the_series = series()
        assert series_get(slug="dangjian") == the_series
        Series.objects.filter(pk=the_series.pk).update(is_active=False)
        for slug in ["dangjian", "missing"]:
            with pytest.raises(Http404):
                series_get(slug=slug)


class IssueGetTests:
    def test_a_planned_issue_is_the_same_404_as_a_missing_one(self, who):
        the_series = series()
        out = published_issue(who, the_series)
        planned_issue(who, the_series)
        assert issue_get_published(series=the_series, number=out.number) == out
        assert issue_get_for_readers(series=the_series, number=out.number) == out
        for number in [out.number + 1, "x", None, 2**70]:
            with pytest.raises(Http404):
                issue_get_for_readers(series=the_series, number=number)

    def test_an_unpublished_issue_keeps_its_page_but_is_no_longer_published(self, who):
        the_series = series()
        issue = unpublished(published_issue(who, the_series), who)
        assert issue_get_for_readers(series=the_series, number=issue.number) == issue
        with pytest.raises(Http404):
            issue_get_published(series=the_series, number=issue.number)

    def test_the_entries_in_their_order_in_one_query(
        self, who, django_assert_num_queries
    ):
        cases = [approved_case(who) for _ in range(3)]
        issue = published_issue(who, series(), cases=cases)
        with django_assert_num_queries(1):
            entries = [(e.case, e.case.branch.name) for e in issue_entries(issue=issue)]
        assert [case for case, _name in entries] == cases


class CaseGetPublishedTests:
    def test_a_published_case_with_its_issue(self, who):
        issue = published_issue(who, series())
        case = issue.cases.get()
        assert case_get_published(case_id=case.pk) == (case, issue)

    def test_an_approved_or_scheduled_case_is_the_same_404_as_a_missing_one(self, who):
        queued = approved_case(who)
        scheduled = planned_issue(who, series()).cases.get()
        for case_id in [queued.pk, scheduled.pk, scheduled.pk + 1000, "x", 2**70]:
            with pytest.raises(Http404):
                case_get_published(case_id=case_id)

    def test_a_case_whose_issue_was_taken_down_or_series_closed_is_a_404(self, who):
        issue = published_issue(who, series())
        case = issue.cases.get()
        Series.objects.filter(pk=issue.series_id).update(is_active=False)
        with pytest.raises(Http404):
            case_get_published(case_id=case.pk)
        Series.objects.filter(pk=issue.series_id).update(is_active=True)
        unpublished(issue, who)
        with pytest.raises(Http404):
            case_get_published(case_id=case.pk)
