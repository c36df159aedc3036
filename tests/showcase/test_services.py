import datetime
import importlib
import os
import subprocess
import sys
import zoneinfo

import pytest
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from casehub.exceptions import CaseActionError, NotPermitted, WrongState
from inbox.models import Notification
from review.models import CaseEvent
from showcase import services
from showcase.models import Issue, QueueEntry, ShowcaseEvent
from showcase.selectors import approved_queue, upcoming_slots
from submissions.models import Case
from tests.conftest import service_missing
from tests.review.factories import committed
from tests.showcase.factories import (
    approved_case,
    people,
    planned_issue,
    published_issue,
    series,
)
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def the_series():
    return series()


class NumberingTests:
    def test_numbers_are_given_at_publication_in_order(self, who, the_series):
        first = planned_issue(who, the_series)
        second = planned_issue(who, the_series)
        assert first.number is None and second.number is None
        services.issue_publish(issue=second, acting_user=who.editor)
        services.issue_publish(issue=first, acting_user=who.editor)
        first.refresh_from_db()
        second.refresh_from_db()
        assert (second.number, first.number) == (1, 2)

    def test_an_empty_issue_is_not_published_and_takes_no_number(self, who, the_series):
        empty = planned_issue(who, the_series, cases=[])
        with pytest.raises(WrongState):
            services.issue_publish(issue=empty, acting_user=who.editor)
        empty.refresh_from_db()
        assert (empty.status, empty.number) == (Issue.Status.PLANNED, None)
        assert published_issue(who, the_series).number == 1

    def test_an_unpublished_issue_keeps_its_number(self, who, the_series):
        published_issue(who, the_series)
        second = published_issue(who, the_series)
        services.issue_unpublish(
            issue=second, acting_user=who.editor, reason="信息有误"
        )
        third = published_issue(who, the_series)
        second.refresh_from_db()
        assert (second.status, second.number) == (Issue.Status.UNPUBLISHED, 2)
        assert third.number == 3

    def test_series_number_independently(self, who, the_series):
        other = series(slug="other", title="另一个系列")
        assert published_issue(who, the_series).number == 1
        assert published_issue(who, other).number == 1

    def test_publishing_twice_is_refused(self, who, the_series):
        issue = published_issue(who, the_series)
        with pytest.raises(WrongState):
            services.issue_publish(issue=issue, acting_user=who.editor)
        assert Issue.objects.get().number == 1


class PublishTests:
    def test_publishing_moves_the_cases_and_writes_the_audit(self, who, the_series):
        case = approved_case(who)
        issue = planned_issue(who, the_series, cases=[case])
        case.refresh_from_db()
        assert case.status == Case.Status.SCHEDULED
        with committed():
            services.issue_publish(issue=issue, acting_user=who.editor)
        case.refresh_from_db()
        assert case.status == Case.Status.PUBLISHED
        assert case.published_at is not None
        actions = list(case.events.values_list("action", flat=True))
        assert actions[-2:] == [CaseEvent.Action.SCHEDULE, CaseEvent.Action.PUBLISH]
        # The case's moves are in its own trail only; the issue's log holds
        # what happened to the issue.
        logged = list(ShowcaseEvent.objects.values_list("action", flat=True))
        assert logged == ["issue_plan", "issue_publish"]
        schedule, publish = case.events.filter(
            action__in=[CaseEvent.Action.SCHEDULE, CaseEvent.Action.PUBLISH]
        ).order_by("pk")
        assert "计划于" in schedule.comment
        assert publish.comment == str(Issue.objects.get(pk=issue.pk))
        # The branch hears that its case is out.
        told = Notification.objects.filter(event__action=CaseEvent.Action.PUBLISH)
        assert sorted(told.values_list("recipient__username", flat=True)) == [
            "correspondent",
            "secretary",
        ]

    def test_only_editors_plan_and_publish(self, who, the_series):
        case = approved_case(who)
        for user in (who.secretary, who.reviewer2, who.outsider):
            with pytest.raises(NotPermitted):
                services.issue_plan(
                    series=the_series,
                    scheduled_at=timezone.now(),
                    acting_user=user,
                    cases=[case],
                )
        issue = planned_issue(who, the_series, cases=[case])
        with pytest.raises(NotPermitted):
            services.issue_publish(issue=issue, acting_user=who.reviewer1)
        assert Issue.objects.get().status == Issue.Status.PLANNED

    def test_only_approved_cases_go_into_an_issue(self, who, the_series):
        from tests.review.factories import case_in_state

        in_review = case_in_state(who, "in_review_1")
        with pytest.raises(WrongState):
            planned_issue(who, the_series, cases=[in_review])
        assert not Issue.objects.exists()

    def test_unpublishing_needs_a_reason_and_returns_cases_held(self, who, the_series):
        issue = published_issue(who, the_series)
        with pytest.raises(WrongState):
            services.issue_unpublish(issue=issue, acting_user=who.editor, reason=" ")
        services.issue_unpublish(issue=issue, acting_user=who.editor, reason="撤下")
        case = issue.cases.get()
        assert case.status == Case.Status.APPROVED
        assert QueueEntry.objects.get(case=case).is_held
        assert issue.entries.count() == 1  # the record stays

    def test_remove_reorder_and_delete_a_planned_issue(self, who, the_series):
        first, second = approved_case(who), approved_case(who)
        issue = planned_issue(who, the_series, cases=[first, second])
        services.issue_case_move(
            issue=issue, case=second, acting_user=who.editor, offset=-1
        )
        assert list(issue.entries.values_list("case_id", flat=True)) == [
            second.pk,
            first.pk,
        ]
        services.issue_case_remove(issue=issue, case=first, acting_user=who.editor)
        first.refresh_from_db()
        assert first.status == Case.Status.APPROVED
        services.issue_delete_planned(issue=issue, acting_user=who.editor)
        second.refresh_from_db()
        assert second.status == Case.Status.APPROVED
        assert not Issue.objects.exists()


