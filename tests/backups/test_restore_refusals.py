"""Archives restore refuses, and what it leaves alone when it does.

The archives are changed copies of one real archive: cut short, with a byte
changed, with members that climb out of their folder, links and devices, too
many or too large members, a manifest from a newer CaseHub or another engine.
Each is refused before the database is opened (these tests have no database
access: a restore that opened it would fail them) and before a file is
written anywhere but restore's own folder, which it removes.
"""

import io
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import translation

from backups.archive import MANIFEST

from .test_round_trip import ROOT, files_of, manage, manifest_of, summary

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


def _refused(path: Path, settings, *, match: str, language="en", **limits):
    with (
        override_settings(**limits),
        translation.override(language),
        pytest.raises(CommandError, match=match),
    ):
        call_command("restore", str(path))
    media, exports = Path(settings.MEDIA_ROOT), Path(settings.EXPORT_ROOT)
    assert not any(p.is_file() for p in media.rglob("*")) if media.exists() else True
    assert (
        not any(p.is_file() for p in exports.rglob("*")) if exports.exists() else True
    )
    leftovers = list(media.parent.glob(".casehub-restore-*"))
    assert leftovers == []


class RestoreRefusalTests:
    def test_the_untouched_archive_passes_the_checks(self, site):
        # The baseline of every test below: the archive as backup wrote it
        # passes every check and gets as far as the database, which these
        # tests may not open (or, once the test database is set up, which
        # lives in memory).
        with (
            translation.override("en"),
            pytest.raises((RuntimeError, CommandError)) as raised,
        ):
            call_command("restore", str(site["archive"]))
        assert re.search(
            "Database access not allowed|into an in-memory database",
            str(raised.value),
        )

    def test_an_archive_cut_short(self, site, settings, tmp_path):
        data = site["archive"].read_bytes()
        for length in (len(data) // 2, len(data) - 40, 100):
            cut = tmp_path / f"cut-{length}.tar.gz"
            cut.write_bytes(data[:length])
            _refused(cut, settings, match="damaged or incomplete")

    def test_a_file_that_is_no_archive(self, settings, tmp_path):
        junk = tmp_path / "junk.tar.gz"
        junk.write_bytes(b"this is not a backup" * 100)
        _refused(junk, settings, match="damaged or incomplete")
        _refused(tmp_path / "missing.tar.gz", settings, match="There is no archive")

    def test_a_changed_media_file(self, site, settings, tmp_path):
        members = [
            (info, b"changed" if info.name == "media/uploads/photo.png" else data)
            for info, data in _members(site["archive"])
        ]
        tampered = _write(tmp_path / "tampered.tar.gz", members)
        _refused(tampered, settings, match="does not match its checksum")
        # The site's language, as an operator reads it.
        _refused(
            tampered,
            settings,
            match="media/uploads/photo.png 与清单中的校验和不符",
            language="zh-hans",
        )

    def test_a_changed_database(self, site, settings, tmp_path):
        members = []
        for info, data in _members(site["archive"]):
            if info.name == "database/db.sqlite3":
                data = data[:-1] + bytes([data[-1] ^ 1])
            members.append((info, data))
        tampered = _write(tmp_path / "tampered.tar.gz", members)
        _refused(tampered, settings, match="database/db.sqlite3.*checksum")

    def test_a_member_the_manifest_does_not_list(self, site, settings, tmp_path):
        members = _before_manifest(
            _members(site["archive"]), _file("media/extra.png", IMAGE)
        )
        _refused(
            _write(tmp_path / "extra.tar.gz", members),
            settings,
            match="not in its manifest",
        )

    def test_a_member_the_manifest_lists_but_the_archive_lacks(
        self, site, settings, tmp_path
    ):
        members = [
            (info, data)
            for info, data in _members(site["archive"])
            if info.name != "exports/2026/issue.docx"
        ]
        _refused(
            _write(tmp_path / "short.tar.gz", members),
            settings,
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
    def test_a_member_named_to_climb_out(self, site, settings, tmp_path, name, match):
        members = _before_manifest(_members(site["archive"]), _file(name, b"x"))
        _refused(_write(tmp_path / "climb.tar.gz", members), settings, match=match)
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
    def test_links_devices_and_folders(self, site, settings, tmp_path, kind, target):
        members = _before_manifest(
            _members(site["archive"]), _link("media/uploads/other", kind, target)
        )
        _refused(
            _write(tmp_path / "link.tar.gz", members),
            settings,
            match="not a plain file",
        )

    def test_a_member_twice(self, site, settings, tmp_path):
        members = _members(site["archive"])
        photo = next(m for m in members if m[0].name == "media/uploads/photo.png")
        _refused(
            _write(tmp_path / "twice.tar.gz", _before_manifest(members, photo)),
            settings,
            match="twice",
        )

    def test_too_many_members(self, site, settings, tmp_path):
        members = _before_manifest(
            _members(site["archive"]),
            *[_file(f"media/many/{n}.png", IMAGE) for n in range(20)],
        )
        many = _write(tmp_path / "many.tar.gz", members)
        _refused(many, settings, match="more than 10 members", BACKUP_MAX_MEMBERS=10)

    def test_a_member_too_large(self, site, settings, tmp_path):
        _refused(
            site["archive"],
            settings,
            match="larger than 64 bytes",
            BACKUP_MAX_MEMBER_BYTES=64,
        )

    def test_more_bytes_in_all_than_allowed(self, site, settings, tmp_path):
        size = Path(site["archive"]).stat().st_size
        _refused(
            site["archive"],
            settings,
            match="unpacks to more than",
            BACKUP_MAX_TOTAL_BYTES=size // 4,
        )

    def test_a_manifest_too_large(self, site, settings):
        _refused(
            site["archive"],
            settings,
            match="manifest is larger than",
            BACKUP_MAX_MANIFEST_BYTES=100,
        )

    def test_a_header_claiming_a_huge_size(self, site, settings, tmp_path):
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
        _refused(huge, settings, match="header larger than 1048576 bytes")

    def test_no_manifest_or_not_ours(self, site, settings, tmp_path):
        members = _members(site["archive"])
        _refused(
            _write(tmp_path / "bare.tar.gz", members[:-1]),
            settings,
            match="no manifest",
        )
        broken = [*members[:-1], _file(MANIFEST, b"{not json")]
        _refused(
            _write(tmp_path / "broken.tar.gz", broken),
            settings,
            match="manifest is not readable",
        )
        other = {**_manifest(members), "format": "something-else"}
        _refused(
            _write(tmp_path / "other.tar.gz", _with_manifest(members, other)),
            settings,
            match="not one backup writes",
        )
        later = {**_manifest(members), "format_version": 2}
        _refused(
            _write(tmp_path / "later.tar.gz", _with_manifest(members, later)),
            settings,
            match="in format 2",
        )
        shapeless = {**_manifest(members), "tables": {"t": {"rows": "many"}}}
        _refused(
            _write(tmp_path / "shapeless.tar.gz", _with_manifest(members, shapeless)),
            settings,
            match="manifest is incomplete",
        )

    def test_an_archive_from_a_newer_casehub(self, site, settings, tmp_path):
        members = _members(site["archive"])
        manifest = _manifest(members)
        manifest["migrations"].append(["submissions", "9999_from_a_later_release"])
        newer = _write(tmp_path / "newer.tar.gz", _with_manifest(members, manifest))
        _refused(
            newer,
            settings,
            match="newer CaseHub.*submissions.9999_from_a_later_release",
        )

    def test_an_archive_of_the_other_engine(self, site, settings, tmp_path):
        members = _members(site["archive"])
        manifest = _manifest(members)
        manifest["database"]["vendor"] = "postgresql"
        other = _write(tmp_path / "other.tar.gz", _with_manifest(members, manifest))
        _refused(other, settings, match="holds a postgresql database")


class RestoreTargetTests:
    """Where restore writes: only into an empty database and empty folders,
    unless forced. These run the command on real SQLite files."""

    def test_a_site_with_data_is_left_as_it_is_unless_forced(self, site):
        env = site["env"]
        before, files_before = summary(env), files_of(env)
        (Path(env["MEDIA_ROOT"]) / "uploads" / "new.png").write_bytes(IMAGE)
        refused = _manage_failing(env, "restore", str(site["archive"]))
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
        refused = _manage_failing(env, "restore", str(site["archive"]))
        assert env["MEDIA_ROOT"] in refused
        assert not (site["root"] / "files-only" / "db.sqlite3").exists()

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


def _manage_failing(env: dict, *args: str) -> str:
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
