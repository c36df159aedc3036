from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from campaigns.selectors import open_calls_for
from campaigns.services import NotAccepting
from casehub.exceptions import CaseActionError, EditConflict, NotPermitted
from casehub.richtext import images_without_alt
from casehub.templatetags.casehub import person
from casehub.views import service_run
from review import workflow
from review.findings import finding_rows, findings_context
from review.forms import NoteReplyForm
from review.models import CaseEvent
from review.notes import (
    events_notes_attach,
    note_reply,
    notes_body_html,
    notes_for_revision,
    notes_replyable,
)
from review.selectors import case_timeline
from review.workflow import case_resubmit, case_submit, case_withdraw
from showcase.selectors import case_get_published
from submissions.models import Case
from submissions.selectors import (
    branches_for_user,
    case_get_for_member,
    cases_for_member,
)
from textcheck.services import case_text_check

from . import unsaved
from .docx_import import docx_import
from .filters import MyCaseFilter
from .forms import CaseForm, CaseWithdrawForm, DocxImportForm, TextCheckForm
from .services import case_create, case_update, editor_image_store


class MemberCaseMixin(LoginRequiredMixin):
    """Loads the case from the URL for a member of its organisation, else 404."""

    def get_case(self) -> Case:
        if not hasattr(self, "_case"):
            self._case = case_get_for_member(
                case_id=self.kwargs["pk"], user=self.request.user
            )
        return self._case


