"""`manage.py restore PATH`: the site back from an archive `backup` wrote."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backups.archive import BackupError
from backups.services import backup_restore


class Command(BaseCommand):
    help = gettext_lazy(
        "Restore the site from an archive into an empty database and empty "
        "media and export folders, after checking every file of the archive."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help=gettext_lazy("The archive backup wrote."))
        parser.add_argument(
            "--force",
            action="store_true",
            help=gettext_lazy(
                "Restore over a database and folders that are not empty: every "
                "table of the database and every file in the folders is deleted "
                "first."
            ),
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, path, force, database, **options):
        try:
            result = backup_restore(archive=Path(path), using=database, force=force)
        except BackupError as error:
            raise CommandError(str(error)) from None
        for what in result.cleared:
            self.stdout.write(_("Deleted first (--force): %(what)s") % {"what": what})
        figures = {
            "tables": result.tables,
            "rows": result.rows,
            "media": result.media_files,
            "exports": result.export_files,
            "seconds": result.seconds,
        }
        if result.by_checksum:
            message = _(
                "Restored %(tables)s tables (%(rows)s rows, every checksum "
                "matching), %(media)s media files and %(exports)s exports in "
                "%(seconds).1f s."
            )
        else:
            message = _(
                "Restored %(tables)s tables (%(rows)s rows, every count "
                "matching), %(media)s media files and %(exports)s exports in "
                "%(seconds).1f s."
            )
        self.stdout.write(message % figures)
        if result.migrated:
            self.stdout.write(
                _(
                    "The archive was older than this code; migrations applied "
                    "after the restore: %(migrations)s"
                )
                % {"migrations": ", ".join(result.migrated)}
            )
        for note in result.notes:
            self.stderr.write(note)
