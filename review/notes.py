"""批注: notes on passages of the text, from the reviewer to the branch.

A reviewer of the review stage a case waits at notes passages of the
revision under review while the round is open (the revision at the stage,
until the decision); a scoring stage takes none. The branch sees a round's
notes once its decision is out: a return hands them over with the comment,
and its members mark each done or answer it while the case is back with
them. On resubmit the notes are anchored again in the new revision
(`anchors.notes_carry`, called by `workflow.case_resubmit`), those of the
return and those of earlier rounds still open, so the reviewer sees what
became of each. Every row is append-only: nothing written in a round
changes later. While the round is open, the note's author may withdraw it
(`note_withdraw`): a `NoteWithdrawal` row, after which the note no longer
stands: not counted, not sent, not carried on. To say it better, the
reviewer withdraws it and writes a new one.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casehub import roles
from casehub.exceptions import NotPermitted, WrongState
from submissions.models import Case, CaseRevision
from textcheck.services import highlight_html

from .anchors import NOTED_FIELDS, context_of, field_text, passage_locate
from .forms import MAX_QUOTE, MAX_TEXT
from .models import (
    CaseEvent,
    Decision,
    Note,
    NoteAnchor,
    NoteResponse,
    NoteWithdrawal,
)
from .workflow import Role, _latest_revision, _lock, has_role

# Notes one reviewer's round may hold: more than any real review writes, and
# what keeps the review page's marks and the carrying to the next revision
# bounded.
MAX_NOTES_PER_ROUND = 200
# Notes one case may hold over all its rounds: open notes go on from round to
# round, and this bounds what one revision's page carries.
MAX_NOTES_PER_CASE = 1000
# Answers one note may have: the branch answers in a few words, and each
# answer is shown wherever the note is.
MAX_RESPONSES_PER_NOTE = 20

STATUS_LABELS = {
    "open": gettext_lazy("Not yet addressed"),
    "done": gettext_lazy("Done"),
    "answered": gettext_lazy("Answered"),
    "passage_changed": gettext_lazy("Passage changed"),
    "withdrawn": gettext_lazy("Withdrawn"),
}


def _bounded(value: str, *, too_long: str, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise WrongState(too_long % {"limit": limit})
    return value


def round_is_open(case: Case, revision: CaseRevision) -> bool:
    """Whether `revision` is waiting for a decision at the case's stage now."""
    if case.status != Case.Status.IN_REVIEW or case.current_stage_id is None:
        return False
    latest = _latest_revision(case)
    if latest is None or latest.pk != revision.pk:
        return False
    return not Decision.objects.filter(
        revision=revision, stage_id=case.current_stage_id
    ).exists()


@transaction.atomic
def note_add(
    *,
    case: Case,
    acting_user,
    revision: CaseRevision,
    field: str,
    start: int,
    end: int,
    quote: str,
    text: str,
    suggestion: str = "",
) -> Note:
    """A reviewer of the stage notes a passage of the revision under review.

    The quote is checked against the field's visible text at the offsets;
    when the page's offsets are off (the text was read differently), the
    quote is looked for by text, nearest to them; a quote that is not in
    the text is refused.
    """
    case = _lock(case)
    if not has_role(Role.STAGE_REVIEWER, case=case, user=acting_user):
        raise NotPermitted(
            _("Only reviewers of the stage the case waits at may add notes.")
        )
    if case.current_stage.is_scoring:
        # Its panel scores, perhaps without knowing whose case it is; a note
        # would go to the branch with the scorer's name.
        raise NotPermitted(
            _("A scoring round takes no notes in the text; its panel scores.")
        )
    if not round_is_open(case, revision):
        raise WrongState(
            _(
                "This round is closed: the revision is no longer waiting for a "
                "decision at this stage. The note was not added."
            )
        )
    if field not in NOTED_FIELDS:
        raise WrongState(_("Notes are written on the lead or the body."))
    # Withdrawn notes count too: the reviewer's page still lists them, and
    # withdrawing would otherwise let a round write rows without end.
    if (
        Note.objects.filter(revision=revision, stage=case.current_stage).count()
        >= MAX_NOTES_PER_ROUND
    ):
        raise WrongState(
            _(
                "A round holds at most %(limit)d notes; say the rest in the "
                "decision's comment."
            )
            % {"limit": MAX_NOTES_PER_ROUND}
        )
    if Note.objects.filter(case=case).count() >= MAX_NOTES_PER_CASE:
        raise WrongState(
            _(
                "A case holds at most %(limit)d notes over all its rounds; say "
                "the rest in the decision's comment."
            )
            % {"limit": MAX_NOTES_PER_CASE}
        )
    text = _bounded(
        text, too_long=_("The note is longer than %(limit)d characters; shorten it.")
    )
    suggestion = _bounded(
        suggestion,
        too_long=_(
            "The suggested text is longer than %(limit)d characters; shorten it."
        ),
    )
    if not text:
        raise WrongState(_("Write the note."))
    if not quote or not quote.strip():
        raise WrongState(_("Select the passage the note is about."))
    if len(quote) > MAX_QUOTE:
        raise WrongState(
            _("Select at most %(limit)d characters for a note.") % {"limit": MAX_QUOTE}
        )
    visible = field_text(revision, field)
    if not (0 <= start < end <= len(visible)) or visible[start:end] != quote:
        found = passage_locate(visible, quote=quote, start=max(start, 0))
        if found is None:
            raise WrongState(
                _(
                    "The passage “%(quote)s” is not in the text of this "
                    "revision; select it again."
                )
                % {"quote": quote[:60]}
            )
        start, end = found, found + len(quote)
    before, after = context_of(visible, start, end)
    note = Note.objects.create(
        case=case,
        revision=revision,
        stage=case.current_stage,
        author=acting_user,
        field=field,
        quote=quote,
        before=before,
        after=after,
        text=text,
        suggestion=suggestion,
    )
    NoteAnchor.objects.create(note=note, revision=revision, start=start, end=end)
    return note


