"""The dictionary as CSV: what `terms_import` reads and `terms_export` writes.

UTF-8 (a byte-order mark is accepted, and written, so a spreadsheet opens the
file as UTF-8), the header row exactly `kind,term,replacement,severity,note`,
one entry a row. The file's size and row count are bounded before any row is
kept; what the rows say is checked by `terms_import`, numbered as here.
"""

import csv
import io

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Term

HEADER = ("kind", "term", "replacement", "severity", "note")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 100_000
# Problems listed at most; the rest are counted.
MAX_PROBLEMS = 20


def problems_error(problems: list[str]) -> ValidationError:
    """The first MAX_PROBLEMS problems, and how many more there are."""
    shown = problems[:MAX_PROBLEMS]
    hidden = len(problems) - len(shown)
    if hidden:
        shown.append(
            ngettext(
                "… and %(count)d more problem.",
                "… and %(count)d more problems.",
                hidden,
            )
            % {"count": hidden}
        )
    return ValidationError(shown)


def terms_read(data: bytes) -> list[dict]:
    """The rows of a dictionary CSV as dicts (with their row number in
    "row", the header being row 1); ValidationError when the file as a whole
    cannot be taken."""
    if len(data) > MAX_BYTES:
        raise ValidationError(
            _("The file is larger than %(max)d MB.") % {"max": MAX_BYTES // 2**20}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            _("The file is not UTF-8 text: save it as “CSV UTF-8”.")
        ) from None
    if "\x00" in text:
        raise ValidationError(_("The file holds NUL characters: it is not a CSV."))
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    problems = []
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            if number == 1:
                if tuple(cell.strip() for cell in cells) != HEADER:
                    raise ValidationError(
                        _("The first row must be exactly: %(header)s")
                        % {"header": ",".join(HEADER)}
                    )
                continue
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationError(
                    _("The file has more than %(max)d rows.") % {"max": MAX_ROWS}
                )
            if len(cells) != len(HEADER):
                problems.append(
                    _("Row %(row)d: %(count)d columns instead of %(expected)d.")
                    % {"row": number, "count": len(cells), "expected": len(HEADER)}
                )
                continue
            rows.append({"row": number, **dict(zip(HEADER, cells, strict=True))})
    except csv.Error:
        raise ValidationError(
            _("Row %(row)d cannot be read as CSV.") % {"row": number + 1}
        ) from None
    if number == 0:
        raise ValidationError(
            _("The first row must be exactly: %(header)s")
            % {"header": ",".join(HEADER)}
        )
    if problems:
        raise problems_error(problems)
    return rows


def terms_export(stream) -> int:
    """Write the header and every entry, sorted by kind and term, to a text
    stream; returns how many entries."""
    stream.write("\ufeff")
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(HEADER)
    rows = sorted(Term.objects.values_list(*HEADER).iterator(chunk_size=5000))
    writer.writerows(rows)
    return len(rows)
