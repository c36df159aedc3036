"""Scheduling and publishing the weekly showcase. Every editor action is here.

Like the review transitions, each service locks what it changes, checks the
state and the editor's right, writes an audit event, and leaves side effects
(notifications, cache invalidation) to run after commit.
"""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from casehub import roles
from casehub.dates import date_in_range, earliest_datetime, out_of_range_message
from casehub.exceptions import CaseActionError, NotPermitted, WrongState
from casehub.richtext import richtext_clean
from review import workflow
from review.models import ReviewStage
from review.scoring import stage_results
from submissions.models import Case

from .cache import public_cache_bump_on_commit
from .models import Issue, IssueCase, QueueEntry, Series, ShowcaseEvent
from .search import search_index_cases, search_index_cases_on_commit

logger = logging.getLogger(__name__)


def _require_editor(user) -> None:
    if not roles.may_publish(user):
        raise NotPermitted(_("Only editors may plan and publish the showcase."))


def _log(*, action, actor=None, issue=None, case=None, detail="") -> ShowcaseEvent:
    return ShowcaseEvent.objects.create(
        action=action, actor=actor, issue=issue, case=case, detail=detail
    )


def _lock_issue(issue: Issue) -> Issue:
    return (
        Issue.objects.select_for_update(of=("self",))
        .select_related("series")
        .get(pk=issue.pk)
    )


def _require_planned(issue: Issue) -> None:
    if issue.status != Issue.Status.PLANNED:
        raise WrongState(
            _("This issue is %(status)s; only a planned issue can be changed.")
            % {"status": issue.get_status_display()}
        )


def _require_in_calendar(scheduled_at) -> None:
    # The forms refuse such times already; this keeps every other caller
    # (shell, commands, a future import) from storing one.
    if not date_in_range(scheduled_at):
        raise CaseActionError(out_of_range_message())


def _schedule(issue: Issue, case: Case, *, actor, position: int) -> None:
    event = workflow.case_schedule(case=case, acting_user=actor, issue=issue)
    IssueCase.objects.create(issue=issue, case=event.case, position=position)


@transaction.atomic
def issue_plan(
    *, series: Series, scheduled_at, acting_user, cases=(), note=""
) -> Issue:
    """Plan an issue for a time, with the approved cases it will carry."""
    _require_editor(acting_user)
    _require_in_calendar(scheduled_at)
    issue = Issue.objects.create(
        series=series,
        scheduled_at=scheduled_at,
        note=note,
        created_by=acting_user,
    )
    _log(action=ShowcaseEvent.Action.ISSUE_PLAN, actor=acting_user, issue=issue)
    for position, case in enumerate(cases, start=1):
        _schedule(issue, case, actor=acting_user, position=position)
    return issue


@transaction.atomic
def issue_case_add(*, issue: Issue, case: Case, acting_user) -> None:
    _require_editor(acting_user)
    issue = _lock_issue(issue)
    _require_planned(issue)
    last = issue.entries.aggregate(last=Max("position"))["last"] or 0
    _schedule(issue, case, actor=acting_user, position=last + 1)


@transaction.atomic
def issue_case_remove(*, issue: Issue, case: Case, acting_user) -> None:
    """Take a case out of a planned issue; it goes back to the queue."""
    _require_editor(acting_user)
    issue = _lock_issue(issue)
    _require_planned(issue)
    entry = issue.entries.filter(case=case).first()
    if entry is None:
        raise WrongState(_("That case is not in this issue."))
    entry.delete()
    workflow.case_unschedule(case=case, acting_user=acting_user, issue=issue)


@transaction.atomic
def issue_case_move(*, issue: Issue, case: Case, acting_user, offset: int) -> None:
    """Move a case up (offset -1) or down (+1) in a planned issue."""
    _require_editor(acting_user)
    issue = _lock_issue(issue)
    _require_planned(issue)
    entries = list(issue.entries.order_by("position", "pk"))
    index = next(
        (i for i, entry in enumerate(entries) if entry.case_id == case.pk), None
    )
    if index is None:
        raise WrongState(_("That case is not in this issue."))
    target = index + offset
    if not 0 <= target < len(entries):
        return
    entries[index], entries[target] = entries[target], entries[index]
    for position, entry in enumerate(entries, start=1):
        if entry.position != position:
            entry.position = position
            entry.save(update_fields=["position"])
    _log(
        action=ShowcaseEvent.Action.CASE_MOVE,
        actor=acting_user,
        issue=issue,
        case=case,
        detail=str(target + 1),
    )


