"""Every (state, action, actor): the allowed ones work, the rest change nothing."""

import pytest

from casehub.exceptions import CaseActionError
from review import services
from review.models import CaseEvent, Decision
from tests.review.factories import case_in_state, decide, people

pytestmark = pytest.mark.django_db

STATES = [
    "draft",
    "in_review_1",
    "in_review_2",
    "returned",
    "approved",
    "rejected",
    "withdrawn",
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
ACTIONS = ["submit", "resubmit", "withdraw", "approve", "return", "reject", "reopen"]

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
}


def act(case, action, actor):
    if action == "submit":
        return services.case_submit(case=case, acting_user=actor)
    if action == "resubmit":
        return services.case_resubmit(case=case, acting_user=actor)
    if action == "withdraw":
        return services.case_withdraw(case=case, acting_user=actor, comment="撤回")
    if action == "reopen":
        return services.case_reopen(case=case, acting_user=actor, comment="重新考虑")
    return decide(case, action, actor)


def snapshot(case):
    case.refresh_from_db()
    return (
        case.status,
        case.current_stage_id,
        case.version,
        CaseEvent.objects.filter(case=case).count(),
        Decision.objects.filter(case=case).count(),
        case.revisions.count(),
    )


@pytest.mark.parametrize("actor_name", ACTORS)
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", STATES)
def test_transition_table(state, action, actor_name):
    who = people()
    case = case_in_state(who, state)
    before = snapshot(case)
    expected = ALLOWED.get((state, action, actor_name))
    actor = getattr(who, actor_name)
    if expected is None:
        with pytest.raises(CaseActionError) as refused:
            act(case, action, actor)
        assert refused.value.message.strip()
        assert snapshot(case) == before
        return
    event = act(case, action, actor)
    case.refresh_from_db()
    status, stage_position = expected
    assert case.status == status
    assert (case.current_stage.position if case.current_stage else None) == (
        stage_position
    )
    assert CaseEvent.objects.filter(case=case).count() == before[3] + 1
    assert (event.actor, event.from_status, event.to_status) == (
        actor,
        before[0],
        status,
    )
    assert event.revision == case.revisions.order_by("-number").first()
    if action in ("approve", "return", "reject"):
        assert Decision.objects.filter(case=case).count() == before[4] + 1
