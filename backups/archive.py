"""The archive file: written member by member with each member's digest, and
read back only within bounds, into a folder of our own, before anything of
the site is touched.

An archive is a gzip-compressed tar of regular files under fixed folders:
`database/` (one file), `media/`, `exports/`, and `manifest.json`, written
last, which lists every other member with its SHA-256 and size. Reading refuses
any other kind of member (links, devices, folders), a name that is absolute or
climbs out (`..`), a name twice, more members or bytes than the limits, and a
member whose bytes are not the ones the manifest lists.
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils.translation import gettext as _

MANIFEST = "manifest.json"
FOLDERS = ("database", "media", "exports")
FORMAT = "casehub-backup"
FORMAT_VERSION = 1
MAX_NAME_CHARS = 1024
READ_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


def limit(name: str, default: int) -> int:
    """A bound of what a restore reads, from the settings (BACKUP_<NAME>)."""
    return int(getattr(settings, f"BACKUP_{name}", default))


def max_members() -> int:
    # A department's uploads over years: a few thousand images a year.
    return limit("MAX_MEMBERS", 1_000_000)


def max_member_bytes() -> int:
    return limit("MAX_MEMBER_BYTES", 64 * 1024**3)


def max_total_bytes() -> int:
    return limit("MAX_TOTAL_BYTES", 256 * 1024**3)


def max_manifest_bytes() -> int:
    return limit("MAX_MANIFEST_BYTES", 256 * 1024**2)


def stage_reserve_bytes() -> int:
    # Left free on the disk the archive is unpacked on, for the site itself.
    return limit("STAGE_RESERVE_BYTES", 256 * 1024**2)


# What may follow the tar's end in the compressed stream: tar pads to its
# record size (10 KB), never more than this; anything beyond is refused
# rather than decompressed.
MAX_TRAILING_BYTES = 1024 * 1024


def max_header_bytes() -> int:
    # tarfile reads an extended (pax) or long-name header whole, whatever
    # size it claims; backup's own are a few hundred bytes.
    return limit("MAX_HEADER_BYTES", 1024 * 1024)


class _BoundedStream:
    """The decompressed archive as tarfile reads it, refusing any one read
    larger than the bounds: member data is read in chunks, so only a header
    claiming a huge size asks for more."""

    def __init__(self, stream):
        self.stream = stream
        self.largest = max(READ_CHUNK, max_header_bytes())

    def read(self, size=-1):
        if size is None or size < 0 or size > self.largest:
            raise BackupError(
                _("The archive holds a header larger than %(limit)s bytes.")
                % {"limit": max_header_bytes()}
            )
        return self.stream.read(size)

    def seek(self, offset, whence=0):
        return self.stream.seek(offset, whence)

    def tell(self):
        return self.stream.tell()


class _HashingReader:
    """A file read by tarfile, hashed on the way: the digest is of the very
    bytes archived, however the file changes while it is read."""

    def __init__(self, stream):
        self.stream = stream
        self.digest = hashlib.sha256()

    def read(self, size=-1):
        data = self.stream.read(size)
        self.digest.update(data)
        return data


class ArchiveWriter:
    """Members added one by one to an open tar; `finish()` adds the manifest,
    last."""

    def __init__(self, tar: tarfile.TarFile):
        self.tar = tar
        self.files: dict[str, dict] = {}

    def _info(self, name: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mtime = int(time.time())
        info.mode = 0o600
        return info

    def add_file(self, name: str, path: Path) -> bool:
        """Archive the file at `path` as `name`; False if it was removed
        since it was listed (an expired export, a replaced upload)."""
        try:
            stream = path.open("rb")
        except FileNotFoundError:
            return False
        with stream:
            size = os.fstat(stream.fileno()).st_size
            reader = _HashingReader(stream)
            self.tar.addfile(self._info(name, size), fileobj=reader)
        self.files[name] = {"sha256": reader.digest.hexdigest(), "size": size}
        return True

    def finish(self, manifest: dict) -> None:
        manifest = {**manifest, "files": self.files}
        data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True)
        encoded = data.encode()
        self.tar.addfile(self._info(MANIFEST, len(encoded)), io.BytesIO(encoded))


def archive_open(stream) -> tarfile.TarFile:
    # Level 1: the database dump and the images are mostly compressed
    # already; a higher level costs seconds and saves little.
    return tarfile.open(fileobj=stream, mode="w:gz", compresslevel=1)


def member_path(name: str) -> PurePosixPath:
    """The member's name, if it is one a CaseHub archive may hold."""
    if not name or len(name) > MAX_NAME_CHARS or "\x00" in name or "\\" in name:
        raise BackupError(_("The archive holds a member with an unusable name."))
    path = PurePosixPath(name)
    if path.is_absolute():
        raise BackupError(
            _("The archive holds a member with an absolute path: %(name)s")
            % {"name": name[:200]}
        )
    parts = path.parts
    if any(part in ("", ".", "..") for part in parts) or name != str(path):
        raise BackupError(
            _("The archive holds a member whose path leaves its folder: %(name)s")
            % {"name": name[:200]}
        )
    if name != MANIFEST and (len(parts) < 2 or parts[0] not in FOLDERS):
        raise BackupError(
            _("The archive holds a member outside its folders: %(name)s")
            % {"name": name[:200]}
        )
    return path


