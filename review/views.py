from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from casehub.exceptions import CaseActionError, NotPermitted
from casehub.roles import RoleRequiredMixin
from casehub.views import query_without_page, service_run
from submissions.models import Case

from .diff import revision_diff
from .filters import ReviewQueueFilter
from .findings import findings_context
from .forms import DecisionForm, NoteForm, ReopenForm
from .models import Decision, Note, ReviewStage
from .notes import (
    events_notes_attach,
    note_add,
    note_withdraw,
    notes_body_html,
    notes_for_revision,
    notes_withdrawable,
    round_is_open,
)
from .selectors import (
    case_get_for_reviewer,
    case_get_rejected,
    case_timeline,
    queue_for_stage,
    rejected_cases,
    revision_findings_by_field,
    revisions_for_review,
    stage_counts,
    stages_for_reviewer,
    stages_out_of_use_for,
)
from .workflow import (
    already_decided,
    case_approve,
    case_reject,
    case_reopen,
    case_return,
)

DECIDE = {
    Decision.Outcome.APPROVE: case_approve,
    Decision.Outcome.RETURN: case_return,
    Decision.Outcome.REJECT: case_reject,
}
DIFF_LABELS = {
    "title": gettext_lazy("Title"),
    "tagline": gettext_lazy("Tagline"),
    "author_name": gettext_lazy("Author"),
    "source": gettext_lazy("Source"),
    "lead": gettext_lazy("Lead paragraph"),
    "body": gettext_lazy("Body"),
}