def notes_withdrawable(*, case: Case, revision: CaseRevision, user, rows) -> set:
    """The ids of the notes among `rows` (`AnchoredNote`) that `user` may
    withdraw (`note_withdraw`): their own, standing, of the round of
    `revision` at the stage the case waits at. For the page of a round that
    is open (`round_is_open`), shown to a reviewer of its stage."""
    return {
        row.note.pk
        for row in rows
        if row.note.author_id == user.pk
        and row.note.revision_id == revision.pk
        and row.note.stage_id == case.current_stage_id
        and not row.withdrawn
    }


@transaction.atomic
def note_withdraw(*, note: Note, acting_user) -> NoteWithdrawal:
    """The author of a note takes it back while its round is open.

    Only the author: the note goes to the branch under their name, and a
    colleague of the stage who disagrees with it writes a note of their own
    or says so in the decision, rather than taking back another's words.
    The case's row lock orders this and the decision, so a note is either
    withdrawn before the decision counts and sends it, or refused after.
    """
    case = _lock(note.case)
    if note.author_id != getattr(acting_user, "pk", None):
        raise NotPermitted(_("Only the reviewer who wrote a note may withdraw it."))
    if NoteWithdrawal.objects.filter(note=note).exists():
        raise WrongState(_("This note has already been withdrawn."))
    if case.current_stage_id != note.stage_id or not round_is_open(case, note.revision):
        raise WrongState(
            _(
                "This note's round is closed: the decision has gone out with it, "
                "so it can no longer be withdrawn."
            )
        )
    if not roles.reviews_at(acting_user, case.current_stage):
        raise NotPermitted(
            _("Only reviewers of the stage the case waits at may withdraw notes.")
        )
    try:
        with transaction.atomic():
            return NoteWithdrawal.objects.create(note=note, actor=acting_user)
    except IntegrityError:
        raise WrongState(_("This note has already been withdrawn.")) from None


def _round_decided():
    """Whether the round of the note in the query (`note__…`) has its
    decision: only then does the branch see it."""
    return Exists(
        Decision.objects.filter(
            revision_id=OuterRef("note__revision_id"),
            stage_id=OuterRef("note__stage_id"),
        )
    )


def may_reply(case: Case, note: Note) -> bool:
    """Whether the note is with the branch now, for it to answer: the case is
    back with it, and the note, sent with a decision, stands in the revision
    it is revising (written on it, or carried to it still open)."""
    if case.status != Case.Status.RETURNED:
        return False
    latest = _latest_revision(case)
    return (
        latest is not None
        and NoteAnchor.objects.filter(
            note=note, revision=latest, note__withdrawal__isnull=True
        )
        .filter(_round_decided())
        .exists()
    )


def notes_replyable(case: Case, revision: CaseRevision) -> bool:
    """Whether the branch may answer the notes its pages show on `revision`
    (those `notes_for_revision(sent_only=True)` gives)."""
    if case.status != Case.Status.RETURNED:
        return False
    latest = _latest_revision(case)
    return latest is not None and latest.pk == revision.pk


@transaction.atomic
def note_reply(*, note: Note, acting_user, kind: str, text: str = "") -> NoteResponse:
    """A member of the branch marks a note done, or answers it, while the
    case is back with the branch for the revision the note was written on."""
    case = _lock(note.case)
    if not has_role(Role.MEMBER, case=case, user=acting_user):
        raise NotPermitted(
            _("Only members of the case's organisation may answer its notes.")
        )
    if not may_reply(case, note):
        raise WrongState(
            _("This note's round is closed; it can no longer be answered.")
        )
    if kind not in NoteResponse.Kind.values:
        raise WrongState(_("Mark the note done, or answer it."))
    responses = list(note.responses.values_list("kind", flat=True))
    if kind == NoteResponse.Kind.DONE and NoteResponse.Kind.DONE in responses:
        raise WrongState(_("This note is already marked done."))
    if len(responses) >= MAX_RESPONSES_PER_NOTE:
        raise WrongState(
            _("This note already has %(limit)d answers, the most it takes.")
            % {"limit": MAX_RESPONSES_PER_NOTE}
        )
    text = _bounded(
        text,
        too_long=_("The answer is longer than %(limit)d characters; shorten it."),
    )
    if kind == NoteResponse.Kind.ANSWER and not text:
        raise WrongState(_("Write the answer."))
    return NoteResponse.objects.create(
        note=note, author=acting_user, kind=kind, text=text
    )


