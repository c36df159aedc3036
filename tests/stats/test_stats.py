"""The department's statistics against figures worked out by hand."""

import csv
import datetime
import io
import re
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from authoring.services import CaseContent, case_create
from review import workflow as review
from showcase import services as showcase
from showcase.models import ViewCount
from stats.selectors import Period
from submissions.models import Membership
from tests.casehub.html_tables import (
    assert_page_matches_downloads,
    csv_rows,
    html_tables,
    sheet_rows,
)
from tests.review.factories import decide, people
from tests.showcase.factories import series
from tests.submissions.factories import member, signed_in

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 0))
MARCH = Period(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
APRIL = Period(datetime.date(2026, 4, 1), datetime.date(2026, 4, 30))
DAY = timedelta(days=1)


@contextmanager
def at(moment):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def written(secretary, title):
    return case_create(
        branch=secretary.memberships.get().branch,
        acting_user=secretary,
        content=CaseContent(title=title, lead="导语。", body="<p>正文。</p>"),
    )


@pytest.fixture
def history():
    """Two organisations' March, and one case of April.

    A: a1 submitted, 2 days at 初审, 1 day at 终审, approved, published;
       a2 submitted, returned after 1 day, resubmitted, rejected after 4 days.
    B: b1 submitted, 6 hours at 初审, 1 day at 终审, approved, published;
       b2 submitted in April, 1 day at 初审, still waiting at 终审.
    """
    who = people()
    a, b = who.secretary, who.other_secretary
    cases = {}
    with at(T0):
        cases["a1"] = written(a, "a1")
        review.case_submit(case=cases["a1"], acting_user=a)
    with at(T0 + DAY):
        cases["a2"] = written(a, "a2")
        review.case_submit(case=cases["a2"], acting_user=a)
    with at(T0 + 2 * DAY):
        decide(cases["a1"], "approve", who.reviewer1)
        decide(cases["a2"], "return", who.reviewer1)
    with at(T0 + 3 * DAY):
        decide(cases["a1"], "approve", who.reviewer2)
        cases["b1"] = written(b, "b1")
        review.case_submit(case=cases["b1"], acting_user=b)
    with at(T0 + 3 * DAY + timedelta(hours=6)):
        decide(cases["b1"], "approve", who.reviewer1)
    with at(T0 + 4 * DAY + timedelta(hours=6)):
        decide(cases["b1"], "approve", who.reviewer2)
    with at(T0 + 5 * DAY):
        review.case_resubmit(case=cases["a2"], acting_user=a)
    with at(T0 + 9 * DAY):
        decide(cases["a2"], "reject", who.reviewer1)
        issue = showcase.issue_plan(
            series=series(),
            scheduled_at=T0 + 10 * DAY,
            acting_user=who.editor,
            cases=[cases["a1"], cases["b1"]],
        )
    with at(T0 + 10 * DAY):
        showcase.issue_publish(issue=issue, acting_user=who.editor)
    april = timezone.make_aware(datetime.datetime(2026, 4, 2, 10, 0))
    with at(april):
        cases["b2"] = written(b, "b2")
        review.case_submit(case=cases["b2"], acting_user=b)
    with at(april + DAY):
        decide(cases["b2"], "approve", who.reviewer1)
    ViewCount.objects.create(case=cases["a1"], count=5)
    ViewCount.objects.create(case=cases["b1"], count=7)
    for case in cases.values():
        case.refresh_from_db()
    return who, cases


def figures_of(rows):
    return {
        row.branch.name: (
            row.submitted,
            row.returned,
            row.rejected,
            row.approved,
            row.published,
            row.overdue,
            row.views,
        )
        for row in rows
    }


def dashboard_queries(client, query="") -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/statistics/{query}")
    assert response.status_code == 200
    return len(queries)


class DashboardTests:
    def test_shows_the_figures_and_three_charts(self, history):
        who, _cases = history
        page = signed_in(who.reviewer1).get(
            "/statistics/?start=2026-03-01&end=2026-03-31"
        )
        html = page.content.decode()
        assert html.count('<svg class="chart"') == 3
        assert "<script" not in html.split("<main", 1)[1].split("</main>")[0]
        assert "各审核阶段用时" in html and "通过率" in html
        stages = html_tables(html)["各审核阶段用时"]
        assert ["初审", "4", "1.5", "3.4"] in stages.rows  # median and p90 in days

    def test_the_query_count_does_not_grow_with_the_cases(self, history):
        who, _cases = history
        client = signed_in(who.editor)
        query = "?start=2026-03-01&end=2026-04-30"
        before = dashboard_queries(client, query)
        more = member(Membership.Role.SECRETARY, username="more")
        with at(T0 + 12 * DAY):
            for number in range(12):
                case = written(more, f"more{number}")
                review.case_submit(case=case, acting_user=more)
                if number % 2:
                    decide(case, "return", who.reviewer1)
        assert dashboard_queries(client, query) == before
        assert before <= 15

    def test_tables_download_as_csv_and_excel(self, history):
        who, cases = history
        client = signed_in(who.editor)
        query = "?start=2026-03-01&end=2026-03-31&table=branches"
        response = client.get(query.replace("?", "/statistics/?") + "&format=csv")
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0][:3] == ["党组织", "已提交", "退回修改"]
        assert [
            cases["a1"].branch.name,
            "2",
            "1",
            "1",
            "1",
            "1",
            "50%",
            "0",
            "5",
        ] in rows
        response = client.get(query.replace("?", "/statistics/?") + "&format=xlsx")
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet["A1"].font.bold
        values = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
        # The rate is a number the spreadsheet can compute with, shown as 100%.
        assert [cases["b1"].branch.name, 1, 0, 0, 1, 1, 1.0, 1, 7] in values
        assert sheet["G2"].number_format == "0%"
        stages = client.get(
            "/statistics/?start=2026-03-01&end=2026-03-31&table=stages&format=csv"
        )
        rows = list(csv.reader(io.StringIO(stages.content.decode("utf-8-sig"))))
        assert rows[1] == ["初审", "4", "1.5", "3.4"]

    @staticmethod
    def renamed_and_downloaded(history, name: str, fmt: str):
        """The March table of organisations, after one is renamed `name`."""
        who, cases = history
        branch = cases["a1"].branch
        branch.name = name
        branch.save()
        return signed_in(who.editor).get(
            f"/statistics/?start=2026-03-01&end=2026-03-31&table=branches&format={fmt}"
        )

    def test_a_spreadsheet_formula_in_a_name_is_made_inert(self, history):
        name = '=HYPERLINK("http://example.com","x")'
        response = self.renamed_and_downloaded(history, name, "csv")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert any(row[0] == "'" + name for row in rows)

    def test_a_control_character_in_a_name_does_not_break_the_spreadsheet(
        self, history
    ):
        response = self.renamed_and_downloaded(history, "第一\x0b党支部", "xlsx")
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert "第一党支部" in [row[0].value for row in sheet.iter_rows(min_row=2)]

    def test_a_period_that_makes_no_sense_is_explained(self, history):
        who, _cases = history
        client = signed_in(who.editor)
        for query in (
            "?start=2026-05-01&end=2026-04-01",
            "?start=2026-13-45",
            "?campaign=x",
            "?campaign=100000000000000000000000000000",
            "?start=9999-12-30&end=9999-12-31",
            "?start=0001-01-01&end=0001-01-02",
            "?start=1999-12-31",
        ):
            response = client.get(f"/statistics/{query}")
            assert response.status_code == 200, query
            assert "form-errors" in response.content.decode(), query
        for fmt in ("csv", "xlsx"):
            query = f"?start=9999-12-30&end=9999-12-31&table=branches&format={fmt}"
            assert client.get(f"/statistics/{query}").status_code == 200, query
        page = client.get("/statistics/?start=1999-12-31").content.decode()
        assert "请选择 2000-01-01 至" in page
        # An unknown table or format is the page itself, not an error.
        assert client.get("/statistics/?table=nope&format=pdf").status_code == 200

    def test_branch_users_are_refused(self, history):
        who, _cases = history
        assert signed_in(who.secretary).get("/statistics/").status_code == 403


