"""The department's figures, from aggregate queries.

Every function here runs a fixed number of queries, however many cases and
events there are: counts are grouped in the database, and the times spent in
each stage come from one pass over the review events with a window function.
"""

import datetime
import math
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import Lead, TruncMonth
from django.utils import timezone

from review.models import CaseEvent, ReviewStage
from showcase.models import ViewCount
from submissions.models import Branch, Case

Action = CaseEvent.Action


@dataclass(frozen=True)
class Period:
    """Local dates, both included."""

    start: datetime.date
    end: datetime.date

    @property
    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        tz = timezone.get_current_timezone()
        start = datetime.datetime.combine(self.start, datetime.time.min, tzinfo=tz)
        end = datetime.datetime.combine(
            self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
        )
        return start, end

    def months(self) -> list[datetime.date]:
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = (month + datetime.timedelta(days=32)).replace(day=1)
        return months


@dataclass
class BranchFigures:
    branch: Branch
    submitted: int = 0
    returned: int = 0
    rejected: int = 0
    approved: int = 0
    published: int = 0
    overdue: int = 0
    views: int = 0

    @property
    def approval_rate(self) -> float | None:
        """Share of final decisions that approved: approved ÷ (approved + rejected)."""
        decided = self.approved + self.rejected
        return self.approved / decided if decided else None


@dataclass
class StageFigures:
    stage: ReviewStage
    durations: list[datetime.timedelta] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.durations)

    @property
    def median(self) -> datetime.timedelta | None:
        return percentile(self.durations, 50)

    @property
    def p90(self) -> datetime.timedelta | None:
        return percentile(self.durations, 90)


def percentile(values, p: float):
    """The p-th percentile, interpolated between the two nearest values as a
    spreadsheet's MEDIAN and PERCENTILE.INC do, so that the figures can be
    checked against the download; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = p / 100 * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def _events(period: Period, campaign=None):
    start, end = period.bounds
    events = CaseEvent.objects.filter(created_at__gte=start, created_at__lt=end)
    if campaign is not None:
        events = events.filter(case__campaign=campaign)
    return events


# What each figure counts, among the events of the period.
_COUNTED = {
    # Cases sent to review for the first time (or again after a withdrawal).
    "submitted": Count("case", filter=Q(action=Action.SUBMIT), distinct=True),
    "returned": Count("pk", filter=Q(action=Action.RETURN)),
    "rejected": Count("pk", filter=Q(action=Action.REJECT)),
    # The final stage's approval: the case leaves review approved.
    "approved": Count(
        "pk", filter=Q(action=Action.APPROVE, to_status=Case.Status.APPROVED)
    ),
    "published": Count("case", filter=Q(action=Action.PUBLISH), distinct=True),
}


def branch_figures(*, period: Period, campaign=None) -> list[BranchFigures]:
    """One row per active organisation (and any other with activity), in four
    queries."""
    figures: dict[int, BranchFigures] = {}
    branches = {b.pk: b for b in Branch.objects.order_by("name")}
    for branch in branches.values():
        if branch.is_active:
            figures[branch.pk] = BranchFigures(branch=branch)

    def row(branch_id) -> BranchFigures:
        if branch_id not in figures:
            figures[branch_id] = BranchFigures(branch=branches[branch_id])
        return figures[branch_id]

    counted = (
        _events(period, campaign)
        .values(branch_id=F("case__branch_id"))
        .annotate(**_COUNTED)
        .order_by()
    )
    for values in counted:
        target = row(values["branch_id"])
        for name in _COUNTED:
            setattr(target, name, values[name])

    cases = Case.objects.all()
    if campaign is not None:
        cases = cases.filter(campaign=campaign)
    overdue = cases.overdue().values("branch_id").annotate(n=Count("pk")).order_by()
    for values in overdue:
        row(values["branch_id"]).overdue = values["n"]

    views = ViewCount.objects.filter(case__status=Case.Status.PUBLISHED)
    if campaign is not None:
        views = views.filter(case__campaign=campaign)
    for values in (
        views.values(branch_id=F("case__branch_id")).annotate(n=Sum("count")).order_by()
    ):
        row(values["branch_id"]).views = values["n"] or 0
    return sorted(figures.values(), key=lambda f: f.branch.name)


def totals(rows: list[BranchFigures]) -> BranchFigures:
    total = BranchFigures(branch=None)
    for row in rows:
        for name in (*_COUNTED, "overdue", "views"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


def monthly_figures(*, period: Period, campaign=None) -> list[dict]:
    """Per month of the period: submitted, approved and published, in one query."""
    counted = (
        _events(period, campaign)
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(**{k: _COUNTED[k] for k in ("submitted", "approved", "published")})
        .order_by("month")
    )
    by_month = {}
    for values in counted:
        month = values["month"]
        if isinstance(month, datetime.datetime):
            month = (
                timezone.localtime(month).date()
                if timezone.is_aware(month)
                else month.date()
            )
        by_month[month.replace(day=1)] = values
    return [
        {
            "month": month,
            "submitted": by_month.get(month, {}).get("submitted", 0),
            "approved": by_month.get(month, {}).get("approved", 0),
            "published": by_month.get(month, {}).get("published", 0),
        }
        for month in period.months()
    ]


def stage_figures(*, period: Period, campaign=None) -> list[StageFigures]:
    """Times cases spent in each stage, for stays that ended within the period.

    A stay begins with the event that brought the case to a stage and ends
    with the next event of that case, which decides (or withdraws) it there.
    Two queries: the stages, and the events with their successors.
    """
    stages = {
        s.pk: StageFigures(stage=s) for s in ReviewStage.objects.order_by("position")
    }
    # A score or a change of scorers leaves the case where it was: it neither
    # begins nor ends a stay.
    events = CaseEvent.objects.exclude(
        action__in=[Action.SCORE, Action.SCORERS, Action.EDIT, Action.OVERRIDE]
    )
    if campaign is not None:
        events = events.filter(case__campaign=campaign)
    following = {"partition_by": [F("case_id")], "order_by": [F("created_at"), F("pk")]}
    start, end = period.bounds
    # Only the stays that ended in the period leave the database. Django puts
    # filters on window functions in an outer query and all others inside,
    # before the window is computed, so every condition here is on a window
    # (SQL equality also leaves out the events that led to no stage).
    stays = (
        events.annotate(
            left_at=Window(Lead("created_at"), **following),
            left_stage=Window(Lead("stage_id"), **following),
        )
        .filter(
            left_stage=F("to_stage_id"),
            left_at__gte=start,
            left_at__lt=end,
        )
        .values_list("to_stage_id", "created_at", "left_at")
        .order_by()
    )
    for stage_id, arrived, left in stays:
        if stage_id in stages:
            stages[stage_id].durations.append(left - arrived)
    return list(stages.values())