class QueueTests:
    def test_queue_is_in_approval_order_with_pinned_first(self, who):
        first, second, third = (approved_case(who) for _ in range(3))
        assert list(approved_queue()) == [first, second, third]
        services.queue_pin(case=third, acting_user=who.editor, pinned=True)
        services.queue_hold(case=first, acting_user=who.editor, held=True)
        assert list(approved_queue()) == [third, second, first]

    def test_only_editors_pin(self, who):
        case = approved_case(who)
        with pytest.raises(NotPermitted):
            services.queue_pin(case=case, acting_user=who.reviewer1, pinned=True)


class ScheduleTests:
    def test_publish_due_publishes_what_is_due_at_its_slot(self, who, the_series):
        slot = timezone.now() - datetime.timedelta(hours=1)
        due = planned_issue(who, the_series, when=slot)
        later = planned_issue(
            who, the_series, when=timezone.now() + datetime.timedelta(days=1)
        )
        assert services.issues_publish_due() == services.PublishDue(published=[due])
        assert services.issues_publish_due() == services.PublishDue()
        due.refresh_from_db()
        later.refresh_from_db()
        assert (due.status, due.number, due.published_at) == ("published", 1, slot)
        assert later.status == Issue.Status.PLANNED

    def test_an_empty_due_issue_waits_and_takes_no_number(self, who, the_series):
        planned_issue(
            who, the_series, cases=[], when=timezone.now() - datetime.timedelta(hours=1)
        )
        empty = Issue.objects.get()
        assert services.issues_publish_due().failed == [empty.pk]
        empty.refresh_from_db()
        assert (empty.status, empty.number) == (Issue.Status.PLANNED, None)

    def test_one_issue_that_fails_does_not_stop_the_others(
        self, who, the_series, monkeypatch, caplog
    ):
        slot = timezone.now() - datetime.timedelta(hours=2)
        bad = planned_issue(who, the_series, when=slot)
        good = planned_issue(who, the_series, when=slot + datetime.timedelta(hours=1))
        summary = services._issue_summary

        def breaks_for_bad(issue):
            if issue.pk == bad.pk:
                raise RuntimeError("the disk is full")
            return summary(issue)

        monkeypatch.setattr(services, "_issue_summary", breaks_for_bad)
        result = services.issues_publish_due()
        assert result == services.PublishDue(published=[good], failed=[bad.pk])
        bad.refresh_from_db()
        good.refresh_from_db()
        # The bad issue's transaction is undone whole: no number, cases waiting.
        assert (bad.status, bad.number) == (Issue.Status.PLANNED, None)
        assert bad.cases.get().status == Case.Status.SCHEDULED
        assert (good.status, good.number) == (Issue.Status.PUBLISHED, 1)
        assert f"issue {bad.pk} not published" in caplog.text
        assert "the disk is full" in caplog.text

    def test_an_issue_timed_before_the_calendar_waits_for_an_editor(
        self, who, the_series, caplog
    ):
        stray = planned_issue(who, the_series)
        Issue.objects.filter(pk=stray.pk).update(
            scheduled_at=datetime.datetime(1999, 12, 31, tzinfo=datetime.UTC)
        )
        good = planned_issue(
            who, the_series, when=timezone.now() - datetime.timedelta(hours=1)
        )
        result = services.issues_publish_due()
        assert result == services.PublishDue(published=[good], failed=[stray.pk])
        assert Issue.objects.get(pk=stray.pk).status == Issue.Status.PLANNED
        assert f"issue {stray.pk} not published" in caplog.text

    def test_a_time_outside_the_calendar_is_refused_by_the_service(
        self, who, the_series
    ):
        with pytest.raises(CaseActionError, match="2000-01-01"):
            services.issue_plan(
                series=the_series,
                scheduled_at=datetime.datetime(1, 1, 1, tzinfo=datetime.UTC),
                acting_user=who.editor,
            )
        assert not Issue.objects.exists()

    def test_the_beat_task_returns_what_it_published(self, who, the_series):
        from showcase.tasks import issues_publish_due_task

        due = planned_issue(
            who, the_series, when=timezone.now() - datetime.timedelta(hours=1)
        )
        assert issues_publish_due_task() == [due.pk]

    def test_weekly_slots_fall_on_the_series_day_and_time(self, the_series):
        slots = upcoming_slots(series=the_series, count=3)
        local = [timezone.localtime(slot) for slot in slots]
        assert all(slot.weekday() == the_series.publish_weekday for slot in local)
        assert all(slot.time() == the_series.publish_time for slot in local)
        assert slots[0] > timezone.now()
        assert slots[1] - slots[0] == datetime.timedelta(weeks=1)

    def test_the_beat_schedule_runs_publishing_and_folding(self):
        tasks = {
            entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
        }
        assert {
            "showcase.tasks.issues_publish_due_task",
            "showcase.tasks.views_fold_task",
        } <= tasks


