import threading

import pytest
from django.db import IntegrityError, connection, transaction

from authoring.services import CaseContent, case_update
from casehub.exceptions import WrongState
from review import workflow
from review.models import CaseEvent, Decision, ReviewStage
from submissions.models import Case
from tests.conftest import service_missing
from tests.review.factories import decide, draft, latest, people, reviewer, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_review(who):
    case = draft(who)
    workflow.case_submit(case=case, acting_user=who.secretary)
    case.refresh_from_db()
    return case


class DecisionRuleTests:
    @pytest.mark.parametrize("outcome", ["return", "reject"])
    def test_return_and_reject_need_a_comment(self, who, in_review, outcome):
        with pytest.raises(WrongState):
            decide(in_review, outcome, who.reviewer1, comment="  ")
        in_review.refresh_from_db()
        assert in_review.status == Case.Status.IN_REVIEW
        assert not Decision.objects.exists()

    def test_approve_may_carry_a_comment(self, who, in_review):
        event = decide(in_review, "approve", who.reviewer1, comment="同意")
        assert event.comment == "同意"
        assert event.stage == stage(1)
        assert event.to_stage == stage(2)

    def test_approving_at_the_last_stage_approves_the_case(self, who, in_review):
        decide(in_review, "approve", who.reviewer1, comment="")
        event = decide(in_review, "approve", who.reviewer2, comment="")
        in_review.refresh_from_db()
        assert in_review.status == Case.Status.APPROVED
        assert in_review.current_stage is None
        assert event.to_stage is None

    def test_a_third_stage_added_as_data_is_used(self, who, in_review):
        ReviewStage.objects.create(
            position=3,
            name="党委审定",
            reviewer_group=stage(1).reviewer_group,
            due_in_days=2,
        )
        decide(in_review, "approve", who.reviewer1, comment="")
        decide(in_review, "approve", who.reviewer2, comment="")
        in_review.refresh_from_db()
        assert in_review.status == Case.Status.IN_REVIEW
        assert in_review.current_stage.name == "党委审定"

    def test_stage_due_time_follows_the_stage_setting(self, in_review):
        days = (in_review.stage_due_at - in_review.stage_entered_at).days
        assert days == stage(1).due_in_days

    def test_resubmission_restarts_at_the_first_stage_by_default(self, who, in_review):
        decide(in_review, "approve", who.reviewer1, comment="")
        decide(in_review, "return", who.reviewer2, comment="请修改")
        workflow.case_resubmit(case=in_review, acting_user=who.secretary)
        in_review.refresh_from_db()
        assert in_review.current_stage == stage(1)

    def test_resubmission_comes_back_to_a_stage_that_asks_for_it(self, who, in_review):
        ReviewStage.objects.filter(position=2).update(
            resume_after_return=ReviewStage.Resume.THIS_STAGE
        )
        decide(in_review, "approve", who.reviewer1, comment="")
        decide(in_review, "return", who.reviewer2, comment="请修改")
        workflow.case_resubmit(case=in_review, acting_user=who.secretary)
        in_review.refresh_from_db()
        assert in_review.current_stage == stage(2)

    def test_decisions_on_an_old_revision_stay_in_history(self, who, in_review):
        first_round = latest(in_review)
        decide(in_review, "return", who.reviewer1, comment="第一轮意见")
        in_review.refresh_from_db()
        case_update(
            case=in_review,
            acting_user=who.correspondent,
            expected_version=in_review.version,
            content=CaseContent(title="第二稿", lead="导语。", body="<p>二是</p>"),
        )
        workflow.case_resubmit(case=in_review, acting_user=who.secretary)
        decide(in_review, "approve", who.reviewer1, comment="")
        decisions = list(Decision.objects.order_by("pk"))
        assert [d.revision.number for d in decisions] == [1, 2]
        assert decisions[0].revision == first_round
        assert decisions[0].comment == "第一轮意见"

    def test_a_stale_form_is_refused_with_who_decided(self, who, in_review):
        revision = latest(in_review)
        decide(in_review, "approve", who.reviewer1, comment="")
        other = reviewer(1, first_name="钱七")
        with pytest.raises(workflow.AlreadyDecided) as refused:
            workflow.case_return(
                case=in_review,
                acting_user=other,
                stage=stage(1),
                revision=revision,
                comment="退回",
            )
        assert who.reviewer1.first_name in refused.value.message
        assert Decision.objects.count() == 1

    def test_double_submitted_decision_is_a_no_op(self, who, in_review):
        revision = latest(in_review)
        workflow.case_approve(
            case=in_review, acting_user=who.reviewer1, stage=stage(1), revision=revision
        )
        with pytest.raises(workflow.AlreadyDecided):
            workflow.case_approve(
                case=in_review,
                acting_user=who.reviewer1,
                stage=stage(1),
                revision=revision,
            )
        assert Decision.objects.count() == 1
        assert CaseEvent.objects.filter(action=CaseEvent.Action.APPROVE).count() == 1

    def test_database_refuses_a_second_decision_for_a_revision_and_stage(
        self, who, in_review
    ):
        decide(in_review, "approve", who.reviewer1, comment="")
        first = Decision.objects.get()
        with pytest.raises(IntegrityError), transaction.atomic():
            Decision.objects.create(
                case=first.case,
                revision=first.revision,
                stage=first.stage,
                reviewer=who.reviewer1,
                outcome=Decision.Outcome.REJECT,
            )


