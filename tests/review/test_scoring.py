"""评选: assignment, scores, results, ranking and taking the top into the queue."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.http import Http404
from django.test import TestCase
from django.utils import timezone

from casehub.exceptions import NotPermitted, WrongState
from inbox.models import Notification
from review import scoring, workflow
from review.models import CaseEvent, Criterion, Score, ScoreAssignment
from review.selectors import case_timeline
from review.stages import stage_update
from review.tasks import scoring_reminders_send
from showcase import services as showcase
from showcase.models import QueueEntry
from showcase.selectors import approved_queue
from submissions.models import Case, Membership
from tests.conftest import service_missing
from tests.review.factories import case_to_scoring, draft, people, scoring_stage
from tests.submissions.factories import UserFactory, member, signed_in

pytestmark = pytest.mark.django_db


def scored(case, scorer, *points, kind=Score.Kind.SCORED, comment=""):
    criteria = list(case.current_stage.criteria.all())
    return scoring.score_record(
        case=case,
        acting_user=scorer,
        kind=kind,
        points=dict(zip([c.pk for c in criteria], points, strict=False)),
        comment=comment,
    )


class AssignmentBalanceTests:
    """The pure rule: k scorers a case, none over ceil(n·k/m), none conflicted."""

    def test_100_cases_7_scorers_with_conflicts_stay_within_the_bound(self):
        # Scorers 1..3 belong to organisations 1..3, which have cases too.
        scorers = {s: frozenset({s}) if s <= 3 else frozenset() for s in range(1, 8)}
        cases = {c: frozenset({c % 10 + 1}) for c in range(100)}
        result = scoring.assignment_balance(cases=cases, scorers=scorers, per_case=3)
        bound = scoring.load_bound(cases=100, scorers=7, per_case=3)
        assert bound == 43
        loads = dict.fromkeys(scorers, 0)
        for case, chosen in result.items():
            assert len(chosen) == 3 == len(set(chosen))
            for scorer in chosen:
                assert not scorers[scorer] & cases[case], (case, scorer)
                loads[scorer] += 1
        assert max(loads.values()) <= bound, loads
        assert sum(loads.values()) == 300

    def test_a_case_with_too_few_eligible_scorers_gets_all_of_them(self):
        result = scoring.assignment_balance(
            cases={1: frozenset({7})},
            scorers={1: frozenset({7}), 2: frozenset(), 3: frozenset()},
            per_case=3,
        )
        assert result == {1: [2, 3]}

    def test_loads_already_held_count(self):
        result = scoring.assignment_balance(
            cases={1: frozenset()},
            scorers={1: frozenset(), 2: frozenset(), 3: frozenset()},
            per_case=1,
            loads={1: 2, 2: 0, 3: 1},
        )
        assert result == {1: [2]}


@pytest.fixture
def scoring_at(panel_members):
    return scoring_stage(members=panel_members, per_case=2)


class EnteringTests:
    def test_approval_moves_the_case_to_the_scoring_stage_with_k_scorers(
        self, who, scoring_at
    ):
        case = case_to_scoring(who)
        assert case.status == Case.Status.IN_REVIEW
        assert case.current_stage == scoring_at
        assignments = ScoreAssignment.objects.filter(case=case)
        assert assignments.count() == 2
        assert {a.revision_id for a in assignments} == {case.revisions.get().pk}

    def test_the_load_is_spread_over_the_panel(self, who, scoring_at):
        for _ in range(3):
            case_to_scoring(who)
        loads = sorted(
            ScoreAssignment.objects.filter(stage=scoring_at)
            .values_list("scorer", flat=True)
            .order_by()
        )
        counts = sorted(loads.count(s) for s in set(loads))
        assert counts == [2, 2, 2]

    def test_a_member_of_the_case_organisation_is_never_assigned(
        self, who, panel_members, scoring_at
    ):
        Membership.objects.create(
            user=panel_members[0], branch=who.branch, role=Membership.Role.CORRESPONDENT
        )
        for _ in range(3):
            case = case_to_scoring(who)
            assert not ScoreAssignment.objects.filter(
                case=case, scorer=panel_members[0]
            ).exists()

    def test_the_panel_cannot_approve_at_a_scoring_stage(self, who, scoring_at):
        case = case_to_scoring(who)
        panelist = ScoreAssignment.objects.filter(case=case).first().scorer
        with pytest.raises(WrongState):
            workflow.case_approve(
                case=case,
                acting_user=panelist,
                stage=scoring_at,
                revision=case.revisions.get(),
            )
        assert workflow.action_names(case, panelist) == frozenset()
        assert workflow.action_names(case, who.editor) == {
            "score_accept",
            "return",
            "reject",
        }


class ScoreTests:
    def test_weighted_total_of_the_rubric(self, who, scoring_at):
        case = case_to_scoring(who)
        scorer = ScoreAssignment.objects.filter(case=case).first().scorer
        score = scored(case, scorer, 10, 5, 0)
        # (30·10/10 + 40·5/10 + 30·0/10) / 100 · 100
        assert score.total == Decimal("50.00")
        assert score.kind == Score.Kind.SCORED

    def test_weights_on_different_scales(self, who, scoring_at):
        Criterion.objects.filter(stage=scoring_at, name="示范性").update(scale_max=5)
        criteria = list(scoring_at.criteria.all())
        points = {criteria[0].pk: 7, criteria[1].pk: 10, criteria[2].pk: 4}
        # (30·0.7 + 40·1 + 30·0.8) / 100 = 0.85
        assert scoring.weighted_total(criteria=criteria, points=points) == Decimal(
            "85.00"
        )

    def test_a_score_outside_the_scale_is_refused_and_nothing_recorded(
        self, who, scoring_at
    ):
        case = case_to_scoring(who)
        scorer = ScoreAssignment.objects.filter(case=case).first().scorer
        with pytest.raises(WrongState):
            scored(case, scorer, 11, 5, 5)
        assert not Score.objects.exists()

    def test_someone_not_assigned_may_not_score(self, who, scoring_at, panel_members):
        case = case_to_scoring(who)
        assigned = set(
            ScoreAssignment.objects.filter(case=case).values_list("scorer", flat=True)
        )
        outsider = next(p for p in panel_members if p.pk not in assigned)
        with pytest.raises(NotPermitted):
            scored(case, outsider, 5, 5, 5)
        with pytest.raises(NotPermitted):
            scored(case, who.editor, 5, 5, 5)
        assert not Score.objects.exists()

    def test_a_second_submission_is_refused_and_the_first_stays(self, who, scoring_at):
        case = case_to_scoring(who)
        scorer = ScoreAssignment.objects.filter(case=case).first().scorer
        scored(case, scorer, 8, 8, 8)
        with pytest.raises(WrongState, match="未作任何更改"):
            scored(case, scorer, 1, 1, 1)
        assert Score.objects.get().total == Decimal("80.00")

    def test_the_database_keeps_one_score_per_round(self, who, scoring_at):
        case = case_to_scoring(who)
        scorer = ScoreAssignment.objects.filter(case=case).first().scorer
        first = scored(case, scorer, 8, 8, 8)
        with pytest.raises(IntegrityError), transaction.atomic():
            Score.objects.create(
                case=case,
                revision=first.revision,
                stage=scoring_at,
                scorer=scorer,
                kind=Score.Kind.ABSTAIN,
            )

    def test_past_the_deadline_no_score_is_taken(self, who, scoring_at):
        case = case_to_scoring(who)
        scoring_at.scoring_deadline = timezone.now() - datetime.timedelta(minutes=1)
        scoring_at.save()
        case.refresh_from_db()
        scorer = ScoreAssignment.objects.filter(case=case).first().scorer
        with pytest.raises(WrongState):
            scored(case, scorer, 5, 5, 5)


class ReassignTests:
    def test_an_editor_moves_an_assignment_to_another_panel_member(
        self, who, scoring_at, panel_members
    ):
        case = case_to_scoring(who)
        assignment = ScoreAssignment.objects.filter(case=case).first()
        assigned = set(
            ScoreAssignment.objects.filter(case=case).values_list("scorer", flat=True)
        )
        free = next(p for p in panel_members if p.pk not in assigned)
        scoring.assignment_reassign(
            assignment=assignment, new_scorer=free, acting_user=who.editor
        )
        assignment.refresh_from_db()
        assert assignment.scorer == free

    def test_a_conflicted_or_unknown_scorer_is_refused(
        self, who, scoring_at, panel_members
    ):
        case = case_to_scoring(who)
        assignment = ScoreAssignment.objects.filter(case=case).first()
        assigned = set(
            ScoreAssignment.objects.filter(case=case).values_list("scorer", flat=True)
        )
        free = next(p for p in panel_members if p.pk not in assigned)
        Membership.objects.create(
            user=free, branch=who.branch, role=Membership.Role.CORRESPONDENT
        )
        before = assignment.scorer_id
        with pytest.raises(WrongState, match="的成员"):
            scoring.assignment_reassign(
                assignment=assignment, new_scorer=free, acting_user=who.editor
            )
        with pytest.raises(WrongState, match="不是"):
            scoring.assignment_reassign(
                assignment=assignment, new_scorer=who.outsider, acting_user=who.editor
            )
        with pytest.raises(NotPermitted):
            scoring.assignment_reassign(
                assignment=assignment, new_scorer=free, acting_user=who.reviewer1
            )
        assignment.refresh_from_db()
        assert assignment.scorer_id == before


def _assigned(case):
    return [a.scorer for a in ScoreAssignment.objects.filter(case=case)]


class ResultTests:
    def test_abstain_and_conflict_are_recorded_not_counted(self, who, panel_members):
        scoring_stage(members=panel_members, per_case=3)
        case = case_to_scoring(who)
        first, second, third = _assigned(case)
        scored(case, first, 10, 10, 10)
        scored(case, second, 5, 5, 5)
        scored(case, third, kind=Score.Kind.ABSTAIN)
        [result] = scoring.stage_results(stage=case.current_stage)
        assert result.count == 2
        assert result.mean == Decimal("75.00")
        assert result.spread == Decimal("50.00")
        assert len(result.scores) == 3

    def test_a_declared_conflict_is_kept_apart(self, who, panel_members):
        stage = scoring_stage(members=panel_members, per_case=1)
        case = case_to_scoring(who)
        [scorer] = _assigned(case)
        score = scored(case, scorer, kind=Score.Kind.CONFLICT, comment="曾参与")
        assert score.total is None
        [result] = scoring.stage_results(stage=stage)
        assert (result.count, result.mean, result.rank) == (0, None, None)

    def test_ranking_with_ties_per_call(self, who, panel_members):
        stage = scoring_stage(members=panel_members, per_case=1)
        cases = [case_to_scoring(who, title=f"案例{n}") for n in range(4)]
        for case, points in zip(
            cases, [(8, 8, 8), (9, 9, 9), (8, 8, 8), (1, 1, 1)], strict=True
        ):
            scored(case, _assigned(case)[0], *points)
        results = scoring.stage_results(stage=stage)
        ranks = {r.case.title: r.rank for r in results}
        assert ranks == {"案例1": 1, "案例0": 2, "案例2": 2, "案例3": 4}
        assert [r.case.title for r in results] == ["案例1", "案例0", "案例2", "案例3"]


class ScoredAcceptTests:
    def test_the_editor_takes_the_top_two_into_the_queue_in_rank_order(
        self, who, panel_members
    ):
        stage = scoring_stage(members=panel_members, per_case=1)
        cases = [case_to_scoring(who, title=f"案例{n}") for n in range(4)]
        for case, points in zip(
            cases, [(3, 3, 3), (9, 9, 9), (7, 7, 7), (1, 1, 1)], strict=True
        ):
            scored(case, _assigned(case)[0], *points)
        taken = showcase.scored_cases_accept(
            stage=stage, campaign_id=None, count=2, acting_user=who.editor
        )
        assert [c.title for c in taken] == ["案例1", "案例2"]
        statuses = dict(Case.objects.values_list("title", "status"))
        assert statuses["案例1"] == statuses["案例2"] == Case.Status.APPROVED
        assert statuses["案例0"] == statuses["案例3"] == Case.Status.IN_REVIEW
        queue = [c.title for c in approved_queue()]
        assert queue == ["案例1", "案例2"]
        positions = QueueEntry.objects.order_by("position")
        assert [e.case.title for e in positions] == ["案例1", "案例2"]
        event = CaseEvent.objects.filter(action="score_accept").first()
        assert event.actor == who.editor and event.from_status == "in_review"

    def test_only_editors_take_cases(self, who, panel_members):
        stage = scoring_stage(members=panel_members, per_case=1)
        case = case_to_scoring(who)
        scored(case, _assigned(case)[0], 5, 5, 5)
        with pytest.raises(NotPermitted):
            showcase.scored_cases_accept(
                stage=stage, campaign_id=None, count=1, acting_user=panel_members[0]
            )
        case.refresh_from_db()
        assert case.status == Case.Status.IN_REVIEW

    def test_score_accept_is_refused_at_a_review_stage(self, who):
        case = case_to_scoring(who)  # no scoring stage: approved after stage 2
        assert case.status == Case.Status.APPROVED
        with pytest.raises(WrongState):
            workflow.case_score_accept(case=case, acting_user=who.editor)

    def test_score_accept_is_refused_while_the_case_is_at_a_review_stage(self, who):
        scoring_stage(per_case=1)
        case = draft(who)
        workflow.case_submit(case=case, acting_user=who.secretary)
        case.refresh_from_db()
        assert workflow.action_names(case, who.editor) == frozenset()
        with pytest.raises(WrongState):
            workflow.case_score_accept(case=case, acting_user=who.editor)
        case.refresh_from_db()
        assert case.status == Case.Status.IN_REVIEW and case.current_stage.position == 1


class BlindTests:
    def test_blind_scoring_hides_the_organisation(self, who, panel_members, client):
        scoring_stage(members=panel_members, per_case=3, blind=True)
        case = case_to_scoring(who, author_name="王作者")
        client.force_login(panel_members[0])
        page = client.get(f"/review/scoring/cases/{case.pk}/").content.decode()
        assert case.title in page
        assert who.branch.name not in page
        assert "王作者" not in page

    def test_open_scoring_shows_it(self, who, panel_members, client):
        scoring_stage(members=panel_members, per_case=3)
        case = case_to_scoring(who, author_name="王作者")
        client.force_login(panel_members[0])
        page = client.get(f"/review/scoring/cases/{case.pk}/").content.decode()
        assert who.branch.name in page and "王作者" in page


class ReminderTests:
    def test_unscored_assignments_are_reminded_once_a_day_before(
        self, who, panel_members
    ):
        stage = scoring_stage(
            members=panel_members,
            per_case=2,
            deadline=timezone.now() + datetime.timedelta(hours=20),
        )
        case = case_to_scoring(who)
        done, waiting = _assigned(case)
        scored(case, done, 5, 5, 5)
        assert scoring_reminders_send() == 1
        assert scoring_reminders_send() == 0
        reminders = Notification.objects.filter(key__startswith="scoring-reminder")
        assert [n.recipient for n in reminders] == [waiting]
        assert reminders[0].kind == Notification.Kind.SCORING
        page = signed_in(waiting).get("/inbox/").content.decode()
        assert "评分将在一天内截止" in page
        opened = signed_in(waiting).post(f"/inbox/{reminders[0].pk}/")
        assert opened["Location"] == f"/review/scoring/cases/{case.pk}/"
        assert stage.pk

    def test_nothing_is_sent_long_before_the_deadline(self, who, panel_members):
        scoring_stage(
            members=panel_members,
            per_case=2,
            deadline=timezone.now() + datetime.timedelta(days=3),
        )
        case_to_scoring(who)
        assert scoring_reminders_send() == 0


@pytest.mark.django_db(transaction=True)
class ScoreRaceTests:
    """The same form posted twice at the same moment, on PostgreSQL."""

    def test_two_concurrent_submissions_record_one_score(self):
        if connection.vendor != "postgresql":
            service_missing(
                "the race test needs PostgreSQL's row locks; set DATABASE_URL"
            )
        who = people()
        panel_members = [UserFactory(username=f"racer{n}") for n in (1, 2)]
        scoring_stage(members=panel_members, per_case=1)
        case = case_to_scoring(who)
        [scorer] = _assigned(case)
        barrier = threading.Barrier(2)
        results = []

        def attempt(points):
            try:
                barrier.wait()
                results.append(scored(Case.objects.get(pk=case.pk), scorer, *points))
            except Exception as error:  # the test inspects what each thread got
                results.append(error)
            finally:
                connection.close()

        threads = [
            threading.Thread(target=attempt, args=((8, 8, 8),)),
            threading.Thread(target=attempt, args=((2, 2, 2),)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        kinds = sorted(type(result).__name__ for result in results)
        assert kinds == ["Score", "WrongState"], results
        assert Score.objects.filter(case=case).count() == 1


def _waiting_at_first_scoring(who, panel, **stage_fields):
    """A scoring stage before the two review stages, so that a submission
    goes straight to it."""
    return scoring_stage(members=panel, position=0, **stage_fields)


class EveryWayInTests:
    """A case entering a scoring stage by any move gets its scorers."""

    def test_a_submission_to_a_first_stage_that_scores_assigns(
        self, who, panel_members
    ):
        stage = _waiting_at_first_scoring(who, panel_members, per_case=2)
        case = draft(who)
        workflow.case_submit(case=case, acting_user=who.secretary)
        case.refresh_from_db()
        assert case.current_stage == stage
        assert len(_assigned(case)) == 2

    def test_withdraw_then_submit_assigns_the_new_round(self, who, panel_members):
        _waiting_at_first_scoring(who, panel_members, per_case=2)
        case = draft(who)
        workflow.case_submit(case=case, acting_user=who.secretary)
        workflow.case_withdraw(case=case, acting_user=who.secretary)
        workflow.case_submit(case=case, acting_user=who.secretary)
        case.refresh_from_db()
        latest = case.revisions.order_by("-number").first()
        assert latest.number == 2
        assert ScoreAssignment.objects.filter(revision=latest).count() == 2

    def test_return_by_the_editor_then_resubmit_comes_back_to_scoring(
        self, who, panel_members
    ):
        stage = scoring_stage(members=panel_members, per_case=2)
        stage.resume_after_return = stage.Resume.THIS_STAGE
        stage.save()
        case = case_to_scoring(who)
        first_round = set(_assigned(case))
        workflow.case_return(
            case=case,
            acting_user=who.editor,
            stage=stage,
            revision=case.revisions.get(),
            comment="请补充成效数据",
        )
        workflow.case_resubmit(case=case, acting_user=who.secretary)
        case.refresh_from_db()
        assert case.current_stage == stage
        latest = case.revisions.order_by("-number").first()
        again = ScoreAssignment.objects.filter(revision=latest)
        assert again.count() == 2
        # The earlier round's assignments are no load: the same two, the
        # least loaded, score it again.
        assert {a.scorer for a in again} == first_round

    def test_reopened_after_an_editor_rejection_and_resubmitted_assigns(
        self, who, panel_members
    ):
        stage = _waiting_at_first_scoring(who, panel_members, per_case=1)
        case = draft(who)
        workflow.case_submit(case=case, acting_user=who.secretary)
        workflow.case_reject(
            case=case,
            acting_user=who.editor,
            stage=stage,
            revision=case.revisions.get(),
            comment="不符合征集主题",
        )
        workflow.case_reopen(case=case, acting_user=who.editor, comment="主题相符")
        workflow.case_resubmit(case=case, acting_user=who.secretary)
        case.refresh_from_db()
        assert case.current_stage == stage
        latest = case.revisions.order_by("-number").first()
        assert ScoreAssignment.objects.filter(revision=latest).count() == 1


class NobodyToScoreTests:
    """With nobody who may score the case, the move is refused whole."""

    def test_a_submission_to_an_empty_panel_is_refused_and_nothing_changes(self, who):
        _waiting_at_first_scoring(who, [], per_case=2)
        case = draft(who)
        with pytest.raises(WrongState, match="无人可以为"):
            workflow.case_submit(case=case, acting_user=who.secretary)
        case.refresh_from_db()
        assert case.status == Case.Status.DRAFT and case.current_stage is None
        assert not case.revisions.exists()
        assert not CaseEvent.objects.filter(case=case).exists()
        assert not ScoreAssignment.objects.exists()

    def test_an_approval_into_a_panel_all_of_the_organisation_is_refused(
        self, who, panel_members
    ):
        scoring_stage(members=panel_members, per_case=2)
        for person in panel_members:
            Membership.objects.create(
                user=person, branch=who.branch, role=Membership.Role.CORRESPONDENT
            )
        case = draft(who)
        workflow.case_submit(case=case, acting_user=who.secretary)
        case.refresh_from_db()
        decide_approve = workflow.case_approve
        revision = case.revisions.get()
        decide_approve(
            case=case,
            acting_user=who.reviewer1,
            stage=case.current_stage,
            revision=revision,
        )
        case.refresh_from_db()
        at_two = case.current_stage
        events = CaseEvent.objects.filter(case=case).count()
        with pytest.raises(WrongState, match="无人可以为"):
            decide_approve(
                case=case, acting_user=who.reviewer2, stage=at_two, revision=revision
            )
        case.refresh_from_db()
        assert (case.status, case.current_stage) == (Case.Status.IN_REVIEW, at_two)
        assert not case.decisions.filter(stage=at_two).exists()
        assert CaseEvent.objects.filter(case=case).count() == events
        assert not ScoreAssignment.objects.exists()

    def test_fewer_eligible_than_k_get_the_case_all_of_them(self, who, panel_members):
        scoring_stage(members=panel_members, per_case=3)
        Membership.objects.create(
            user=panel_members[0],
            branch=who.branch,
            role=Membership.Role.CORRESPONDENT,
        )
        case = case_to_scoring(who)
        assert set(_assigned(case)) == set(panel_members[1:])

    def test_a_stage_without_criteria_is_refused(self, who, panel_members):
        stage = _waiting_at_first_scoring(who, panel_members, per_case=1)
        stage.criteria.all().delete()
        case = draft(who)
        with pytest.raises(WrongState, match="评分标准"):
            workflow.case_submit(case=case, acting_user=who.secretary)
        case.refresh_from_db()
        assert case.status == Case.Status.DRAFT


class EditorWayOutTests:
    """An editor returns or rejects a case at a scoring stage, by the table."""

    def test_the_editor_returns_a_case_past_the_deadline_unscored(
        self, who, scoring_at
    ):
        case = case_to_scoring(who)
        scoring_at.scoring_deadline = timezone.now() - datetime.timedelta(days=1)
        scoring_at.save()
        with TestCase.captureOnCommitCallbacks(execute=True):
            event = workflow.case_return(
                case=case,
                acting_user=who.editor,
                stage=scoring_at,
                revision=case.revisions.get(),
                comment="截止前无人评分，请修改后再报",
            )
        case.refresh_from_db()
        assert case.status == Case.Status.RETURNED and case.current_stage is None
        assert (event.action, event.actor, event.stage) == (
            "return",
            who.editor,
            scoring_at,
        )
        assert not case.decisions.filter(stage=scoring_at).exists()
        # The branch hears of it as of any return.
        assert Notification.objects.filter(recipient=who.secretary, case=case).exists()

    def test_the_editor_rejects_and_the_panel_may_not(self, who, scoring_at):
        case = case_to_scoring(who)
        panelist = _assigned(case)[0]
        for outsider in (panelist, who.reviewer2):
            with pytest.raises(NotPermitted):
                workflow.case_reject(
                    case=case,
                    acting_user=outsider,
                    stage=scoring_at,
                    revision=case.revisions.get(),
                    comment="不予通过",
                )
        workflow.case_reject(
            case=case,
            acting_user=who.editor,
            stage=scoring_at,
            revision=case.revisions.get(),
            comment="不予通过",
        )
        case.refresh_from_db()
        assert case.status == Case.Status.REJECTED

    def test_a_return_without_a_reason_or_of_another_round_changes_nothing(
        self, who, scoring_at
    ):
        case = case_to_scoring(who)
        events = CaseEvent.objects.filter(case=case).count()
        with pytest.raises(WrongState):
            workflow.case_return(
                case=case,
                acting_user=who.editor,
                stage=scoring_at,
                revision=case.revisions.get(),
                comment="  ",
            )
        with pytest.raises(WrongState):
            workflow.case_return(
                case=case,
                acting_user=who.editor,
                stage=scoring_at,
                revision=None,
                comment="理由",
            )
        case.refresh_from_db()
        assert case.status == Case.Status.IN_REVIEW
        assert CaseEvent.objects.filter(case=case).count() == events


class AddScorerTests:
    def test_the_editor_adds_a_panel_member_with_an_audit_event(
        self, who, scoring_at, panel_members
    ):
        case = case_to_scoring(who)
        free = next(p for p in panel_members if p not in _assigned(case))
        scoring.assignment_add(case=case, new_scorer=free, acting_user=who.editor)
        assert free in _assigned(case) and len(_assigned(case)) == 3
        event = CaseEvent.objects.get(case=case, action=CaseEvent.Action.SCORERS)
        assert event.actor == who.editor and free.username in event.comment
        assert not Notification.objects.filter(event=event).exists()
        with pytest.raises(WrongState, match="已在为此案例评分"):
            scoring.assignment_add(case=case, new_scorer=free, acting_user=who.editor)

    def test_a_conflicted_stranger_or_a_non_editor_is_refused(
        self, who, scoring_at, panel_members
    ):
        case = case_to_scoring(who)
        free = next(p for p in panel_members if p not in _assigned(case))
        with pytest.raises(WrongState, match="不是"):
            scoring.assignment_add(
                case=case, new_scorer=who.outsider, acting_user=who.editor
            )
        with pytest.raises(NotPermitted):
            scoring.assignment_add(case=case, new_scorer=free, acting_user=free)
        Membership.objects.create(
            user=free, branch=who.branch, role=Membership.Role.CORRESPONDENT
        )
        with pytest.raises(WrongState, match="的成员"):
            scoring.assignment_add(case=case, new_scorer=free, acting_user=who.editor)
        assert len(_assigned(case)) == 2
        assert not CaseEvent.objects.filter(action=CaseEvent.Action.SCORERS).exists()

    def test_the_reassignment_is_audited(self, who, scoring_at, panel_members):
        case = case_to_scoring(who)
        assignment = ScoreAssignment.objects.filter(case=case).first()
        free = next(p for p in panel_members if p not in _assigned(case))
        scoring.assignment_reassign(
            assignment=assignment, new_scorer=free, acting_user=who.editor
        )
        event = CaseEvent.objects.get(case=case, action=CaseEvent.Action.SCORERS)
        assert event.actor == who.editor and free.username in event.comment


class PanelAndDeadlineTests:
    def test_a_member_taken_off_the_panel_scores_no_more(self, who, scoring_at):
        case = case_to_scoring(who)
        scorer = _assigned(case)[0]
        assert scoring.assignments_for_scorer(user=scorer).count() == 1
        scorer.groups.remove(scoring_at.reviewer_group)
        assert scoring.assignments_for_scorer(user=scorer).count() == 0
        with pytest.raises(Http404):
            scoring.assignment_get_for_scorer(case_id=case.pk, user=scorer)
        with pytest.raises(NotPermitted):
            scored(case, scorer, 5, 5, 5)
        assert not Score.objects.exists()

    def test_past_the_deadline_the_refusal_says_so_and_an_extension_reopens(
        self, who, scoring_at
    ):
        case = case_to_scoring(who)
        scorer = _assigned(case)[0]
        admin = UserFactory(username="root", is_superuser=True, is_staff=True)
        stage_update(
            stage=scoring_at,
            acting_user=admin,
            scoring_deadline=timezone.now() - datetime.timedelta(minutes=1),
        )
        case.refresh_from_db()
        with pytest.raises(WrongState, match="评分截止时间"):
            scored(case, scorer, 5, 5, 5)
        assert not Score.objects.exists()
        stage_update(
            stage=scoring_at,
            acting_user=admin,
            scoring_deadline=timezone.now() + datetime.timedelta(days=1),
        )
        case.refresh_from_db()
        assert scored(case, scorer, 5, 5, 5).total == Decimal("50.00")


class VisibilityTests:
    """Blind until the deadline: a panel member sees their own scores only;
    after it, everyone's but those of a case they are conflicted on."""

    def test_before_the_deadline_the_panel_sees_no_results(self, who, panel_members):
        stage = scoring_stage(
            members=panel_members,
            per_case=2,
            deadline=timezone.now() + datetime.timedelta(days=1),
        )
        case = case_to_scoring(who)
        first, second = _assigned(case)
        scored(case, first, 9, 9, 9)
        assert scoring.results_for(stage=stage, user=second) is None
        assert scoring.results_for(stage=stage, user=first) is None
        assert [s.scorer for s in scoring.own_scores(stage=stage, user=first)] == [
            first
        ]
        assert list(scoring.own_scores(stage=stage, user=second)) == []
        [result] = scoring.results_for(stage=stage, user=who.editor)
        assert result.count == 1

    def test_after_the_deadline_never_a_conflicted_case(self, who, panel_members):
        stage = scoring_stage(members=panel_members, per_case=2)
        other = member(Membership.Role.SECRETARY, username="secretary2")
        ours = case_to_scoring(who, title="本支部案例")
        theirs = case_to_scoring(who, secretary=other, title="他支部案例")
        for case in (ours, theirs):
            for scorer in _assigned(case):
                scored(case, scorer, 6, 6, 6)
        # One of the panel joins the first organisation; another declares a
        # conflict on the second case where they score it.
        insider = next(p for p in panel_members if p not in _assigned(ours))
        Membership.objects.create(
            user=insider, branch=who.branch, role=Membership.Role.CORRESPONDENT
        )
        stage.scoring_deadline = timezone.now() - datetime.timedelta(minutes=1)
        stage.save()
        seen = scoring.results_for(stage=stage, user=insider)
        assert [r.case.title for r in seen] == ["他支部案例"]
        third = case_to_scoring(who, secretary=other, title="第三个案例")
        stage.scoring_deadline = timezone.now() + datetime.timedelta(days=1)
        stage.save()
        declarer = _assigned(third)[0]
        scored(third, declarer, kind=Score.Kind.CONFLICT)
        stage.scoring_deadline = timezone.now() - datetime.timedelta(minutes=1)
        stage.save()
        titles = {r.case.title for r in scoring.results_for(stage=stage, user=declarer)}
        assert "第三个案例" not in titles
        assert "他支部案例" in titles
        assert scoring.results_for(stage=stage, user=who.reviewer1) is None


