"""The cost of a backup and a restore of the bench site (backups.services).

Run by bench/run on its PostgreSQL database of 2,000 published cases while
gunicorn serves it; works the same on a SQLite site. Backs up the site of
DATABASE_URL into a temporary folder, then restores the archive into the
empty database of `--into` (a database URL) and fresh media and export
folders, through the same services as `manage.py backup` and `restore`.
Prints backup_s=…, backup_bytes=… and restore_s=…: the wall time of each,
from the views folded and the snapshot taken to the archive renamed into
place, and from the archive read and checked to the restored database's
checksums compared with the manifest's.
"""

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casehub.settings")
django.setup()

import environ  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402

from backups.services import backup_create, backup_restore  # noqa: E402

RESTORE_ALIAS = "bench_restore"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--into", required=True, help="the empty database's URL")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="casehub-bench-backup-"))
    try:
        started = time.monotonic()
        result = backup_create(destination=work / "site.tar.gz")
        backup_seconds = time.monotonic() - started

        source = connections["default"]
        target = {
            **source.settings_dict,
            **environ.Env.db_url_config(arguments.into),
            "OPTIONS": source.settings_dict.get("OPTIONS", {}),
        }
        connections[RESTORE_ALIAS] = type(source)(target, alias=RESTORE_ALIAS)
        settings.MEDIA_ROOT = work / "restored" / "media"
        settings.EXPORT_ROOT = work / "restored" / "exports"
        started = time.monotonic()
        backup_restore(archive=result.path, using=RESTORE_ALIAS)
        restore_seconds = time.monotonic() - started
        connections[RESTORE_ALIAS].close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"backup_s={backup_seconds:.2f}")
    print(f"backup_bytes={result.size}")
    print(f"backup_rows={result.rows}")
    print(f"restore_s={restore_seconds:.2f}")


if __name__ == "__main__":
    main()
