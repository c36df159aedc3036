"""Asking for an export and building it: the job, its progress, its file."""

import datetime
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext

from exports import services
from exports.models import ExportJob
from exports.sources import ExportSourceMissing
from exports.tasks import export_job_build_task, exports_prune_task
from showcase import services as showcase
from submissions.exceptions import NotPermitted
from tests.conftest import service_missing
from tests.review.factories import committed
from tests.showcase.factories import planned_issue, series

from .factories import issue_with_cases, opened, styled, two_case_issue

pytestmark = pytest.mark.django_db


def in_chinese(message: str) -> str:
    """What the site, in its own language, says for `message`."""
    with translation.override("zh-hans"):
        translated = gettext(message)
    assert translated != message
    return translated


def request(issue, user):
    return services.export_request(kind="issue", object_id=issue.pk, acting_user=user)


class ExportRequestTests:
    def test_queues_a_job_that_builds_the_file_after_commit(
        self, who, django_capture_on_commit_callbacks
    ):
        issue = two_case_issue(who)
        with django_capture_on_commit_callbacks() as callbacks:
            job = request(issue, who.editor)
        assert job.status == ExportJob.Status.QUEUED
        assert (job.done_count, job.total_count) == (0, 2)
        assert job.title == "「党建引领」系列案例展播 · 第 1 期"
        assert job.file_name == "党建引领-第1期.docx"
        assert len(callbacks) == 1

        callbacks[0]()
        job.refresh_from_db()
        assert job.status == ExportJob.Status.DONE
        assert (job.done_count, job.total_count, job.percent) == (2, 2, 100)
        assert job.finished_at is not None
        path = Path(job.file.path)
        assert path.is_relative_to(Path(settings.EXPORT_ROOT))
        assert not path.is_relative_to(Path(settings.MEDIA_ROOT))
        assert styled(opened(path.read_bytes()), "Heading 1") == [
            "党建引领新篇章",
            "把支部建在攻关一线",
        ]

    def test_asking_again_while_on_its_way_finds_the_same_job(self, who):
        issue = two_case_issue(who)
        first = request(issue, who.editor)
        assert request(issue, who.editor) == first
        # Someone else asking gets an export of their own.
        other = request(issue, who.reviewer1)
        assert other != first
        assert ExportJob.objects.count() == 2

    def test_asking_after_it_is_done_builds_afresh(self, who):
        issue = two_case_issue(who)
        with committed():
            first = request(issue, who.editor)
        with committed():
            second = request(issue, who.editor)
        assert second != first
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.status == second.status == ExportJob.Status.DONE
        assert first.file.name != second.file.name

    def test_a_job_that_stopped_moving_is_given_up_and_started_again(self, who):
        issue = two_case_issue(who)
        stuck = request(issue, who.editor)
        ExportJob.objects.filter(pk=stuck.pk).update(
            updated_at=timezone.now() - services.STALE_AFTER - datetime.timedelta(1)
        )
        fresh = request(issue, who.editor)
        assert fresh != stuck
        stuck.refresh_from_db()
        assert stuck.status == ExportJob.Status.FAILED
        assert stuck.error_message

    def test_only_editors_and_reviewers_may_export(self, who):
        issue = two_case_issue(who)
        for user in (who.secretary, who.correspondent, who.outsider):
            with pytest.raises(NotPermitted):
                request(issue, user)
        assert request(issue, who.reviewer2).status == ExportJob.Status.QUEUED
        assert not ExportJob.objects.filter(requested_by=who.secretary).exists()

    def test_a_planned_or_unpublished_issue_cannot_be_exported(self, who):
        the_series = series()
        with pytest.raises(ExportSourceMissing):
            request(planned_issue(who, the_series), who.editor)
        issue = issue_with_cases(who, {"title": "甲"}, the_series=the_series)
        showcase.issue_unpublish(issue=issue, acting_user=who.editor, reason="更正")
        with pytest.raises(ExportSourceMissing):
            request(issue, who.editor)
        with pytest.raises(ExportSourceMissing):
            services.export_request(
                kind="campaign", object_id=1, acting_user=who.editor
            )


