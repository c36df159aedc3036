"""评选: scoring rounds, the second kind of review stage.

A scoring stage is scored by its panel (the stage's reviewer group) on the
stage's rubric (`Criterion` rows) rather than decided by one reviewer. A case
reaches it like any stage, when approval at the stage before moves it on; the
round is the case's revision at the stage.

Assignment happens on entering, inside the transaction that moves the case,
whichever move it is (`round_assign`, called by `workflow._enter_stage` for
an approval, a submission or a resubmission): the case is never at the stage
without its scorers, and the stage row is locked by the entering
(`workflow._stage_to_enter`), so two cases entering at once count each
other's load. Each case gets `scorers_per_case` panel members, the least
loaded first, never a member of the case's organisation (conflict of
interest); `assignment_balance` is the rule, as a pure function. A case needs
at least one scorer to enter: with fewer eligible members than k it gets all
of them (the results show how many scored, and an editor can add more), with
none the move is refused and nothing changes. An editor moves one assignment
to another panel member with `assignment_reassign`, adds one with
`assignment_add`, and returns or rejects a case whose round cannot end
(`workflow.case_return` / `case_reject`, the table's rows for a scoring
stage).

Scores are taken until the stage's deadline; an editor extends it by
changing the stage. Until then a panel member sees only their own scores;
the results with everyone's are the editors', and the panel's once the
deadline has passed (nobody can score any more, so what they see cannot sway
a score), never of a case they are conflicted on. The ranking holds the cases
still waiting at the stage: one withdrawn, returned, rejected or already
taken into the queue has left the round.

A panel member scores each criterion within its scale, or declares a
conflict or abstains; all three are one `Score` row per (case, scorer,
round), which a database constraint keeps to one: a second submission is
refused, naming when the first was recorded. Only scored rows count in the
results (`stage_results`): the weighted mean on 0..100, the spread of the
scorers' totals and how many scored, ranked per call with equal means sharing
a rank. The editor takes the top of a ranking into the showcase queue with
`showcase.services.scored_cases_accept`, which moves each case with
`workflow.case_score_accept`.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from casehub import roles
from casehub.exceptions import NotPermitted, WrongState
from submissions.models import Case, CaseRevision, Membership

from .events import case_event_record
from .models import CaseEvent, ReviewStage, Score, ScoreAssignment

MAX_COMMENT = 4000


def load_bound(*, cases: int, scorers: int, per_case: int) -> int:
    """ceil(n·k/m): the most cases any one scorer is given."""
    if scorers == 0:
        return 0
    return math.ceil(cases * per_case / scorers)


def assignment_balance(
    *,
    cases: Mapping[int, frozenset],
    scorers: Mapping[int, frozenset],
    per_case: int,
    loads: Mapping[int, int] | None = None,
) -> dict[int, list[int]]:
    """Who scores which case: {case id: [scorer ids]}.

    `cases` maps each case to its organisations, `scorers` each scorer to
    theirs; a scorer is never given a case of their own organisation. Cases
    with the fewest eligible scorers are placed first and each takes the
    `per_case` least loaded eligible scorers (`loads` are the cases they
    already hold, lowest id first on a tie). Without conflicts the loads
    never differ by more than one, so no one holds more than ceil(n·k/m);
    conflicts that leave few eligible scorers for many cases can force more
    on those few (tests/review/test_scoring.py checks the bound for 100
    cases, 7 scorers and three conflicted organisations). A case with fewer
    than `per_case` eligible scorers gets all of them.
    """
    load = {scorer: (loads or {}).get(scorer, 0) for scorer in scorers}

    def eligible(case):
        return [s for s in sorted(scorers) if not (scorers[s] & cases[case])]

    order = sorted(cases, key=lambda case: (len(eligible(case)), case))
    result = {}
    for case in order:
        chosen = sorted(eligible(case), key=lambda s: (load[s], s))[:per_case]
        for scorer in chosen:
            load[scorer] += 1
        result[case] = sorted(chosen)
    return result


def _organisations(user_ids) -> dict[int, frozenset]:
    found = {user_id: set() for user_id in user_ids}
    for user_id, branch_id in Membership.objects.filter(user_id__in=found).values_list(
        "user_id", "branch_id"
    ):
        found[user_id].add(branch_id)
    return {user_id: frozenset(branches) for user_id, branches in found.items()}


def panel(stage: ReviewStage):
    return (
        get_user_model()
        .objects.filter(is_active=True, groups=stage.reviewer_group_id)
        .order_by("pk")
    )


def is_conflicted(*, user, case: Case) -> bool:
    """A member of the case's organisation: never its scorer."""
    return Membership.objects.filter(user=user, branch_id=case.branch_id).exists()