class ScoreRecordTests:
    """A score is written once, checked by the database, and audited."""

    def test_a_score_row_is_never_changed_or_deleted(self, who, scoring_at):
        case = case_to_scoring(who)
        score = scored(case, _assigned(case)[0], 8, 8, 8)
        score.comment = "改过"
        with pytest.raises(TypeError):
            score.save()
        with pytest.raises(TypeError):
            score.delete()
        with pytest.raises(TypeError):
            Score.objects.filter(pk=score.pk).update(total=Decimal("100"))
        with pytest.raises(TypeError):
            Score.objects.filter(pk=score.pk).delete()
        assert Score.objects.get(pk=score.pk).total == Decimal("80.00")

    @pytest.mark.parametrize(
        ("kind", "total", "points"),
        [
            ("scored", Decimal("100.01"), {"1": 10}),
            ("scored", Decimal("-1"), {"1": 0}),
            ("scored", None, {"1": 5}),
            ("scored", Decimal("50"), {}),
            ("abstain", Decimal("50"), {}),
            ("conflict", None, {"1": 5}),
            ("liked", None, {}),
        ],
    )
    def test_the_database_refuses_a_score_out_of_range(
        self, who, scoring_at, kind, total, points
    ):
        case = case_to_scoring(who)
        with pytest.raises(IntegrityError), transaction.atomic():
            Score.objects.create(
                case=case,
                revision=case.revisions.get(),
                stage=scoring_at,
                scorer=_assigned(case)[0],
                kind=kind,
                points=points,
                total=total,
            )

    @pytest.mark.parametrize("kind", ["scored", "conflict", "abstain"])
    def test_each_verdict_is_on_the_audit_trail_not_the_timeline(
        self, who, scoring_at, kind
    ):
        case = case_to_scoring(who)
        scorer = _assigned(case)[0]
        with TestCase.captureOnCommitCallbacks(execute=True):
            scored(case, scorer, 7, 7, 7, kind=kind, comment="内部意见")
        event = CaseEvent.objects.get(case=case, action=CaseEvent.Action.SCORE)
        assert (event.actor, event.stage, event.from_status, event.to_status) == (
            scorer,
            scoring_at,
            "in_review",
            "in_review",
        )
        assert event.revision == case.revisions.get()
        assert "内部意见" not in event.comment
        assert event not in case_timeline(case=case)
        assert not Notification.objects.filter(event=event).exists()


