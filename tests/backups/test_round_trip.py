"""Back up a seeded site while a writer keeps saving, restore it into a fresh
database and folders, and compare: every table's rows and checksum, every
file, and the public pages served from the copy.

Each site is real: its own database (a SQLite file, or a PostgreSQL database
made for the test), its own media and export folders, and the commands run as
an operator runs them, in processes of their own.
"""

import hashlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import service_missing
from tests.integration.conftest import gunicorn_command

ROOT = Path(settings.BASE_DIR)
# The tables the writer changes while the backup runs: the draft and its
# audit trail. Every other table must come back as the site holds it.
WRITER_TABLES = {"submissions_case", "review_caseevent"}


def _postgres_server() -> dict:
    if connection.vendor != "postgresql":
        service_missing(
            "the PostgreSQL round trip needs PostgreSQL: set DATABASE_URL=postgres://…"
        )
    return dict(connection.settings_dict)


@contextmanager
def _postgres_databases(server: dict, *names: str):
    admin = psycopg.connect(
        host=server["HOST"] or "127.0.0.1",
        port=server["PORT"] or 5432,
        user=server["USER"] or "postgres",
        password=server["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    try:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
        yield
    finally:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _postgres_url(server: dict, name: str) -> str:
    password = f":{server['PASSWORD']}" if server["PASSWORD"] else ""
    return (
        f"postgres://{server['USER'] or 'postgres'}{password}@"
        f"{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}/{name}"
    )


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)]
)
def sites(request, tmp_path):
    """(source, target): the environment of each site's processes."""
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CACHE_URL", "CELERY_BROKER_URL", "FRONT_ROOT", "DATABASE_URL"}
    }
    base.update(
        DJANGO_SETTINGS_MODULE="casehub.settings", CONN_MAX_AGE="0", DEBUG="false"
    )

    def site(name: str, database_url: str) -> dict:
        (tmp_path / name).mkdir()
        return {
            **base,
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(tmp_path / name / "media"),
            "EXPORT_ROOT": str(tmp_path / name / "exports"),
        }

    if request.param == "sqlite":
        yield (
            site("source", f"sqlite:///{tmp_path / 'source.sqlite3'}"),
            site("target", f"sqlite:///{tmp_path / 'target.sqlite3'}"),
        )
        return
    server = _postgres_server()
    token = uuid.uuid4().hex[:12]
    source_name, target_name = f"casehub_backup_{token}", f"casehub_restore_{token}"
    with _postgres_databases(server, source_name, target_name):
        yield (
            site("source", _postgres_url(server, source_name)),
            site("target", _postgres_url(server, target_name)),
        )


