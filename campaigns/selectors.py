"""Reading calls for cases: which are open to whom, and how each branch is doing."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from submissions.models import Branch, Case

from .models import Campaign, Extension


def submitted(prefix: str = "") -> Q:
    """Cases sent for review and not taken back: a withdrawn case is the
    branch's own again until it is resubmitted. `prefix` reaches the case
    through a relation ("cases__")."""
    return Q(**{f"{prefix}submitted_at__isnull": False}) & ~Q(
        **{f"{prefix}status": Case.Status.WITHDRAWN}
    )


def campaigns_accepting(*, branches, today: datetime.date | None = None) -> QuerySet:
    """Calls that take cases from any of `branches` today: open, or extended."""
    today = today or timezone.localdate()
    extended = Extension.objects.in_force().filter(
        campaign=OuterRef("pk"), branch__in=branches, until__gte=today
    )
    return (
        Campaign.objects.filter(branches__in=branches)
        .filter(Q(opens_on__lte=today, closes_on__gte=today) | Exists(extended))
        .distinct()
        .order_by("closes_on", "pk")
    )


def campaign_accepts(
    *, campaign: Campaign, branch: Branch, today: datetime.date | None = None
) -> bool:
    return (
        campaigns_accepting(branches=[branch], today=today)
        .filter(pk=campaign.pk)
        .exists()
    )


def extension_until(*, campaign: Campaign, branch: Branch) -> datetime.date | None:
    return (
        Extension.objects.in_force()
        .filter(campaign=campaign, branch=branch)
        .values_list("until", flat=True)
        .first()
    )


class Participation:
    """Where an expected organisation stands in a call, furthest step first."""

    PUBLISHED = "published"
    APPROVED = "approved"
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    DRAFTING = "drafting"
    REJECTED = "rejected"
    NOT_STARTED = "not_started"

    LABELS = {
        PUBLISHED: _("Published"),
        APPROVED: _("Approved"),
        IN_REVIEW: _("In review"),
        RETURNED: _("Returned for revision"),
        DRAFTING: _("Drafting"),
        REJECTED: _("Rejected"),
        NOT_STARTED: _("Not started"),
    }
    # A branch with several cases stands at its furthest one.
    ORDER = [
        PUBLISHED,
        APPROVED,
        IN_REVIEW,
        RETURNED,
        DRAFTING,
        REJECTED,
        NOT_STARTED,
    ]
    BY_STATUS = {
        Case.Status.PUBLISHED: PUBLISHED,
        Case.Status.APPROVED: APPROVED,
        Case.Status.SCHEDULED: APPROVED,
        Case.Status.IN_REVIEW: IN_REVIEW,
        Case.Status.RETURNED: RETURNED,
        Case.Status.DRAFT: DRAFTING,
        Case.Status.WITHDRAWN: DRAFTING,
        Case.Status.REJECTED: REJECTED,
    }


@dataclass
class ParticipationRow:
    branch: Branch
    state: str
    cases: int
    submitted: int
    extended_until: datetime.date | None

    @property
    def label(self):
        return Participation.LABELS[self.state]

    @property
    def has_submitted(self) -> bool:
        return self.submitted > 0


def participation(*, campaign: Campaign) -> list[ParticipationRow]:
    """One row per expected organisation, in three queries however many cases."""
    counts = (
        Case.objects.filter(campaign=campaign)
        .values("branch_id", "status")
        .annotate(
            cases=Count("pk"),
            submitted=Count("pk", filter=submitted()),
        )
    )
    by_branch: dict[int, dict] = {}
    for row in counts:
        entry = by_branch.setdefault(
            row["branch_id"], {"states": set(), "cases": 0, "submitted": 0}
        )
        entry["states"].add(Participation.BY_STATUS[row["status"]])
        entry["cases"] += row["cases"]
        entry["submitted"] += row["submitted"]
    extensions = dict(
        Extension.objects.in_force()
        .filter(campaign=campaign)
        .values_list("branch_id", "until")
    )
    rows = []
    for branch in campaign.branches.order_by("name"):
        entry = by_branch.get(branch.pk, {"states": set(), "cases": 0, "submitted": 0})
        state = next(
            (s for s in Participation.ORDER if s in entry["states"]),
            Participation.NOT_STARTED,
        )
        rows.append(
            ParticipationRow(
                branch=branch,
                state=state,
                cases=entry["cases"],
                submitted=entry["submitted"],
                extended_until=extensions.get(branch.pk),
            )
        )
    return rows


def participation_summary(rows: list[ParticipationRow]) -> list[tuple[str, str, int]]:
    """(state, label, number of organisations) for every state, in order."""
    counted = dict.fromkeys(Participation.ORDER, 0)
    for row in rows:
        counted[row.state] += 1
    return [(s, Participation.LABELS[s], counted[s]) for s in Participation.ORDER]


def branches_not_submitted(*, campaign: Campaign) -> QuerySet[Branch]:
    """Expected organisations with no case in the call submitted (and not
    withdrawn since)."""
    theirs = Case.objects.filter(submitted(), campaign=campaign, branch=OuterRef("pk"))
    return campaign.branches.filter(is_active=True).exclude(Exists(theirs))


def campaign_published_cases(*, campaign: Campaign) -> QuerySet[Case]:
    return (
        Case.objects.filter(campaign=campaign, status=Case.Status.PUBLISHED)
        .select_related("branch")
        .order_by("published_at", "pk")
    )


def campaigns_with_counts() -> QuerySet[Campaign]:
    return (
        Campaign.objects.select_related("series")
        .annotate(
            expected=Count("branches", distinct=True),
            case_count=Count("cases", distinct=True),
            submitted=Count("cases", filter=submitted("cases__"), distinct=True),
            published=Count(
                "cases",
                filter=Q(cases__status=Case.Status.PUBLISHED),
                distinct=True,
            ),
        )
        .order_by("-opens_on", "-pk")
    )


@dataclass
class OpenCall:
    campaign: Campaign
    deadline: datetime.date
    days_left: int
    submitted: bool


def open_calls_for(*, branches, today: datetime.date | None = None) -> list[OpenCall]:
    """The calls a branch user can answer today, soonest deadline first, with
    the days left (an extension moves the branch's deadline)."""
    today = today or timezone.localdate()
    branches = list(branches)
    if not branches:
        return []
    campaigns = list(
        campaigns_accepting(branches=branches, today=today).select_related("series")
    )
    if not campaigns:
        return []
    extended = dict(
        Extension.objects.in_force()
        .filter(campaign__in=campaigns, branch__in=branches)
        .values("campaign_id")
        .annotate(until=Max("until"))
        .values_list("campaign_id", "until")
    )
    answered = set(
        Case.objects.filter(
            submitted(), campaign__in=campaigns, branch__in=branches
        ).values_list("campaign_id", flat=True)
    )
    calls = []
    for campaign in campaigns:
        deadline = max(
            campaign.closes_on, extended.get(campaign.pk, campaign.closes_on)
        )
        calls.append(
            OpenCall(
                campaign=campaign,
                deadline=deadline,
                days_left=(deadline - today).days,
                submitted=campaign.pk in answered,
            )
        )
    return sorted(calls, key=lambda call: (call.deadline, call.campaign.pk))
