"""Reading the tables a page draws and the files it offers, to compare them.

The page is parsed as a browser would read it (no knowledge of how the table
was built); a spreadsheet cell is turned into the text a spreadsheet program
shows for its number format.
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser

from openpyxl import load_workbook


@dataclass
class HtmlTable:
    caption: str = ""
    headers: list[str] = field(default_factory=list)
    header_scopes: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    # Per body cell: (tag, scope, data-label).
    cell_marks: list[list[tuple]] = field(default_factory=list)


class _TableParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: list[HtmlTable] = []
        self.table = None
        self.section = None
        self.text = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.table = HtmlTable()
        elif self.table is None:
            return
        elif tag in ("thead", "tbody"):
            self.section = tag
        elif tag == "tr" and self.section == "tbody":
            self.table.rows.append([])
            self.table.cell_marks.append([])
        elif tag in ("th", "td", "caption"):
            self.text = []
            if tag == "th" and self.section == "thead":
                self.table.header_scopes.append(attrs.get("scope"))
            elif self.section == "tbody":
                self.table.cell_marks[-1].append(
                    (tag, attrs.get("scope"), attrs.get("data-label"))
                )

    def handle_data(self, data):
        if self.text is not None:
            self.text.append(data)

    def handle_endtag(self, tag):
        if self.table is None:
            return
        if tag in ("th", "td", "caption") and self.text is not None:
            text = re.sub(r"\s+", " ", "".join(self.text)).strip()
            self.text = None
            if tag == "caption":
                self.table.caption = text
            elif self.section == "thead":
                self.table.headers.append(text)
            else:
                self.table.rows[-1].append(text)
        elif tag == "table":
            self.tables.append(self.table)
            self.table = self.section = None


def html_tables(html: str) -> dict[str, HtmlTable]:
    """The page's tables by caption."""
    parser = _TableParser()
    parser.feed(html)
    return {table.caption: table for table in parser.tables}


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _rounded(value, places: str, scale=1) -> Decimal:
    # As a spreadsheet program does: 15 significant digits, then half away
    # from zero.
    exact = Decimal(f"{float(value):.15g}") * scale
    return exact.quantize(Decimal(places), ROUND_HALF_UP)


def shown(cell) -> str:
    """What a spreadsheet program shows for a cell of ours."""
    value, number_format = cell.value, cell.number_format
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime({"yyyy-mm": "%Y-%m"}.get(number_format, "%Y-%m-%d"))
    if isinstance(value, str):
        return value
    if number_format == "0%":
        return f"{_rounded(value, '1', scale=100)}%"
    if number_format == "0.0":
        return str(_rounded(value, "0.1"))
    if number_format == "0":
        return str(_rounded(value, "1"))
    # General: as many digits as it takes.
    return f"{value:.15g}"


def sheet_rows(response) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [[shown(cell) for cell in row] for row in sheet.iter_rows()]


def assert_page_matches_downloads(page: HtmlTable, csv_table, sheet_table):
    """One table, three ways: the page's header row is the files' header row,
    and every cell the page shows is the cell the CSV holds and the
    spreadsheet shows; a dash on the page stands for a blank cell in both."""
    assert page.headers == csv_table[0]
    assert csv_table[0] == sheet_table[0]
    assert page.header_scopes == ["col"] * len(page.headers)
    assert len(page.rows) == len(csv_table) - 1 == len(sheet_table) - 1
    for html_row, csv_row, sheet_row, marks in zip(
        page.rows, csv_table[1:], sheet_table[1:], page.cell_marks, strict=True
    ):
        downloaded = [text or "—" for text in csv_row]
        assert html_row == downloaded
        assert downloaded == [text or "—" for text in sheet_row]
        # Blank in a file is a dash on the page and nothing else.
        assert [h == "—" for h in html_row] == [c == "" for c in csv_row]
        # The first cell names the row; every cell is labelled for phones.
        assert marks[0][:2] == ("th", "row")
        assert all(tag == "td" for tag, _scope, _label in marks[1:])
        assert [label for _tag, _scope, label in marks] == page.headers