def run(env: dict, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    finished = subprocess.run(  # noqa: S603
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return run(env, "manage.py", *args)


def manage_failing(env: dict, *args: str) -> str:
    """A command expected to fail: its output and its error."""
    finished = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode != 0, finished.stdout
    return finished.stdout + finished.stderr


def summary(env: dict) -> dict:
    return json.loads(run(env, "-m", "tests.backups.site", "summary").stdout)


def files_of(env: dict) -> dict[str, str]:
    found = {}
    for key in ("MEDIA_ROOT", "EXPORT_ROOT"):
        root = Path(env[key])
        for path in sorted(root.rglob("*")):
            if path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                found[f"{key}/{path.relative_to(root).as_posix()}"] = digest
    return found


def _lines(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def _wait_for(predicate, *, timeout=60.0, what=""):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served(env: dict):
    """gunicorn serving the site of `env`; yields a GET that returns the page."""
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603
        gunicorn_command(port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def get(path: str) -> tuple[int, str]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}",
            headers={"User-Agent": "BackupCheck/1", "Accept-Language": "zh-hans"},
        )
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status, response.read().decode()

    try:

        def up():
            try:
                return get("/healthz")[0] == 200
            except OSError:
                return False

        _wait_for(up, timeout=60, what="gunicorn")
        yield get
    finally:
        process.terminate()
        process.wait(timeout=20)


# What differs between two answers of the same page: the per-answer nonce of
# the Content-Security-Policy and the CSRF token.
VOLATILE = re.compile(r'(nonce|csrfmiddlewaretoken" value)="[^"]*"')


def page(get, path: str) -> str:
    status, body = get(path)
    assert status == 200, (path, status)
    return VOLATILE.sub(r'\1=""', body)


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.load(tar.extractfile("manifest.json"))


class BackupRoundTripTests:
    def test_a_site_saving_as_it_is_backed_up_comes_back_whole(self, sites, tmp_path):
        source, target = sites
        manage(source, "migrate", "--noinput", "-v0")
        seeded = json.loads(
            run(source, "-m", "tests.backups.site", "seed").stdout.splitlines()[-1]
        )
        log, stop = tmp_path / "saves.log", tmp_path / "stop"
        writer = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "tests.backups.site",
                "write",
                str(seeded["draft_id"]),
                str(log),
                str(stop),
            ],
            cwd=ROOT,
            env=source,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_for(lambda: len(_lines(log)) >= 3, what="the writer's saves")
            before = _lines(log)[-1]
            archive = tmp_path / "site.tar.gz"
            output = manage(source, "backup", str(archive)).stdout
            after = _lines(log)[-1]
            _wait_for(lambda: _lines(log)[-1] >= after + 3, what="saves after")
        finally:
            stop.touch()
            _, errors = writer.communicate(timeout=60)
        assert writer.returncode == 0, errors
        assert "备份已写出" in output
        # The writer kept saving while the backup ran, and after it.
        assert after > before

        manifest = manifest_of(archive)
        restored_output = manage(target, "restore", str(archive)).stdout
        assert "校验和全部一致" in restored_output

        restored = summary(target)
        # The restored database is exactly the snapshot the manifest counted:
        # every table, its rows and its checksum.
        assert restored == manifest["tables"]
        assert manifest["tables"]["submissions_case"]["rows"] > 0
        # A snapshot of one moment: the draft's version and its audit trail of
        # saves agree, and lie between what the writer had saved when the
        # backup started and when it ended.
        archived_version, edits = _draft_state(target, seeded["draft_id"])
        assert before <= archived_version <= after
        assert edits == archived_version - seeded["draft_version"]
        # Every table the writer leaves alone is as the site holds it now; the
        # ones it changed have moved on since the snapshot.
        now = summary(source)
        assert set(now) == set(restored)
        untouched = set(now) - WRITER_TABLES
        assert {t: now[t] for t in untouched} == {t: restored[t] for t in untouched}
        assert now["submissions_case"] != restored["submissions_case"]

        source_files = files_of(source)
        assert any(name.startswith("MEDIA_ROOT/uploads/") for name in source_files)
        assert any(name.endswith(".docx") for name in source_files)
        assert files_of(target) == source_files

        # The restored site serves the same public pages: the case with its
        # issue and view count, the issue, the series.
        paths = [seeded["case_url"], seeded["issue_url"], "/"]
        with served(source) as get_source:
            original = [page(get_source, path) for path in paths]
        with served(target) as get_restored:
            copy = [page(get_restored, path) for path in paths]
        assert copy == original
        assert "第 1 期" in copy[0]
        # The seven reads counted before the backup, and this reader's own.
        assert re.search(r"浏览量：(\d+)", copy[0]).group(1) == "8"

        # Once restored, the copy is a site with data: a second restore is
        # refused and changes nothing; with --force it starts afresh.
        served_summary = summary(target)
        refused = manage_failing(target, "restore", str(archive))
        assert "未做任何改动" in refused
        assert summary(target) == served_summary
        forced = manage(target, "restore", "--force", str(archive)).stdout
        assert "--force" in forced
        assert summary(target) == manifest["tables"]
        assert files_of(target) == source_files

        # The restored site takes new work: a case, an edit's audit event, an
        # issue, each under an id after the archive's (on PostgreSQL, the
        # sequences came back with the rows).
        created = json.loads(run(target, "-m", "tests.backups.site", "create").stdout)
        for model, new_id in created["new"].items():
            assert new_id > created["highest"][model], model

    def test_a_database_unlike_its_manifest_is_not_left_behind(self, sites, tmp_path):
        # The manifest has no checksum of its own: a table's figure changed in
        # it passes the archive's checks, and the restored database is found
        # unlike it. The target is left empty, and the message says so.
        source, target = sites
        manage(source, "migrate", "--noinput", "-v0")
        archive = tmp_path / "site.tar.gz"
        manage(source, "backup", str(archive))
        with tarfile.open(archive, "r:gz") as tar:
            members = [(info, tar.extractfile(info).read()) for info in tar]
        manifest = json.loads(members[-1][1])
        manifest["tables"]["django_migrations"]["checksum"] = "0" * 64
        members[-1] = (members[-1][0], json.dumps(manifest).encode())
        unlike = tmp_path / "unlike.tar.gz"
        with tarfile.open(unlike, "w:gz") as tar:
            for info, data in members:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        refused = manage_failing(target, "restore", str(unlike))
        assert "django_migrations" in refused
        if target["DATABASE_URL"].startswith("sqlite"):
            assert "未做任何改动" in refused
        else:
            assert "数据库现为空" in refused
        tables = run(
            target,
            "-c",
            "import django; django.setup(); from django.db import connection;"
            "print(len(connection.introspection.table_names()))",
        ).stdout
        assert tables.strip() == "0"
        # Nothing is in the way of the archive as backup wrote it.
        manage(target, "restore", str(archive))
        assert summary(target) == manifest_of(archive)["tables"]


def _draft_state(env: dict, draft_id: int) -> tuple[int, int]:
    script = (
        "import django, json; django.setup();"
        "from submissions.models import Case;"
        "from review.models import CaseEvent;"
        f"case = Case.objects.get(pk={draft_id});"
        "edits = CaseEvent.objects.filter(case=case, action='edit').count();"
        "print(json.dumps([case.version, edits]))"
    )
    return tuple(json.loads(run(env, "-c", script).stdout))
