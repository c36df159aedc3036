"""The text check in the workflow: checked on submit, and a `block` finding
stops scheduling and publishing, by an editor or by the schedule, until an
editor overrides it with a reason that goes on the case's timeline."""

import datetime
import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from casehub.exceptions import NotPermitted, WrongState
from review import workflow
from review.models import CaseEvent
from review.selectors import case_timeline
from showcase import services as showcase
from showcase.models import Issue, Series
from submissions.models import Case
from tests.review.factories import committed, decide, draft, latest
from tests.showcase.factories import series
from tests.submissions.factories import signed_in
from textcheck.models import FindingOverride, RevisionCheck, dictionary_version
from textcheck.services import (
    revision_block_message,
    revision_open_findings,
    term_save,
)
from textcheck.tasks import revision_check_task

pytestmark = pytest.mark.django_db

BLOCKED_WORD = "违规用语"
WARNED_WORD = "有关部门"
BODY = f"<p>支部坚持学习，杜绝{BLOCKED_WORD}。</p>"
WARN_BODY = f"<p>支部配合{WARNED_WORD}开展工作。</p>"


def term(word, *, severity="block", kind="sensitive", replacement=""):
    """A dictionary entry, added as the department adds one."""
    return term_save(
        kind=kind,
        term=word,
        replacement=replacement,
        severity=severity,
        note="测试用词条",
        acting_user=None,
    )


def approved_with(who, body=BODY):
    """A case with `body`, approved at both stages."""
    case = draft(who, body=body)
    workflow.case_submit(case=case, acting_user=who.secretary)
    decide(case, "approve", who.reviewer1)
    decide(case, "approve", who.reviewer2)
    case.refresh_from_db()
    assert case.status == Case.Status.APPROVED
    return case


def the_finding(case, word=BLOCKED_WORD):
    """The open (field, finding) of the case's latest revision for `word`."""
    [pair] = [
        (field, finding)
        for field, finding in revision_open_findings(latest(case))
        if finding.term == word
    ]
    return pair


def override(case, who, *, reason="经核实为引用原文，保留。", word=BLOCKED_WORD):
    field, finding = the_finding(case, word)
    return workflow.finding_override(
        case=case, acting_user=who.editor, field=field, finding=finding, reason=reason
    )


def in_planned_issue(who, case, *, when=None):
    """A new issue of the one series, planned with `case`."""
    return showcase.issue_plan(
        series=Series.objects.first() or series(),
        scheduled_at=when or timezone.now() + datetime.timedelta(days=3),
        acting_user=who.editor,
        cases=[case],
    )


class SubmitChecksTheRevisionTests:
    @pytest.mark.parametrize("resubmit", [False, True], ids=["submit", "resubmit"])
    def test_the_check_is_queued_on_commit_and_stores_the_result(
        self, who, resubmit, django_capture_on_commit_callbacks
    ):
        term(BLOCKED_WORD)
        case = draft(who, body=BODY)
        if resubmit:
            workflow.case_submit(case=case, acting_user=who.secretary)
            decide(case, "return", who.reviewer1)
        submit = workflow.case_resubmit if resubmit else workflow.case_submit
        with django_capture_on_commit_callbacks() as callbacks:
            submit(case=case, acting_user=who.secretary)
        revision = latest(case)
        # Nothing is checked inside the transaction: the worker does it after.
        assert not RevisionCheck.objects.filter(revision=revision).exists()
        for callback in callbacks:
            callback()
        check = RevisionCheck.objects.get(revision=revision)
        assert check.version == dictionary_version()
        assert [found["term"] for found in check.findings["body"]] == [BLOCKED_WORD]

    def test_the_task_stores_the_check_of_the_revision(self, who):
        term(BLOCKED_WORD)
        case = draft(who, body=BODY)
        workflow.case_submit(case=case, acting_user=who.secretary)
        revision = latest(case)
        assert not RevisionCheck.objects.filter(revision=revision).exists()
        revision_check_task(revision.pk)
        check = RevisionCheck.objects.get(revision=revision)
        assert check.findings["body"][0]["severity"] == "block"