@dataclass
class AnchoredNote:
    """A note as one revision's page shows it, where its passage is there.

    `severity`, `message`, `start` and `end` let `highlight_html` mark it as
    it marks a finding."""

    note: Note
    anchor: NoteAnchor
    index: int
    responses: list = field(default_factory=list)
    severity = "note"

    @property
    def message(self) -> str:
        return self.note.text

    @property
    def start(self) -> int:
        return self.anchor.start

    @property
    def end(self) -> int:
        return self.anchor.end

    @property
    def carried(self) -> bool:
        return self.note.revision_id != self.anchor.revision_id

    @property
    def withdrawal(self):
        """The note's `NoteWithdrawal`, None while it stands."""
        return getattr(self.note, "withdrawal", None)

    @property
    def withdrawn(self) -> bool:
        return self.withdrawal is not None

    @property
    def status(self) -> str:
        if self.withdrawn:
            return "withdrawn"
        kinds = {response.kind for response in self.responses}
        if NoteResponse.Kind.DONE in kinds:
            return "done"
        if NoteResponse.Kind.ANSWER in kinds:
            return "answered"
        if not self.anchor.found:
            return "passage_changed"
        return "open"

    @property
    def passage_changed(self) -> bool:
        return not self.anchor.found

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def field_label(self) -> str:
        return self.note.get_field_display()

    @property
    def item_id(self) -> str:
        return f"note-{self.note.pk}"

    @property
    def mark_id(self) -> str:
        """The id of the note's mark in the body, "" where there is none (on
        the lead, its passage gone, or withdrawn)."""
        if self.index < 0:
            return ""
        return f"note-body-{self.index}"


def notes_for_revision(
    *, revision: CaseRevision, sent_only: bool = False, withdrawn_at=None
) -> list[AnchoredNote]:
    """The notes anchored in `revision`, in the order of the text: those
    written on it and those carried to it, with the branch's responses.
    `sent_only`: only those whose round has its decision, as the branch
    sees them (a note is the reviewer's own until the decision goes out).
    Withdrawn notes are left out, but for those of the stage `withdrawn_at`,
    which its reviewers see struck out in the round they were withdrawn in."""
    anchors = NoteAnchor.objects.filter(revision=revision)
    if sent_only:
        anchors = anchors.filter(_round_decided())
    standing = Q(note__withdrawal__isnull=True)
    if withdrawn_at is not None and not sent_only:
        standing |= Q(note__stage=withdrawn_at, note__revision=revision)
    anchors = (
        anchors.filter(standing)
        .select_related(
            "note__author",
            "note__stage",
            "note__revision",
            "note__withdrawal__actor",
        )
        .prefetch_related("note__responses__author")
        .order_by("note__field", "start", "note__created_at", "note__pk")
    )
    ordered = sorted(
        anchors,
        key=lambda anchor: (
            NOTED_FIELDS.index(anchor.note.field),
            anchor.start is None,
            anchor.start or 0,
            anchor.note.pk,
        ),
    )
    rows, body_index = [], 0
    for anchor in ordered:
        index = -1
        withdrawn = hasattr(anchor.note, "withdrawal")
        if anchor.note.field == Note.Field.BODY and anchor.found and not withdrawn:
            index, body_index = body_index, body_index + 1
        rows.append(
            AnchoredNote(
                note=anchor.note,
                anchor=anchor,
                index=index,
                responses=list(anchor.note.responses.all()),
            )
        )
    return rows


def notes_body_html(body_html: str, rows: list[AnchoredNote]):
    """`body_html` (sanitised, perhaps with the findings' marks already) with
    each note found in the body in `<mark class="finding finding-note"
    id="note-body-<index>">`; marks are inline, so the offsets still hold."""
    marked = sorted((row for row in rows if row.index >= 0), key=lambda r: r.index)
    if not marked:
        return body_html
    return highlight_html(body_html, marked, id_prefix="note-body")


def events_notes_attach(events) -> list[CaseEvent]:
    """The timeline's events, each decision with the notes of its round
    (`round_notes`) and their responses: one query for all of them."""
    events = list(events)
    rounds = {
        (event.revision_id, event.stage_id)
        for event in events
        if event.note_count and event.revision_id and event.stage_id
    }
    by_round: dict[tuple, list[Note]] = {}
    if rounds:
        notes = (
            Note.objects.filter(
                revision_id__in={key[0] for key in rounds},
                withdrawal__isnull=True,
            )
            .select_related("author")
            .prefetch_related("responses__author")
        )
        for note in notes:
            by_round.setdefault((note.revision_id, note.stage_id), []).append(note)
    for event in events:
        event.round_notes = by_round.get((event.revision_id, event.stage_id), [])
    return events
