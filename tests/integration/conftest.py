"""Real services for integration tests: PostgreSQL, Redis, a Celery worker."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from casehub.celery import app as celery_app
from tests.conftest import REDIS_URL, TEST_BROKER_URL, service_missing


@pytest.fixture(scope="session")
def redis_broker():
    client = redis.Redis.from_url(TEST_BROKER_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        service_missing(f"Redis at {REDIS_URL} is not reachable ({error})")
    client.flushdb()
    return TEST_BROKER_URL


@pytest.fixture(scope="session")
def postgres(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            service_missing(
                "the Celery worker tests need PostgreSQL: set "
                "DATABASE_URL=postgres://… (SQLite's test database lives in memory)"
            )
        return dict(connection.settings_dict)


@pytest.fixture(scope="session")
def worker_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("worker")
    (root / "media").mkdir()
    (root / "mail").mkdir()
    return root


def gunicorn_command(port: int) -> list[str]:
    """gunicorn serving the site on this port: one process of four threads."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "casehub.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--threads",
        "4",
    ]


def database_url(postgres: dict) -> str:
    """The test database's address, for a process started from a test."""
    return (
        f"postgres://{postgres['USER'] or 'postgres'}@{postgres['HOST'] or '127.0.0.1'}"
        f":{postgres['PORT'] or 5432}/{postgres['NAME']}"
    )


def worker_process(*, env: dict, log_path: Path, options=(), own_group=False):
    """A real `celery worker` with `env`, started and waited for until ready.

    One pool child runs each task (prefork, concurrency 1), so a test can kill
    it mid-task and the parent hands the task back to the queue. With
    `own_group` the worker and its pool are a process group a test can kill
    at once.
    """
    # The worker writes to its own copy of the file; ours closes once it runs.
    with log_path.open("w") as log:
        process = _worker_popen(env=env, log=log, options=options, group=own_group)
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            if own_group and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.kill()
            pytest.fail(f"Celery worker did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    return process


def _worker_popen(*, env, log, options, group) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "casehub",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            *options,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ, "CONN_MAX_AGE": "0", **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=group,
    )


@pytest.fixture(scope="session")
def celery_worker(postgres, redis_broker, worker_dirs):
    """A real `celery worker` process on the test database and a Redis broker."""
    env = {
        "DATABASE_URL": database_url(postgres),
        "CELERY_BROKER_URL": redis_broker,
        "MEDIA_ROOT": str(worker_dirs / "media"),
        "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
        # django-environ drops the first slash of the path: four give an absolute one.
        "EMAIL_URL": f"filemail:///{worker_dirs / 'mail'}",
    }
    process = worker_process(env=env, log_path=worker_dirs / "worker.log")
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def with_worker(celery_worker, settings, worker_dirs):
    """Run the test against the worker: same media folder, tasks sent to Redis."""
    settings.MEDIA_ROOT = worker_dirs / "media"
    for sent in (worker_dirs / "mail").iterdir():
        sent.unlink()
    celery_app.conf.task_always_eager = False
    yield celery_worker
    celery_app.conf.task_always_eager = True
    worker_idle_wait()


def worker_idle_wait(*, timeout=20.0):
    """Wait until the worker runs no task and none waits in its queue.

    The test's tables are emptied next; a task the test set off and did not
    wait for (the emails after a publication, say) still writing then would
    deadlock with the flush and leave rows for the next test.
    """
    inspect = celery_app.control.inspect(timeout=1.0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with celery_app.connection_for_write() as connection:
            waiting = connection.default_channel.client.llen(
                celery_app.conf.task_default_queue
            )
        running = inspect.active() or {}
        if waiting == 0 and not any(running.values()):
            return
        time.sleep(0.2)


def wait_for(condition, *, timeout=30.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    return condition()


def sent_mails(worker_dirs: Path) -> list[str]:
    return [path.read_text() for path in sorted((worker_dirs / "mail").glob("*.log"))]


def mails_to(worker_dirs: Path, address: str) -> list[str]:
    return [mail for mail in sent_mails(worker_dirs) if f"To: {address}" in mail]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        assert wait_for(lambda: self._pings(client), timeout=10), "Redis did not start"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    @staticmethod
    def _pings(client) -> bool:
        try:
            return client.ping()
        except redis.RedisError:
            return False


@pytest.fixture
def own_redis():
    if shutil.which("redis-server") is None:
        service_missing("redis-server is not installed")
    server = RedisServer(free_port())
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()