class BlockStopsTheShowcaseTests:
    def test_schedule_is_refused_with_the_message(self, who):
        case = approved_with(who)
        term(BLOCKED_WORD)
        message = revision_block_message(latest(case))
        assert message and BLOCKED_WORD in message
        with pytest.raises(WrongState) as refused:
            in_planned_issue(who, case)
        assert refused.value.message == message
        case.refresh_from_db()
        assert case.status == Case.Status.APPROVED
        assert not Issue.objects.exists()
        assert not case.events.filter(action=CaseEvent.Action.SCHEDULE).exists()

    def test_the_table_says_so(self):
        for action in ("schedule", "publish"):
            assert any(
                "block finding" in need for need in workflow.TRANSITION[action].requires
            )

    def test_a_warning_never_blocks(self, who):
        term(WARNED_WORD, severity="warn")
        case = approved_with(who, body=WARN_BODY)
        assert the_finding(case, WARNED_WORD)[1].severity == "warn"
        assert revision_block_message(latest(case)) is None
        issue = in_planned_issue(who, case)
        with committed():
            showcase.issue_publish(issue=issue, acting_user=who.editor)
        case.refresh_from_db()
        assert case.status == Case.Status.PUBLISHED

    def test_a_dictionary_change_after_scheduling_blocks_publishing(self, who):
        case = approved_with(who)
        issue = in_planned_issue(who, case)
        term(BLOCKED_WORD)
        with pytest.raises(WrongState) as refused:
            showcase.issue_publish(issue=issue, acting_user=who.editor)
        assert BLOCKED_WORD in refused.value.message
        issue.refresh_from_db()
        case.refresh_from_db()
        assert (issue.status, issue.number) == (Issue.Status.PLANNED, None)
        assert case.status == Case.Status.SCHEDULED

        override(case, who)
        with committed():
            showcase.issue_publish(issue=issue, acting_user=who.editor)
        case.refresh_from_db()
        assert case.status == Case.Status.PUBLISHED

    def test_the_check_runs_inline_when_the_worker_has_not(self, who):
        # Submitted outside `committed()`: the task never ran.
        case = approved_with(who)
        assert not RevisionCheck.objects.filter(revision=latest(case)).exists()
        term(BLOCKED_WORD)
        with pytest.raises(WrongState):
            in_planned_issue(who, case)

    def test_manual_publish_keeps_the_issue_planned_and_says_why(self, who):
        case = approved_with(who)
        issue = in_planned_issue(who, case)
        term(BLOCKED_WORD)
        client = signed_in(who.editor)
        response = client.post(
            reverse("showcase_editor:issue_publish", args=[issue.pk]), follow=True
        )
        page = response.content.decode()
        assert "message--error" in page
        assert revision_block_message(latest(case)) in page
        issue.refresh_from_db()
        assert issue.status == Issue.Status.PLANNED

    def test_the_schedule_leaves_the_issue_planned_and_tries_again(self, who, caplog):
        case = approved_with(who)
        issue = in_planned_issue(who, case, when=timezone.now())
        term(BLOCKED_WORD)
        later = timezone.now() + datetime.timedelta(minutes=5)
        with caplog.at_level(logging.WARNING, logger="showcase.services"):
            result = showcase.issues_publish_due(now=later)
        assert (result.published, result.failed) == ([], [issue.pk])
        assert BLOCKED_WORD in caplog.text
        issue.refresh_from_db()
        assert issue.status == Issue.Status.PLANNED

        override(case, who)
        with committed():
            result = showcase.issues_publish_due(now=later)
        assert [published.pk for published in result.published] == [issue.pk]
        case.refresh_from_db()
        assert case.status == Case.Status.PUBLISHED