class ExportBuildTests:
    def test_progress_is_saved_after_each_case(self, who, monkeypatch):
        issue = issue_with_cases(who, {"title": "甲"}, {"title": "乙"}, {"title": "丙"})
        job = request(issue, who.editor)
        seen = []
        build = services.document_build

        def watched(source, *, progress):
            def report(done, total):
                progress(done, total)
                row = ExportJob.objects.get(pk=job.pk)
                seen.append((row.status, row.done_count, row.total_count))

            return build(source, progress=report)

        monkeypatch.setattr(services, "document_build", watched)
        export_job_build_task.delay(job.pk)
        assert seen == [("running", 1, 3), ("running", 2, 3), ("running", 3, 3)]
        job.refresh_from_db()
        assert job.status == ExportJob.Status.DONE

    def test_a_finished_job_is_not_built_again(self, who, monkeypatch):
        issue = two_case_issue(who)
        with committed():
            job = request(issue, who.editor)
        job.refresh_from_db()
        name, content = job.file.name, Path(job.file.path).read_bytes()

        def refuse(*args, **kwargs):
            raise AssertionError("built again")

        monkeypatch.setattr(services, "document_build", refuse)
        export_job_build_task.delay(job.pk)
        export_job_build_task.delay(job.pk)
        job.refresh_from_db()
        assert job.status == ExportJob.Status.DONE
        assert job.file.name == name
        assert Path(job.file.path).read_bytes() == content
        assert len(list(Path(settings.EXPORT_ROOT).rglob("*.docx"))) == 1

    def test_a_job_left_running_by_a_lost_worker_is_finished_by_the_redelivery(
        self, who
    ):
        issue = two_case_issue(who)
        job = request(issue, who.editor)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.RUNNING, done_count=1
        )
        export_job_build_task.delay(job.pk)
        job.refresh_from_db()
        assert job.status == ExportJob.Status.DONE
        assert job.done_count == job.total_count == 2

    def test_a_second_run_at_once_keeps_the_first_file(self, who, monkeypatch):
        issue = two_case_issue(who)
        job = request(issue, who.editor)
        build = services.document_build
        inner_runs = []

        def racing(source, *, progress):
            if not inner_runs:
                inner_runs.append(1)
                # Another delivery of the same job finishes first.
                services.export_job_build(job_id=job.pk)
            return build(source, progress=progress)

        monkeypatch.setattr(services, "document_build", racing)
        export_job_build_task.delay(job.pk)
        job.refresh_from_db()
        assert job.status == ExportJob.Status.DONE
        assert len(list(Path(settings.EXPORT_ROOT).rglob("*.docx"))) == 1

    def test_a_failed_build_says_so(self, who, monkeypatch):
        issue = two_case_issue(who)
        job = request(issue, who.editor)

        def broken(source, *, progress):
            raise ValueError("bad document")

        monkeypatch.setattr(services, "document_build", broken)
        export_job_build_task.delay(job.pk)
        job.refresh_from_db()
        assert job.status == ExportJob.Status.FAILED
        assert job.error_message == in_chinese(
            "The Word document could not be built. Try again; if it fails again, "
            "tell the site's administrators."
        )
        assert not job.file
        assert job.finished_at is not None
        # A failed job stays failed; asking again starts a new one.
        export_job_build_task.delay(job.pk)
        job.refresh_from_db()
        assert job.status == ExportJob.Status.FAILED
        assert request(issue, who.editor) != job

    def test_an_issue_taken_down_before_the_build_fails_the_job(self, who):
        issue = two_case_issue(who)
        job = request(issue, who.editor)
        showcase.issue_unpublish(issue=issue, acting_user=who.editor, reason="更正")
        export_job_build_task.delay(job.pk)
        job.refresh_from_db()
        assert job.status == ExportJob.Status.FAILED
        assert job.error_message == in_chinese(
            "There is nothing to export: it is no longer published."
        )

    def test_a_missing_job_is_nothing_to_do(self):
        assert services.export_job_build(job_id=987654) is None


class ExportPruneTests:
    def aged(self, job, days, **fields):
        """Move the job `days` back in time, as if it had been left that long."""
        moment = timezone.now() - datetime.timedelta(days=days)
        if job.finished_at is not None or "status" in fields:
            fields["finished_at"] = moment
        ExportJob.objects.filter(pk=job.pk).update(updated_at=moment, **fields)

    def test_old_exports_go_with_their_files_and_recent_ones_stay(self, who, settings):
        settings.EXPORT_KEEP_DAYS = 7
        issue = two_case_issue(who)
        with committed():
            old = request(issue, who.editor)
        with committed():
            recent = request(issue, who.editor)
        old.refresh_from_db()
        recent.refresh_from_db()
        self.aged(old, 8)
        self.aged(recent, 6)
        failed = request(issue, who.editor)
        self.aged(failed, 30, status=ExportJob.Status.FAILED)
        # Queued a month ago and never picked up: nothing will come of it.
        abandoned = request(issue, who.reviewer1)
        self.aged(abandoned, 30)
        waiting = request(issue, who.reviewer2)
        old_path, recent_path = Path(old.file.path), Path(recent.file.path)
        assert old_path.exists() and recent_path.exists()

        assert services.exports_prune() == 3

        assert set(ExportJob.objects.values_list("pk", flat=True)) == {
            recent.pk,
            waiting.pk,
        }
        assert not old_path.exists()
        assert recent_path.exists()

    def test_the_days_kept_are_a_setting(self, who, settings):
        with committed():
            job = request(two_case_issue(who), who.editor)
        job.refresh_from_db()
        self.aged(job, 2)
        settings.EXPORT_KEEP_DAYS = 3
        assert services.exports_prune() == 0
        settings.EXPORT_KEEP_DAYS = 1
        assert services.exports_prune() == 1
        assert not ExportJob.objects.exists()

    def test_a_file_already_gone_does_not_stop_the_others(self, who, settings):
        settings.EXPORT_KEEP_DAYS = 7
        issue = two_case_issue(who)
        jobs = []
        for user in (who.editor, who.reviewer1):
            with committed():
                jobs.append(request(issue, user))
        for job in jobs:
            job.refresh_from_db()
            self.aged(job, 10)
        Path(jobs[0].file.path).unlink()
        assert services.exports_prune() == 2
        assert not Path(jobs[1].file.path).exists()

    def test_the_pruning_runs_nightly(self, settings):
        tasks_scheduled = [e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()]
        assert "exports.tasks.exports_prune_task" in tasks_scheduled
        assert exports_prune_task.delay().get() == 0


@pytest.mark.django_db(transaction=True)
class ExportRequestRaceTests:
    """Several clicks at once, each in its own thread and connection."""

    def test_clicks_at_once_make_one_job(self, who):
        if connection.vendor != "postgresql":
            service_missing("concurrent requests are tested on PostgreSQL")
        issue = two_case_issue(who)
        barrier = threading.Barrier(4)
        jobs, errors = [], []

        def click():
            try:
                barrier.wait(timeout=10)
                jobs.append(request(issue, who.editor).pk)
            except Exception as error:  # reported below, with the thread's error
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=click) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert len(set(jobs)) == 1
        job = ExportJob.objects.get()
        assert job.status == ExportJob.Status.DONE
        assert len(list(Path(settings.EXPORT_ROOT).rglob("*.docx"))) == 1
