"""`manage.py backup` in the site's own process: what the archive holds, the
view counts still pending in Redis, the folder of archives it keeps."""

import hashlib
import io
import sqlite3
import tarfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.utils import translation

from backups import services
from backups.summary import applied_migrations, database_summary
from showcase import counter
from showcase.models import ViewCount
from submissions.models import Case
from tests.conftest import redis_cache
from tests.showcase.factories import people, published_issue, series

from .test_round_trip import manifest_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def case():
    return published_issue(people(), series()).cases.get()


def _backup(path: Path, *options: str) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("backup", str(path), *options, stdout=out)
    return out.getvalue()


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {info.name: tar.extractfile(info).read() for info in tar.getmembers()}


class BackupArchiveTests:
    def test_the_manifest_describes_the_database_and_every_file(
        self, case, settings, tmp_path
    ):
        media = Path(settings.MEDIA_ROOT) / "uploads"
        media.mkdir(parents=True)
        (media / "photo.png").write_bytes(b"\x89PNG image")
        exports = Path(settings.EXPORT_ROOT) / "2026"
        exports.mkdir(parents=True)
        (exports / "issue.docx").write_bytes(b"PK docx")
        archive = tmp_path / "site.tar.gz"
        output = _backup(archive)
        assert "Backup written" in output
        assert archive.stat().st_mode & 0o777 == 0o600

        manifest = manifest_of(archive)
        members = _members(archive)
        assert manifest["database"]["vendor"] == connection.vendor
        assert manifest["migrations"] == applied_migrations()
        assert manifest["tables"] == database_summary()
        assert manifest["tables"]["submissions_case"]["rows"] == Case.objects.count()
        assert manifest["casehub"]["version"]
        assert set(manifest["files"]) == set(members) - {"manifest.json"}
        assert {"media/uploads/photo.png", "exports/2026/issue.docx"} <= set(members)
        for name, entry in manifest["files"].items():
            assert entry["size"] == len(members[name])
            assert entry["sha256"] == hashlib.sha256(members[name]).hexdigest()

    def test_the_checksum_changes_with_any_value_of_a_row(self, case):
        before = database_summary()["submissions_case"]
        Case.objects.filter(pk=case.pk).update(tagline=case.tagline + "。")
        after = database_summary()["submissions_case"]
        assert after["rows"] == before["rows"]
        assert after["checksum"] != before["checksum"]

    def test_reads_pending_in_redis_are_in_the_archive(self, case, tmp_path):
        with redis_cache(6) as client:
            for visitor in range(5):
                request = RequestFactory().get("/", REMOTE_ADDR=f"10.6.0.{visitor}")
                assert counter.view_register(case_id=case.pk, request=request)
            assert not ViewCount.objects.filter(case=case).exists()
            archive = tmp_path / "site.tar.gz"
            _backup(archive)
            assert not client.hgetall(counter.PENDING_KEY)
        assert ViewCount.objects.get(case=case).count == 5
        assert manifest_of(archive)["tables"]["showcase_viewcount"]["rows"] == 1
        if connection.vendor == "sqlite":
            copy = tmp_path / "copy.sqlite3"
            copy.write_bytes(_members(archive)["database/db.sqlite3"])
            with sqlite3.connect(copy) as database:
                (count,) = database.execute(
                    "SELECT count FROM showcase_viewcount WHERE case_id = ?",
                    (case.pk,),
                ).fetchone()
            assert count == 5

    def test_a_file_removed_while_the_backup_runs_is_left_out(
        self, case, settings, tmp_path, monkeypatch
    ):
        # An export expiring between the listing of the folder and its
        # reading: the backup goes on without it.
        exports = Path(settings.EXPORT_ROOT) / "2026"
        exports.mkdir(parents=True)
        (exports / "expired.docx").write_bytes(b"PK expired")
        (exports / "kept.docx").write_bytes(b"PK kept")
        listing = services._folder_files

        def listed_then_removed(root, **options):
            found = listing(root, **options)
            if any(name == "2026/expired.docx" for name, _path in found):
                (exports / "expired.docx").unlink()
            return found

        monkeypatch.setattr(services, "_folder_files", listed_then_removed)
        archive = tmp_path / "site.tar.gz"
        output = _backup(archive)
        assert "1 exports" in output
        members = _members(archive)
        assert "exports/2026/kept.docx" in members
        assert "exports/2026/expired.docx" not in members
        assert "exports/2026/expired.docx" not in manifest_of(archive)["files"]


class BackupFolderTests:
    def test_a_folder_keeps_the_newest_archives(self, case, tmp_path):
        folder = tmp_path / "archives"
        folder.mkdir()
        (folder / "notes.txt").write_text("kept")
        # Named like an archive, but not by backup: never removed.
        for name in ("casehub-before-upgrade.tar.gz", "casehub-1.tar.gz"):
            (folder / name).write_text("kept")
        written = []
        for _ in range(4):
            output = _backup(folder, "--keep", "2")
            written.append(output.split("Backup written: ")[1].split(" ")[0])
        kept = sorted(path.name for path in folder.glob("casehub-2*.tar.gz"))
        assert kept == sorted(Path(path).name for path in written[-2:])
        for name in ("notes.txt", "casehub-before-upgrade.tar.gz", "casehub-1.tar.gz"):
            assert (folder / name).read_text() == "kept"
        assert not list(folder.glob(".casehub-backup-*"))
        assert not list(folder.glob("*.partial"))

    def test_an_existing_file_is_never_overwritten(self, case, settings, tmp_path):
        archive = tmp_path / "site.tar.gz"
        archive.write_bytes(b"an older archive")
        with translation.override("en"):
            with pytest.raises(CommandError, match="already exists"):
                call_command("backup", str(archive))
            with pytest.raises(CommandError, match="needs a folder"):
                call_command("backup", str(tmp_path / "new.tar.gz"), "--keep", "3")
            with pytest.raises(CommandError, match="does not exist"):
                call_command("backup", str(tmp_path / "nowhere" / "site.tar.gz"))
            media = Path(settings.MEDIA_ROOT) / "archives"
            media.mkdir(parents=True)
            with pytest.raises(CommandError, match="which it backs up"):
                call_command("backup", str(media))
        assert not list(media.iterdir())
        assert archive.read_bytes() == b"an older archive"
        left = sorted(path.name for path in tmp_path.iterdir())
        assert left == ["media", "site.tar.gz"]
