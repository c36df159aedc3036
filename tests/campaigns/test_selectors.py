"""The calls' reads: how far each expected organisation got, at a query cost
that does not grow with the cases."""

import pytest

from campaigns.selectors import Participation, participation
from submissions.models import Membership
from tests.campaigns.test_campaigns import for_call, open_call, people_of
from tests.review.factories import case_in_state, draft
from tests.showcase.factories import published_issue, series
from tests.submissions.factories import member

pytestmark = pytest.mark.django_db


class ParticipationTests:
    def test_each_expected_organisation_at_its_furthest_step(self, who):
        campaign = open_call(who)
        branches = {}

        def organisation(name):
            secretary = member(Membership.Role.SECRETARY, username=f"s-{name}")
            branches[name] = secretary.memberships.get().branch
            return secretary

        states = {
            "drafting": ["draft"],
            "in_review": ["in_review_1"],
            "returned": ["returned", "draft"],  # a return outranks a draft
            "approved": ["approved", "rejected"],
            "rejected": ["rejected"],
            "withdrawn": ["withdrawn"],
        }
        for name, case_states in states.items():
            theirs = people_of(who, organisation(name))
            for state in case_states:
                for_call(case_in_state(theirs, state), campaign)
        organisation("not_started")
        published = published_issue(who, series(slug="other")).cases.get()
        for_call(published, campaign)
        # An organisation's case that answers no call does not count.
        for_call(
            case_in_state(people_of(who, organisation("elsewhere")), "draft"), None
        )
        campaign.branches.set([*branches.values(), who.branch])

        rows = {row.branch.pk: row for row in participation(campaign=campaign)}
        assert rows[who.branch.pk].state == Participation.PUBLISHED
        expected = {
            "drafting": Participation.DRAFTING,
            "in_review": Participation.IN_REVIEW,
            "returned": Participation.RETURNED,
            "approved": Participation.APPROVED,
            "rejected": Participation.REJECTED,
            "withdrawn": Participation.DRAFTING,
            "not_started": Participation.NOT_STARTED,
            "elsewhere": Participation.NOT_STARTED,
        }
        for name, state in expected.items():
            assert rows[branches[name].pk].state == state, name
        assert rows[branches["returned"].pk].cases == 2
        assert rows[branches["returned"].pk].submitted == 1
        # Taken back out of review, the case counts as not submitted.
        assert rows[branches["withdrawn"].pk].submitted == 0
        assert rows[branches["not_started"].pk].cases == 0

    def test_the_table_costs_the_same_queries_for_many_cases(
        self, who, django_assert_num_queries
    ):
        campaign = open_call(who)
        for _ in range(2):
            for_call(draft(who), campaign)
        with django_assert_num_queries(3):
            participation(campaign=campaign)
        for _ in range(8):
            for_call(case_in_state(who, "in_review_1"), campaign)
        with django_assert_num_queries(3):
            participation(campaign=campaign)
