"""Asking for an export and building it: the job, its progress, its file."""

import datetime
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext

from casehub.exceptions import NotPermitted
from exports import services
from exports.models import ExportJob, export_stale_period
from exports.sources import ExportSourceMissing
from exports.tasks import (
    export_job_build_task,
    exports_prune_task,
    exports_revive_stalled_task,
)
from showcase import services as showcase
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


def stalled(job, **fields):
    """Make `job` silent for longer than EXPORT_STALE_MINUTES."""
    moment = timezone.now() - export_stale_period() - timedelta(seconds=1)
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=moment, **fields)


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

    def test_asking_again_for_a_stalled_job_builds_it_afresh(
        self, who, django_capture_on_commit_callbacks
    ):
        issue = two_case_issue(who)
        stuck = request(issue, who.editor)
        # Its worker was killed at case 1 of 2, three minutes and more ago.
        stalled(stuck, status=ExportJob.Status.RUNNING, done_count=1)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            again = request(issue, who.editor)
        assert again == stuck
        assert len(callbacks) == 1
        again.refresh_from_db()
        assert again.status == ExportJob.Status.DONE
        assert (again.build, again.interruptions) == (2, 1)
        assert again.done_count == again.total_count == 2
        assert ExportJob.objects.count() == 1

    def test_a_job_still_moving_is_left_alone(
        self, who, django_capture_on_commit_callbacks
    ):
        issue = two_case_issue(who)
        job = request(issue, who.editor)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.RUNNING,
            done_count=1,
            heartbeat_at=timezone.now() - export_stale_period() + timedelta(seconds=20),
        )
        with django_capture_on_commit_callbacks() as callbacks:
            assert request(issue, who.editor) == job
            assert services.exports_revive_stalled() == 0
        assert callbacks == []
        job.refresh_from_db()
        assert (job.status, job.done_count, job.build) == ("running", 1, 1)

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

        def watched(source, *, progress, **options):
            def report(done, total):
                progress(done, total)
                row = ExportJob.objects.get(pk=job.pk)
                seen.append((row.status, row.done_count, row.total_count))

            return build(source, progress=report, **options)

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

        def racing(source, *, progress, **options):
            if not inner_runs:
                inner_runs.append(1)
                # Another delivery of the same job finishes first.
                services.export_job_build(job_id=job.pk)
            return build(source, progress=progress, **options)

        monkeypatch.setattr(services, "document_build", racing)
        export_job_build_task.delay(job.pk)
        job.refresh_from_db()
        assert job.status == ExportJob.Status.DONE
        assert len(list(Path(settings.EXPORT_ROOT).rglob("*.docx"))) == 1

    def test_a_failed_build_says_so(self, who, monkeypatch):
        issue = two_case_issue(who)
        job = request(issue, who.editor)

        def broken(source, *, progress, **options):
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


class ExportReviveTests:
    """The sweep the beat runs every minute, and tasks for builds given up."""

    def test_the_sweep_builds_a_stalled_running_job_again(
        self, who, settings, django_capture_on_commit_callbacks
    ):
        tasks = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
        assert "exports.tasks.exports_revive_stalled_task" in tasks
        issue = two_case_issue(who)
        job = request(issue, who.editor)
        stalled(job, status=ExportJob.Status.RUNNING, done_count=1)
        fresh = request(issue, who.reviewer1)
        with django_capture_on_commit_callbacks(execute=True):
            assert exports_revive_stalled_task.delay().get() == 1
        job.refresh_from_db()
        assert job.status == ExportJob.Status.DONE
        assert (job.build, job.interruptions, job.done_count) == (2, 1, 2)
        assert job.file
        fresh.refresh_from_db()
        assert (fresh.status, fresh.build) == (ExportJob.Status.QUEUED, 1)

    def test_a_queued_job_whose_task_never_came_is_sent_again(
        self, who, django_capture_on_commit_callbacks
    ):
        job = request(two_case_issue(who), who.editor)  # its task never sent
        stalled(job)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.exports_revive_stalled() == 1
        job.refresh_from_db()
        assert job.status == ExportJob.Status.DONE
        # Not an interruption: the build was never under way.
        assert (job.build, job.interruptions) == (1, 0)

    def test_the_old_task_of_a_build_given_up_does_nothing(self, who, monkeypatch):
        issue = two_case_issue(who)
        with committed():
            job = request(issue, who.editor)
        job.refresh_from_db()
        stalled(job, status=ExportJob.Status.RUNNING, build=2)
        name = job.file.name

        def refuse(*args, **kwargs):
            raise AssertionError("built again")

        monkeypatch.setattr(services, "document_build", refuse)
        # The first build's task, handed back an hour after its worker died.
        export_job_build_task.delay(job.pk, 1)
        job.refresh_from_db()
        assert (job.status, job.build) == (ExportJob.Status.RUNNING, 2)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.DONE)
        export_job_build_task.delay(job.pk, 2)
        job.refresh_from_db()
        assert job.file.name == name

    def test_a_build_given_up_while_it_runs_stops_and_keeps_nothing(
        self, who, monkeypatch
    ):
        issue = issue_with_cases(who, {"title": "甲"}, {"title": "乙"})
        job = request(issue, who.editor)
        build = services.document_build

        def overtaken(source, *, progress, **options):
            def report(done, total):
                if done == 1:
                    # Too slow: the sweep took it for lost and queued build 2.
                    ExportJob.objects.filter(pk=job.pk).update(
                        build=2, status=ExportJob.Status.QUEUED
                    )
                progress(done, total)

            return build(source, progress=report, **options)

        monkeypatch.setattr(services, "document_build", overtaken)
        assert services.export_job_build(job_id=job.pk, build=1) is None
        job.refresh_from_db()
        assert (job.status, job.build) == (ExportJob.Status.QUEUED, 2)
        assert not job.file
        assert not list(Path(settings.EXPORT_ROOT).rglob("*.docx"))

    def test_a_spare_task_for_a_build_in_hand_does_nothing(self, who):
        job = request(two_case_issue(who), who.editor)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.RUNNING, done_count=1, build_task_id="first-task"
        )
        assert (
            services.export_job_build(job_id=job.pk, build=1, task_id="spare") is None
        )
        job.refresh_from_db()
        assert (job.status, job.done_count, job.interruptions) == ("running", 1, 0)

    def test_a_build_lost_again_and_again_is_given_up(self, who):
        issue = two_case_issue(who)
        job = request(issue, who.editor)
        stalled(
            job,
            status=ExportJob.Status.RUNNING,
            interruptions=services.MAX_INTERRUPTIONS,
        )
        assert services.exports_revive_stalled() == 1
        job.refresh_from_db()
        assert job.status == ExportJob.Status.FAILED
        assert job.error_message == in_chinese(
            "The export was interrupted several times and has been stopped. Try "
            "again; if it stops again, tell the site's administrators."
        )
        # A person asking again gets a new export.
        assert request(issue, who.editor) != job

    def test_the_same_task_handed_back_after_its_worker_died_counts(self, who):
        job = request(two_case_issue(who), who.editor)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.RUNNING,
            build_task_id="task-1",
            interruptions=services.MAX_INTERRUPTIONS,
        )
        # It killed its worker every time: not a fourth time.
        assert (
            services.export_job_build(job_id=job.pk, build=1, task_id="task-1") is None
        )
        job.refresh_from_db()
        assert job.status == ExportJob.Status.FAILED


