"""The editors' desk: the queue of approved cases, the weekly slots, the issues."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST

from casehub.exceptions import CaseActionError
from casehub.richtext import richtext_clean
from casehub.roles import RoleRequiredMixin
from casehub.views import service_run
from review.findings import by_field, finding_rows, severity_counts
from review.forms import ScoredAcceptForm
from review.models import ReviewStage
from review.selectors import case_open_finding_get, cases_open_findings
from review.workflow import finding_override

from . import selectors, services
from .forms import (
    FindingOverrideForm,
    IssueCaseAddForm,
    IssueCaseForm,
    IssueNoteForm,
    IssuePlanForm,
    IssueUnpublishForm,
    QueueFlagForm,
)
from .models import Issue, IssueCase
from .views import case_page_context, issue_page_context


class EditorMixin(RoleRequiredMixin):
    required_role = "publish"


def _note_as_sent(data) -> tuple[str, str]:
    return data.get("note", ""), data.get("note_format", "")


def desk_render(request, *, plan_form=None, typed_notes=None, status=200):
    """The desk; `plan_form` is a refused plan, shown with what the editor typed,
    and `typed_notes` ({issue id: (text, format)}) refused notes, back in their
    boxes."""
    planned = list(selectors.planned_issues())
    queue = list(selectors.approved_queue())
    findings_count(queue, planned)
    typed_notes = typed_notes or {}
    for issue in planned:
        typed = typed_notes.get(issue.pk)
        issue.note_form = IssueNoteForm.for_issue(issue, typed=typed)
        if typed is not None:
            issue.note = typed[0]
    planned_times = {issue.scheduled_at for issue in planned}
    slots = [
        (
            series,
            [
                (slot, slot in planned_times)
                for slot in selectors.upcoming_slots(series=series)
            ],
        )
        for series in selectors.series_active()
    ]
    context = {
        "queue": queue,
        "planned": planned,
        "published": Issue.objects.filter(status=Issue.Status.PUBLISHED)
        .select_related("series")
        .order_by("-published_at")[:10],
        "slots": slots,
        "plan_form": plan_form or IssuePlanForm(),
        "add_form": IssueCaseAddForm(),
        "unpublish_form": IssueUnpublishForm(),
    }
    return render(request, "showcase/editor_desk.html", context, status=status)


def findings_count(queue, planned) -> None:
    """Give each queued case, each planned issue and each of its cases the
    counts of their open findings by severity (`finding_counts`), in the same
    few queries however many cases the desk lists."""
    entries = [entry for issue in planned for entry in issue.entries.all()]
    found = cases_open_findings(cases=[*queue, *(entry.case for entry in entries)])
    for case in queue:
        case.finding_counts = severity_counts(found[case.pk])
    for entry in entries:
        entry.finding_counts = severity_counts(found[entry.case_id])
    for issue in planned:
        issue.finding_counts = severity_counts(
            pair for entry in issue.entries.all() for pair in found[entry.case_id]
        )


class EditorDeskView(EditorMixin, View):
    def get(self, request):
        return desk_render(request)


@method_decorator(require_POST, name="dispatch")
class IssuePlanView(EditorMixin, View):
    def post(self, request):
        form = IssuePlanForm(request.POST)
        if not form.is_valid():
            return desk_render(request, plan_form=form, status=400)

        def plan():
            count = form.cleaned_data["take_from_queue"]
            cases = list(selectors.approved_queue().filter(held=False)[:count])
            issue = services.issue_plan(
                series=form.cleaned_data["series"],
                scheduled_at=form.cleaned_data["scheduled_at"],
                acting_user=request.user,
                cases=cases,
            )
            messages.success(request, _("Planned: %(issue)s.") % {"issue": issue})

        service_run(request, plan)
        return redirect("showcase_editor:desk")


@method_decorator(require_POST, name="dispatch")
class EditorActionView(EditorMixin, View):
    """One POST endpoint per editor action; each calls one service."""

    action = None

    def post(self, request, pk=None):
        # The desk's publish button sends the note typed in the same box.
        carries_note = self.action == "note" or (
            self.action == "publish" and "note" in request.POST
        )
        if carries_note:
            refused = self.note_refused(request, pk)
            if refused is not None:
                return refused

        def act():
            message = getattr(self, f"do_{self.action}")(request, pk)
            if message:
                messages.success(request, message)

        if not service_run(request, act) and carries_note:
            # Refused (the issue has no cases, someone published it first):
            # nothing was saved, and what was typed goes back in its box.
            return desk_render(
                request, typed_notes={pk: _note_as_sent(request.POST)}, status=400
            )
        return redirect("showcase_editor:desk")

    def _issue(self, pk) -> Issue:
        return get_object_or_404(Issue, pk=pk)

    def _invalid(self, form):
        errors = [
            _("%(field)s: %(error)s")
            % {"field": form.fields[name].label or name, "error": error}
            for name, field_errors in form.errors.items()
            for error in field_errors
        ]
        raise CaseActionError(
            " ".join(errors) or _("The form was not filled in correctly.")
        )

    def do_add(self, request, pk):
        form = IssueCaseAddForm(request.POST)
        if not form.is_valid():
            self._invalid(form)
        services.issue_case_add(
            issue=self._issue(pk),
            case=form.cleaned_data["case"],
            acting_user=request.user,
        )
        return _("The case was added to the issue.")

    def _case_form(self, request):
        form = IssueCaseForm(request.POST)
        if not form.is_valid():
            self._invalid(form)
        return form.cleaned_data["case"]

    def do_remove(self, request, pk):
        services.issue_case_remove(
            issue=self._issue(pk),
            case=self._case_form(request),
            acting_user=request.user,
        )
        return _("The case is back in the queue.")

    def do_up(self, request, pk):
        services.issue_case_move(
            issue=self._issue(pk),
            case=self._case_form(request),
            acting_user=request.user,
            offset=-1,
        )

    def do_down(self, request, pk):
        services.issue_case_move(
            issue=self._issue(pk),
            case=self._case_form(request),
            acting_user=request.user,
            offset=1,
        )

    def note_refused(self, request, pk):
        """The desk again for a note that cannot be saved, with the reason and
        the text as typed, so nothing is lost; None when the note is fine."""
        form = IssueNoteForm(request.POST)
        if form.is_valid():
            return None
        issue = self._issue(pk)
        for error in form.errors.get("note", []):
            messages.error(request, error)
        return desk_render(
            request, typed_notes={issue.pk: _note_as_sent(form.data)}, status=400
        )

    def do_note(self, request, pk):
        form = IssueNoteForm(request.POST)
        if not form.is_valid():
            self._invalid(form)
        services.issue_update(
            issue=self._issue(pk),
            acting_user=request.user,
            note=form.cleaned_data["note"],
        )
        return _("The note was saved.")

    def do_publish(self, request, pk):
        """Publish, with the note as typed in the desk's box, in one transaction:
        the issue never goes out without what was typed, and a refused
        publication saves nothing.

        The note is saved after publishing, not before: publishing locks the
        series and then the issue, as the schedule does, and saving the note
        first would take the issue's lock before the series'.
        """
        note = None
        if "note" in request.POST:
            form = IssueNoteForm(request.POST)
            if not form.is_valid():
                self._invalid(form)
            note = form.cleaned_data["note"]
        with transaction.atomic():
            issue = services.issue_publish(
                issue=self._issue(pk), acting_user=request.user
            )
            # An untouched box leaves the note, and the audit log, alone.
            if note is not None and richtext_clean(note) != issue.note:
                issue = services.issue_update(
                    issue=issue, acting_user=request.user, note=note
                )
        return _("Published: %(issue)s.") % {"issue": issue}

    def do_unpublish(self, request, pk):
        form = IssueUnpublishForm(request.POST)
        if not form.is_valid():
            self._invalid(form)
        issue = services.issue_unpublish(
            issue=self._issue(pk),
            acting_user=request.user,
            reason=form.cleaned_data["reason"],
        )
        return _("Unpublished: %(issue)s. Its cases wait, held, in the queue.") % {
            "issue": issue
        }

    def do_delete(self, request, pk):
        services.issue_delete_planned(issue=self._issue(pk), acting_user=request.user)
        return _("The planned issue was deleted; its cases are back in the queue.")

    def _flag(self, request):
        form = QueueFlagForm(request.POST)
        if not form.is_valid():
            self._invalid(form)
        return form.cleaned_data["case"], form.cleaned_data["value"]

    def do_pin(self, request, pk):
        case, value = self._flag(request)
        services.queue_pin(case=case, acting_user=request.user, pinned=value)

    def do_hold(self, request, pk):
        case, value = self._flag(request)
        services.queue_hold(case=case, acting_user=request.user, held=value)


def preview_render(request, template_name, context):
    """A preview page: the readers' page with the editors' banner, for the
    editor alone, kept by no cache and indexed by no search engine."""
    response = render(request, template_name, context)
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def preview_context(issue: Issue) -> dict:
    """The planned issue as it will go out, and what the banner lists."""
    planned = selectors.issue_as_planned(issue=issue)
    return {
        "planned": planned,
        "preview_issue": issue,
        "preview_entries": list(selectors.issue_entries(issue=issue)),
    }


class IssuePreviewMixin(EditorMixin):
    def get_issue(self) -> Issue:
        """A planned or published issue; an unpublished one is nowhere to see."""
        return get_object_or_404(
            Issue.objects.select_related("series"),
            pk=self.kwargs["pk"],
            status__in=[Issue.Status.PLANNED, Issue.Status.PUBLISHED],
        )


class IssuePreviewView(IssuePreviewMixin, View):
    """The issue page as readers will see it once the issue is out."""

    def get(self, request, pk):
        issue = self.get_issue()
        if issue.status == Issue.Status.PUBLISHED:
            return redirect(issue.get_absolute_url())
        preview = preview_context(issue)
        context = issue_page_context(series=issue.series, issue=preview["planned"])
        context.update(preview)
        return preview_render(request, "showcase/issue_preview.html", context)


class IssueCasePreviewView(IssuePreviewMixin, View):
    """A case of the issue, as readers will see it once the issue is out."""

    def get(self, request, pk, case_pk):
        issue = self.get_issue()
        entry = get_object_or_404(
            IssueCase.objects.select_related("case__branch"),
            issue=issue,
            case_id=case_pk,
        )
        if issue.status == Issue.Status.PUBLISHED:
            return redirect(reverse("showcase:case", args=[entry.case_id]))
        preview = preview_context(issue)
        planned = preview["planned"]
        context = case_page_context(case=entry.case, issue=planned)
        # The case goes out with its issue, at its time, and nobody has read it
        # yet; nor does this page count as a read.
        context["published_at"] = planned.published_at
        context["view_count"] = 0
        context.update(preview, preview_case=entry.case)
        return preview_render(request, "showcase/case_preview.html", context)


def case_findings(cases, *, issue=None) -> list[dict]:
    """Each case with its open findings, each finding with its 放行 form."""
    found = cases_open_findings(cases=cases)
    listed = []
    for case in cases:
        rows = finding_rows(by_field(found[case.pk]), id_prefix=f"case-{case.pk}")
        listed.append(
            {
                "case": case,
                "counts": severity_counts(found[case.pk]),
                "findings": [
                    (row, FindingOverrideForm.for_row(row, case=case, issue=issue))
                    for row in rows
                ],
            }
        )
    return listed


class IssueFindingsView(EditorMixin, View):
    """A planned issue's open findings, case by case, each with its 放行 form."""

    def get(self, request, pk):
        issue = selectors.issue_get_planned(issue_id=pk)
        cases = [entry.case for entry in selectors.issue_entries(issue=issue)]
        context = {"issue": issue, "cases": case_findings(cases, issue=issue)}
        return render(request, "showcase/editor_issue_findings.html", context)