@transaction.atomic
def issue_update(*, issue: Issue, acting_user, note: str, scheduled_at=None) -> Issue:
    """Change an issue's note, and the time of a planned one."""
    _require_editor(acting_user)
    issue = _lock_issue(issue)
    if issue.status == Issue.Status.UNPUBLISHED:
        raise WrongState(_("An unpublished issue is kept as it was."))
    issue.note = richtext_clean(note)
    if scheduled_at is not None and issue.status == Issue.Status.PLANNED:
        _require_in_calendar(scheduled_at)
        issue.scheduled_at = scheduled_at
    issue.save()
    _log(action=ShowcaseEvent.Action.ISSUE_EDIT, actor=acting_user, issue=issue)
    if issue.status == Issue.Status.PUBLISHED:
        public_cache_bump_on_commit()
    return issue


def _issue_summary(issue: Issue) -> list[dict]:
    return [
        {
            "id": entry.case_id,
            "title": entry.case.title,
            "tagline": entry.case.tagline,
            "branch": entry.case.branch.name,
        }
        for entry in issue.entries.select_related("case__branch").order_by(
            "position", "pk"
        )
    ]


@transaction.atomic
def issue_publish(*, issue: Issue, acting_user=None, at=None) -> Issue:
    """Publish a planned issue and give it the series' next number.

    `acting_user` is None when the schedule publishes, and `at` is then the
    issue's slot, its official publication time. The series row is locked
    while the number is chosen, so two publishers queue and numbers stay
    gapless; the unique constraint stands behind the lock.
    """
    if acting_user is not None:
        _require_editor(acting_user)
    Series.objects.select_for_update().get(pk=issue.series_id)
    issue = _lock_issue(issue)
    if issue.status != Issue.Status.PLANNED:
        raise WrongState(
            _("This issue is already %(status)s.")
            % {"status": issue.get_status_display()}
        )
    entries = list(issue.entries.select_related("case").order_by("position", "pk"))
    if not entries:
        raise WrongState(_("An issue without cases is not published."))
    last = (
        Issue.objects.filter(series_id=issue.series_id, number__isnull=False).aggregate(
            last=Max("number")
        )["last"]
        or 0
    )
    issue.number = last + 1
    issue.status = Issue.Status.PUBLISHED
    issue.published_at = at or timezone.now()
    issue.save()
    for entry in entries:
        workflow.case_publish(case=entry.case, acting_user=acting_user, issue=issue)
    Issue.objects.filter(pk=issue.pk).update(summary=_issue_summary(issue))
    _log(
        action=ShowcaseEvent.Action.ISSUE_PUBLISH,
        actor=acting_user,
        issue=issue,
        detail=str(issue.number),
    )
    # Indexed before the cached pages go, so no search page is cached without
    # these cases; after commit, so a failure of the index cannot undo it.
    search_index_cases_on_commit(case_ids=[entry.case_id for entry in entries])
    public_cache_bump_on_commit()
    return issue


@transaction.atomic
def issue_unpublish(*, issue: Issue, acting_user, reason: str) -> Issue:
    """Take a published issue off the site; its number and record stay."""
    _require_editor(acting_user)
    reason = reason.strip()
    if not reason:
        raise WrongState(_("Say why the issue is taken down; readers see the reason."))
    issue = _lock_issue(issue)
    if issue.status != Issue.Status.PUBLISHED:
        raise WrongState(_("Only a published issue can be unpublished."))
    issue.status = Issue.Status.UNPUBLISHED
    issue.unpublish_reason = reason
    issue.save()
    entries = list(issue.entries.select_related("case").order_by("position", "pk"))
    for entry in entries:
        workflow.case_unpublish(case=entry.case, acting_user=acting_user, reason=reason)
        # Back in the queue, but held until an editor decides what to do.
        QueueEntry.objects.update_or_create(case=entry.case, defaults={"is_held": True})
    # Out of the search in the same transaction as off the site.
    search_index_cases(case_ids=[entry.case_id for entry in entries])
    _log(
        action=ShowcaseEvent.Action.ISSUE_UNPUBLISH,
        actor=acting_user,
        issue=issue,
        detail=reason,
    )
    public_cache_bump_on_commit()
    return issue


@transaction.atomic
def issue_delete_planned(*, issue: Issue, acting_user) -> None:
    _require_editor(acting_user)
    issue = _lock_issue(issue)
    _require_planned(issue)
    for entry in list(issue.entries.select_related("case")):
        entry.delete()
        workflow.case_unschedule(case=entry.case, acting_user=acting_user, issue=issue)
    _log(
        action=ShowcaseEvent.Action.ISSUE_DELETE,
        actor=acting_user,
        detail=str(issue),
    )
    issue.delete()


