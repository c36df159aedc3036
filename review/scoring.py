"""评选: scoring rounds, the second kind of review stage.

A scoring stage is scored by its panel (the stage's reviewer group) on the
stage's rubric (`Criterion` rows) rather than decided by one reviewer. A case
reaches it like any stage, when approval at the stage before moves it on; the
round is the case's revision at the stage.

Assignment happens on entering, inside the transaction of the approval that
moves the case (`round_assign`, called by `workflow._decide`): the case is
never at the stage without its scorers, and the stage row is locked by the
entering (`workflow._stage_to_enter`), so two cases entering at once count
each other's load. Each case gets `scorers_per_case` panel members, the least
loaded first, never a member of the case's organisation (conflict of
interest); `assignment_balance` is the rule, as a pure function. An editor
moves one assignment to another panel member with `assignment_reassign`.

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

from .models import ReviewStage, Score, ScoreAssignment

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


def round_assign(
    *, case: Case, stage: ReviewStage, revision: CaseRevision
) -> list[ScoreAssignment]:
    """Give a case entering `stage` its scorers, in the entering transaction."""
    members = list(panel(stage).values_list("pk", flat=True))
    loads = dict.fromkeys(members, 0)
    open_rounds = ScoreAssignment.objects.filter(
        stage=stage,
        case__status=Case.Status.IN_REVIEW,
        case__current_stage=stage,
        scorer__in=members,
    )
    for scorer_id in open_rounds.values_list("scorer_id", flat=True):
        loads[scorer_id] += 1
    chosen = assignment_balance(
        cases={case.pk: frozenset({case.branch_id})},
        scorers=_organisations(members),
        per_case=stage.scorers_per_case,
        loads=loads,
    )[case.pk]
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
    if not panel(stage).filter(pk=new_scorer.pk).exists():
        raise WrongState(
            _("%(person)s is not on the panel of %(stage)s.")
            % {"person": new_scorer, "stage": stage}
        )
    if is_conflicted(user=new_scorer, case=case):
        raise WrongState(
            _("%(person)s is a member of %(branch)s and cannot score its case.")
            % {"person": new_scorer, "branch": case.branch}
        )
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
    assignment.scorer = new_scorer
    assignment.reminded_at = None
    assignment.save(update_fields=["scorer", "reminded_at"])
    return assignment


def assignments_for_scorer(*, user, stage: ReviewStage | None = None):
    """The open rounds the user is asked to score, oldest first."""
    if not user.is_authenticated:
        return ScoreAssignment.objects.none()
    found = ScoreAssignment.objects.filter(
        scorer=user,
        stage__is_active=True,
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
    if stage.scoring_deadline and timezone.now() > stage.scoring_deadline:
        raise WrongState(_("The scoring deadline has passed."))
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
            return Score.objects.create(
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


@dataclass
class Result:
    case: Case
    scores: list = field(default_factory=list)
    mean: Decimal | None = None
    spread: Decimal | None = None
    count: int = 0
    rank: int | None = None

    @property
    def campaign(self):
        return self.case.campaign


def stage_results(*, stage: ReviewStage) -> list[Result]:
    """Every case scored or being scored at `stage`, its latest round, ranked
    per call (equal means share a rank; unscored cases have none).

    Ordered by call, then rank; three queries whatever the number of cases.
    """
    assignments = ScoreAssignment.objects.filter(stage=stage).select_related(
        "case__branch", "case__campaign", "revision"
    )
    latest = {}
    for assignment in assignments:
        known = latest.get(assignment.case_id)
        if known is None or assignment.revision.number > known.revision.number:
            latest[assignment.case_id] = assignment
    rounds = {a.revision_id: a.case for a in latest.values()}
    results = {revision: Result(case=case) for revision, case in rounds.items()}
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
    """Editors and the stage's panel."""
    return roles.may_publish(user) or roles.is_stage_member(user, stage)


def reminders_due(*, now=None):
    """Unscored assignments of open rounds whose deadline is within a day,
    not reminded yet."""
    now = now or timezone.now()
    return (
        ScoreAssignment.objects.filter(
            reminded_at__isnull=True,
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