class CaseFindingsView(EditorMixin, View):
    """An approved or scheduled case's open findings, with their 放行 forms: a
    blocked case in the queue is let through here before it is scheduled."""

    def get(self, request, pk):
        case = selectors.case_get_on_desk(case_id=pk)
        context = {"case": case, "cases": case_findings([case])}
        return render(request, "showcase/editor_case_findings.html", context)


@method_decorator(require_POST, name="dispatch")
class FindingOverrideView(EditorMixin, View):
    """放行: let one open finding of the case through, with the editor's reason."""

    def post(self, request, pk):
        case = selectors.case_get_on_desk(case_id=pk)
        form = FindingOverrideForm(request.POST)
        back = self._back(case, form)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(back)
        data = form.cleaned_data
        finding = case_open_finding_get(
            case=case,
            field=data["field"],
            kind=data["kind"],
            term=data["term"],
            start=data["start"],
        )
        if finding is None:
            messages.error(
                request,
                _(
                    "This finding is no longer open: it was let through already, "
                    "or the text check has changed. Nothing was recorded."
                ),
            )
            _keep_reason(request, data["reason"])
            return redirect(back)
        done = service_run(
            request,
            lambda: finding_override(
                case=case,
                acting_user=request.user,
                field=data["field"],
                finding=finding,
                reason=data["reason"],
            ),
            success=_(
                "“%(term)s” in “%(title)s” is let through; the reason is on the "
                "case's timeline."
            )
            % {"term": finding.term, "title": case.title},
        )
        if not done:
            _keep_reason(request, data["reason"])
        return redirect(back)

    def _back(self, case, form) -> str:
        """The planned issue's page the form came from, else the case's."""
        issue_id = form.data.get("issue", "")
        well_formed = len(issue_id) <= 12 and issue_id.isascii() and issue_id.isdigit()
        if well_formed and selectors.issue_planned_with_case(
            issue_id=int(issue_id), case=case
        ):
            return reverse("showcase_editor:issue_findings", args=[int(issue_id)])
        return reverse("showcase_editor:case_findings", args=[case.pk])


def _keep_reason(request, reason: str) -> None:
    """Give a refused editor back the reason they typed."""
    if reason.strip():
        messages.info(
            request,
            _("Your reason was not recorded; here it is: %(reason)s")
            % {"reason": reason.strip()},
        )


@method_decorator(require_POST, name="dispatch")
class ScoredAcceptView(EditorMixin, View):
    """评选: the top of a call's ranking at a scoring stage, into the queue."""

    def post(self, request, pk):
        stage = get_object_or_404(ReviewStage, pk=pk, kind=ReviewStage.Kind.SCORING)
        form = ScoredAcceptForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Say how many cases to take."))
            return redirect("review:scoring_results", stage.pk)
        count = form.cleaned_data["count"]
        service_run(
            request,
            lambda: services.scored_cases_accept(
                stage=stage,
                campaign_id=form.cleaned_data["campaign"],
                count=count,
                acting_user=request.user,
            ),
            success=_("The top %(count)d cases are in the queue, in rank order.")
            % {"count": count},
        )
        return redirect("showcase_editor:desk")
