"""The branch's reads: whose cases a user sees, and the same 404 for a case
that is missing and a case that is not theirs."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from authoring.services import CaseContent, case_create
from submissions.models import Branch, Case, Membership
from submissions.selectors import (
    branches_for_user,
    case_get_for_member,
    cases_for_member,
    membership_role,
)
from tests.review.factories import draft

pytestmark = pytest.mark.django_db


class MembershipRoleTests:
    def test_the_role_in_the_branch_and_none_elsewhere(self, who):
        assert membership_role(user=who.secretary, branch=who.branch) == (
            Membership.Role.SECRETARY
        )
        assert membership_role(user=who.correspondent, branch=who.branch) == (
            Membership.Role.CORRESPONDENT
        )
        assert membership_role(user=who.other_secretary, branch=who.branch) is None
        assert membership_role(user=AnonymousUser(), branch=who.branch) is None

    def test_a_closed_branch_gives_no_role(self, who):
        Branch.objects.filter(pk=who.branch.pk).update(is_active=False)
        assert membership_role(user=who.secretary, branch=who.branch) is None
        assert list(branches_for_user(user=who.secretary)) == []


class CaseGetForMemberTests:
    def test_a_member_gets_the_case_of_their_branch(self, who):
        case = draft(who)
        assert case_get_for_member(case_id=case.pk, user=who.correspondent) == case

    @pytest.mark.parametrize("case_id", ["theirs", "missing", "not a number", None])
    def test_missing_and_not_yours_are_the_same_404(self, who, case_id):
        theirs = draft(who)
        case_id = {"theirs": theirs.pk, "missing": theirs.pk + 1000}.get(
            case_id, case_id
        )
        for user in [who.other_secretary, who.reviewer1, who.editor, who.outsider]:
            with pytest.raises(Http404):
                case_get_for_member(case_id=case_id, user=user)

    def test_an_anonymous_user_gets_nothing(self, who):
        with pytest.raises(Http404):
            case_get_for_member(case_id=draft(who).pk, user=AnonymousUser())


class CasesForMemberTests:
    def test_only_the_cases_of_the_users_branches(self, who):
        mine = [draft(who, title="甲"), draft(who, title="乙")]
        other = other_branch_draft(who)
        assert set(cases_for_member(user=who.secretary)) == set(mine)
        assert list(cases_for_member(user=who.other_secretary)) == [other]
        assert list(cases_for_member(user=who.reviewer1)) == []

    def test_a_member_of_two_branches_sees_both(self, who):
        mine = draft(who)
        other = other_branch_draft(who)
        Membership.objects.create(
            user=who.secretary,
            branch=other.branch,
            role=Membership.Role.CORRESPONDENT,
        )
        assert set(cases_for_member(user=who.secretary)) == {mine, other}
        assert branches_for_user(user=who.secretary).count() == 2

    def test_the_list_costs_the_same_queries_for_many_cases(
        self, who, django_assert_num_queries
    ):
        for _ in range(2):
            draft(who)
        with django_assert_num_queries(2):  # the cases, their themes
            cases = list(cases_for_member(user=who.secretary))
            [case.branch.name for case in cases]
        for _ in range(10):
            draft(who)
        with django_assert_num_queries(2):
            cases = list(cases_for_member(user=who.secretary))
            [(case.branch.name, list(case.themes.all())) for case in cases]


def other_branch_draft(who) -> Case:
    """A draft of the other secretary's branch."""
    return case_create(
        branch=who.other_secretary.memberships.get().branch,
        acting_user=who.other_secretary,
        content=CaseContent(title="别的支部的案例", lead="导语。", body="<p>文。</p>"),
    )
