from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from textcheck.services import terms_export


class Command(BaseCommand):
    help = (
        "Write every dictionary term to a UTF-8 CSV (header kind,term,replacement,"
        "severity,note), sorted by kind and term, as terms_import reads it."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the .csv file to write")

    def handle(self, *args, path, **options):
        target = Path(path)
        if not target.parent.is_dir():
            raise CommandError(_("No folder for %(path)s.") % {"path": path})
        with target.open("w", encoding="utf-8", newline="") as handle:
            count = terms_export(handle)
        self.stdout.write(f"terms={count} path={target}")