@pytest.mark.django_db(transaction=True)
class ConcurrentPublishTests:
    """`publish_due` in two processes at once, on PostgreSQL."""

    def test_two_processes_publish_each_issue_once_with_gapless_numbers(self):
        if connection.vendor != "postgresql":
            service_missing(
                "concurrent publishing is tested on PostgreSQL; set DATABASE_URL"
            )
        who = people()
        the_series = series()
        past = timezone.now() - datetime.timedelta(hours=1)
        for _ in range(6):
            planned_issue(who, the_series, when=past)
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": (
                f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}"
                f":{db['PORT'] or 5432}/{db['NAME']}"
            ),
            "CONN_MAX_AGE": "0",
        }
        command = [sys.executable, "manage.py", "publish_due"]
        processes = [
            subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
                command,
                cwd=django_settings.BASE_DIR,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=120) for process in processes]
        assert all(process.returncode == 0 for process in processes), outputs
        numbers = sorted(
            Issue.objects.filter(status="published").values_list("number", flat=True)
        )
        assert numbers == [1, 2, 3, 4, 5, 6]
        published_lines = sum(out.count("published 「") for out, _err in outputs)
        assert published_lines == 6
        assert ShowcaseEvent.objects.filter(action="issue_publish").count() == 6


BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
MIGRATION = "showcase.migrations.0002_dates_in_calendar"


class OutOfCalendarRowTests:
    """A BC publish time stored before the forms refused one, on PostgreSQL,
    where reading it back fails ("timestamp too small" / year out of range)."""

    @pytest.fixture
    def bc_issue(self, who, the_series):
        if connection.vendor != "postgresql":
            service_missing("BC timestamps exist only on PostgreSQL; set DATABASE_URL")
        issue = planned_issue(who, the_series)
        # What the old form let through: 0001-01-01 00:00 in Beijing.
        Issue.objects.filter(pk=issue.pk).update(
            scheduled_at=datetime.datetime(1, 1, 1, tzinfo=BEIJING)
        )
        with pytest.raises(Exception):  # noqa: B017 - the driver's own error
            Issue.objects.get(pk=issue.pk)
        return issue

    def test_publish_due_publishes_the_others_and_counts_it(
        self, who, the_series, bc_issue, caplog
    ):
        good = planned_issue(
            who, the_series, when=timezone.now() - datetime.timedelta(hours=1)
        )
        result = services.issues_publish_due()
        assert result == services.PublishDue(published=[good], failed=[bc_issue.pk])
        assert f"issue {bc_issue.pk} not published" in caplog.text

    def test_the_migration_makes_it_readable_and_the_pages_open(
        self, who, bc_issue, admin_client
    ):
        migration = importlib.import_module(
            "showcase.migrations.0002_dates_in_calendar"
        )
        migration.issue_times_into_calendar(django_apps, None)
        issue = Issue.objects.get(pk=bc_issue.pk)
        assert issue.scheduled_at == migration.MARKER
        assert issue.status == Issue.Status.PLANNED
        desk = signed_in(who.editor).get("/editor/")
        assert desk.status_code == 200
        assert "1999-12-31 23:59" in desk.content.decode()
        assert admin_client.get("/admin/showcase/issue/").status_code == 200
        # Still outside the range: it waits for an editor, it is not published.
        assert services.issues_publish_due().failed == [issue.pk]