def _open_assignments(stage: ReviewStage):
    """The assignments of the rounds open at `stage`: each waiting case's
    latest revision (a case back at the stage after a return left its earlier
    round's assignments behind)."""
    later = CaseRevision.objects.filter(
        case=OuterRef("case"), number__gt=OuterRef("revision__number")
    )
    return ScoreAssignment.objects.filter(
        stage=stage,
        case__status=Case.Status.IN_REVIEW,
        case__current_stage=stage,
    ).exclude(Exists(later))


def round_assign(
    *, case: Case, stage: ReviewStage, revision: CaseRevision | None
) -> list[ScoreAssignment]:
    """Give a case entering `stage` its scorers, in the entering transaction,
    or refuse the entering: the caller's transaction then changes nothing.

    The caller holds the stage's row lock (`workflow._stage_to_enter`), so
    the loads read here include every case that entered before.
    """
    if revision is None:
        raise ValueError("a case enters a scoring stage with its revision")
    if not stage.criteria.exists():
        raise WrongState(
            _(
                "%(stage)s has no scoring criteria yet, so nobody could score "
                "“%(title)s”; ask the administrator. Nothing was changed."
            )
            % {"stage": stage, "title": case.title}
        )
    members = list(panel(stage).values_list("pk", flat=True))
    loads = dict.fromkeys(members, 0)
    held = _open_assignments(stage).filter(scorer__in=members).exclude(case=case)
    for scorer_id in held.values_list("scorer_id", flat=True):
        loads[scorer_id] += 1
    chosen = assignment_balance(
        cases={case.pk: frozenset({case.branch_id})},
        scorers=_organisations(members),
        per_case=stage.scorers_per_case,
        loads=loads,
    )[case.pk]
    if not chosen:
        raise WrongState(
            _(
                "Nobody on the panel of %(stage)s may score “%(title)s”: the "
                "panel is empty or all its members belong to %(branch)s. Ask "
                "the administrator to add panel members. Nothing was changed."
            )
            % {"stage": stage, "title": case.title, "branch": case.branch}
        )
    return ScoreAssignment.objects.bulk_create(
        ScoreAssignment(case=case, revision=revision, stage=stage, scorer_id=scorer)
        for scorer in chosen
    )


def _require_editor(user) -> None:
    if not roles.may_publish(user):
        raise NotPermitted(_("Only editors may change who scores a case."))


def _open_round(case: Case, stage: ReviewStage) -> CaseRevision:
    """The revision being scored at `stage`, or a refusal."""
    latest = case.revisions.order_by("-number").first()
    if (
        case.status != Case.Status.IN_REVIEW
        or case.current_stage_id != stage.pk
        or not stage.is_scoring
        or latest is None
    ):
        raise WrongState(
            _("This case is no longer being scored at %(stage)s.") % {"stage": stage}
        )
    return latest


def _lock_case(case: Case) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("branch", "current_stage")
        .get(pk=case.pk)
    )


@transaction.atomic
def assignment_reassign(
    *, assignment: ScoreAssignment, new_scorer, acting_user
) -> ScoreAssignment:
    """An editor moves one unscored assignment to another panel member."""
    _require_editor(acting_user)
    case = _lock_case(assignment.case)
    assignment = ScoreAssignment.objects.select_for_update().get(pk=assignment.pk)
    stage = assignment.stage
    revision = _open_round(case, stage)
    if assignment.revision_id != revision.pk:
        raise WrongState(_("This assignment belongs to an earlier round."))
    _require_may_score(person=new_scorer, case=case, stage=stage)
    if Score.objects.filter(
        case=case, revision=revision, scorer_id=assignment.scorer_id
    ).exists():
        raise WrongState(_("This case is scored already; the score stays."))
    if ScoreAssignment.objects.filter(
        revision=revision, stage=stage, scorer=new_scorer
    ).exists():
        raise WrongState(
            _("%(person)s scores this case already.") % {"person": new_scorer}
        )
    before = assignment.scorer
    assignment.scorer = new_scorer
    assignment.reminded_at = None
    assignment.save(update_fields=["scorer", "reminded_at"])
    _scorers_changed(
        case=case,
        stage=stage,
        revision=revision,
        acting_user=acting_user,
        comment=_("%(before)s → %(after)s") % {"before": before, "after": new_scorer},
    )
    return assignment