class DashboardTableTests:
    """Each table on the page is the table in its downloads."""

    @pytest.mark.parametrize(
        "period", ["start=2026-03-01&end=2026-03-31", "start=2026-04-01&end=2026-04-30"]
    )
    def test_every_table_reads_the_same_on_the_page_and_in_its_files(
        self, history, period
    ):
        who, _cases = history
        client = signed_in(who.editor)
        page = html_tables(client.get(f"/statistics/?{period}").content.decode())
        for name, caption in (
            ("branches", "按党组织"),
            ("stages", "各审核阶段用时"),
            ("months", "按月"),
        ):
            url = f"/statistics/?{period}&table={name}&format="
            assert_page_matches_downloads(
                page[caption],
                csv_rows(client.get(url + "csv")),
                sheet_rows(client.get(url + "xlsx")),
            )
        # April: nothing was decided, and no stay at 终审 ended.
        assert len(page["按党组织"].rows) == 2 and len(page["按月"].rows) == 1

    def test_the_headers_and_the_approval_rate_no_longer_differ(self, history):
        who, cases = history
        client = signed_in(who.editor)
        query = "/statistics/?start=2026-03-01&end=2026-03-31"
        html = client.get(query).content.decode()
        stages = html_tables(html)["各审核阶段用时"]
        assert stages.headers == [
            "审核阶段",
            "已办结次数",
            "中位数（天）",
            "90 分位数（天）",
        ]
        branches = html_tables(html)["按党组织"]
        rate = branches.headers.index("通过率")
        # approved ÷ (approved + rejected): A approved 1 and rejected 1.
        assert {row[0]: row[rate] for row in branches.rows} == {
            cases["a1"].branch.name: "50%",
            cases["b1"].branch.name: "100%",
        }
        # The totals above read the same columns: 2 of 3 decisions approved.
        totals = re.findall(
            r'summary-counts__number">([^<]*)</span> ([^<]*)</li>', html
        )
        assert [label for _n, label in totals] == branches.headers[1:]
        by_label = {label: number for number, label in totals}
        assert (by_label["通过率"], by_label["已提交"]) == ("67%", "3")


def test_chart_text_is_escaped():
    from stats import charts

    svg = charts.bar_chart(
        title="<b>t</b>",
        categories=['<script>alert(1)</script>"'],
        series=[charts.Series("<i>s</i>", [3])],
    )
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert "<b>" not in svg and "<i>" not in svg
