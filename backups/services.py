"""Backing up the whole site into one archive, and bringing it back.

`backup_create` takes the database as one consistent snapshot while the site
keeps serving (PostgreSQL: pg_dump of an exported snapshot, with the manifest's
row counts and checksums read in the same snapshot; SQLite: the online backup
API into a copy, counted from the copy), then the uploaded media and the kept
exports, then writes the manifest. Counted reads still pending in Redis are
folded into the database first, so the archive holds the view counts readers
saw.

`backup_restore` first looks at the target: a database or folder that is not
empty is refused at once unless forced. It then reads the whole archive into a
folder of its own (within the free space there) and checks every member
against the manifest before it touches anything; it refuses an archive from a
newer CaseHub (migrations this code lacks) or from the other database engine.
An archive older than the code is restored as it is, checked, then migrated.
"""

import datetime
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
import tomllib
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import django
from django.conf import settings
from django.core.management import call_command
from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from showcase.cache import public_cache_bump
from showcase.counter import views_fold

from .archive import (
    FORMAT,
    FORMAT_VERSION,
    ArchiveWriter,
    BackupError,
    archive_open,
    archive_stage,
    member_path,
)
from .summary import (
    applied_migrations,
    code_migrations,
    database_summary,
    table_names,
    unapplied_in_code,
)

ARCHIVE_PREFIX = "casehub-"
ARCHIVE_SUFFIX = ".tar.gz"
SQLITE_MEMBER = "database/db.sqlite3"
POSTGRES_MEMBER = "database/casehub.dump"
TOOL_OUTPUT_CHARS = 2000


@dataclass
class BackupResult:
    path: Path
    size: int
    seconds: float
    tables: int
    rows: int
    media_files: int
    export_files: int
    views_folded: int | None
    removed: list[Path] = field(default_factory=list)


@dataclass
class RestoreResult:
    seconds: float
    tables: int
    rows: int
    media_files: int
    export_files: int
    # Checked by every table's checksum, or (an archive older than the code,
    # whose tables the models no longer describe) by its row count.
    by_checksum: bool = True
    migrated: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# Backing up


# Only names backup gives an archive: `--keep` never removes anything else.
ARCHIVE_NAME = re.compile(r"casehub-\d{8}T\d{12}Z\.tar\.gz")


def archive_name(moment=None) -> str:
    # UTC whatever the site's time zone, so the names sort as the times do.
    moment = (moment or timezone.now()).astimezone(datetime.UTC)
    return f"{ARCHIVE_PREFIX}{moment:%Y%m%dT%H%M%S%fZ}{ARCHIVE_SUFFIX}"


def _destination(path: Path) -> Path:
    """A folder gets an archive named for the time; a file name is kept."""
    if path.is_dir():
        return path / archive_name()
    if not path.parent.is_dir():
        raise BackupError(
            _("The folder %(folder)s does not exist.") % {"folder": path.parent}
        )
    if path.exists():
        raise BackupError(
            _("%(path)s already exists; a backup never overwrites a file.")
            % {"path": path}
        )
    return path


def _casehub_version() -> dict:
    version = {}
    with suppress(OSError, tomllib.TOMLDecodeError, KeyError):
        pyproject = tomllib.loads((settings.BASE_DIR / "pyproject.toml").read_text())
        version["version"] = pyproject["project"]["version"]
    with suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        if commit:
            version["commit"] = commit
    return version


def _postgres_env(settings_dict) -> dict:
    """The connection for pg_dump and pg_restore, in the environment: a
    password never goes on a command line, where `ps` shows it."""
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    options = settings_dict.get("OPTIONS") or {}
    for variable, key in (
        ("PGSSLMODE", "sslmode"),
        ("PGSSLROOTCERT", "sslrootcert"),
        ("PGSSLCERT", "sslcert"),
        ("PGSSLKEY", "sslkey"),
        ("PGPASSFILE", "passfile"),
    ):
        if options.get(key):
            env[variable] = str(options[key])
    return env


def _tool_run(command: list[str], *, settings_dict) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            _("%(tool)s is not installed; it comes with PostgreSQL's client tools.")
            % {"tool": command[0]}
        )
    finished = subprocess.run(  # noqa: S603 - a fixed tool, our own arguments
        command,
        env=_postgres_env(settings_dict),
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        raise BackupError(
            _("%(tool)s failed: %(output)s")
            % {
                "tool": command[0],
                "output": finished.stderr.strip()[-TOOL_OUTPUT_CHARS:],
            }
        )


def _postgres_snapshot(using: str, work: Path):
    """pg_dump of one snapshot, and the manifest's figures from that snapshot:
    the transaction exports its snapshot, pg_dump reads in it, and the counts
    are read in it too while it stays open."""
    connection = connections[using]
    target = work / Path(POSTGRES_MEMBER).name
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
        _tool_run(
            [
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target}",
            ],
            settings_dict=connection.settings_dict,
        )
        summary = database_summary(using)
        migrations = applied_migrations(using)
    return target, summary, migrations


