"""The participation table of a call: the page draws the table it downloads."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authoring.services import CaseContent, case_create
from campaigns.services import campaign_save, extension_grant
from review import workflow as review
from submissions.models import Case, Membership
from tests.casehub.html_tables import (
    assert_page_matches_downloads,
    csv_rows,
    html_tables,
    sheet_rows,
)
from tests.review.factories import case_in_state
from tests.showcase.factories import series
from tests.submissions.factories import member, signed_in

pytestmark = pytest.mark.django_db

HEADERS = ["党组织", "最远进度", "案例数", "已提交", "延期至"]


def a_call(who, branches):
    today = timezone.localdate()
    return campaign_save(
        acting_user=who.editor,
        title="年度案例征集",
        description="",
        series=series(),
        opens_on=today - datetime.timedelta(days=20),
        closes_on=today + datetime.timedelta(days=10),
        branches=branches,
    )


def organisation(name):
    return member(Membership.Role.SECRETARY, username=name)


def answering(campaign, secretary, *, submit: bool):
    case = case_create(
        branch=secretary.memberships.get().branch,
        acting_user=secretary,
        content=CaseContent(title="案例", lead="导语。", body="<p>正文。</p>"),
    )
    Case.objects.filter(pk=case.pk).update(campaign=campaign)
    if submit:
        review.case_submit(case=Case.objects.get(pk=case.pk), acting_user=secretary)


def page_of(client, campaign):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(campaign.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode(), len(queries)


class ParticipationTableTests:
    def test_the_page_and_both_files_show_the_same_table(self, who):
        drafting, waiting = organisation("drafting"), organisation("waiting")
        branch_of = {u: u.memberships.get().branch for u in (drafting, waiting)}
        campaign = a_call(who, [who.branch, *branch_of.values()])
        Case.objects.filter(pk=case_in_state(who, "in_review_1").pk).update(
            campaign=campaign
        )
        answering(campaign, drafting, submit=False)
        until = campaign.closes_on + datetime.timedelta(days=7)
        extension_grant(
            campaign=campaign,
            branch=branch_of[waiting],
            until=until,
            reason="材料尚在补充",
            acting_user=who.editor,
        )
        client = signed_in(who.reviewer1)
        html, _queries = page_of(client, campaign)
        table = html_tables(html)["参与情况"]
        url = campaign.get_absolute_url() + "?format="
        assert_page_matches_downloads(
            table,
            csv_rows(client.get(url + "csv")),
            sheet_rows(client.get(url + "xlsx")),
        )
        # Five columns on the page as in the files: "submitted" is no longer
        # left out of the page.
        assert table.headers == HEADERS
        rows = {row[0]: row for row in table.rows}
        assert rows[who.branch.name] == [who.branch.name, "审核中", "1", "1", "—"]
        assert rows[branch_of[drafting].name][1:4] == ["撰写中", "1", "0"]
        assert rows[branch_of[waiting].name][1:] == [
            "未启动",
            "0",
            "0",
            until.isoformat(),
        ]
        # The state keeps its coloured badge around the same text.
        assert (
            '<span class="participation participation--not_started">未启动</span>'
            in html
        )

    def test_the_page_costs_the_same_queries_for_many_organisations(self, who):
        campaign = a_call(who, [who.branch])
        client = signed_in(who.reviewer1)
        _html, few = page_of(client, campaign)
        secretaries = [organisation(f"org{n}") for n in range(8)]
        campaign.branches.add(*(s.memberships.get().branch for s in secretaries))
        for number, secretary in enumerate(secretaries):
            answering(campaign, secretary, submit=number % 2 == 0)
        html, many = page_of(client, campaign)
        assert len(html_tables(html)["参与情况"].rows) == 9
        assert many == few
