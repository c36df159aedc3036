""" "Overdue" has one definition, and every page, count and task reads it."""

import re
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inbox.models import Notification
from review import tasks, workflow
from review.filters import ReviewQueueFilter
from review.selectors import queue_for_stage, stage_counts
from stats.selectors import Period, branch_figures, totals
from submissions.models import Case
from tests.review.factories import case_in_state, committed, draft, reviewer, stage
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def due_at(case, when) -> Case:
    Case.objects.filter(pk=case.pk).update(stage_due_at=when)
    case.refresh_from_db()
    return case


@pytest.fixture
def late_and_early(who):
    """One case due a second ago and one due in a second, at the first stage."""
    late = due_at(case_in_state(who, "in_review_1"), NOW - timedelta(seconds=1))
    early = due_at(case_in_state(who, "in_review_1"), NOW + timedelta(seconds=1))
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield late, early


class OverdueRuleTests:
    def test_the_queryset_and_the_property_agree(self, who, late_and_early):
        late, early = late_and_early
        assert list(Case.objects.overdue()) == [late]
        assert (late.is_overdue, early.is_overdue) == (True, False)
        assert not Case.objects.overdue(NOW - timedelta(seconds=2)).exists()
        assert set(Case.objects.overdue(NOW + timedelta(seconds=2))) == {late, early}

    def test_a_case_out_of_review_is_not_overdue(self, who):
        returned = case_in_state(who, "returned")
        # A stale due time left on a case that is back with its branch.
        due_at(returned, NOW - timedelta(days=1))
        with mock.patch("django.utils.timezone.now", return_value=NOW):
            assert not Case.objects.overdue().exists()
            assert not returned.is_overdue

    def test_every_caller_agrees(self, who, late_and_early):
        late, early = late_and_early
        first = stage(1)
        assert stage_counts(stages=[first])[first.pk] == {"waiting": 2, "overdue": 1}
        only_overdue = ReviewQueueFilter(
            {"overdue": "on"}, queryset=queue_for_stage(stage=first)
        )
        assert list(only_overdue.qs) == [late]

        page = signed_in(who.reviewer1).get(reverse("review:queue")).content.decode()
        rows = re.findall(
            r"<tr( class=\"is-overdue\")?>\s*<td[^>]*><a href=\"([^\"]+)", page
        )
        assert sorted(rows, key=lambda row: row[1]) == sorted(
            [
                (' class="is-overdue"', reverse("review:case", args=[late.pk])),
                ("", reverse("review:case", args=[early.pk])),
            ],
            key=lambda row: row[1],
        )

        today = timezone.localdate(NOW)
        figures = branch_figures(period=Period(today, today))
        assert totals(figures).overdue == 1

        with committed():
            assert tasks.overdue_reminders_send.delay().get() == 1
        reminded = Notification.objects.filter(kind=Notification.Kind.REMINDER)
        assert set(reminded.values_list("case", flat=True)) == {late.pk}

    def test_the_rule_is_written_once(self):
        """No module or template outside submissions.models compares due times."""
        base = Path(settings.BASE_DIR)
        written = re.compile(r"stage_due_at__(lt|lte|gt|gte)|stage_due_at\s*[<>]")
        apps = [base / app.split(".")[0] for app in settings.INSTALLED_APPS]
        sources = [
            path
            for app in {*apps, base / "casehub"}
            if app.is_relative_to(base) and app.is_dir()
            for path in app.glob("**/*.py")
            if "migrations" not in path.parts
        ]
        sources += list((base / "templates").glob("**/*.html"))
        found = {
            str(path.relative_to(base))
            for path in sources
            if written.search(path.read_text(encoding="utf-8"))
        }
        assert found == {"submissions/models.py"}


class OverdueQueuePageTests:
    def test_queries_do_not_grow_with_overdue_rows(
        self, who, django_assert_num_queries
    ):
        client = signed_in(who.reviewer1)
        url = reverse("review:queue")
        for _ in range(2):
            due_at(case_in_state(who, "in_review_1"), NOW - timedelta(hours=1))
        due_at(case_in_state(who, "in_review_1"), NOW + timedelta(hours=1))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        few = len(captured)
        for index in range(40):
            when = NOW - timedelta(hours=1) if index % 2 else NOW + timedelta(hours=1)
            due_at(case_in_state(who, "in_review_1"), when)
        with django_assert_num_queries(few):
            response = client.get(url)
        assert len(response.context["cases"]) == 25
        assert response.content.decode().count('class="is-overdue"') >= 12


class OverdueReminderTests:
    def make_overdue(self, who):
        case = draft(who)
        with committed():
            workflow.case_submit(case=case, acting_user=who.secretary)
        # Time passes: the stage's due time is behind us.
        Case.objects.filter(pk=case.pk).update(
            stage_due_at=timezone.now() - timedelta(hours=1)
        )
        return case

    def test_reviewers_are_reminded_once_a_day(self, who, mailoutbox):
        case = self.make_overdue(who)
        other = reviewer(1, username="reviewer1b")
        mailoutbox.clear()
        # The worker runs tasks outside any transaction: queued emails go at once.
        with committed():
            assert tasks.overdue_reminders_send.delay().get() == 1
        with committed():
            assert tasks.overdue_reminders_send.delay().get() == 1
        reminders = Notification.objects.filter(kind=Notification.Kind.REMINDER)
        assert sorted(reminders.values_list("recipient__username", flat=True)) == [
            "reviewer1",
            other.username,
        ]
        assert len(mailoutbox) == 2
        assert all(case.title in mail.subject for mail in mailoutbox)

    def test_the_next_day_brings_a_new_reminder(self, who):
        self.make_overdue(who)
        tasks.overdue_reminders_send.delay()
        tomorrow = timezone.now() + timedelta(days=1)
        with mock.patch("django.utils.timezone.now", return_value=tomorrow):
            tasks.overdue_reminders_send.delay()
        assert Notification.objects.filter(kind="reminder").count() == 2

    def test_cases_within_their_time_are_left_alone(self, who):
        with committed():
            workflow.case_submit(case=draft(who), acting_user=who.secretary)
        assert tasks.overdue_reminders_send.delay().get() == 0
        assert not Notification.objects.filter(kind="reminder").exists()

    def test_the_reminder_is_on_the_beat_schedule(self):
        tasks_scheduled = [
            entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
        ]
        assert "review.tasks.overdue_reminders_send" in tasks_scheduled