@contextmanager
def _sqlite_alias(using: str, path: Path):
    """A connection of its own to the SQLite file at `path`, under an alias
    of its own for the time it is used (never one of the settings')."""
    alias = f"casehub_backup_{uuid.uuid4().hex}"
    source = connections[using]
    settings_dict = {**source.settings_dict, "NAME": str(path), "OPTIONS": {}}
    connections[alias] = type(source)(settings_dict, alias=alias)
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]


def _sqlite_snapshot(using: str, work: Path):
    """The online backup API, in one step: the copy is the database as one
    read transaction saw it, while writers carry on beside it."""
    connection = connections[using]
    connection.ensure_connection()
    target = work / Path(SQLITE_MEMBER).name
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        # A file complete in itself: no write-ahead log beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
    with _sqlite_alias(using, target) as alias:
        summary = database_summary(alias)
        migrations = applied_migrations(alias)
    return target, summary, migrations


def _folder_files(root: Path, *, skip=()) -> list[tuple[str, Path]]:
    """(path below root, path) of every regular file under `root`, links not
    followed."""
    found = []
    if not root.is_dir():
        return found
    skip = {os.path.realpath(path) for path in skip}
    for folder, dirs, files in os.walk(root, followlinks=False):
        if os.path.realpath(folder) in skip:
            dirs[:] = []
            continue
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            if os.path.realpath(path) in skip:
                continue
            found.append((path.relative_to(root).as_posix(), path))
    return found


def _archive_prune(folder: Path, keep: int, current: Path) -> list[Path]:
    archives = sorted(
        path
        for path in folder.glob(f"{ARCHIVE_PREFIX}*{ARCHIVE_SUFFIX}")
        if ARCHIVE_NAME.fullmatch(path.name)
        and path.is_file()
        and not path.is_symlink()
    )
    removed = [path for path in archives[:-keep] if path != current] if keep else []
    for path in removed:
        path.unlink()
    return removed


def backup_create(
    *, destination: Path, using: str = "default", keep: int | None = None
) -> BackupResult:
    """Write one archive of the site at `destination` (a file, or a folder to
    put an archive named for the time in); with `keep`, only the newest
    `keep` archives of that folder are kept."""
    started = time.monotonic()
    if keep is not None and (keep < 1 or not destination.is_dir()):
        raise BackupError(_("Keeping archives needs a folder and a number from 1."))
    final = _destination(destination)
    for root in (settings.MEDIA_ROOT, settings.EXPORT_ROOT):
        if final.resolve().is_relative_to(Path(root).resolve()):
            # Each archive would hold the ones before it.
            raise BackupError(
                _("An archive cannot be kept in %(folder)s, which it backs up.")
                % {"folder": root}
            )
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError(_("A backup cannot be taken inside a transaction."))
    try:
        folded = views_fold()
    except Exception:  # the backup is worth more than the last minutes' reads
        folded = None
    work = Path(tempfile.mkdtemp(prefix=".casehub-backup-", dir=final.parent))
    partial = final.with_name(final.name + ".partial")
    try:
        if connection.vendor == "postgresql":
            database_file, tables, migrations = _postgres_snapshot(using, work)
            member = POSTGRES_MEMBER
        elif connection.vendor == "sqlite":
            database_file, tables, migrations = _sqlite_snapshot(using, work)
            member = SQLITE_MEMBER
        else:
            raise BackupError(
                _("Backups support PostgreSQL and SQLite, not %(vendor)s.")
                % {"vendor": connection.vendor}
            )
        # Read after the snapshot: every file the database names was there
        # before it, so it is read here (unless removed in the meantime).
        skip = (work, partial, final)
        folders = {
            "media": _folder_files(Path(settings.MEDIA_ROOT), skip=skip),
            "exports": _folder_files(Path(settings.EXPORT_ROOT), skip=skip),
        }
        for prefix, files in folders.items():
            for relative, _path in files:
                member_path(f"{prefix}/{relative}")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            with archive_open(stream) as tar:
                writer = ArchiveWriter(tar)
                writer.add_file(member, database_file)
                for prefix, files in folders.items():
                    files[:] = [
                        (relative, path)
                        for relative, path in files
                        if writer.add_file(f"{prefix}/{relative}", path)
                    ]
                writer.finish(
                    {
                        "format": FORMAT,
                        "format_version": FORMAT_VERSION,
                        "created_at": timezone.now().isoformat(),
                        "casehub": _casehub_version(),
                        "django": django.get_version(),
                        "python": platform.python_version(),
                        "database": {
                            "vendor": connection.vendor,
                            "file": member,
                            "name": Path(str(connection.settings_dict["NAME"])).name,
                        },
                        "migrations": migrations,
                        "tables": tables,
                        "views_folded": folded,
                    }
                )
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        with suppress(FileNotFoundError):
            partial.unlink()
    removed = _archive_prune(final.parent, keep, final) if keep else []
    return BackupResult(
        path=final,
        size=final.stat().st_size,
        seconds=time.monotonic() - started,
        tables=len(tables),
        rows=sum(entry["rows"] for entry in tables.values()),
        media_files=len(folders["media"]),
        export_files=len(folders["exports"]),
        views_folded=folded,
        removed=removed,
    )


