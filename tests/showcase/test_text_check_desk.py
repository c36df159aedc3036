"""The editors' desk and the text check: each planned issue and each queued
case with its open findings, the issue's and the case's findings pages with a
放行 form per finding, and the POST that lets one through."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from review.models import CaseEvent
from showcase import services
from submissions.models import Case
from tests.review.factories import committed, latest
from tests.review.test_text_check_workflow import (
    BLOCKED_WORD,
    BODY,
    WARN_BODY,
    WARNED_WORD,
    approved_with,
    in_planned_issue,
    term,
)
from tests.submissions.factories import signed_in
from textcheck.models import FindingOverride
from textcheck.services import revision_open_findings
from textcheck.tasks import open_revisions_recheck

pytestmark = pytest.mark.django_db


def queries(request) -> int:
    """How many queries `request()` makes."""
    with CaptureQueriesContext(connection) as captured:
        request()
    return len(captured)


@pytest.fixture
def terms(db):
    term(BLOCKED_WORD)
    term(WARNED_WORD, severity="warn")


def desk(client):
    response = client.get(reverse("showcase_editor:desk"))
    assert response.status_code == 200
    return response


def override_data(case, word, **changes):
    [(field, finding)] = [
        (field, finding)
        for field, finding in revision_open_findings(latest(case))
        if finding.term == word
    ]
    data = {
        "field": field,
        "kind": finding.kind,
        "term": finding.term,
        "start": finding.start,
        "reason": "经核实为引用原文，保留。",
    }
    data.update(changes)
    return data


class DeskCountsTests:
    def test_queued_and_planned_cases_show_their_open_findings(self, who):
        queued = approved_with(who, body=BODY)
        planned_case = approved_with(who, body=WARN_BODY)
        issue = in_planned_issue(who, planned_case)
        term(BLOCKED_WORD)
        term(WARNED_WORD, severity="warn")
        response = desk(signed_in(who.editor))
        [case] = response.context["queue"]
        assert case == queued
        assert case.finding_counts == {"block": 1, "warn": 0}
        [planned] = response.context["planned"]
        assert planned.finding_counts == {"block": 0, "warn": 1}
        page = response.content.decode()
        assert reverse("showcase_editor:case_findings", args=[queued.pk]) in page
        assert reverse("showcase_editor:issue_findings", args=[issue.pk]) in page
        assert page.count("badge--finding-block") == 1
        assert page.count("badge--finding-warn") == 2  # the issue, its case

    def test_an_overridden_finding_is_not_counted(self, who, terms):
        queued = approved_with(who, body=BODY)
        signed_in(who.editor).post(
            reverse("showcase_editor:finding_override", args=[queued.pk]),
            override_data(queued, BLOCKED_WORD),
        )
        [case] = desk(signed_in(who.editor)).context["queue"]
        assert case.finding_counts == {"block": 0, "warn": 0}

    def test_query_count_is_the_same_for_more_cases(
        self, who, terms, django_assert_num_queries
    ):
        client = signed_in(who.editor)
        issue = in_planned_issue(who, approved_with(who, body=WARN_BODY))

        def fill(count):
            for _ in range(count):
                approved_with(who, body=BODY)
                services.issue_case_add(
                    issue=issue,
                    case=approved_with(who, body=WARN_BODY),
                    acting_user=who.editor,
                )

        fill(1)
        open_revisions_recheck()  # what the worker has stored by now
        few = queries(lambda: desk(client))
        fill(5)
        open_revisions_recheck()
        with django_assert_num_queries(few):
            response = desk(client)
        assert len(response.context["queue"]) == 6
        [planned] = response.context["planned"]
        assert planned.finding_counts == {"block": 0, "warn": 7}


class IssueFindingsPageTests:
    def test_each_case_with_its_findings_and_a_form_per_finding(self, who, terms):
        warned = approved_with(who, body=WARN_BODY)
        issue = in_planned_issue(who, warned)
        response = signed_in(who.editor).get(
            reverse("showcase_editor:issue_findings", args=[issue.pk])
        )
        assert response.status_code == 200
        [item] = response.context["cases"]
        assert item["case"] == warned
        [(row, _form)] = item["findings"]
        assert row.finding.term == WARNED_WORD
        page = response.content.decode()
        action = reverse("showcase_editor:finding_override", args=[warned.pk])
        assert page.count(f'action="{action}"') == 1
        assert f'name="issue" value="{issue.pk}"' in page
        assert 'name="reason"' in page

    def test_a_published_issue_has_no_such_page(self, who, terms):
        issue = in_planned_issue(who, approved_with(who, body=WARN_BODY))
        with committed():
            services.issue_publish(issue=issue, acting_user=who.editor)
        response = signed_in(who.editor).get(
            reverse("showcase_editor:issue_findings", args=[issue.pk])
        )
        assert response.status_code == 404

    def test_query_count_is_the_same_for_more_cases(
        self, who, terms, django_assert_num_queries
    ):
        client = signed_in(who.editor)
        cases = [approved_with(who, body=WARN_BODY)]
        issue = in_planned_issue(who, cases[0])
        url = reverse("showcase_editor:issue_findings", args=[issue.pk])
        open_revisions_recheck()
        few = queries(lambda: client.get(url))
        for _ in range(5):
            services.issue_case_add(
                issue=issue,
                case=approved_with(who, body=WARN_BODY),
                acting_user=who.editor,
            )
        open_revisions_recheck()
        with django_assert_num_queries(few):
            response = client.get(url)
        assert len(response.context["cases"]) == 6


class FindingOverrideViewTests:
    def test_the_editor_lets_a_finding_through_and_returns_to_the_issue(
        self, who, terms
    ):
        case = approved_with(who, body=WARN_BODY)
        issue = in_planned_issue(who, case)
        response = signed_in(who.editor).post(
            reverse("showcase_editor:finding_override", args=[case.pk]),
            override_data(case, WARNED_WORD, issue=issue.pk),
        )
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "showcase_editor:issue_findings", args=[issue.pk]
        )
        event = case.events.get(action=CaseEvent.Action.OVERRIDE)
        assert event.actor == who.editor
        assert "经核实为引用原文，保留。" in event.comment
        assert FindingOverride.objects.get().term == WARNED_WORD

    def test_a_blocked_queued_case_is_let_through_then_scheduled(self, who, terms):
        case = approved_with(who, body=BODY)
        client = signed_in(who.editor)
        response = client.post(
            reverse("showcase_editor:finding_override", args=[case.pk]),
            override_data(case, BLOCKED_WORD),
            follow=True,
        )
        assert response.redirect_chain[-1][0] == reverse(
            "showcase_editor:case_findings", args=[case.pk]
        )
        assert "message--success" in response.content.decode()
        in_planned_issue(who, case)
        case.refresh_from_db()
        assert case.status == Case.Status.SCHEDULED

    @pytest.mark.parametrize(
        "changes",
        [
            {"reason": ""},
            {"reason": "   "},
            {"reason": "长" * 1001},
            {"start": 999},
            {"term": "不存在的词"},
            {"field": "author_name"},
            {"start": "x"},
        ],
        ids=["empty", "blank", "too-long", "elsewhere", "other-term", "field", "nan"],
    )
    def test_a_refused_override_records_nothing_and_says_why(self, who, terms, changes):
        case = approved_with(who, body=BODY)
        response = signed_in(who.editor).post(
            reverse("showcase_editor:finding_override", args=[case.pk]),
            override_data(case, BLOCKED_WORD, **changes),
            follow=True,
        )
        assert response.status_code == 200
        assert "message--error" in response.content.decode()
        assert not FindingOverride.objects.exists()
        assert not case.events.filter(action=CaseEvent.Action.OVERRIDE).exists()

    def test_the_reason_typed_comes_back_when_refused(self, who, terms):
        case = approved_with(who, body=BODY)
        client = signed_in(who.editor)
        url = reverse("showcase_editor:finding_override", args=[case.pk])
        data = override_data(case, BLOCKED_WORD)
        client.post(url, data)
        again = client.post(url, {**data, "reason": "第二次的理由"}, follow=True)
        assert "第二次的理由" in again.content.decode()
        assert FindingOverride.objects.count() == 1

    def test_a_case_not_on_the_desk_is_not_found(self, who, terms):
        case = approved_with(who, body=BODY)
        data = override_data(case, BLOCKED_WORD)
        Case.objects.filter(pk=case.pk).update(status=Case.Status.PUBLISHED)
        response = signed_in(who.editor).post(
            reverse("showcase_editor:finding_override", args=[case.pk]), data
        )
        assert response.status_code == 404
        assert not FindingOverride.objects.exists()

    def test_a_reviewer_is_refused(self, who, terms):
        case = approved_with(who, body=BODY)
        response = signed_in(who.reviewer2).post(
            reverse("showcase_editor:finding_override", args=[case.pk]),
            override_data(case, BLOCKED_WORD),
        )
        assert response.status_code == 403
        assert not FindingOverride.objects.exists()