def _scorers_changed(*, case, stage, revision, acting_user, comment) -> None:
    case_event_record(
        case=case,
        actor=acting_user,
        action=CaseEvent.Action.SCORERS,
        from_status=case.status,
        stage=stage,
        revision=revision,
        comment=comment,
    )


def _require_may_score(*, person, case: Case, stage: ReviewStage) -> None:
    if not panel(stage).filter(pk=person.pk).exists():
        raise WrongState(
            _("%(person)s is not on the panel of %(stage)s.")
            % {"person": person, "stage": stage}
        )
    if is_conflicted(user=person, case=case):
        raise WrongState(
            _("%(person)s is a member of %(branch)s and cannot score its case.")
            % {"person": person, "branch": case.branch}
        )


@transaction.atomic
def assignment_add(*, case: Case, new_scorer, acting_user) -> ScoreAssignment:
    """An editor asks one more panel member to score a case being scored
    (a scorer left the panel, declared a conflict, or k were too few).

    A manual choice: the load bound of the automatic assignment does not
    apply, the panel and the conflict of interest do.
    """
    _require_editor(acting_user)
    case = _lock_case(case)
    stage = case.current_stage
    if stage is None or not stage.is_scoring:
        raise WrongState(_("This case is not being scored."))
    revision = _open_round(case, stage)
    _require_may_score(person=new_scorer, case=case, stage=stage)
    if ScoreAssignment.objects.filter(
        revision=revision, stage=stage, scorer=new_scorer
    ).exists():
        raise WrongState(
            _("%(person)s scores this case already.") % {"person": new_scorer}
        )
    try:
        with transaction.atomic():
            assignment = ScoreAssignment.objects.create(
                case=case, revision=revision, stage=stage, scorer=new_scorer
            )
    except IntegrityError:
        raise WrongState(
            _("%(person)s scores this case already.") % {"person": new_scorer}
        ) from None
    _scorers_changed(
        case=case,
        stage=stage,
        revision=revision,
        acting_user=acting_user,
        comment=_("+ %(person)s") % {"person": new_scorer},
    )
    return assignment


def assignments_for_scorer(*, user, stage: ReviewStage | None = None):
    """The open rounds the user is asked to score, oldest first."""
    if not user.is_authenticated:
        return ScoreAssignment.objects.none()
    # Still on the panel: someone taken off it keeps no cases to score.
    found = ScoreAssignment.objects.filter(
        scorer=user,
        scorer__is_active=True,
        stage__is_active=True,
        stage__reviewer_group__in=user.groups.all(),
        case__status=Case.Status.IN_REVIEW,
        case__current_stage=F("stage"),
    )
    if stage is not None:
        found = found.filter(stage=stage)
    return found.select_related("case__branch", "stage", "revision").order_by(
        "created_at", "pk"
    )


def assignment_get_for_scorer(*, case_id, user) -> ScoreAssignment:
    """The user's assignment for a case being scored; else the same 404."""
    try:
        found = assignments_for_scorer(user=user).filter(case_id=case_id)
        assignment = found.order_by("-revision__number").first()
    except (ValueError, TypeError):
        assignment = None
    if (
        assignment is None
        or assignment.revision_id
        != (
            assignment.case.revisions.order_by("-number").values_list("pk", flat=True)[
                0
            ]
        )
    ):
        raise Http404
    return assignment