# Restoring


def _sqlite_path(connection) -> Path:
    name = str(connection.settings_dict["NAME"])
    if connection.is_in_memory_db() or not name:
        raise BackupError(_("A backup cannot be restored into an in-memory database."))
    return Path(name)


def _database_tables(using: str) -> list[str]:
    connection = connections[using]
    if connection.vendor == "sqlite":
        path = _sqlite_path(connection)
        if not path.exists() or path.stat().st_size == 0:
            return []
    return table_names(using)


def _folder_holds_anything(root: Path) -> bool:
    """Anything at all in the folder: a file, a link, a folder even if empty
    (or one restore may not read)."""
    if not root.exists():
        return False
    if not root.is_dir():
        return True
    with os.scandir(root) as entries:
        return any(True for _entry in entries)


def _target_occupied(using: str, media_root: Path, export_root: Path) -> list[str]:
    """What of the target is not empty, in words; [] when all of it is."""
    occupied = []
    tables = _database_tables(using)
    if tables:
        occupied.append(_("the database (%(count)s tables)") % {"count": len(tables)})
    for root in (media_root, export_root):
        if _folder_holds_anything(root):
            occupied.append(str(root))
    return occupied


def _folder_clear(root: Path) -> None:
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _postgres_restore(using: str, dump: Path) -> None:
    connection = connections[using]
    connection.close()
    _tool_run(
        [
            "pg_restore",
            "--no-owner",
            "--no-acl",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={connection.settings_dict['NAME']}",
            str(dump),
        ],
        settings_dict=connection.settings_dict,
    )


def _sqlite_restore(using: str, copy: Path) -> None:
    connection = connections[using]
    target = _sqlite_path(connection)
    connection.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(target.name + ".restoring")
    shutil.copyfile(copy, incoming)
    with incoming.open("rb") as stream:
        os.fsync(stream.fileno())
    # A log left beside the old file would be played into the new one.
    for suffix in ("-wal", "-shm", "-journal"):
        with suppress(FileNotFoundError):
            Path(f"{target}{suffix}").unlink()
    os.replace(incoming, target)


def _raw_counts(using: str) -> dict[str, int]:
    connection = connections[using]
    counts = {}
    with connection.cursor() as cursor:
        for table in table_names(using):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT COUNT(*) FROM {quoted}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def _verify(using: str, manifest: dict, *, by_checksum: bool) -> None:
    expected = manifest["tables"]
    if by_checksum:
        found = database_summary(using)
        different = sorted(
            table
            for table in set(found) | set(expected)
            if found.get(table) != expected.get(table)
        )
    else:
        counts = _raw_counts(using)
        different = sorted(
            table
            for table in set(counts) | set(expected)
            if counts.get(table) != (expected.get(table) or {}).get("rows")
        )
    if different:
        raise BackupError(
            _("The archive's database does not match its manifest (%(tables)s).")
            % {"tables": ", ".join(different[:10])}
        )


def _folder_place(staged: Path, root: Path) -> int:
    placed = 0
    if not staged.is_dir():
        return placed
    root.mkdir(parents=True, exist_ok=True)
    for child in sorted(staged.iterdir()):
        shutil.move(str(child), str(root / child.name))
    for _folder, _dirs, files in os.walk(root):
        placed += len(files)
    return placed


def _stage_folder(using: str) -> Path:
    """Where the archive is read into: beside the media folder when there is
    room to make one, so that moving the files in is a rename."""
    parent = Path(settings.MEDIA_ROOT).parent
    try:
        return Path(tempfile.mkdtemp(prefix=".casehub-restore-", dir=parent))
    except OSError:
        return Path(tempfile.mkdtemp(prefix="casehub-restore-"))


def _restore_stopped(error, *, state: str) -> BackupError:
    """A restore that failed after it began writing: why, and in what state
    it left the site."""
    return BackupError(
        _("The restore stopped: %(error)s %(state)s") % {"error": error, "state": state}
    )


def _postgres_empty(using: str) -> None:
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS public CASCADE")
        cursor.execute("CREATE SCHEMA public")


