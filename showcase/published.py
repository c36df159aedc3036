"""The published copy: public pages as files, for the front server to serve.

With FRONT_ROOT set, each page an anonymous reader is given from the cache's
first build (home, a series' first page, an issue, a case) is also written as a
file, FRONT_ROOT/current/<language>/<address>index.html, and nginx answers
later readers of that address from the file without asking Python
(deploy/nginx.conf). A case's file carries no count of reads: its page asks
for the count with a beacon, which also counts the reader.

`current` is a link to the folder of the cache's generation. A retirement
(publish, unpublish, edit) makes an empty folder for the new generation and
moves the link in one rename, so from that moment nginx finds no file and
passes every reader to Django, which builds the page afresh and writes it into
the new folder; the old folder is then removed. A page built in an older
generation goes to that generation's folder, which nothing serves any more.
"""

import fcntl
import logging
import os
import shutil
import tempfile
from contextlib import contextmanager, nullcontext
from pathlib import Path

from django.conf import settings

CURRENT = "current"
FOLDER_PREFIX = "g-"
LOCK_FILE = ".lock"
# What goes into the copy: the field's kind, and the address its parts make.
ADDRESSES = {
    "home": lambda: "",
    "series": lambda slug, page: f"series/{slug}/" if page == "1" else None,
    "issue": lambda slug, number: f"series/{slug}/{number}/",
    "case": lambda case_id: f"cases/{case_id}/",
}

logger = logging.getLogger(__name__)


def root() -> Path | None:
    """Where the copy lives; None when the site keeps none."""
    value = getattr(settings, "FRONT_ROOT", None)
    return Path(value) if value else None


def current_generation() -> str | None:
    """The generation the copy serves now, read off its link (no round trip to
    Redis); None without a copy."""
    value = getattr(settings, "FRONT_ROOT", None)
    if not value:
        return None
    try:
        target = os.readlink(os.path.join(value, CURRENT))
    except OSError:
        return None
    return target.removeprefix(FOLDER_PREFIX)


def relative_path(field: str) -> str | None:
    """The file of a cached page (a field of showcase.cache) in a generation's
    folder, or None for a page the copy does not hold."""
    language, kind, *parts = field.split(":")
    parts = [part for part in parts if part]
    address = ADDRESSES.get(kind)
    if address is None:
        return None
    try:
        place = address(*parts)
    except TypeError:
        return None
    if place is None:
        return None
    return f"{language}/{place}index.html"


def locked():
    """Hold the copy's lock (a file lock, across processes); nothing without a copy."""
    folder = root()
    if folder is None:
        return nullcontext()
    return _flock(folder)


@contextmanager
def _flock(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def copy_start(generation: str) -> None:
    """Serve `generation`'s folder, empty, from now on; remove the others.
    Called under locked()."""
    folder = root()
    if folder is None:
        return
    fresh = folder / f"{FOLDER_PREFIX}{generation}"
    try:
        fresh.mkdir()
        link = folder / f".{CURRENT}-{generation}"
        link.symlink_to(fresh.name)
        os.replace(link, folder / CURRENT)
    except OSError:
        logger.exception("the published copy could not start a new folder")
        copy_drop()
        raise
    _remove_others(folder, keep=fresh.name)


def copy_drop() -> None:
    """Serve no file at all: every reader goes to Django. Called under locked()."""
    folder = root()
    if folder is None:
        return
    try:
        (folder / CURRENT).unlink(missing_ok=True)
    except OSError:
        logger.exception("the published copy's link could not be removed")
    _remove_others(folder, keep=None)


def _remove_others(folder: Path, *, keep: str | None) -> None:
    for entry in folder.iterdir():
        if entry.name.startswith(FOLDER_PREFIX) and entry.name != keep:
            shutil.rmtree(entry, ignore_errors=True)


def page_write(field: str, content: bytes, generation: str) -> None:
    """Write a page into its generation's folder, if that folder is still there.

    The file appears whole or not at all (written aside, then renamed). A
    folder already removed is not made again: the page belongs to a retired
    generation and no reader may get it.
    """
    folder = root()
    place = relative_path(field)
    if folder is None or place is None or not generation:
        return
    home = folder / f"{FOLDER_PREFIX}{generation}"
    if not home.is_dir():
        return
    target = home / place
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".page-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                # On disk before it is named, or a crash could leave an empty
                # page that nginx would serve until the next retirement.
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as error:
        # The folder went while the page was written: it was retired.
        if home.is_dir():
            logger.warning("a page of the published copy was not written: %s", error)
