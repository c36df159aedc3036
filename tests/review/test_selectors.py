"""The reviewers' reads: a case only at a stage the user reviews, with the same
404 for everything else; each stage's queue."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from review.models import ReviewStage
from review.selectors import (
    case_get_for_reviewer,
    case_get_rejected,
    queue_for_stage,
    stages_for_reviewer,
)
from tests.review.factories import case_in_state, draft, stage

pytestmark = pytest.mark.django_db


class CaseGetForReviewerTests:
    def test_the_reviewer_of_the_cases_stage_gets_it(self, who):
        first = case_in_state(who, "in_review_1")
        second = case_in_state(who, "in_review_2")
        assert case_get_for_reviewer(case_id=first.pk, user=who.reviewer1) == first
        assert case_get_for_reviewer(case_id=second.pk, user=who.reviewer2) == second

    @pytest.mark.parametrize(
        "state", ["draft", "returned", "rejected", "approved", "withdrawn", "missing"]
    )
    def test_a_case_not_waiting_is_the_same_404_as_a_missing_one(self, who, state):
        if state == "missing":
            case_id = case_in_state(who, "draft").pk + 1000
        else:
            case_id = case_in_state(who, state).pk
        for user in [who.reviewer1, who.reviewer2]:
            with pytest.raises(Http404):
                case_get_for_reviewer(case_id=case_id, user=user)

    def test_another_stages_case_and_non_reviewers_get_the_404(self, who):
        first = case_in_state(who, "in_review_1")
        for user in [who.reviewer2, who.editor, who.secretary, AnonymousUser()]:
            with pytest.raises(Http404):
                case_get_for_reviewer(case_id=first.pk, user=user)
        with pytest.raises(Http404):
            case_get_for_reviewer(case_id="1 OR 1=1", user=who.reviewer1)

    def test_a_stage_out_of_use_gives_its_reviewers_nothing(self, who):
        first = case_in_state(who, "in_review_1")
        ReviewStage.objects.filter(pk=stage(1).pk).update(is_active=False)
        assert list(stages_for_reviewer(user=who.reviewer1)) == []
        with pytest.raises(Http404):
            case_get_for_reviewer(case_id=first.pk, user=who.reviewer1)


class QueueForStageTests:
    def test_only_the_stages_waiting_cases_the_longest_waiting_first(self, who):
        older = case_in_state(who, "in_review_1")
        newer = case_in_state(who, "in_review_1")
        case_in_state(who, "in_review_2")
        case_in_state(who, "returned")
        draft(who)
        assert list(queue_for_stage(stage=stage(1))) == [older, newer]
        assert len(queue_for_stage(stage=stage(2))) == 1

    def test_the_queue_costs_the_same_queries_for_many_cases(
        self, who, django_assert_num_queries
    ):
        first = stage(1)
        case_in_state(who, "in_review_1")
        with django_assert_num_queries(2):  # the cases, their themes
            [case.branch.name for case in queue_for_stage(stage=first)]
        for _ in range(8):
            case_in_state(who, "in_review_1")
        with django_assert_num_queries(2):
            rows = [
                (case.branch.name, case.current_stage.name, list(case.themes.all()))
                for case in queue_for_stage(stage=first)
            ]
        assert len(rows) == 9


class CaseGetRejectedTests:
    def test_only_a_rejected_case(self, who):
        rejected = case_in_state(who, "rejected")
        assert case_get_rejected(case_id=rejected.pk) == rejected
        for state in ["draft", "in_review_1", "returned", "approved"]:
            with pytest.raises(Http404):
                case_get_rejected(case_id=case_in_state(who, state).pk)
        with pytest.raises(Http404):
            case_get_rejected(case_id=rejected.pk + 1000)