class CaseListView(LoginRequiredMixin, ListView):
    template_name = "submissions/case_list.html"
    paginate_by = 20
    context_object_name = "cases"

    def get_queryset(self):
        self.filterset = MyCaseFilter(
            self.request.GET or None, queryset=cases_for_member(user=self.request.user)
        )
        return self.filterset.qs.order_by("-updated_at", "-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["branches"] = branches_for_user(user=self.request.user)
        context["open_calls"] = open_calls_for(branches=context["branches"])
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_string"] = query.urlencode()
        return context


class ExpiredSessionSaveMixin:
    """A save sent after the session expired keeps its text (authoring.unsaved).

    Runs before LoginRequiredMixin, which would send the POST on to the sign-in
    page and the text with it. A form opened for another account than the one
    signed in now is not saved under the wrong name.
    """

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            owner = unsaved.form_owner(request)
            if not request.user.is_authenticated:
                return _expired_session_save(request, owner=owner)
            if owner is not None and owner != request.user.pk:
                return _other_account_save(request)
        return super().dispatch(request, *args, **kwargs)


def _expired_session_save(request, *, owner):
    if owner is None or not unsaved.keeping_allowed(owner):
        # Not a form of ours (or its signature is out of date): nobody to
        # keep it for. The browser's own copy remains.
        return redirect_to_login(request.get_full_path())
    try:
        unsaved.posted_form_keep(request, owner=owner)
    except unsaved.TooLargeToKeep as error:
        message = _(
            "Your session has expired, and the text you sent (%(size)s KB) is too "
            "large to keep until you sign in again (at most %(limit)s KB). Sign in "
            "again and open the form: if this browser kept a copy, the form "
            "offers to restore it."
        ) % {"size": -(-error.size // 1024), "limit": error.limit // 1024}
        return _save_refused(
            request, heading=_("Session expired"), message=message, status=413
        )
    messages.info(
        request,
        _(
            "Your session has expired. Sign in again and your text will be back "
            "in the form, ready to save."
        ),
    )
    if request.FILES.get("cover_image"):
        messages.warning(
            request,
            _(
                "The cover image you chose could not be kept; choose it again "
                "after signing in."
            ),
        )
    return redirect_to_login(request.get_full_path())


def _other_account_save(request):
    message = _(
        "This form was opened while another account was signed in, and "
        "%(user)s is signed in now. Nothing has been saved. Sign in with the "
        "account that opened the form and open it again: it offers to restore "
        "the copy this browser kept."
    ) % {"user": person(request.user)}
    return _save_refused(
        request,
        heading=_("Signed in as another account"),
        message=message,
        status=409,
    )


def _save_refused(request, *, heading, message, status):
    context = {
        "heading": heading,
        "message": message,
        "login_url": "" if request.user.is_authenticated else _login_url(request),
    }
    return render(request, "submissions/case_save_refused.html", context, status=status)


def _login_url(request) -> str:
    return redirect_to_login(request.get_full_path()).url


def _kept_form_shown(request):
    messages.warning(
        request,
        _("Your session had expired. Your text has been kept: check it and save."),
    )


class DocxImportMixin:
    """导入 Word on the case form: the file read into the form, nothing saved.

    The import form posts to the case form's own page, so the form it fills
    saves where it always does, through the same checks, the edit-conflict
    rule among them: on a draft it carries the version the page was opened on.
    Only the document's images are stored, as the editor's uploads are.
    """

    def docx_form_read(self, request) -> DocxImportForm:
        docx_form = DocxImportForm(request.POST, request.FILES)
        if docx_form.is_valid():
            try:
                docx_form.imported = docx_import(
                    upload=docx_form.cleaned_data["docx_file"],
                    acting_user=request.user,
                )
            except NotPermitted as error:
                raise PermissionDenied(error.message) from error
            except ValidationError as error:
                docx_form.add_error("docx_file", error)
        return docx_form


class CaseCreateView(
    ExpiredSessionSaveMixin, LoginRequiredMixin, DocxImportMixin, View
):
    template_name = "submissions/case_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.branches = branches_for_user(user=request.user)
            if not self.branches.exists():
                raise PermissionDenied(
                    _("Only members of a party organisation can write cases.")
                )
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        kept = unsaved.kept_form_take(request)
        if kept is not None:
            _kept_form_shown(request)
            return self.render(CaseForm(kept, branches=self.branches))
        # ?campaign= comes from an open call's "write a case" link.
        initial = {"campaign": request.GET.get("campaign", "")[:12]}
        return self.render(CaseForm(branches=self.branches, initial=initial))

    def post(self, request):
        if DocxImportForm.button_name in request.POST:
            return self.render_docx_import(request)
        form = CaseForm(request.POST, request.FILES, branches=self.branches)
        if not form.is_valid():
            return self.render(form)
        try:
            case = case_create(
                branch=form.cleaned_data["branch"],
                acting_user=request.user,
                content=form.to_content(),
            )
        except NotPermitted as error:
            raise PermissionDenied(error.message) from error
        except NotAccepting as error:
            form.add_error("campaign", error.message)
            return self.render(form)
        messages.success(request, _("The draft has been saved."))
        return _saved_redirect(request, case)

    def render_docx_import(self, request):
        docx_form = self.docx_form_read(request)
        initial = {"campaign": request.GET.get("campaign", "")[:12]}
        imported = docx_form.imported
        if imported is not None:
            initial.update(imported.form_initial())
            if imported.branch is not None and imported.branch in self.branches:
                initial["branch"] = imported.branch.pk
        form = CaseForm(branches=self.branches, initial=initial)
        return self.render(form, docx_form=docx_form)

    def render(self, form, *, docx_form=None):
        context = {
            "form": form,
            "case": None,
            "docx_form": docx_form or DocxImportForm(),
        }
        return render(self.request, self.template_name, context)


class CaseUpdateView(ExpiredSessionSaveMixin, MemberCaseMixin, DocxImportMixin, View):
    template_name = "submissions/case_form.html"

    def get(self, request, pk):
        case = self.get_case()
        if not case.is_editable:
            messages.info(
                request,
                _("This case is %(status)s and cannot be edited now.")
                % {"status": case.get_status_display()},
            )
            return redirect(case)
        kept = unsaved.kept_form_take(request)
        if kept is not None:
            # With the version it was based on: if someone saved since, saving
            # it shows the conflict, as any save would.
            _kept_form_shown(request)
            return self.render(CaseForm(kept, instance=case), case)
        return self.render(CaseForm(instance=case), case)

    def post(self, request, pk):
        case = self.get_case()
        if DocxImportForm.button_name in request.POST:
            return self.render_docx_import(request, case)
        form = CaseForm(request.POST, request.FILES, instance=case)
        if not form.is_valid():
            return self.render(form, case)
        try:
            case = case_update(
                case=case,
                acting_user=request.user,
                expected_version=form.cleaned_data["version"],
                content=form.to_content(),
            )
        except EditConflict as conflict:
            return self.render_conflict(form, conflict)
        except NotAccepting as error:
            form.add_error("campaign", error.message)
            return self.render(form, case)
        except CaseActionError as error:
            messages.error(request, error.message)
            return redirect(case)
        messages.success(request, _("Your changes have been saved."))
        return _saved_redirect(request, case)

    def render_conflict(self, form, conflict):
        """Show the person's own text again, beside what the other editor saved.

        The form now carries the current version, so saving again replaces the
        other editor's text, which the person has then seen.
        """
        current = conflict.current
        data = form.data.copy()
        data["version"] = str(current.version)
        # Validating a model form writes onto its instance; keep `current` intact.
        retry = CaseForm(data, instance=Case.objects.get(pk=current.pk))
        retry.is_valid()
        retry.add_error(None, conflict.message)
        return self.render(retry, current, conflict_with=current, status=409)

    def render_docx_import(self, request, case):
        """The draft as saved, with what the file holds in the form over it."""
        if not case.is_editable:
            return self.get(request, pk=case.pk)
        docx_form = self.docx_form_read(request)
        initial = docx_form.imported.form_initial() if docx_form.imported else {}
        form = CaseForm(instance=case, initial=initial)
        return self.render(form, case, docx_form=docx_form)

    def render(self, form, case, *, conflict_with=None, status=200, docx_form=None):
        context = {
            "form": form,
            "case": case,
            "conflict_with": conflict_with,
            "docx_form": docx_form or DocxImportForm(),
            "findings": finding_rows(_saved_text_check(case), id_prefix="finding"),
        }
        return render(self.request, self.template_name, context, status=status)


def _saved_text_check(case: Case) -> dict:
    """The text check of the draft as saved, not of a form bound to `case`
    (validating a form writes what was posted onto its instance, unbounded
    if it was refused for its size)."""
    saved = Case.objects.only("title", "tagline", "lead", "body").get(pk=case.pk)
    return _text_check(saved)


def _text_check(text) -> dict:
    return case_text_check(
        title=text.title, tagline=text.tagline, lead=text.lead, body=text.body
    )


def _saved_redirect(request, case):
    unsaved.autosave_copy_saved(request)
    return redirect(_after_save_url(request, case))


def _after_save_url(request, case) -> str:
    if "preview" in request.POST:
        return reverse("submissions:case_preview", args=[case.pk])
    return reverse("submissions:case_update", args=[case.pk])


class CaseDetailView(MemberCaseMixin, DetailView):
    template_name = "submissions/case_detail.html"
    context_object_name = "case"

    def get_object(self, queryset=None):
        return self.get_case()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        case = self.object
        # What the user may do here, from the workflow's table.
        context["actions"] = workflow.action_names(case, self.request.user)
        context["revisions"] = case.revisions.select_related("submitted_by").order_by(
            "-number"
        )
        events = events_notes_attach(case_timeline(case=case))
        context["events"] = events
        latest = case.revisions.order_by("-number").first()
        if latest is not None:
            context.update(_notes_context(case, latest))
        if case.status == Case.Status.RETURNED:
            sent_back = (CaseEvent.Action.RETURN, CaseEvent.Action.REOPEN)
            context["return_event"] = next(
                (event for event in reversed(events) if event.action in sent_back),
                None,
            )
        context["withdraw_form"] = CaseWithdrawForm()
        context["public_url"] = self.public_url(case)
        return context

    def public_url(self, case) -> str:
        """The case's page on the public site while readers can open it."""
        if case.status != Case.Status.PUBLISHED:
            return ""
        try:
            case_get_published(case_id=case.pk)
        except Http404:  # its issue taken down, or its series closed
            return ""
        return reverse("showcase:case", args=[case.pk])


class CasePreviewView(MemberCaseMixin, DetailView):
    """The saved draft laid out exactly as the public case page lays it out."""

    template_name = "submissions/case_preview.html"
    context_object_name = "case"

    def get_object(self, queryset=None):
        return self.get_case()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        case = self.object
        # The branch's last look before submitting: what the check finds in
        # the text a reviewer is about to read.
        if case.is_editable:
            context.update(
                findings_context(
                    text=case, findings=_text_check(case), id_prefix="finding"
                )
            )
            # Asked here, where the writer looks before submitting: readers
            # who cannot see an image hear its text alternative instead.
            context["images_without_alt"] = images_without_alt(case.body)
        return context


@method_decorator(require_POST, name="dispatch")
class CaseTextCheckView(MemberCaseMixin, View):
    """检查当前文本: the text check of what is in the form now, nothing saved."""

    def post(self, request, pk):
        self.get_case()
        form = TextCheckForm(request.POST)
        if not form.is_valid():
            return JsonResponse({"error": form.first_error()}, status=400)
        findings = finding_rows(
            case_text_check(**form.cleaned_data), id_prefix="finding"
        )
        return JsonResponse(
            {
                "findings": [
                    {
                        **row.finding.as_dict(),
                        "field": row.field,
                        "field_label": row.field_label,
                        "severity_label": row.severity_label,
                    }
                    for row in findings
                ]
            }
        )


class CaseRevisionView(MemberCaseMixin, DetailView):
    template_name = "submissions/revision_detail.html"
    context_object_name = "revision"

    def get_object(self, queryset=None):
        case = self.get_case()
        return get_object_or_404(
            case.revisions.select_related("submitted_by"), number=self.kwargs["number"]
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        case = self.get_case()
        context["case"] = case
        context.update(_notes_context(case, self.object))
        context["body_html"] = notes_body_html(self.object.body, context["notes"])
        return context


def _notes_context(case, revision) -> dict:
    """The reviewers' notes anchored in `revision` that were sent with a
    decision, and whether the branch may answer them (the case is back with
    it for this revision)."""
    return {
        "notes": notes_for_revision(revision=revision, sent_only=True),
        "notes_revision": revision,
        "notes_reply": notes_replyable(case, revision),
        "note_reply_form": NoteReplyForm(),
    }


@method_decorator(require_POST, name="dispatch")
class CaseNoteReplyView(MemberCaseMixin, View):
    """A member marks a reviewer's note done, or answers it."""

    def post(self, request, pk, note_pk):
        case = self.get_case()
        note = get_object_or_404(case.notes, pk=note_pk)
        form = NoteReplyForm(request.POST)
        if not form.is_valid():
            messages.error(request, form.errors.as_text())
            _answer_kept(request, form)
            return redirect(f"{case.get_absolute_url()}#note-{note.pk}")
        done = service_run(
            request,
            lambda: note_reply(
                note=note,
                acting_user=request.user,
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
            ),
            success=_("Your answer to the note has been recorded."),
        )
        if not done:
            _answer_kept(request, form)
        return redirect(f"{case.get_absolute_url()}#note-{note.pk}")


def _answer_kept(request, form) -> None:
    text = (form.data.get("text") or "").strip()
    if text:
        messages.info(
            request,
            _("Your answer was not recorded; here it is: %(text)s") % {"text": text},
        )


class CaseTransitionView(MemberCaseMixin, View):
    """A branch's POST-only workflow action: run the service, say how it went."""

    transition = None
    success_message = ""

    def post(self, request, pk):
        case = self.get_case()
        service_run(
            request,
            lambda: type(self).transition(case=case, acting_user=request.user),
            success=self.success_message,
        )
        return redirect(case)


@method_decorator(require_POST, name="dispatch")
class CaseSubmitView(CaseTransitionView):
    transition = case_submit
    success_message = gettext_lazy("The case has been submitted for review.")


@method_decorator(require_POST, name="dispatch")
class CaseResubmitView(CaseTransitionView):
    transition = case_resubmit
    success_message = gettext_lazy("The revised case has been resubmitted for review.")


@method_decorator(require_POST, name="dispatch")
class CaseWithdrawView(MemberCaseMixin, View):
    def post(self, request, pk):
        case = self.get_case()
        form = CaseWithdrawForm(request.POST)
        comment = form.cleaned_data["comment"] if form.is_valid() else ""
        service_run(
            request,
            lambda: case_withdraw(case=case, acting_user=request.user, comment=comment),
            success=_(
                "The case has been withdrawn. You can edit it and submit it again."
            ),
        )
        return redirect(case)


@method_decorator(require_POST, name="dispatch")
class CaseDeleteView(MemberCaseMixin, View):
    def post(self, request, pk):
        case = self.get_case()
        deleted = service_run(
            request,
            lambda: workflow.case_delete_draft(case=case, acting_user=request.user),
            success=_("The draft has been deleted."),
        )
        return redirect("submissions:case_list" if deleted else case)


@require_POST
def image_upload(request):
    """The editor's image upload, answering in CKEditor's simple-upload format."""
    if not request.user.is_authenticated:
        return _upload_error(_("Please sign in again to upload images."), status=403)
    try:
        image = editor_image_store(
            upload=request.FILES.get("upload"), acting_user=request.user
        )
    except NotPermitted as error:
        return _upload_error(error.message, status=403)
    except ValidationError as error:
        return _upload_error(error.messages[0], status=400)
    return JsonResponse({"url": image.image.url})


def _upload_error(message, *, status):
    return JsonResponse({"error": {"message": message}}, status=status)
