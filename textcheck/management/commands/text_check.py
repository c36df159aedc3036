import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from textcheck.services import text_check

# Far above a case (the body is capped at 256 KB), low enough to read at once.
MAX_BYTES = 16 * 1024 * 1024


class Command(BaseCommand):
    help = (
        "Check a UTF-8 text or HTML file (HTML when the name ends .html or .htm "
        "or the text starts with <) against the dictionaries and the built-in "
        "rules. One finding a line; --format json gives one JSON object a line "
        "with kind, term, start, end, severity, suggestion, message (offsets in "
        "the visible text). Exits 0 with or without findings."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the .txt or .html file")
        parser.add_argument(
            "--format", dest="output_format", choices=["text", "json"], default="text"
        )

    def handle(self, *args, path, output_format, **options):
        source = Path(path)
        if not source.is_file():
            raise CommandError(_("No file at %(path)s.") % {"path": path})
        if source.stat().st_size > MAX_BYTES:
            raise CommandError(
                _("The file is larger than %(max)d MB.") % {"max": MAX_BYTES // 2**20}
            )
        try:
            content = source.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CommandError(
                _("%(path)s is not UTF-8 text.") % {"path": path}
            ) from None
        is_html = source.suffix.lower() in (
            ".html",
            ".htm",
        ) or content.lstrip().startswith("<")
        findings = text_check(html=content) if is_html else text_check(text=content)
        for finding in findings:
            if output_format == "json":
                line = json.dumps(finding.as_dict(), ensure_ascii=False)
            else:
                line = (
                    f"{finding.start}-{finding.end} {finding.severity} "
                    f"{finding.kind} “{finding.term}”: {finding.message}"
                )
            self.stdout.write(line)