class FindingOverrideTests:
    def test_override_with_a_reason_lets_the_case_through(self, who):
        case = approved_with(who)
        term(BLOCKED_WORD)
        field, finding = the_finding(case)
        event = workflow.finding_override(
            case=case,
            acting_user=who.editor,
            field=field,
            finding=finding,
            reason="  经核实为引用原文，保留。 ",
        )
        assert (event.action, event.actor, event.from_status, event.to_status) == (
            CaseEvent.Action.OVERRIDE,
            who.editor,
            Case.Status.APPROVED,
            Case.Status.APPROVED,
        )
        assert BLOCKED_WORD in event.comment
        assert "经核实为引用原文，保留。" in event.comment
        assert event.revision == latest(case)
        recorded = FindingOverride.objects.get()
        assert (recorded.field, recorded.term, recorded.actor) == (
            field,
            BLOCKED_WORD,
            who.editor,
        )
        assert recorded.reason == "经核实为引用原文，保留。"
        assert revision_block_message(latest(case)) is None
        in_planned_issue(who, case)
        case.refresh_from_db()
        assert case.status == Case.Status.SCHEDULED

    def test_the_override_is_on_the_timeline(self, who):
        case = approved_with(who)
        term(BLOCKED_WORD)
        event = override(case, who, reason="原文引用，编辑确认")
        assert event in list(case_timeline(case=case))
        page = signed_in(who.secretary).get(case.get_absolute_url()).content.decode()
        assert "timeline__item--override" in page
        assert "原文引用，编辑确认" in page

    @pytest.mark.parametrize("reason", ["", "   \n"])
    def test_an_empty_reason_is_refused(self, who, reason):
        case = approved_with(who)
        term(BLOCKED_WORD)
        with pytest.raises(WrongState) as refused:
            override(case, who, reason=reason)
        assert refused.value.message
        assert not FindingOverride.objects.exists()
        assert not case.events.filter(action=CaseEvent.Action.OVERRIDE).exists()

    @pytest.mark.parametrize("actor", ["secretary", "reviewer1", "reviewer2"])
    def test_only_an_editor_overrides(self, who, actor):
        case = approved_with(who)
        term(BLOCKED_WORD)
        field, finding = the_finding(case)
        with pytest.raises(NotPermitted):
            workflow.finding_override(
                case=case,
                acting_user=getattr(who, actor),
                field=field,
                finding=finding,
                reason="理由",
            )
        assert not FindingOverride.objects.exists()
        assert revision_block_message(latest(case))

    @pytest.mark.parametrize("outcome", [None, "return", "reject"])
    def test_only_approved_or_scheduled_cases(self, who, outcome):
        term(BLOCKED_WORD)
        case = draft(who, body=BODY)
        workflow.case_submit(case=case, acting_user=who.secretary)
        if outcome:
            decide(case, outcome, who.reviewer1)
        case.refresh_from_db()
        with pytest.raises(WrongState):
            override(case, who)
        assert not FindingOverride.objects.exists()

    def test_a_finding_overridden_already_is_not_overridden_twice(self, who):
        case = approved_with(who)
        term(BLOCKED_WORD)
        field, finding = the_finding(case)
        override(case, who)
        with pytest.raises(WrongState):
            workflow.finding_override(
                case=case,
                acting_user=who.editor,
                field=field,
                finding=finding,
                reason="再次放行",
            )
        assert FindingOverride.objects.count() == 1
        assert case.events.filter(action=CaseEvent.Action.OVERRIDE).count() == 1

    def test_a_finding_of_an_older_revision_is_refused(self, who):
        term(BLOCKED_WORD)
        case = draft(who, body=BODY)
        workflow.case_submit(case=case, acting_user=who.secretary)
        field, old_finding = the_finding(case)
        decide(case, "return", who.reviewer1)
        Case.objects.filter(pk=case.pk).update(body="<p>支部坚持学习，文字已改。</p>")
        workflow.case_resubmit(case=case, acting_user=who.secretary)
        decide(case, "approve", who.reviewer1)
        decide(case, "approve", who.reviewer2)
        case.refresh_from_db()
        with pytest.raises(WrongState):
            workflow.finding_override(
                case=case,
                acting_user=who.editor,
                field=field,
                finding=old_finding,
                reason="理由",
            )
        assert not FindingOverride.objects.exists()