class ExportDegradeTests:
    def test_a_case_that_cannot_be_laid_out_is_exported_plainly(self, who, monkeypatch):
        from exports import docx

        issue = issue_with_cases(
            who,
            {"title": "甲", "body": "<p>正文甲。</p>"},
            {
                "title": "乙",
                "lead": "乙的导语。",
                "body": "<h2>一、标题</h2><p>第一段<strong>加粗</strong>。</p>"
                "<ul><li>要点</li></ul>",
            },
            {"title": "丙", "body": "<p>正文丙。</p>"},
        )
        write = docx._case_write

        def broken_for_one(writer, case):
            write(writer, case)  # a half-written case is taken out again
            if case.title == "乙":
                raise ValueError("python-docx refused something")

        monkeypatch.setattr(docx, "_case_write", broken_for_one)
        with committed():
            job = request(issue, who.editor)
        job.refresh_from_db()
        assert job.status == ExportJob.Status.DONE
        assert job.notes == ["案例《乙》的格式无法完整导出，已按纯文本导出。"]
        document = opened(Path(job.file.path).read_bytes())
        assert styled(document, "Heading 1") == ["甲", "乙", "丙"]
        assert styled(document, "Heading 2") == []
        assert styled(document, "List Bullet") == []
        assert styled(document, "Case Body") == [
            "正文甲。",
            "乙的导语。",
            "一、标题",
            "第一段加粗。",
            "要点",
            "正文丙。",
        ]


@pytest.mark.django_db(transaction=True)
class ExportReviveRaceTests:
    """A stalled job asked for and swept at once, each in its own connection."""

    def test_clicks_and_sweeps_at_once_on_a_stalled_job_start_one_build(
        self, who, monkeypatch
    ):
        if connection.vendor != "postgresql":
            service_missing("concurrent requests are tested on PostgreSQL")
        issue = two_case_issue(who)
        with monkeypatch.context() as lost:
            # Its task went with a worker that was killed.
            lost.setattr(services, "_build_queue", lambda job_id, build: None)
            job = request(issue, who.editor)
        stalled(job, status=ExportJob.Status.RUNNING, done_count=1)
        barrier = threading.Barrier(4)
        jobs, errors = [], []

        def click_or_sweep(index):
            try:
                barrier.wait(timeout=10)
                if index % 2:
                    services.exports_revive_stalled()
                else:
                    jobs.append(request(issue, who.editor).pk)
            except Exception as error:  # reported below, with the thread's error
                errors.append(error)
            finally:
                connection.close()

        threads = [
            threading.Thread(target=click_or_sweep, args=(index,)) for index in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert set(jobs) == {job.pk}
        job.refresh_from_db()
        assert (job.status, job.build, job.interruptions) == ("done", 2, 1)
        assert len(list(Path(settings.EXPORT_ROOT).rglob("*.docx"))) == 1
