"""Tables as files: every statistics table can be downloaded as CSV or Excel."""

import csv
import io
from dataclasses import dataclass, field
from urllib.parse import quote

from django.http import HttpResponse

from .text import xml_fit

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A cell starting with one of these is a formula to a spreadsheet program.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)


def _cell(value):
    """Numbers stay numbers; text that a spreadsheet would run is made inert."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return value
    text = xml_fit(str(value))
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def table_response(table: Table, fmt: str, filename: str) -> HttpResponse:
    """The table as a download; `fmt` is "csv" or "xlsx"."""
    if fmt == "csv":
        buffer = io.StringIO()
        # The byte order mark makes Excel read the file as UTF-8.
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow([_cell(c) for c in table.columns])
        writer.writerows([[_cell(v) for v in row] for row in table.rows])
        content = buffer.getvalue().encode()
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


def _xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    # Sheet titles are at most 31 characters and may not hold []:*?/\
    sheet.title = "".join(c for c in table.title if c not in "[]:*?/\\")[:31] or "Sheet"
    sheet.append([_cell(c) for c in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_cell(v) for v in row])
    for index, column in enumerate(table.columns, start=1):
        width = max(
            [len(str(column))] + [len(str(row[index - 1])) for row in table.rows]
        )
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(
            max(10, width * 2), 60
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
