"""评选: assignment, scores, results, ranking and taking the top into the queue."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from casehub.exceptions import NotPermitted, WrongState
from inbox.models import Notification
from review import scoring, workflow
from review.models import CaseEvent, Criterion, Score, ScoreAssignment
from review.tasks import scoring_reminders_send
from showcase import services as showcase
from showcase.models import QueueEntry
from showcase.selectors import approved_queue
from submissions.models import Case, Membership
from tests.conftest import service_missing
from tests.review.factories import case_to_scoring, draft, people, scoring_stage
from tests.submissions.factories import UserFactory, signed_in

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
def who():
    return people()


@pytest.fixture
def panel_members():
    return [
        UserFactory(username=f"expert{n}", first_name=f"专家{n}") for n in (1, 2, 3)
    ]


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
        assert workflow.action_names(case, who.editor) == {"score_accept"}


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
