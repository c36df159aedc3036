"""The editors' desk: the queue of approved cases, the weekly slots, the issues."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST

from casehub.exceptions import CaseActionError
from casehub.roles import RoleRequiredMixin
from casehub.views import service_run

from . import selectors, services
from .forms import (
    IssueCaseAddForm,
    IssueCaseForm,
    IssueNoteForm,
    IssuePlanForm,
    IssueUnpublishForm,
    QueueFlagForm,
)
from .models import Issue


class EditorMixin(RoleRequiredMixin):
    required_role = "publish"


def desk_render(request, *, plan_form=None, typed_notes=None, status=200):
    """The desk; `plan_form` is a refused plan, shown with what the editor typed,
    and `typed_notes` ({issue id: text}) refused notes, back in their boxes."""
    planned = list(selectors.planned_issues())
    for issue in planned:
        if typed_notes and issue.pk in typed_notes:
            issue.note = typed_notes[issue.pk]
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
        "queue": selectors.approved_queue(),
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
        if self.action == "note":
            refused = self.note_refused(request, pk)
            if refused is not None:
                return refused

        def act():
            message = getattr(self, f"do_{self.action}")(request, pk)
            if message:
                messages.success(request, message)

        service_run(request, act)
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
        typed = {issue.pk: form.data.get("note", "")}
        return desk_render(request, typed_notes=typed, status=400)

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
        issue = services.issue_publish(issue=self._issue(pk), acting_user=request.user)
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
