"""Every (state, action, actor): the allowed ones work, the rest change nothing.

Two lists written out by hand, apart from `review.workflow.TRANSITIONS`:
`TABLE`, the rows the workflow must have, and `ALLOWED`, what each of seven
people may do in each of eleven states and where the case goes. The table is
asserted equal to the first; the services and `available_actions` are run
against the second, so neither can agree with the code by reading it.
"""

import pprint

import pytest
from django.db import transaction

from casehub.exceptions import CaseActionError
from review import workflow
from review.models import CaseEvent, Decision
from showcase import services as showcase
from submissions.models import Case
from tests.review.factories import (
    case_in_state,
    case_to_scoring,
    committed,
    decide,
    people,
    scoring_stage,
)
from tests.showcase.factories import planned_issue, series
from tests.submissions.factories import UserFactory

pytestmark = pytest.mark.django_db

# (state, action, role) — the workflow's rows, written out.
TABLE = {
    ("draft", "submit", "secretary"),
    ("withdrawn", "submit", "secretary"),
    ("returned", "resubmit", "secretary"),
    ("in_review", "withdraw", "secretary"),
    ("in_review", "approve", "stage_reviewer"),
    ("in_review", "return", "stage_reviewer"),
    ("in_review", "reject", "stage_reviewer"),
    # 评选: from a scoring stage, by an editor, in rank order (review.scoring).
    ("in_review", "score_accept", "publisher"),
    # … and the editor's way out of a round that cannot end: back to the
    # branch, or rejected (the panel scores, it does not decide).
    ("in_review", "return", "publisher"),
    ("in_review", "reject", "publisher"),
    ("rejected", "reopen", "reopener"),
    ("approved", "schedule", "publisher"),
    ("scheduled", "unschedule", "publisher"),
    ("scheduled", "publish", "publisher"),
    ("published", "unpublish", "publisher"),
    ("draft", "delete", "member"),
}
# action -> where it may take the case (None: the draft is deleted).
TARGETS = {
    "submit": {"in_review"},
    "resubmit": {"in_review"},
    "withdraw": {"withdrawn"},
    "approve": {"in_review", "approved"},
    "return": {"returned"},
    "reject": {"rejected"},
    "score_accept": {"approved"},
    "reopen": {"returned"},
    "schedule": {"scheduled"},
    "unschedule": {"approved"},
    "publish": {"published"},
    "unpublish": {"approved"},
    "delete": {None},
}

STATES = [
    "draft",
    "in_review_1",
    "in_review_2",
    "returned",
    "approved",
    "rejected",
    "withdrawn",
    "scheduled",
    "published",
    # Approved again after its issue was taken down, held in the queue.
    "unpublished",
    # In review at a third stage, a scoring round (评选).
    "in_scoring",
]
ACTORS = [
    "correspondent",
    "secretary",
    "other_secretary",
    "reviewer1",
    "reviewer2",
    "editor",
    "outsider",
]
ACTIONS = [
    "submit",
    "resubmit",
    "withdraw",
    "approve",
    "return",
    "reject",
    "score_accept",
    "reopen",
    "schedule",
    "unschedule",
    "publish",
    "unpublish",
    "delete",
]

# (state, action, actor) -> (status afterwards, stage position afterwards)
ALLOWED = {
    ("draft", "submit", "secretary"): ("in_review", 1),
    ("withdrawn", "submit", "secretary"): ("in_review", 1),
    ("returned", "resubmit", "secretary"): ("in_review", 1),
    ("in_review_1", "withdraw", "secretary"): ("withdrawn", None),
    ("in_review_2", "withdraw", "secretary"): ("withdrawn", None),
    ("in_review_1", "approve", "reviewer1"): ("in_review", 2),
    ("in_review_2", "approve", "reviewer2"): ("approved", None),
    ("in_review_1", "return", "reviewer1"): ("returned", None),
    ("in_review_2", "return", "reviewer2"): ("returned", None),
    ("in_review_1", "reject", "reviewer1"): ("rejected", None),
    ("in_review_2", "reject", "reviewer2"): ("rejected", None),
    ("rejected", "reopen", "editor"): ("returned", None),
    ("approved", "schedule", "editor"): ("scheduled", None),
    ("unpublished", "schedule", "editor"): ("scheduled", None),
    ("scheduled", "unschedule", "editor"): ("approved", None),
    ("scheduled", "publish", "editor"): ("published", None),
    ("published", "unpublish", "editor"): ("approved", None),
    ("in_scoring", "withdraw", "secretary"): ("withdrawn", None),
    ("in_scoring", "score_accept", "editor"): ("approved", None),
    ("in_scoring", "return", "editor"): ("returned", None),
    ("in_scoring", "reject", "editor"): ("rejected", None),
    ("draft", "delete", "secretary"): (None, None),
    ("draft", "delete", "correspondent"): (None, None),
}


def test_the_table_is_the_one_written_here():
    rows = {
        (state, transition.action, transition.role)
        for transition in workflow.TRANSITIONS
        for state in transition.sources
    }
    assert rows == TABLE
    assert {t.action: set(t.targets) for t in workflow.TRANSITIONS} == TARGETS
    # One row per action, and return and reject once more for a scoring stage.
    assert len(workflow.TRANSITIONS) == len(TARGETS) + 2
    by_kind = {
        (t.action, t.stage_kind)
        for t in workflow.TRANSITIONS
        if t.action in ("return", "reject")
    }
    assert by_kind == {
        ("return", "review"),
        ("return", "scoring"),
        ("reject", "review"),
        ("reject", "scoring"),
    }


