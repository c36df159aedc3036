"""`manage.py backup PATH`: one archive with everything the site needs back."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backups.archive import BackupError
from backups.services import backup_create


class Command(BaseCommand):
    help = gettext_lazy(
        "Write one archive of the site: the database, uploaded media, kept "
        "exports and a manifest of checksums."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            help=gettext_lazy(
                "The archive to write, or a folder to put it in (named by time)."
            ),
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=None,
            help=gettext_lazy(
                "With a folder: keep only this many newest archives in it."
            ),
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, path, keep, database, **options):
        try:
            result = backup_create(destination=Path(path), using=database, keep=keep)
        except BackupError as error:
            raise CommandError(str(error)) from None
        if result.views_folded is None:
            self.stderr.write(
                _(
                    "Pending view counts could not be folded into the database; "
                    "the archive holds the counts as last folded."
                )
            )
        self.stdout.write(
            _(
                "Backup written: %(path)s (%(size)s bytes, %(tables)s tables, "
                "%(rows)s rows, %(media)s media files, %(exports)s exports) in "
                "%(seconds).1f s."
            )
            % {
                "path": result.path,
                "size": result.size,
                "tables": result.tables,
                "rows": result.rows,
                "media": result.media_files,
                "exports": result.export_files,
                "seconds": result.seconds,
            }
        )
        for removed in result.removed:
            self.stdout.write(_("Older archive removed: %(path)s") % {"path": removed})
