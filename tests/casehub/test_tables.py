"""One table definition, drawn by the shared partial and written as CSV and Excel."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string

from casehub.tables import (
    COUNT,
    DATE,
    DAYS,
    PERCENT,
    YEAR_MONTH,
    Column,
    Table,
    days,
    percent,
    table_response,
)
from tests.casehub.html_tables import (
    assert_page_matches_downloads,
    csv_rows,
    html_tables,
    sheet_rows,
)


@dataclass
class Row:
    name: str
    count: int
    rate: float | None
    stay: datetime.timedelta | None
    until: datetime.date | None
    month: datetime.date
    state: str = "open"


COLUMNS = [
    Column("Name", lambda r: r.name),
    Column("Count", lambda r: r.count, COUNT),
    Column("Rate", lambda r: r.rate, PERCENT),
    Column("Days", lambda r: r.stay, DAYS),
    Column("Until", lambda r: r.until, DATE),
    Column("Month", lambda r: r.month, YEAR_MONTH),
    Column("State", lambda r: r.state.title(), badge=lambda r: f"badge--{r.state}"),
]
MARCH = datetime.date(2026, 3, 1)
ROWS = [
    # Halves, where rounding half to even and half up part ways.
    Row("甲", 8, 1 / 8, datetime.timedelta(days=0.25), MARCH, MARCH),
    Row("乙", 0, 29 / 200, datetime.timedelta(hours=3.6), None, MARCH),
    Row("丙", 1234, None, None, datetime.date(2026, 12, 31), MARCH, "closed"),
    Row("丁", 3, 2 / 3, datetime.timedelta(days=1, hours=12), None, MARCH),
]


def table(rows=ROWS, **fields) -> Table:
    return Table(title="Figures", columns=COLUMNS, rows=rows, **fields)


def page(table: Table) -> str:
    return render_to_string("includes/data_table.html", {"table": table})


class FormatTests:
    def test_a_percentage_rounds_as_a_spreadsheet_shows_it(self):
        assert percent(1 / 8) == "13%"
        # 0.145 is 0.14499999999999999 in binary; a spreadsheet shows 15%.
        assert percent(29 / 200) == "15%"
        assert (percent(0), percent(2 / 3), percent(1)) == ("0%", "67%", "100%")

    def test_days_round_half_up_from_whole_microseconds(self):
        assert days(datetime.timedelta(days=0.25)) == Decimal("0.3")
        assert days(datetime.timedelta(hours=3.6)) == Decimal("0.2")
        assert days(datetime.timedelta(days=1, hours=12)) == Decimal("1.5")
        assert days(datetime.timedelta(days=2)) == Decimal("2.0")


class DataTableTests:
    def test_the_page_shows_what_the_files_hold(self):
        drawn = html_tables(page(table()))["Figures"]
        assert_page_matches_downloads(
            drawn,
            csv_rows(table_response(table(), "csv", "f")),
            sheet_rows(table_response(table(), "xlsx", "f")),
        )
        assert drawn.rows[0] == [
            "甲",
            "8",
            "13%",
            "0.3",
            "2026-03-01",
            "2026-03",
            "Open",
        ]
        assert drawn.rows[2][2:5] == ["—", "—", "2026-12-31"]

    def test_the_spreadsheet_holds_numbers_and_dates_with_their_formats(self):
        from io import BytesIO

        from openpyxl import load_workbook

        response = table_response(table(), "xlsx", "f")
        sheet = load_workbook(BytesIO(response.content)).active
        first = sheet[2]
        assert [c.value for c in first[1:4]] == [8, 0.125, 0.3]
        assert [c.number_format for c in first[1:6]] == [
            "0",
            "0%",
            "0.0",
            "yyyy-mm-dd",
            "yyyy-mm",
        ]
        assert first[4].value == datetime.datetime(2026, 3, 1)
        # No figure is an empty cell, not a dash a formula would trip on.
        assert [c.value for c in sheet[4][2:5]] == [
            None,
            None,
            datetime.datetime(2026, 12, 31),
        ]
        assert sheet.freeze_panes == "A2"

    def test_numbers_align_right_and_badges_keep_the_text(self):
        html = page(table())
        assert '<th scope="col" class="is-number">Count</th>' in html
        assert '<td data-label="Count" class="is-number">1234</td>' in html
        assert (
            '<td data-label="State"><span class="badge--closed">Closed</span></td>'
            in html
        )
        assert '<th scope="row" data-label="Name">甲</th>' in html
        assert '<caption class="visually-hidden">Figures</caption>' in html

    def test_a_formula_is_inert_in_both_files_and_shown_as_typed_on_the_page(self):
        name = '=HYPERLINK("http://example.com","x")'
        rows = [
            Row(name, 1, None, None, None, MARCH),
            Row("-1+2", 2, 0.5, None, None, MARCH),
        ]
        assert [
            r[0] for r in csv_rows(table_response(table(rows), "csv", "f"))[1:]
        ] == [
            "'" + name,
            "'-1+2",
        ]
        assert [
            r[0] for r in sheet_rows(table_response(table(rows), "xlsx", "f"))[1:]
        ] == [
            "'" + name,
            "'-1+2",
        ]
        assert html_tables(page(table(rows)))["Figures"].rows[0][0] == name

    def test_an_empty_table_says_so_across_every_column(self):
        html = page(table(rows=[], empty="Nothing yet."))
        assert '<td colspan="7">Nothing yet.</td>' in html
        assert csv_rows(table_response(table(rows=[]), "csv", "f")) == [
            [c.header for c in COLUMNS]
        ]
