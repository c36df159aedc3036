"""Archives restore refuses, and what it leaves alone when it does.

The archives are changed copies of one real archive: cut short, with a byte
changed, with members that climb out of their folder, links and devices, too
many or too large members, a manifest from a newer CaseHub or another engine.
Each is refused before the database is opened (these tests have no database
access: a restore that opened it would fail them) and before a file is
written anywhere but restore's own folder, which it removes. The restore's
database is a SQLite file of its own, not yet made (`into`), which restore
finds empty without opening it.
"""

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections
from django.db.utils import load_backend
from django.test import override_settings
from django.utils import translation

from backups.archive import MANIFEST

from .test_round_trip import (
    ROOT,
    files_of,
    manage,
    manage_failing,
    manifest_of,
    summary,
)

IMAGE = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A migrated SQLite site with a media file and an export, and its archive."""
    root = tmp_path_factory.mktemp("site")
    env = _site_env(root, "source")
    manage(env, "migrate", "--noinput", "-v0")
    (Path(env["MEDIA_ROOT"]) / "uploads").mkdir(parents=True)
    (Path(env["MEDIA_ROOT"]) / "uploads" / "photo.png").write_bytes(IMAGE)
    (Path(env["EXPORT_ROOT"]) / "2026").mkdir(parents=True)
    (Path(env["EXPORT_ROOT"]) / "2026" / "issue.docx").write_bytes(b"PK\x03\x04docx")
    archive = root / "site.tar.gz"
    manage(env, "backup", str(archive))
    return {"root": root, "env": env, "archive": archive}


def _site_env(root: Path, name: str) -> dict:
    (root / name).mkdir(exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CACHE_URL", "CELERY_BROKER_URL", "FRONT_ROOT"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="casehub.settings",
        DATABASE_URL=f"sqlite:///{root / name / 'db.sqlite3'}",
        MEDIA_ROOT=str(root / name / "media"),
        EXPORT_ROOT=str(root / name / "exports"),
    )
    return env


def _members(archive: Path) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    with tarfile.open(archive, "r:gz") as tar:
        return [
            (info, tar.extractfile(info).read() if info.isreg() else None)
            for info in tar.getmembers()
        ]


def _write(path: Path, members) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return path


def _manifest(members) -> dict:
    return json.loads(next(data for info, data in members if info.name == MANIFEST))


def _with_manifest(members, manifest: dict):
    encoded = json.dumps(manifest).encode()
    return [
        (info, encoded if info.name == MANIFEST else data) for info, data in members
    ]


def _before_manifest(members, *added):
    """`added` members placed before the manifest, as backup places its own."""
    return [*members[:-1], *added, members[-1]]


def _link(name: str, kind: bytes, target: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    return info, None


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


@pytest.fixture
def into(tmp_path):
    """The database restore writes into: a SQLite file not yet made."""
    alias = f"restore_target_{uuid.uuid4().hex}"
    path = tmp_path / "target.sqlite3"
    configured = connections.configure_settings(
        {
            "default": {"ENGINE": "django.db.backends.dummy"},
            alias: {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)},
        }
    )[alias]
    connections[alias] = load_backend(configured["ENGINE"]).DatabaseWrapper(
        configured, alias
    )
    yield {"alias": alias, "path": path}
    connections[alias].close()
    del connections[alias]


def _restore(path: Path, into: dict) -> None:
    call_command("restore", str(path), "--database", into["alias"])


def _refused(path: Path, into: dict, *, match: str, language="en", **limits):
    with (
        override_settings(**limits),
        translation.override(language),
        pytest.raises(CommandError, match=match),
    ):
        _restore(path, into)
    assert not into["path"].exists()
    media, exports = Path(settings.MEDIA_ROOT), Path(settings.EXPORT_ROOT)
    assert not any(p.is_file() for p in media.rglob("*")) if media.exists() else True
    assert (
        not any(p.is_file() for p in exports.rglob("*")) if exports.exists() else True
    )
    leftovers = list(media.parent.glob(".casehub-restore-*"))
    assert leftovers == []


class RestoreRefusalTests:
    def test_the_untouched_archive_passes_the_checks(self, site, into):
        # The baseline of every test below: the archive as backup wrote it
        # passes every check and gets as far as the database, which these
        # tests may not open (or, once the test database is set up, which
        # lives in memory).
        with (
            translation.override("en"),
            pytest.raises((RuntimeError, CommandError)) as raised,
        ):
            _restore(site["archive"], into)
        assert re.search(
            "Database access not allowed|into an in-memory database",
            str(raised.value),
        )

    def test_an_archive_cut_short(self, site, into, tmp_path):
        data = site["archive"].read_bytes()
        for length in (len(data) // 2, len(data) - 40, 100):
            cut = tmp_path / f"cut-{length}.tar.gz"
            cut.write_bytes(data[:length])
            _refused(cut, into, match="damaged or incomplete")

    def test_a_file_that_is_no_archive(self, into, tmp_path):
        junk = tmp_path / "junk.tar.gz"
        junk.write_bytes(b"this is not a backup" * 100)
        _refused(junk, into, match="damaged or incomplete")
        _refused(tmp_path / "missing.tar.gz", into, match="There is no archive")

    def test_a_changed_media_file(self, site, into, tmp_path):
        members = [
            (info, b"changed" if info.name == "media/uploads/photo.png" else data)
            for info, data in _members(site["archive"])
        ]
        tampered = _write(tmp_path / "tampered.tar.gz", members)
        _refused(tampered, into, match="does not match its checksum")
        # The site's language, as an operator reads it.
        _refused(
            tampered,
            into,
            match="media/uploads/photo.png 与清单中的校验和不符",
            language="zh-hans",
        )

    def test_a_changed_database(self, site, into, tmp_path):
        members = []
        for info, data in _members(site["archive"]):
            if info.name == "database/db.sqlite3":
                data = data[:-1] + bytes([data[-1] ^ 1])
            members.append((info, data))
        tampered = _write(tmp_path / "tampered.tar.gz", members)
        _refused(tampered, into, match="database/db.sqlite3.*checksum")

    def test_a_member_the_manifest_does_not_list(self, site, into, tmp_path):
        members = _before_manifest(
            _members(site["archive"]), _file("media/extra.png", IMAGE)
        )
        _refused(
            _write(tmp_path / "extra.tar.gz", members),
            into,
            match="not in its manifest",
        )

    def test_a_member_the_manifest_lists_but_the_archive_lacks(
        self, site, into, tmp_path
    ):
        members = [
            (info, data)
            for info, data in _members(site["archive"])
            if info.name != "exports/2026/issue.docx"
        ]
        _refused(
            _write(tmp_path / "short.tar.gz", members),
            into,
            match="lists exports/2026/issue.docx, which is not in the archive",
        )

    @pytest.mark.parametrize(
        ("name", "match"),
        [
            ("../outside.txt", "leaves its folder"),
            ("media/../../outside.txt", "leaves its folder"),
            ("media/./photo.png", "leaves its folder"),
            ("/casehub-outside.txt", "absolute path"),
            ("elsewhere/outside.txt", "outside its folders"),
            ("media", "outside its folders"),
            ("media\\..\\outside.txt", "unusable name"),
        ],
    )
    def test_a_member_named_to_climb_out(self, site, into, tmp_path, name, match):
        members = _before_manifest(_members(site["archive"]), _file(name, b"x"))
        _refused(_write(tmp_path / "climb.tar.gz", members), into, match=match)
        assert not (tmp_path.parent / "outside.txt").exists()
        assert not Path("/casehub-outside.txt").exists()

    @pytest.mark.parametrize(
        ("kind", "target"),
        [
            (tarfile.SYMTYPE, "/etc/passwd"),
            (tarfile.SYMTYPE, "../../outside"),
            (tarfile.LNKTYPE, "media/uploads/photo.png"),
            (tarfile.CHRTYPE, ""),
            (tarfile.BLKTYPE, ""),
            (tarfile.FIFOTYPE, ""),
            (tarfile.DIRTYPE, ""),
        ],
    )
    def test_links_devices_and_folders(self, site, into, tmp_path, kind, target):
        members = _before_manifest(
            _members(site["archive"]), _link("media/uploads/other", kind, target)
        )
        _refused(
            _write(tmp_path / "link.tar.gz", members),
            into,
            match="not a plain file",
        )

    def test_a_member_twice(self, site, into, tmp_path):
        members = _members(site["archive"])
        photo = next(m for m in members if m[0].name == "media/uploads/photo.png")
        _refused(
            _write(tmp_path / "twice.tar.gz", _before_manifest(members, photo)),
            into,
            match="twice",
        )

    def test_too_many_members(self, site, into, tmp_path):
        members = _before_manifest(
            _members(site["archive"]),
            *[_file(f"media/many/{n}.png", IMAGE) for n in range(20)],
        )
        many = _write(tmp_path / "many.tar.gz", members)
        _refused(many, into, match="more than 10 members", BACKUP_MAX_MEMBERS=10)

    def test_a_member_too_large(self, site, into, tmp_path):
        _refused(
            site["archive"],
            into,
            match="larger than 64 bytes",
            BACKUP_MAX_MEMBER_BYTES=64,
        )

    def test_more_bytes_in_all_than_allowed(self, site, into, tmp_path):
        size = Path(site["archive"]).stat().st_size
        _refused(
            site["archive"],
            into,
            match="unpacks to more than",
            BACKUP_MAX_TOTAL_BYTES=size // 4,
        )

    def test_a_manifest_too_large(self, site, into):
        _refused(
            site["archive"],
            into,
            match="manifest is larger than",
            BACKUP_MAX_MANIFEST_BYTES=100,
        )

    def test_a_header_claiming_a_huge_size(self, site, into, tmp_path):
        # tarfile reads an extended header whole: 4 MB of it here, a few KB
        # once compressed; an attacker's could claim gigabytes.
        info, data = _file("media/uploads/long.png", IMAGE)
        info.pax_headers = {"comment": "x" * (4 * 1024 * 1024)}
        members = _before_manifest(_members(site["archive"]), (info, data))
        huge = tmp_path / "huge-header.tar.gz"
        with tarfile.open(huge, "w:gz", format=tarfile.PAX_FORMAT) as tar:
            for member, content in members:
                member.size = len(content)
                tar.addfile(member, io.BytesIO(content))
        assert huge.stat().st_size < 1024 * 1024
        _refused(huge, into, match="header larger than 1048576 bytes")

    def test_a_sparse_member_that_would_unpack_to_far_more(self, site, into, tmp_path):
        # A PAX sparse file (format 1.0): 5 bytes archived, ten million
        # unpacked. Its digest listed in the manifest would not help it.
        real_size = 10_000_000
        unpacked = b"hello" + b"\0" * (real_size - 5)
        info = tarfile.TarInfo("media/GNUSparseFile.0/sparse.png")
        info.pax_headers = {
            "GNU.sparse.major": "1",
            "GNU.sparse.minor": "0",
            "GNU.sparse.name": "media/sparse.png",
            "GNU.sparse.realsize": str(real_size),
        }
        data = b"1\n0\n5\n".ljust(512, b"\0") + b"hello"
        members = _members(site["archive"])
        manifest = _manifest(members)
        manifest["files"]["media/sparse.png"] = {
            "sha256": hashlib.sha256(unpacked).hexdigest(),
            "size": real_size,
        }
        members = _before_manifest(_with_manifest(members, manifest), (info, data))
        sparse = tmp_path / "sparse.tar.gz"
        with tarfile.open(sparse, "w:gz", format=tarfile.PAX_FORMAT) as tar:
            for member, content in members:
                member.size = len(content)
                tar.addfile(member, io.BytesIO(content))
        with tarfile.open(sparse, "r:gz") as tar:
            assert tar.getmember("media/sparse.png").size == real_size
        _refused(sparse, into, match="media/sparse.png, which is not a plain file")

    def test_a_stream_that_goes_on_after_the_archive(self, site, into, tmp_path):
        # The tar ends, the gzip stream does not: 64 MB of zeros after it
        # (64 KB compressed), or bytes that are not tar's padding.
        data = gzip.decompress(site["archive"].read_bytes())
        for name, tail in (
            ("zeros.tar.gz", b"\0" * (64 * 1024 * 1024)),
            ("junk.tar.gz", b"\0" * 512 + b"more"),
        ):
            longer = tmp_path / name
            longer.write_bytes(gzip.compress(data + tail, compresslevel=1))
            _refused(longer, into, match="data after the end of the archive")

    def test_no_room_to_unpack(self, site, into, tmp_path):
        # Restore leaves BACKUP_STAGE_RESERVE_BYTES free on the disk it
        # unpacks on; here that is all but a few bytes of what is free.
        free = shutil.disk_usage(tmp_path).free
        _refused(
            site["archive"],
            into,
            match="not enough free space",
            BACKUP_STAGE_RESERVE_BYTES=free - 100,
        )
        _refused(
            site["archive"],
            into,
            match="需要超过",
            language="zh-hans",
            BACKUP_STAGE_RESERVE_BYTES=free - 100,
        )

    def test_no_manifest_or_not_ours(self, site, into, tmp_path):
        members = _members(site["archive"])
        _refused(
            _write(tmp_path / "bare.tar.gz", members[:-1]),
            into,
            match="no manifest",
        )
        broken = [*members[:-1], _file(MANIFEST, b"{not json")]
        _refused(
            _write(tmp_path / "broken.tar.gz", broken),
            into,
            match="manifest is not readable",
        )
        other = {**_manifest(members), "format": "something-else"}
        _refused(
            _write(tmp_path / "other.tar.gz", _with_manifest(members, other)),
            into,
            match="not one backup writes",
        )
        later = {**_manifest(members), "format_version": 2}
        _refused(
            _write(tmp_path / "later.tar.gz", _with_manifest(members, later)),
            into,
            match="in format 2",
        )
        shapeless = {**_manifest(members), "tables": {"t": {"rows": "many"}}}
        _refused(
            _write(tmp_path / "shapeless.tar.gz", _with_manifest(members, shapeless)),
            into,
            match="manifest is incomplete",
        )

    def test_an_archive_from_a_newer_casehub(self, site, into, tmp_path):
        members = _members(site["archive"])
        manifest = _manifest(members)
        manifest["migrations"].append(["submissions", "9999_from_a_later_release"])
        newer = _write(tmp_path / "newer.tar.gz", _with_manifest(members, manifest))
        _refused(
            newer,
            into,
            match="newer CaseHub.*submissions.9999_from_a_later_release",
        )

    def test_an_archive_of_the_other_engine(self, site, into, tmp_path):
        members = _members(site["archive"])
        manifest = _manifest(members)
        manifest["database"]["vendor"] = "postgresql"
        other = _write(tmp_path / "other.tar.gz", _with_manifest(members, manifest))
        _refused(other, into, match="holds a postgresql database")


class RestoreTargetTests:
    """Where restore writes: only into an empty database and empty folders,
    unless forced. These run the command on real SQLite files."""

    def test_a_site_with_data_is_left_as_it_is_unless_forced(self, site):
        env = site["env"]
        before, files_before = summary(env), files_of(env)
        (Path(env["MEDIA_ROOT"]) / "uploads" / "new.png").write_bytes(IMAGE)
        refused = manage_failing(env, "restore", str(site["archive"]))
        assert "不为空" in refused
        assert "未做任何改动" in refused
        assert summary(env) == before
        assert (Path(env["MEDIA_ROOT"]) / "uploads" / "new.png").exists()

        output = manage(env, "restore", "--force", str(site["archive"])).stdout
        assert "--force" in output
        assert summary(env) == manifest_of(site["archive"])["tables"]
        # Files the archive does not hold went with --force.
        assert files_of(env) == files_before

    def test_files_in_the_media_folder_stop_a_restore_into_an_empty_database(
        self, site
    ):
        env = _site_env(site["root"], "files-only")
        Path(env["MEDIA_ROOT"]).mkdir(parents=True)
        (Path(env["MEDIA_ROOT"]) / "left.png").write_bytes(IMAGE)
        refused = manage_failing(env, "restore", str(site["archive"]))
        assert env["MEDIA_ROOT"] in refused
        assert not (site["root"] / "files-only" / "db.sqlite3").exists()

    def test_a_target_that_is_not_empty_is_refused_before_the_archive_is_read(
        self, site
    ):
        # The refusal comes at once: the archive (here not even one) is not
        # unpacked for a target restore will not write into.
        env = site["env"]
        junk = site["root"] / "junk.tar.gz"
        junk.write_bytes(b"not an archive" * 100)
        refused = manage_failing(env, "restore", str(junk))
        assert "不为空" in refused
        assert "损坏" not in refused

    def test_a_database_of_only_its_migration_record_is_not_empty(self, site):
        env = _site_env(site["root"], "migrations-only")
        script = (
            "import django; django.setup();"
            "from django.db import connection;"
            "from django.db.migrations.recorder import MigrationRecorder;"
            "MigrationRecorder(connection).ensure_schema()"
        )
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", script], cwd=ROOT, env=env, check=True
        )
        before = summary(env)
        assert list(before) == ["django_migrations"]
        refused = manage_failing(env, "restore", str(site["archive"]))
        assert "数据库（1 张表）" in refused
        assert summary(env) == before

    @pytest.mark.parametrize("kind", ["folder", "link"])
    def test_a_media_folder_holding_only_folders_or_links_is_not_empty(
        self, site, kind
    ):
        env = _site_env(site["root"], f"media-{kind}")
        media = Path(env["MEDIA_ROOT"])
        media.mkdir(parents=True)
        if kind == "folder":
            (media / "uploads" / "2026").mkdir(parents=True)
        else:
            elsewhere = site["root"] / f"elsewhere-{kind}"
            elsewhere.mkdir()
            (elsewhere / "photo.png").write_bytes(IMAGE)
            (media / "uploads").symlink_to(elsewhere, target_is_directory=True)
        refused = manage_failing(env, "restore", str(site["archive"]))
        assert env["MEDIA_ROOT"] in refused
        assert (media / "uploads").exists()
        assert not (site["root"] / f"media-{kind}" / "db.sqlite3").exists()

    def test_a_database_unlike_its_manifest_leaves_the_target_as_it_was(self, site):
        # The manifest is the one member without a checksum of its own: a
        # table's figure changed in it passes the archive's checks, and the
        # database is refused before it replaces anything.
        members = _members(site["archive"])
        manifest = _manifest(members)
        manifest["tables"]["django_migrations"]["checksum"] = "0" * 64
        archive = _write(
            site["root"] / "unlike.tar.gz", _with_manifest(members, manifest)
        )
        env = _site_env(site["root"], "unlike")
        refused = manage_failing(env, "restore", str(archive))
        assert "django_migrations" in refused
        assert "未做任何改动" in refused
        assert not (site["root"] / "unlike" / "db.sqlite3").exists()
        assert not Path(env["MEDIA_ROOT"]).exists()

    def test_an_archive_older_than_the_code_is_restored_then_migrated(self, site):
        old = _site_env(site["root"], "old")
        manage(old, "migrate", "--noinput", "-v0")
        manage(old, "migrate", "exports", "0002", "--noinput", "-v0")
        archive = site["root"] / "old.tar.gz"
        manage(old, "backup", str(archive))
        assert ["exports", "0003_export_permission"] not in manifest_of(archive)[
            "migrations"
        ]
        fresh = _site_env(site["root"], "fresh")
        output = manage(fresh, "restore", str(archive)).stdout
        assert "exports.0003_export_permission" in output
        shown = manage(fresh, "showmigrations", "exports").stdout
        assert "[X] 0003_export_permission" in shown
