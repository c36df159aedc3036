from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from textcheck.services import terms_import, terms_read
from textcheck.terms_csv import MAX_BYTES


class Command(BaseCommand):
    help = (
        "Import dictionary terms from a UTF-8 CSV (header kind,term,replacement,"
        "severity,note): entries with the same kind and term are replaced, new "
        "ones added, none deleted; all or nothing. Prints added=N changed=N "
        "unchanged=N."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the .csv file")

    def handle(self, *args, path, **options):
        source = Path(path)
        if not source.is_file():
            raise CommandError(_("No file at %(path)s.") % {"path": path})
        if source.stat().st_size > MAX_BYTES:
            raise CommandError(
                _("The file is larger than %(max)d MB.") % {"max": MAX_BYTES // 2**20}
            )
        try:
            counts = terms_import(
                rows=terms_read(source.read_bytes()), acting_user=None
            )
        except ValidationError as error:
            raise CommandError("\n".join(error.messages)) from None
        self.stdout.write(
            "added={added} changed={changed} unchanged={unchanged}".format(**counts)
        )
