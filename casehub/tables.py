"""Tables defined once: drawn on the page and downloaded as CSV or Excel.

A `Table` is a title, its columns and the row objects. Each `Column` says its
header, how to read its value from a row and the `Format` of that value. The
page (templates/includes/data_table.html), the CSV and the spreadsheet all read
the same columns, so their headers and figures cannot drift apart: the text a
cell shows on the page is the text the CSV holds, and the spreadsheet holds the
number behind it with a number format that shows that same text.
"""

import csv
import datetime
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse

from .text import xml_fit

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A cell starting with one of these is a formula to a spreadsheet program.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _half_up(value: Decimal, places: str) -> Decimal:
    # Spreadsheets round a shown number half away from zero; the page and the
    # CSV round the same way, so the three never differ by one in the last place.
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def days(duration: datetime.timedelta) -> Decimal:
    """A duration in days to one decimal, computed from whole microseconds so
    that 0.15 days is 0.2, not the 0.1 a binary float would round to."""
    micro = duration // datetime.timedelta(microseconds=1)
    return _half_up(Decimal(micro) / Decimal(86_400_000_000), "0.1")


def percent(ratio: float) -> str:
    """A ratio as a whole percentage, as a spreadsheet shows it with the 0%
    format: to 15 significant digits first, then half away from zero."""
    return f"{_half_up(Decimal(f'{ratio:.15g}') * 100, '1')}%"


@dataclass(frozen=True)
class Format:
    """How one kind of value is written.

    `text` is what the page shows and the CSV holds; `sheet` is the value a
    spreadsheet cell holds, shown with `number_format`. Numeric formats are
    aligned right on the page and are never taken for formulas (their text is
    ours, not a user's).
    """

    text: Callable[[Any], str]
    sheet: Callable[[Any], Any]
    number_format: str = "General"
    numeric: bool = False


TEXT = Format(text=str, sheet=str)
COUNT = Format(text=lambda n: str(int(n)), sheet=int, number_format="0", numeric=True)
DAYS = Format(
    text=lambda d: str(days(d)), sheet=days, number_format="0.0", numeric=True
)
PERCENT = Format(text=percent, sheet=float, number_format="0%", numeric=True)
DATE = Format(
    text=lambda d: d.isoformat(), sheet=lambda d: d, number_format="yyyy-mm-dd"
)
YEAR_MONTH = Format(
    text=lambda d: d.strftime("%Y-%m"), sheet=lambda d: d, number_format="yyyy-mm"
)


@dataclass(frozen=True)
class Column:
    """`header` is translated (a lazy string); `value` reads the row object and
    may return None for "no figure", which the downloads leave blank."""

    header: str
    value: Callable[[Any], Any]
    format: Format = TEXT
    # A CSS class for a badge around the page's text, from the row (e.g. the
    # participation state); the text stays the same as in the downloads.
    badge: Callable[[Any], str] | None = None

    def text(self, row) -> str:
        value = self.value(row)
        return "" if value is None else self.format.text(value)

    def sheet(self, row):
        value = self.value(row)
        return None if value is None else self.format.sheet(value)

    def number(self, row) -> float:
        """The value as a float for a chart; nothing is 0."""
        value = self.sheet(row)
        return 0 if value is None else float(value)


@dataclass(frozen=True)
class Cell:
    column: Column
    text: str
    badge: str = ""

    @property
    def header(self) -> str:
        return self.column.header

    @property
    def numeric(self) -> bool:
        return self.column.format.numeric


@dataclass
class Table:
    title: str
    columns: Sequence[Column]
    rows: Sequence[Any] = field(default_factory=list)
    # What the page says when there are no rows.
    empty: str = ""

    @property
    def headers(self) -> list[str]:
        return [str(column.header) for column in self.columns]

    @cached_property
    def body(self) -> list[list[Cell]]:
        """The rows as the page draws them: text and badge of every cell."""
        return [
            [
                Cell(
                    column=column,
                    text=column.text(row),
                    badge=column.badge(row) if column.badge else "",
                )
                for column in self.columns
            ]
            for row in self.rows
        ]

    def texts(self) -> list[list[str]]:
        """Every cell's text, as on the page and in the CSV."""
        return [[cell.text for cell in row] for row in self.body]

    def summary(self, row) -> list[Cell]:
        """One row object (a total) as cells, without the first column, which
        names the row."""
        return [Cell(column=c, text=c.text(row)) for c in self.columns[1:]]


def _inert(text: str) -> str:
    """Text a spreadsheet program would run as a formula, made plain."""
    text = xml_fit(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def table_response(table: Table, fmt: str, filename: str) -> HttpResponse:
    """The table as a download; `fmt` is "csv" or "xlsx"."""
    if fmt == "csv":
        content = _csv(table)
    elif fmt == "xlsx":
        content = _xlsx(table)
    else:
        raise ValueError(f"unknown table format {fmt!r}")
    response = HttpResponse(content, content_type=FORMATS[fmt])
    name = f"{filename}.{fmt}"
    response["Content-Disposition"] = (
        f"attachment; filename=\"casehub-export.{fmt}\"; filename*=UTF-8''{quote(name)}"
    )
    return response


def _csv(table: Table) -> bytes:
    buffer = io.StringIO()
    # The byte order mark makes Excel read the file as UTF-8.
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([_inert(h) for h in table.headers])
    for row in table.body:
        writer.writerow(
            [cell.text if cell.numeric else _inert(cell.text) for cell in row]
        )
    return buffer.getvalue().encode()


def _xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    # Sheet titles are at most 31 characters and may not hold []:*?/\
    title = str(table.title)
    sheet.title = "".join(c for c in title if c not in "[]:*?/\\")[:31] or "Sheet"
    sheet.append([_inert(h) for h in table.headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in table.rows:
        values = []
        for column in table.columns:
            value = column.sheet(row)
            values.append(_inert(value) if isinstance(value, str) else value)
        sheet.append(values)
    for index, column in enumerate(table.columns, start=1):
        letter = sheet.cell(1, index).column_letter
        for (cell,) in sheet.iter_rows(
            min_row=2, min_col=index, max_col=index, max_row=sheet.max_row
        ):
            cell.number_format = column.format.number_format
        width = max(
            [len(table.headers[index - 1])] + [len(r[index - 1]) for r in table.texts()]
        )
        sheet.column_dimensions[letter].width = min(max(10, width * 2), 60)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
