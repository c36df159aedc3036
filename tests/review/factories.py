"""People and cases for review tests, built through the services as users would."""

from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth.models import Group
from django.test import TestCase

from authoring.services import CaseContent, case_create
from review import workflow
from review.models import Criterion, ReviewStage
from review.setup import EDITOR_GROUP, default_roles_ensure
from submissions.models import Case, Membership
from tests.submissions.factories import UserFactory, member


def stage(position) -> ReviewStage:
    return ReviewStage.objects.get(position=position)


def reviewer(position, **fields):
    user = UserFactory(**fields)
    user.groups.add(stage(position).reviewer_group)
    return user


def editor(**fields):
    user = UserFactory(**fields)
    user.groups.add(Group.objects.get(name=EDITOR_GROUP))
    return user


@dataclass
class People:
    secretary: object
    correspondent: object
    other_secretary: object
    reviewer1: object
    reviewer2: object
    editor: object
    outsider: object

    @property
    def branch(self):
        return self.secretary.memberships.get().branch


def people() -> People:
    # Transactional tests empty the tables the migrations filled; put back
    # the stages and groups a department starts with.
    default_roles_ensure(apps)
    secretary = member(Membership.Role.SECRETARY, username="secretary")
    return People(
        secretary=secretary,
        correspondent=member(
            Membership.Role.CORRESPONDENT,
            branch=secretary.memberships.get().branch,
            username="correspondent",
        ),
        other_secretary=member(Membership.Role.SECRETARY, username="other_secretary"),
        reviewer1=reviewer(1, username="reviewer1"),
        reviewer2=reviewer(2, username="reviewer2"),
        editor=editor(username="editor"),
        outsider=UserFactory(username="outsider"),
    )


def draft(who: People, **content) -> Case:
    values = {"title": "党建引领新篇章", "lead": "导语。", "body": "<p>一是……</p>"}
    values.update(content)
    return case_create(
        branch=who.branch, acting_user=who.correspondent, content=CaseContent(**values)
    )


def latest(case):
    case.refresh_from_db()
    return case.revisions.order_by("-number").first()


def decide(case, outcome, actor, comment="意见"):
    case.refresh_from_db()
    action = {
        "approve": workflow.case_approve,
        "return": workflow.case_return,
        "reject": workflow.case_reject,
    }[outcome]
    return action(
        case=case,
        acting_user=actor,
        stage=case.current_stage or stage(1),
        revision=latest(case),
        comment=comment,
    )


def case_in_state(who: People, state: str) -> Case:
    """A case brought to `state` the way people would bring it there."""
    case = draft(who)
    if state == "draft":
        return case
    workflow.case_submit(case=case, acting_user=who.secretary)
    if state == "in_review_1":
        return case
    if state == "withdrawn":
        workflow.case_withdraw(case=case, acting_user=who.secretary)
        return case
    if state == "returned":
        decide(case, "return", who.reviewer1)
        return case
    if state == "rejected":
        decide(case, "reject", who.reviewer1)
        return case
    decide(case, "approve", who.reviewer1)
    if state == "in_review_2":
        return case
    decide(case, "approve", who.reviewer2)
    assert state == "approved", state
    return case


def committed():
    """Run on-commit callbacks when the block ends, as the real commit would.

    Tests run inside a transaction that is rolled back, so nothing commits.
    """
    return TestCase.captureOnCommitCallbacks(execute=True)


# 评选: a scoring stage after the two review stages, and cases brought to it.
RUBRIC = [("创新性", 30), ("实效性", 40), ("示范性", 30)]


def scoring_stage(*, members=(), per_case=3, blind=False, deadline=None, position=3):
    """A scoring stage with the usual rubric (each criterion scored 0..10)."""
    group = Group.objects.create(name=f"评审专家组{position}")
    for user in members:
        user.groups.add(group)
    scoring = ReviewStage.objects.create(
        position=position,
        name=f"评选{position}",
        reviewer_group=group,
        kind=ReviewStage.Kind.SCORING,
        scorers_per_case=per_case,
        is_blind=blind,
        scoring_deadline=deadline,
    )
    for order, (name, weight) in enumerate(RUBRIC):
        Criterion.objects.create(
            stage=scoring, name=name, weight=weight, scale_max=10, order=order
        )
    return scoring


def case_to_scoring(who: People, secretary=None, **content) -> Case:
    """A case of `secretary`'s branch (the usual one if not given), submitted
    and approved at both review stages, so that it waits at the scoring stage."""
    secretary = secretary or who.secretary
    values = {"title": "党建引领新篇章", "lead": "导语。", "body": "<p>一是……</p>"}
    values.update(content)
    case = case_create(
        branch=secretary.memberships.get().branch,
        acting_user=secretary,
        content=CaseContent(**values),
    )
    workflow.case_submit(case=case, acting_user=secretary)
    decide(case, "approve", who.reviewer1)
    decide(case, "approve", who.reviewer2)
    case.refresh_from_db()
    return case