class AuditLogTests:
    def test_the_orm_cannot_change_or_delete_audit_rows(self, who, in_review):
        event = CaseEvent.objects.get()
        event.comment = "改写"
        with pytest.raises(TypeError):
            event.save()
        with pytest.raises(TypeError):
            event.delete()
        with pytest.raises(TypeError):
            CaseEvent.objects.update(comment="改写")
        with pytest.raises(TypeError):
            CaseEvent.objects.all().delete()
        assert CaseEvent.objects.get().comment == ""

    def test_the_database_refuses_raw_updates_and_deletes(self, who, in_review):
        if connection.vendor != "postgresql":
            service_missing("the audit-log trigger is PostgreSQL's; set DATABASE_URL")
        event = CaseEvent.objects.get()
        for statement in (
            "UPDATE review_caseevent SET comment = 'x' WHERE id = %s",
            "DELETE FROM review_caseevent WHERE id = %s",
        ):
            with (
                pytest.raises(Exception, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement, [event.pk])
        assert CaseEvent.objects.get().comment == ""


@pytest.mark.django_db(transaction=True)
class RaceTests:
    """Two reviewers press their buttons at the same moment, on PostgreSQL."""

    def test_exactly_one_of_two_concurrent_decisions_is_recorded(self):
        if connection.vendor != "postgresql":
            service_missing(
                "the race test needs PostgreSQL's row locks; set DATABASE_URL"
            )
        who = people()
        case = draft(who)
        workflow.case_submit(case=case, acting_user=who.secretary)
        second_reviewer = reviewer(1, username="reviewer1b", first_name="孙八")
        revision = latest(case)
        barrier = threading.Barrier(2)
        results = {}

        def attempt(name, action, actor):
            try:
                barrier.wait()
                results[name] = action(
                    case=case,
                    acting_user=actor,
                    stage=stage(1),
                    revision=revision,
                    comment="并发",
                )
            except Exception as error:  # the test inspects what each thread got
                results[name] = error
            finally:
                connection.close()

        threads = [
            threading.Thread(
                target=attempt, args=("approve", workflow.case_approve, who.reviewer1)
            ),
            threading.Thread(
                target=attempt, args=("return", workflow.case_return, second_reviewer)
            ),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        outcomes = sorted(type(result).__name__ for result in results.values())
        assert outcomes == ["AlreadyDecided", "CaseEvent"], results
        assert Decision.objects.filter(case=case).count() == 1
        winner = Decision.objects.get(case=case).reviewer
        loser_error = next(
            r for r in results.values() if isinstance(r, workflow.AlreadyDecided)
        )
        assert (winner.get_full_name() or winner.username) in loser_error.message
        decisions_logged = CaseEvent.objects.filter(
            case=case, action__in=[CaseEvent.Action.APPROVE, CaseEvent.Action.RETURN]
        )
        assert decisions_logged.count() == 1