def test_every_state_a_case_can_be_in_is_in_the_table():
    states = {state for state, _action, _role in TABLE}
    assert states == set(Case.Status.values)


def test_every_audited_action_is_a_transition_or_an_edit():
    # An edit, an override (review.workflow.finding_override), a score and a
    # change of scorers (review.scoring) leave the state as it was; every
    # other event is a move of the table.
    audited = set(CaseEvent.Action.values) - {"edit", "override", "score", "scorers"}
    assert audited == {t.action for t in workflow.TRANSITIONS} - {"delete"}


def brought_to(who, state, the_series):
    if state == "in_scoring":
        scoring_stage(members=[UserFactory(username="expert")], per_case=1)
        return case_to_scoring(who)
    if state in ("scheduled", "published", "unpublished"):
        case = case_in_state(who, "approved")
        issue = planned_issue(who, the_series, cases=[case])
        if state != "scheduled":
            with committed():
                showcase.issue_publish(issue=issue, acting_user=who.editor)
        if state == "unpublished":
            with committed():
                showcase.issue_unpublish(
                    issue=issue, acting_user=who.editor, reason="内容更新"
                )
        return case
    return case_in_state(who, state)


def act(case, action, actor, issue):
    if action == "submit":
        return workflow.case_submit(case=case, acting_user=actor)
    if action == "resubmit":
        return workflow.case_resubmit(case=case, acting_user=actor)
    if action == "withdraw":
        return workflow.case_withdraw(case=case, acting_user=actor, comment="撤回")
    if action == "reopen":
        return workflow.case_reopen(case=case, acting_user=actor, comment="重新考虑")
    if action == "schedule":
        return workflow.case_schedule(case=case, acting_user=actor, issue=issue)
    if action == "unschedule":
        return workflow.case_unschedule(case=case, acting_user=actor, issue=issue)
    if action == "publish":
        return workflow.case_publish(case=case, acting_user=actor, issue=issue)
    if action == "unpublish":
        return workflow.case_unpublish(case=case, acting_user=actor, reason="更正")
    if action == "delete":
        return workflow.case_delete_draft(case=case, acting_user=actor)
    if action == "score_accept":
        return workflow.case_score_accept(case=case, acting_user=actor)
    return decide(case, action, actor)


def snapshot(case_id):
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        return None
    return (
        case.status,
        case.current_stage_id,
        case.version,
        CaseEvent.objects.filter(case=case).count(),
        Decision.objects.filter(case=case).count(),
        case.revisions.count(),
    )


class Undo(Exception):
    """Raised to roll a cell's savepoint back once it has been checked."""


def check_cell(case_id, state, action, actor, issue) -> list[str]:
    """Run one cell in a savepoint that is rolled back; the mismatches found."""
    problems = []
    before = snapshot(case_id)
    expected = ALLOWED.get((state, action, actor.username))
    try:
        with transaction.atomic():
            case = Case.objects.get(pk=case_id)
            if expected is None:
                try:
                    act(case, action, actor, issue)
                    problems.append("allowed, but should be refused")
                except CaseActionError as refused:
                    if not refused.message.strip():
                        problems.append("refused without a message")
                raise Undo
            event = act(case, action, actor, issue)
            after = snapshot(case_id)
            status, stage_position = expected
            if status is None:
                if after is not None:
                    problems.append("not deleted")
                raise Undo
            case.refresh_from_db()
            position = case.current_stage.position if case.current_stage else None
            if (case.status, position) != (status, stage_position):
                problems.append(f"went to {(case.status, position)}")
            if after[3] != before[3] + 1:
                problems.append("not one audit event")
            if (event.actor, event.from_status, event.to_status) != (
                actor,
                before[0],
                status,
            ):
                problems.append("audit event wrong")
            # A reviewer's decision is a row; an editor's return or rejection
            # at a scoring stage is the event alone.
            decided = action in ("approve", "return", "reject") and state != (
                "in_scoring"
            )
            if after[4] != before[4] + decided:
                problems.append("decision count wrong")
            raise Undo
    except Undo:
        pass
    if snapshot(case_id) != before:
        problems.append("changed something that was rolled back?")
    return problems


@pytest.mark.parametrize("state", STATES)
def test_transition_cells(state):
    """Each of 13 actions by each of 7 people on a case in `state`."""
    who = people()
    the_series = series()
    case = Case.objects.get(pk=brought_to(who, state, the_series).pk)
    issue = case.issues.order_by("-pk").first() or planned_issue(
        who, the_series, cases=[]
    )
    mismatches = {}
    for actor_name in ACTORS:
        actor = getattr(who, actor_name)
        offered = {t.action for t in workflow.available_actions(case, actor)}
        allowed = {a for (s, a, n) in ALLOWED if s == state and n == actor_name}
        if offered != allowed:
            mismatches[(actor_name, "offered")] = sorted(offered)
        for action in ACTIONS:
            problems = check_cell(case.pk, state, action, actor, issue)
            if problems:
                mismatches[(actor_name, action)] = problems
    assert mismatches == {}, pprint.pformat(mismatches)
