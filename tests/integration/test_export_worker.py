"""A Word export whose Celery worker is SIGKILLed mid-build, against real
PostgreSQL, Redis and worker processes."""

import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from casehub.celery import app as celery_app
from exports import services
from exports.models import ExportJob
from tests.exports.factories import issue_with_cases
from tests.integration.conftest import database_url, wait_for, worker_process
from tests.review.factories import people

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# A queue of this test's own, so that no other worker takes its tasks.
QUEUE = "exports-killed-worker"
ROUTES = {
    task: {"queue": QUEUE}
    for task in (
        "exports.tasks.export_job_build_task",
        "exports.tasks.exports_revive_stalled_task",
    )
}


def start_worker(postgres, broker, folder: Path, name: str) -> subprocess.Popen:
    env = {
        "DATABASE_URL": database_url(postgres),
        "CELERY_BROKER_URL": broker,
        "MEDIA_ROOT": str(folder / "media"),
        "EXPORT_ROOT": str(folder / "exports"),
        "EXPORT_HOLD_DIR": str(folder),
        "EXPORT_TEST_QUEUE": QUEUE,
        "DJANGO_SETTINGS_MODULE": "tests.integration.export_worker_settings",
        "EMAIL_URL": f"filemail:///{folder / 'mail'}",
    }
    return worker_process(
        env=env,
        log_path=folder / f"{name}.log",
        options=[f"--queues={QUEUE}", f"--hostname={name}@%h"],
        # Its own process group: the test kills the worker and its pool at once.
        own_group=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def folder(tmp_path, settings):
    for name in ("media", "exports", "mail"):
        (tmp_path / name).mkdir()
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_ROOT = tmp_path / "exports"
    return tmp_path


@pytest.fixture
def on_redis(redis_broker):
    routes = celery_app.conf.task_routes
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_routes = ROUTES
    yield redis_broker
    celery_app.conf.task_routes = routes
    celery_app.conf.task_always_eager = True


class KilledExportWorkerTests:
    def test_an_export_whose_worker_was_killed_is_built_again_by_the_sweep(
        self, postgres, on_redis, folder
    ):
        who = people()
        issue = issue_with_cases(
            who, *({"title": f"案例{n}", "body": f"<p>正文{n}。</p>"} for n in range(4))
        )
        (folder / "hold").touch()
        first = start_worker(postgres, on_redis, folder, "first")
        second = None
        try:
            job = services.export_request(
                kind="issue", object_id=issue.pk, acting_user=who.editor
            )
            assert wait_for(lambda: (folder / "holding").exists()), "never started"
            job.refresh_from_db()
            assert (job.status, job.done_count, job.total_count) == ("running", 1, 4)
            # The whole worker dies, not only its pool process: the broker
            # keeps the task until its one-hour visibility timeout.
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=20)
            (folder / "hold").unlink()

            # Asking again now finds the same job, still on its way.
            assert (
                services.export_request(
                    kind="issue", object_id=issue.pk, acting_user=who.editor
                )
                == job
            )
            job.refresh_from_db()
            assert (job.status, job.done_count, job.build) == ("running", 1, 1)

            second = start_worker(postgres, on_redis, folder, "second")
            # Three minutes pass without a sign of life; then the beat's sweep.
            ExportJob.objects.filter(pk=job.pk).update(
                heartbeat_at=timezone.now() - timedelta(minutes=4)
            )
            entry = settings.CELERY_BEAT_SCHEDULE["exports-revive-stalled"]
            celery_app.send_task(entry["task"], queue=QUEUE)
            assert wait_for(
                lambda: ExportJob.objects.filter(
                    pk=job.pk, status=ExportJob.Status.DONE
                ).exists(),
                timeout=60,
            ), (folder / "second.log").read_text()
            job.refresh_from_db()
            assert (job.build, job.interruptions, job.done_count) == (2, 1, 4)
            built = list((folder / "exports").rglob("*.docx"))
            assert [path.name for path in built] == [Path(job.file.name).name]

            # The first build's task, handed back when its hour is up.
            celery_app.send_task(
                "exports.tasks.export_job_build_task", args=[job.pk, 1], queue=QUEUE
            )
            time.sleep(3)
            assert (
                "exports.tasks.export_job_build_task"
                in (folder / "second.log").read_text()
            )
            job.refresh_from_db()
            assert (job.status, job.build) == (ExportJob.Status.DONE, 2)
            assert list((folder / "exports").rglob("*.docx")) == built
        finally:
            (folder / "hold").unlink(missing_ok=True)
            stop(first)
            if second is not None:
                stop(second)