def backup_restore(
    *, archive: Path, using: str = "default", force: bool = False
) -> RestoreResult:
    """Bring back the site from `archive` into an empty database and empty
    media and export folders (with `force`, whatever they hold goes first).

    The target is looked at first, before the archive is read; the archive is
    then checked whole. The database is written only with a copy checked
    against the manifest: on SQLite the staged copy is checked before it
    replaces the file, on PostgreSQL a restore that does not check out is
    dropped again, so a failure leaves the database empty (or, on SQLite, as
    it was).
    """
    started = time.monotonic()
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError(_("A restore cannot run inside a transaction."))
    media_root = Path(settings.MEDIA_ROOT)
    export_root = Path(settings.EXPORT_ROOT)
    # Cheap, and before anything is unpacked: a refusal comes at once.
    occupied = _target_occupied(using, media_root, export_root)
    if occupied and not force:
        raise BackupError(
            _(
                "Restore writes only into an empty database and empty "
                "folders, and these are not empty: %(what)s. Nothing was "
                "changed. With --force, all they hold is deleted first."
            )
            % {"what": "; ".join(occupied)}
        )
    database_occupied = bool(_database_tables(using))
    folder = _stage_folder(using)
    try:
        staged = archive_stage(path=archive, folder=folder)
        manifest = staged.manifest
        vendor = manifest["database"]["vendor"]
        if vendor != connection.vendor:
            raise BackupError(
                _(
                    "The archive holds a %(archive)s database; this site runs on "
                    "%(site)s. Restore it on the engine it was made on."
                )
                % {"archive": vendor, "site": connection.vendor}
            )
        expected_member = POSTGRES_MEMBER if vendor == "postgresql" else SQLITE_MEMBER
        if manifest["database"]["file"] != expected_member:
            raise BackupError(_("The archive's manifest is incomplete."))
        applied = {tuple(item) for item in manifest["migrations"]}
        unknown = sorted(applied - code_migrations())
        if unknown:
            raise BackupError(
                _(
                    "The archive comes from a newer CaseHub: its database has "
                    "migrations this code does not have (%(migrations)s). "
                    "Restore it with the CaseHub version that made it."
                )
                % {
                    "migrations": ", ".join(
                        f"{app}.{name}" for app, name in unknown[:10]
                    )
                }
            )
        pending = unapplied_in_code(applied)
        database_file = staged.path(manifest["database"]["file"])
        if vendor == "postgresql":
            if database_occupied:
                # --force: everything the site's schema holds goes, tables of
                # later migrations too, which the dump would not name.
                _postgres_empty(using)
            emptied = _(
                "The database is empty now; fix the cause and run restore again."
            )
            try:
                # One transaction: if it fails, nothing of it stays.
                _postgres_restore(using, database_file)
            except BackupError as error:
                raise _restore_stopped(error, state=emptied) from None
            try:
                _verify(using, manifest, by_checksum=not pending)
            except BackupError as error:
                _postgres_empty(using)
                raise _restore_stopped(error, state=emptied) from None
        else:
            # Checked before it replaces anything: a copy that does not
            # match leaves the site's file as it was.
            with _sqlite_alias(using, database_file) as alias:
                try:
                    _verify(alias, manifest, by_checksum=not pending)
                except BackupError as error:
                    raise BackupError(
                        _("%(error)s Nothing was changed.") % {"error": error}
                    ) from None
            _sqlite_restore(using, database_file)
        restored = _(
            "The database was restored, but the media and export folders may "
            "hold only part of the archive's files; fix the cause and run "
            "restore again with --force."
        )
        try:
            for root in (media_root, export_root):
                if root.exists():
                    _folder_clear(root)
            media_files = _folder_place(staged.path("media"), media_root)
            export_files = _folder_place(staged.path("exports"), export_root)
        except OSError as error:
            raise _restore_stopped(error, state=restored) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = RestoreResult(
        seconds=0.0,
        tables=len(manifest["tables"]),
        rows=sum(entry["rows"] for entry in manifest["tables"].values()),
        media_files=media_files,
        export_files=export_files,
        by_checksum=not pending,
        cleared=occupied,
    )
    if pending:
        try:
            call_command("migrate", database=using, interactive=False, verbosity=0)
        except Exception as error:
            raise _restore_stopped(
                error,
                state=_(
                    "The database and the files were restored, but not every "
                    "migration after them was applied; fix the cause and run "
                    "`manage.py migrate`."
                ),
            ) from None
        result.migrated = [f"{app}.{name}" for app, name in pending]
    try:
        # Pages cached from whatever the site held before are not this site's.
        public_cache_bump()
    except Exception:
        result.notes.append(
            _(
                "The page cache could not be reached; run `manage.py front_setup` "
                "or clear the cache before serving."
            )
        )
    result.seconds = time.monotonic() - started
    return result