class ReviewQueueView(LoginRequiredMixin, ListView):
    """The cases waiting at one of the reviewer's stages, longest-waiting first."""

    template_name = "review/queue.html"
    context_object_name = "cases"
    paginate_by = 25

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.stages = list(stages_for_reviewer(user=request.user))
            if not self.stages:
                raise PermissionDenied(_no_stage_message(request.user))
            self.stage = self._selected_stage()
        return super().dispatch(request, *args, **kwargs)

    def _selected_stage(self) -> ReviewStage:
        wanted = self.request.GET.get("stage", "")
        for stage in self.stages:
            if str(stage.pk) == wanted:
                return stage
        return self.stages[0]

    def get_queryset(self):
        self.filterset = ReviewQueueFilter(
            self.request.GET or None, queryset=queue_for_stage(stage=self.stage)
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = stage_counts(stages=self.stages)
        context.update(
            stage=self.stage,
            stages=[(stage, counts[stage.pk]) for stage in self.stages],
            filter=self.filterset,
            query_string=query_without_page(self.request.GET),
        )
        return context


def _no_stage_message(user) -> str:
    resting = [stage.name for stage in stages_out_of_use_for(user=user)]
    if resting:
        return _("The stages you review are not in use at the moment: %(stages)s.") % {
            "stages": _(", ").join(resting)
        }
    return _("You are not a reviewer at any stage.")


class ReviewCaseView(LoginRequiredMixin, View):
    """The revision under review, what changed since the last one, and the verdict."""

    template_name = "review/case_review.html"

    def get(self, request, pk):
        case = case_get_for_reviewer(case_id=pk, user=request.user)
        revision, _previous = revisions_for_review(case=case)
        form = DecisionForm(
            initial={"revision": revision.pk, "stage": case.current_stage_id}
        )
        return self.render(case, form)

    def post(self, request, pk):
        form = DecisionForm(request.POST)
        try:
            case = case_get_for_reviewer(case_id=pk, user=request.user)
        except Http404:
            return self._moved_on(request, pk, form)
        if not form.is_valid():
            return self.render(case, form, status=400)
        revision, _previous = revisions_for_review(case=case)
        stage = get_object_or_404(ReviewStage, pk=form.cleaned_data["stage"])
        if form.cleaned_data["revision"] != revision.pk:
            revision = get_object_or_404(
                case.revisions, pk=form.cleaned_data["revision"]
            )
        decide = DECIDE[form.cleaned_data["outcome"]]
        try:
            event = decide(
                case=case,
                acting_user=request.user,
                stage=stage,
                revision=revision,
                comment=form.cleaned_data["comment"],
            )
        except NotPermitted as error:
            raise PermissionDenied(error.message) from error
        except CaseActionError as error:
            messages.error(request, error.message)
            _keep_comment(request, form)
            return redirect(_queue_url(stage))
        messages.success(
            request,
            _("Recorded: %(action)s, “%(title)s”.")
            % {"action": event.get_action_display(), "title": case.title},
        )
        return redirect(_queue_url(stage))

    def _moved_on(self, request, pk, form):
        # The case left this reviewer's stages between page load and post,
        # usually because someone else decided it first: say who, if this
        # reviewer may know (a decision at one of their stages). To anyone who
        # reviews nothing, the case is simply not there.
        if not stages_for_reviewer(user=request.user).exists():
            raise Http404
        decided = (
            Case.objects.filter(
                pk=pk,
                decisions__stage__in=stages_for_reviewer(user=request.user),
            )
            .distinct()
            .first()
        )
        if decided is not None:
            messages.error(request, already_decided(decided).message)
        else:
            messages.error(
                request,
                _(
                    "This case is no longer waiting at your stage; "
                    "someone may have decided it."
                ),
            )
        _keep_comment(request, form)
        return redirect("review:queue")

    def render(self, case, form, status=200, note_form=None):
        revision, previous = revisions_for_review(case=case)
        diff = revision_diff(previous, revision, labels=DIFF_LABELS) if previous else []
        notes = notes_for_revision(revision=revision, withdrawn_at=case.current_stage)
        standing = [row for row in notes if not row.withdrawn]
        may_note = round_is_open(case, revision)
        context = {
            "case": case,
            "revision": revision,
            "previous": previous,
            "diff": diff,
            "diff_has_changes": any(field.changed for field in diff),
            "events": events_notes_attach(case_timeline(case=case)),
            "form": form,
            **findings_context(
                text=revision,
                findings=revision_findings_by_field(revision=revision),
                id_prefix="finding",
            ),
            "notes": [row for row in notes if not row.carried],
            "standing_count": sum(1 for row in standing if not row.carried),
            "carried_notes": [row for row in notes if row.carried],
            "withdrawable": notes_withdrawable(
                case=case, revision=revision, user=self.request.user, rows=notes
            )
            if may_note
            else set(),
            "note_form": note_form or _rewrite_form(self.request, notes),
            "may_note": may_note,
        }
        # The notes marked over the findings' marks: both are inline, so the
        # visible text, and with it every offset, stays the same.
        context["body_html"] = notes_body_html(
            context["body_html"] or revision.body, standing
        )
        return render(self.request, self.template_name, context, status=status)


@method_decorator(require_POST, name="dispatch")
class NoteAddView(LoginRequiredMixin, View):
    """批注: a reviewer of the stage notes a passage of the revision under review.

    A refusal shows the review page again with everything typed in it."""

    def post(self, request, pk):
        case = case_get_for_reviewer(case_id=pk, user=request.user)
        revision, _previous = revisions_for_review(case=case)
        note_form = NoteForm(request.POST)
        page = ReviewCaseView()
        page.setup(request, pk=pk)
        decision_form = DecisionForm(
            initial={"revision": revision.pk, "stage": case.current_stage_id}
        )
        if not note_form.is_valid():
            return page.render(case, decision_form, status=400, note_form=note_form)
        data = note_form.cleaned_data
        try:
            note_add(
                case=case,
                acting_user=request.user,
                revision=revision,
                field=data["field"],
                start=data["start"],
                end=data["end"],
                quote=data["quote"],
                text=data["text"],
                suggestion=data["suggestion"],
            )
        except NotPermitted as error:
            raise PermissionDenied(error.message) from error
        except CaseActionError as error:
            note_form.add_error(None, error.message)
            return page.render(case, decision_form, status=400, note_form=note_form)
        messages.success(request, _("The note has been added."))
        return redirect(reverse("review:case", args=[case.pk]) + "#notes-heading")


@method_decorator(require_POST, name="dispatch")
class NoteWithdrawView(LoginRequiredMixin, View):
    """A reviewer takes back their own note while its round is open; to say
    it better, they then write a new one."""

    def post(self, request, pk, note_pk):
        # Only the note's author finds it; to anyone else it is not there.
        note = get_object_or_404(
            Note.objects.select_related("case"),
            pk=note_pk,
            case_id=pk,
            author_id=request.user.pk,
        )
        done = service_run(
            request,
            lambda: note_withdraw(note=note, acting_user=request.user),
            success=_("The note has been withdrawn; the branch will not see it."),
        )
        if not done and not _reviews_case(request.user, pk):
            # The decision went out and the case left the reviewer's stages.
            return redirect("review:queue")
        url = reverse("review:case", args=[pk])
        if done and request.POST.get("rewrite"):
            return redirect(f"{url}?rewrite={note.pk}#note-form")
        return redirect(url + "#notes-heading")


def _rewrite_form(request, rows) -> NoteForm:
    """The note form, filled in with the note `?rewrite=` names when it is
    one the reviewer withdrew on this page: to say it again, better."""
    wanted = request.GET.get("rewrite", "")
    if not (wanted.isascii() and wanted.isdigit() and len(wanted) <= 19):
        return NoteForm()
    for row in rows:
        if (
            row.note.pk == int(wanted)
            and row.withdrawn
            and row.note.author_id == request.user.pk
            and row.anchor.found
        ):
            note = row.note
            return NoteForm(
                initial={
                    "field": note.field,
                    "start": row.start,
                    "end": row.end,
                    "quote": note.quote,
                    "text": note.text,
                    "suggestion": note.suggestion,
                }
            )
    return NoteForm()


def _reviews_case(user, pk) -> bool:
    try:
        case_get_for_reviewer(case_id=pk, user=user)
    except Http404:
        return False
    return True


def _keep_comment(request, form) -> None:
    """Give a refused reviewer back the comment they typed."""
    comment = (form.data.get("comment") or "").strip()
    if comment:
        messages.info(
            request,
            _("Your comment was not recorded; here it is: %(comment)s")
            % {"comment": comment},
        )


def _queue_url(stage) -> str:
    return f"{reverse('review:queue')}?stage={stage.pk}"


class RejectedCaseListView(RoleRequiredMixin, ListView):
    required_role = "reopen"
    template_name = "review/rejected_list.html"
    context_object_name = "cases"
    paginate_by = 25

    def get_queryset(self):
        return rejected_cases()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["reopen_form"] = ReopenForm()
        return context


@method_decorator(require_POST, name="dispatch")
class CaseReopenView(RoleRequiredMixin, View):
    required_role = "reopen"

    def post(self, request, pk):
        case = case_get_rejected(case_id=pk)
        form = ReopenForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Say why the case is reopened."))
            return redirect("review:rejected")
        service_run(
            request,
            lambda: case_reopen(
                case=case,
                acting_user=request.user,
                comment=form.cleaned_data["comment"],
            ),
            success=_("“%(title)s” is back with %(branch)s for revision.")
            % {"title": case.title, "branch": case.branch.name},
        )
        return redirect("review:rejected")