@dataclass
class PublishDue:
    """What one run of the schedule did: the issues it published, and the ids
    of the due issues it could not publish (each logged with the reason)."""

    published: list[Issue] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def issues_publish_due(*, now=None) -> PublishDue:
    """Publish every planned issue whose time has come; safe to run anywhere, twice.

    Each issue is published in its own transaction under the series lock, so a
    second run, or a run in another process, finds it published and moves on,
    and an issue that cannot be published is logged and left for an editor
    while the others go out.
    """
    now = now or timezone.now()
    planned = Issue.objects.filter(status=Issue.Status.PLANNED)
    # Only ids are read here: a time outside the calendar, stored before the
    # forms refused one, cannot always be read back (PostgreSQL's BC times).
    earliest = earliest_datetime()
    result = PublishDue(
        failed=list(
            planned.filter(scheduled_at__lt=earliest)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    )
    for issue_id in result.failed:
        logger.error(
            "issue %s not published: its publish time is before %s; "
            "an editor must plan it again",
            issue_id,
            earliest.date().isoformat(),
        )
    due = list(
        planned.filter(scheduled_at__gte=earliest, scheduled_at__lte=now)
        .order_by("scheduled_at", "pk")
        .values_list("pk", flat=True)
    )
    for issue_id in due:
        try:
            with transaction.atomic():
                issue = Issue.objects.filter(pk=issue_id).first()
                if issue is None:  # deleted since the list was read
                    continue
                result.published.append(
                    issue_publish(issue=issue, at=issue.scheduled_at)
                )
        except WrongState as reason:
            # Published meanwhile by an editor or another run (nothing to do),
            # an issue still without cases (an editor must add some), or a
            # case the text check blocks (an editor must resolve or override
            # it): the issue stays planned and the next run tries again.
            planned_still = planned.filter(pk=issue_id).exists()
            if planned_still:
                result.failed.append(issue_id)
            logger.log(
                logging.WARNING if planned_still else logging.INFO,
                "issue %s not published: %s",
                issue_id,
                reason.message,
            )
        except Exception:
            # Whatever went wrong with this issue is rolled back with its
            # transaction; the next one is published regardless.
            result.failed.append(issue_id)
            logger.exception("issue %s not published", issue_id)
    return result


def _queue_entry(case: Case) -> QueueEntry:
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if case.status != Case.Status.APPROVED:
        raise WrongState(_("Only approved cases wait in the queue."))
    entry, _created = QueueEntry.objects.select_for_update().get_or_create(case=case)
    return entry


@transaction.atomic
def queue_pin(*, case: Case, acting_user, pinned: bool) -> None:
    """Pinned cases go to the front of the queue."""
    _require_editor(acting_user)
    entry = _queue_entry(case)
    entry.is_pinned = pinned
    entry.save(update_fields=["is_pinned"])
    action = (
        ShowcaseEvent.Action.QUEUE_PIN if pinned else ShowcaseEvent.Action.QUEUE_UNPIN
    )
    _log(action=action, actor=acting_user, case=case)


@transaction.atomic
def queue_hold(*, case: Case, acting_user, held: bool) -> None:
    """A held case stays in the queue but is not offered for the next issue."""
    _require_editor(acting_user)
    entry = _queue_entry(case)
    entry.is_held = held
    entry.save(update_fields=["is_held"])
    action = (
        ShowcaseEvent.Action.QUEUE_HOLD if held else ShowcaseEvent.Action.QUEUE_RELEASE
    )
    _log(action=action, actor=acting_user, case=case)


@transaction.atomic
def scored_cases_accept(
    *, stage: ReviewStage, campaign_id: int | None, count: int, acting_user
) -> list[Case]:
    """The top `count` of a call's ranking at a scoring stage, into the queue.

    Each case still being scored there is accepted on its scores
    (`workflow.case_score_accept`, which writes the status) in rank order, so
    the queue, in approval order, holds them as ranked; their queue entries
    take positions after the queue's last, in the same order. Exactly
    `count` go: where equal means share the last place taken, the ranking's
    own order (the earlier case first) decides, and the results page shows
    the shared rank before the editor chooses.
    """
    _require_editor(acting_user)
    if count < 1:
        raise WrongState(_("Take at least one case."))
    ranked = [
        result
        for result in stage_results(stage=stage)
        if result.case.campaign_id == campaign_id
        and result.rank is not None
        and result.case.status == Case.Status.IN_REVIEW
        and result.case.current_stage_id == stage.pk
    ]
    chosen = [result.case for result in ranked[:count]]
    if not chosen:
        raise WrongState(_("No scored case of this call is waiting at the stage."))
    last = QueueEntry.objects.aggregate(last=Max("position"))["last"] or 0
    for offset, case in enumerate(chosen, start=1):
        workflow.case_score_accept(
            case=case,
            acting_user=acting_user,
            comment=_("Rank %(rank)d at %(stage)s")
            % {"rank": ranked[offset - 1].rank, "stage": stage.name},
        )
        QueueEntry.objects.update_or_create(
            case=case, defaults={"position": last + offset}
        )
    return chosen
