"""Series and issues for tests, brought about through the services."""

import datetime

from django.utils import timezone

from showcase import services
from showcase.models import Series
from tests.review.factories import case_in_state, committed, people


def series(**fields) -> Series:
    values = {
        "slug": "dangjian",
        "title": "「党建引领」系列案例展播",
        "name": "党建引领",
        "column": "基层党建",
        "editors_note": "<p>编者按：展示基层党建的生动实践。</p>",
    }
    values.update(fields)
    return Series.objects.create(**values)


def approved_case(who, **content):
    case = case_in_state(who, "approved")
    if content:
        case.__class__.objects.filter(pk=case.pk).update(**content)
        case.refresh_from_db()
    return case


def planned_issue(who, the_series, *, cases=None, when=None):
    cases = [approved_case(who)] if cases is None else cases
    return services.issue_plan(
        series=the_series,
        scheduled_at=when or timezone.now() + datetime.timedelta(days=3),
        acting_user=who.editor,
        cases=cases,
    )


def published_issue(who, the_series, *, cases=None):
    issue = planned_issue(who, the_series, cases=cases)
    with committed():
        return services.issue_publish(issue=issue, acting_user=who.editor)


__all__ = ["approved_case", "people", "planned_issue", "published_issue", "series"]