@dataclass
class StagedArchive:
    """An archive read into `folder`: every member checked against the manifest."""

    folder: Path
    manifest: dict
    members: list[str] = field(default_factory=list)

    def path(self, name: str) -> Path:
        return self.folder / name


def _no_room(folder: Path, needed: int) -> BackupError:
    return BackupError(
        _(
            "There is not enough free space in %(folder)s to unpack the "
            "archive: it needs more than %(needed)s bytes, and %(reserve)s "
            "bytes stay free. Nothing was changed."
        )
        % {"folder": folder.parent, "needed": needed, "reserve": stage_reserve_bytes()}
    )


def _damaged(error) -> BackupError:
    return BackupError(
        _("The archive is damaged or incomplete (%(error)s).") % {"error": error}
    )


def archive_stage(*, path: Path, folder: Path) -> StagedArchive:
    """Read the archive at `path` into `folder` and check it whole.

    Raises BackupError, with the reason, for anything but an archive made by
    `backup` and unchanged since.
    """
    if not path.is_file():
        raise BackupError(_("There is no archive at %(path)s.") % {"path": path})
    digests: dict[str, tuple[str, int]] = {}
    manifest_bytes = None
    total = 0
    # The staging folder's disk: the archive's members are refused as soon as
    # they would not leave the reserve free, before they are written.
    room = shutil.disk_usage(folder).free - stage_reserve_bytes()
    if path.stat().st_size > room:
        raise _no_room(folder, path.stat().st_size)
    try:
        with (
            gzip.open(path, "rb") as compressed,
            tarfile.open(fileobj=_BoundedStream(compressed), mode="r:") as tar,
        ):
            count = 0
            while (member := tar.next()) is not None:
                count += 1
                if count > max_members() + 1:
                    raise BackupError(
                        _("The archive holds more than %(limit)s members.")
                        % {"limit": max_members()}
                    )
                name = member.name
                relative = member_path(name)
                # Regular files only, as backup writes them: no sparse files
                # (whose size is not the bytes archived), no contiguous ones.
                plain = member.type in (tarfile.REGTYPE, tarfile.AREGTYPE)
                if not plain or member.sparse is not None:
                    raise BackupError(
                        _(
                            "The archive holds %(name)s, which is not a plain "
                            "file (a link, a folder or a device)."
                        )
                        % {"name": name[:200]}
                    )
                # tarfile's own check as well ("data" filter): refuses what
                # would be written outside the folder or with unsafe modes.
                try:
                    tarfile.data_filter(member, str(folder))
                except tarfile.FilterError as error:
                    raise BackupError(
                        _("The archive holds an unsafe member: %(error)s")
                        % {"error": error}
                    ) from None
                if name in digests or (name == MANIFEST and manifest_bytes is not None):
                    raise BackupError(
                        _("The archive holds %(name)s twice.") % {"name": name[:200]}
                    )
                if member.size > max_member_bytes():
                    raise BackupError(
                        _("%(name)s in the archive is larger than %(limit)s bytes.")
                        % {"name": name[:200], "limit": max_member_bytes()}
                    )
                total += member.size
                if total > max_total_bytes():
                    raise BackupError(
                        _("The archive unpacks to more than %(limit)s bytes.")
                        % {"limit": max_total_bytes()}
                    )
                if total > room:
                    raise _no_room(folder, total)
                source = tar.extractfile(member)
                if name == MANIFEST:
                    if member.size > max_manifest_bytes():
                        raise BackupError(
                            _("The archive's manifest is larger than %(limit)s bytes.")
                            % {"limit": max_manifest_bytes()}
                        )
                    chunks = []
                    while chunk := source.read(READ_CHUNK):
                        chunks.append(chunk)
                    manifest_bytes = b"".join(chunks)
                    continue
                target = folder.joinpath(*relative.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                written = 0
                with target.open("xb") as out:
                    while chunk := source.read(READ_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        written += len(chunk)
                if written != member.size:
                    raise _damaged(_("a member ends early"))
                digests[name] = (digest.hexdigest(), written)
            # To the end of the compressed stream: its length and CRC are
            # checked there, so an archive cut in its last blocks is refused.
            trailing = 0
            while chunk := compressed.read(READ_CHUNK):
                trailing += len(chunk)
                if trailing > MAX_TRAILING_BYTES or chunk.strip(b"\0"):
                    raise _damaged(_("data after the end of the archive"))
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise _damaged(error) from None
    if manifest_bytes is None:
        raise BackupError(_("The archive has no manifest: it was not made by backup."))
    manifest = manifest_parse(manifest_bytes)
    listed = manifest["files"]
    for name, (digest, size) in sorted(digests.items()):
        entry = listed.get(name)
        if entry is None:
            raise BackupError(
                _("%(name)s is in the archive but not in its manifest.")
                % {"name": name[:200]}
            )
        if entry["size"] != size or entry["sha256"] != digest:
            raise BackupError(
                _(
                    "%(name)s in the archive does not match its checksum in the "
                    "manifest: the archive was changed or damaged."
                )
                % {"name": name[:200]}
            )
    missing = sorted(set(listed) - set(digests))
    if missing:
        raise BackupError(
            _("The manifest lists %(name)s, which is not in the archive.")
            % {"name": missing[0][:200]}
        )
    return StagedArchive(folder=folder, manifest=manifest, members=sorted(digests))


def _is_hex_digest(value) -> bool:
    return (
        isinstance(value, str)
        and len(value) == 64
        and all(c in "0123456789abcdef" for c in value)
    )


def manifest_parse(data: bytes) -> dict:
    """The manifest, if it has the shape `backup` writes."""
    try:
        manifest = json.loads(data.decode())
    except (UnicodeDecodeError, ValueError):
        raise BackupError(_("The archive's manifest is not readable.")) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(_("The archive's manifest is not one backup writes."))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            _(
                "The archive is in format %(found)s; this CaseHub reads format "
                "%(known)s."
            )
            % {"found": manifest.get("format_version"), "known": FORMAT_VERSION}
        )
    files = manifest.get("files")
    tables = manifest.get("tables")
    migrations = manifest.get("migrations")
    database = manifest.get("database")
    shaped = (
        isinstance(files, dict)
        and all(
            isinstance(entry, dict)
            and _is_hex_digest(entry.get("sha256"))
            and isinstance(entry.get("size"), int)
            for entry in files.values()
        )
        and isinstance(tables, dict)
        and all(
            isinstance(entry, dict)
            and isinstance(entry.get("rows"), int)
            and _is_hex_digest(entry.get("checksum"))
            for entry in tables.values()
        )
        and isinstance(migrations, list)
        and all(
            isinstance(item, list)
            and len(item) == 2
            and all(isinstance(part, str) for part in item)
            for item in migrations
        )
        and isinstance(database, dict)
        and database.get("vendor") in ("sqlite", "postgresql")
        and isinstance(database.get("file"), str)
        and database["file"] in files
    )
    if not shaped:
        raise BackupError(_("The archive's manifest is incomplete."))
    return manifest