class LeavingTheStageTests:
    def test_a_withdrawn_or_accepted_case_leaves_the_ranking(self, who, panel_members):
        stage = scoring_stage(members=panel_members, per_case=1)
        cases = [case_to_scoring(who, title=f"案例{n}") for n in range(3)]
        for case, points in zip(cases, [(9, 9, 9), (5, 5, 5), (7, 7, 7)], strict=True):
            scored(case, _assigned(case)[0], *points)
        workflow.case_withdraw(case=cases[0], acting_user=who.secretary)
        ranks = {r.case.title: r.rank for r in scoring.stage_results(stage=stage)}
        assert ranks == {"案例2": 1, "案例1": 2}
        showcase.scored_cases_accept(
            stage=stage, campaign_id=None, count=1, acting_user=who.editor
        )
        ranks = {r.case.title: r.rank for r in scoring.stage_results(stage=stage)}
        assert ranks == {"案例1": 1}
        # Their scores stay on record.
        assert Score.objects.filter(stage=stage).count() == 3


@pytest.mark.django_db(transaction=True)
class EnteringRaceTests:
    """Two cases entering the scoring stage at the same moment, on PostgreSQL."""

    def test_concurrent_approvals_keep_the_load_bound(self):
        if connection.vendor != "postgresql":
            service_missing(
                "the race test needs PostgreSQL's row locks; set DATABASE_URL"
            )
        who = people()
        panel_members = [UserFactory(username=f"racer{n}") for n in range(4)]
        stage = scoring_stage(members=panel_members, per_case=2)
        cases = []
        for n in range(2):
            case = draft(who, title=f"并发案例{n}")
            workflow.case_submit(case=case, acting_user=who.secretary)
            case.refresh_from_db()
            workflow.case_approve(
                case=case,
                acting_user=who.reviewer1,
                stage=case.current_stage,
                revision=case.revisions.get(),
            )
            cases.append(case)
        barrier = threading.Barrier(2)
        results = []

        def approve(case_id):
            try:
                case = Case.objects.select_related("current_stage").get(pk=case_id)
                revision = case.revisions.get()
                barrier.wait()
                results.append(
                    workflow.case_approve(
                        case=case,
                        acting_user=who.reviewer2,
                        stage=case.current_stage,
                        revision=revision,
                    )
                )
            except Exception as error:  # the test inspects what each thread got
                results.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=approve, args=(c.pk,)) for c in cases]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert [type(r).__name__ for r in results] == ["CaseEvent", "CaseEvent"]
        rows = list(
            ScoreAssignment.objects.filter(stage=stage).values_list(
                "case_id", "scorer_id"
            )
        )
        assert len(rows) == 4 == len(set(rows))
        loads = [scorer for _case, scorer in rows]
        bound = scoring.load_bound(cases=2, scorers=4, per_case=2)
        assert bound == 1
        assert max(loads.count(s) for s in set(loads)) <= bound, rows

    def test_the_score_table_refuses_updates_from_raw_sql(self):
        if connection.vendor != "postgresql":
            service_missing("the append-only trigger is PostgreSQL's")
        who = people()
        panel_members = [UserFactory(username="solo")]
        scoring_stage(members=panel_members, per_case=1)
        case = case_to_scoring(who)
        score = scored(case, panel_members[0], 8, 8, 8)
        for sql in (
            "UPDATE review_score SET total = 100 WHERE id = %s",
            "DELETE FROM review_score WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql, [score.pk])
        assert Score.objects.get(pk=score.pk).total == Decimal("80.00")


class ReminderPanelTests:
    def test_a_scorer_taken_off_the_panel_is_not_reminded(self, who, panel_members):
        stage = scoring_stage(
            members=panel_members,
            per_case=2,
            deadline=timezone.now() + datetime.timedelta(hours=20),
        )
        case = case_to_scoring(who)
        gone, stays = _assigned(case)
        gone.groups.remove(stage.reviewer_group)
        assert scoring_reminders_send() == 1
        reminded = Notification.objects.filter(key__startswith="scoring-reminder")
        assert [n.recipient for n in reminded] == [stays]