def _quantize(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def weighted_total(*, criteria, points: Mapping[int, int]) -> Decimal:
    """Σ weight·score/scale ÷ Σ weight, on 0..100."""
    weights = sum(criterion.weight for criterion in criteria)
    if not weights:
        raise WrongState(_("This scoring stage has no criteria yet."))
    total = sum(
        Decimal(criterion.weight) * Decimal(points[criterion.pk]) / criterion.scale_max
        for criterion in criteria
    )
    return _quantize(total * 100 / weights)


def _already_scored(score: Score) -> WrongState:
    return WrongState(
        _("You recorded this round at %(time)s (%(kind)s). Nothing was changed.")
        % {
            "time": date_format(timezone.localtime(score.created_at), "Y-m-d H:i:s"),
            "kind": score.get_kind_display(),
        }
    )


@transaction.atomic
def score_record(
    *,
    case: Case,
    acting_user,
    kind: str,
    points: Mapping[int, int] | None = None,
    comment: str = "",
) -> Score:
    """A panel member's score, conflict or abstention for the open round.

    Once per round: the assignment row is locked while the score is written
    and a unique constraint stands behind it, so of two submissions (a double
    click, two tabs) one records and the other is told when it was.
    """
    case = _lock_case(case)
    stage = case.current_stage
    if stage is None or not stage.is_scoring:
        raise WrongState(_("This case is not being scored."))
    revision = _open_round(case, stage)
    assignment = (
        ScoreAssignment.objects.select_for_update()
        .filter(revision=revision, stage=stage, scorer=acting_user)
        .first()
    )
    if assignment is None or not roles.reviews_at(acting_user, stage):
        raise NotPermitted(_("You are not asked to score this case."))
    if deadline_passed(stage):
        raise deadline_refusal(stage)
    previous = Score.objects.filter(
        case=case, revision=revision, scorer=acting_user
    ).first()
    if previous is not None:
        raise _already_scored(previous)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise WrongState(
            _("A comment is at most %(limit)d characters.") % {"limit": MAX_COMMENT}
        )
    if kind == Score.Kind.SCORED and is_conflicted(user=acting_user, case=case):
        # An assignment made before the scorer joined the organisation.
        kind = Score.Kind.CONFLICT
    stored_points, total = {}, None
    if kind == Score.Kind.SCORED:
        criteria = list(stage.criteria.all())
        points = points or {}
        for criterion in criteria:
            value = points.get(criterion.pk)
            if value is None or not 0 <= value <= criterion.scale_max:
                raise WrongState(
                    _("Score %(criterion)s from 0 to %(max)d.")
                    % {"criterion": criterion.name, "max": criterion.scale_max}
                )
        total = weighted_total(criteria=criteria, points=points)
        stored_points = {str(c.pk): int(points[c.pk]) for c in criteria}
    elif kind not in (Score.Kind.CONFLICT, Score.Kind.ABSTAIN):
        raise ValueError(f"unknown score kind {kind!r}")
    try:
        with transaction.atomic():
            score = Score.objects.create(
                case=case,
                revision=revision,
                stage=stage,
                scorer=acting_user,
                kind=kind,
                points=stored_points,
                total=total,
                comment=comment,
            )
    except IntegrityError:
        raise _already_scored(
            Score.objects.get(case=case, revision=revision, scorer=acting_user)
        ) from None
    # On the case's audit trail (not its timeline: the branch does not learn
    # who scored it, review.selectors.case_timeline).
    case_event_record(
        case=case,
        actor=acting_user,
        action=CaseEvent.Action.SCORE,
        from_status=case.status,
        stage=stage,
        revision=revision,
        comment=(
            _("%(kind)s: %(total)s of 100")
            % {"kind": score.get_kind_display(), "total": total}
            if total is not None
            else score.get_kind_display()
        ),
    )
    return score


def deadline_passed(stage: ReviewStage, *, now=None) -> bool:
    """Past the stage's scoring deadline (a stage without one never is)."""
    deadline = stage.scoring_deadline
    return deadline is not None and (now or timezone.now()) > deadline


def deadline_refusal(stage: ReviewStage) -> WrongState:
    return WrongState(
        _(
            "The scoring deadline of %(stage)s passed at %(time)s; no score is "
            "taken now. An editor can extend the deadline."
        )
        % {
            "stage": stage,
            "time": date_format(
                timezone.localtime(stage.scoring_deadline), "Y-m-d H:i"
            ),
        }
    )


@dataclass
class Result:
    case: Case
    revision_id: int | None = None
    scores: list = field(default_factory=list)
    mean: Decimal | None = None
    spread: Decimal | None = None
    count: int = 0
    rank: int | None = None

    @property
    def campaign(self):
        return self.case.campaign


def stage_results(*, stage: ReviewStage) -> list[Result]:
    """Every case waiting at `stage`, its open round, ranked per call (equal
    means share a rank; unscored cases have none). A case that left the
    stage (withdrawn, returned, rejected, taken into the queue) has left the
    ranking; its scores stay on record.

    Ordered by call, then rank; two queries whatever the number of cases.
    """
    assignments = _open_assignments(stage).select_related(
        "case__branch", "case__campaign", "case__current_stage", "revision"
    )
    rounds = {a.revision_id: a.case for a in assignments}
    results = {
        revision: Result(case=case, revision_id=revision)
        for revision, case in rounds.items()
    }
    scores = (
        Score.objects.filter(stage=stage, revision_id__in=rounds)
        .select_related("scorer")
        .order_by("scorer_id")
    )
    for score in scores:
        results[score.revision_id].scores.append(score)
    for result in results.values():
        totals = [s.total for s in result.scores if s.kind == Score.Kind.SCORED]
        result.count = len(totals)
        if totals:
            result.mean = _quantize(sum(totals) / len(totals))
            result.spread = max(totals) - min(totals)
    ordered = sorted(
        results.values(),
        key=lambda r: (
            r.case.campaign_id or 0,
            r.mean is None,
            -(r.mean or 0),
            r.case.pk,
        ),
    )
    _rank(ordered)
    return ordered


def _rank(ordered: list[Result]) -> None:
    """Competition ranking within each call: 1, 1, 3."""
    previous = None
    for index, result in enumerate(ordered):
        campaign = result.case.campaign_id
        if previous is None or previous.case.campaign_id != campaign:
            start = index
        if result.mean is None:
            continue
        if (
            previous is not None
            and previous.case.campaign_id == campaign
            and previous.mean == result.mean
        ):
            result.rank = previous.rank
        else:
            result.rank = index - start + 1
        previous = result


def scoring_stages():
    return ReviewStage.objects.filter(kind=ReviewStage.Kind.SCORING).order_by(
        "position"
    )


def sees_results(user, stage: ReviewStage) -> bool:
    """Editors and the stage's panel open the results page; what it shows a
    panel member is `results_for`'s to say."""
    return roles.may_publish(user) or roles.is_stage_member(user, stage)


def results_for(*, stage: ReviewStage, user) -> list[Result] | None:
    """The results `user` may see at `stage`, or None while they are closed
    to them.

    Editors see every case's. A panel member sees everyone's scores only
    once the deadline has passed, when no score is taken any more, and then
    never those of a case they are conflicted on (a member of its
    organisation, or a conflict they declared); before it, only their own
    (`own_scores`).
    """
    if roles.may_publish(user):
        return stage_results(stage=stage)
    if not roles.is_stage_member(user, stage) or not deadline_passed(stage):
        return None
    branches = set(
        Membership.objects.filter(user=user).values_list("branch_id", flat=True)
    )
    declared = set(
        Score.objects.filter(
            stage=stage, scorer=user, kind=Score.Kind.CONFLICT
        ).values_list("revision_id", flat=True)
    )
    return [
        result
        for result in stage_results(stage=stage)
        if result.case.branch_id not in branches and result.revision_id not in declared
    ]


def own_scores(*, stage: ReviewStage, user):
    """The scores `user` recorded at `stage` in the rounds still open."""
    return (
        Score.objects.filter(
            stage=stage,
            scorer=user,
            revision__in=_open_assignments(stage)
            .filter(scorer=user)
            .values("revision"),
        )
        .select_related("case", "revision")
        .order_by("created_at", "pk")
    )


def reminders_due(*, now=None):
    """Unscored assignments of open rounds whose deadline is within a day,
    not reminded yet, of scorers still on the panel."""
    now = now or timezone.now()
    return (
        ScoreAssignment.objects.filter(
            reminded_at__isnull=True,
            scorer__is_active=True,
            scorer__groups=F("stage__reviewer_group"),
            stage__is_active=True,
            stage__kind=ReviewStage.Kind.SCORING,
            stage__scoring_deadline__gt=now,
            stage__scoring_deadline__lte=now + timedelta(days=1),
            case__status=Case.Status.IN_REVIEW,
            case__current_stage=F("stage"),
        )
        .exclude(
            Exists(
                Score.objects.filter(
                    revision=OuterRef("revision"), scorer=OuterRef("scorer")
                )
            )
        )
        .select_related("case", "scorer", "stage")
    )
