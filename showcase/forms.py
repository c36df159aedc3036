from html import escape
from html.parser import HTMLParser

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from casehub.dates import TypedDateTimeField
from casehub.richtext import richtext_clean, validate_richtext
from review.findings import FIELDS
from submissions.models import Branch, Case, Theme
from textcheck.models import FINDING_TERM_MAX

from .models import SearchEntry, Series
from .search import MAX_QUERY_CHARS, SearchFilters


class IssuePlanForm(forms.Form):
    series = forms.ModelChoiceField(
        label=_("Series"),
        queryset=Series.objects.filter(is_active=True),
        empty_label=None,
    )
    scheduled_at = TypedDateTimeField(
        label=_("Publish at"), help_text=_("Beijing time.")
    )
    take_from_queue = forms.IntegerField(
        label=_("Cases from the front of the queue"),
        min_value=0,
        max_value=10,
        initial=1,
        help_text=_("Pinned cases first; held cases are skipped."),
    )


class IssueCaseAddForm(forms.Form):
    case = forms.ModelChoiceField(
        label=_("Case"), queryset=Case.objects.filter(status=Case.Status.APPROVED)
    )


class IssueCaseForm(forms.Form):
    case = forms.ModelChoiceField(queryset=Case.objects.all(), widget=forms.HiddenInput)


# The blocks a note's text can stand for: a line of text is a paragraph, or a
# heading when the normaliser recognises its number.
TEXT_BLOCKS = frozenset({"p", "h2", "h3", "h4"})


class _PlainParagraphs(HTMLParser):
    """Reads stored rich text as blocks of plain text, and notices any markup
    beyond paragraphs, headings and line breaks."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs = [""]
        self.plain = True

    def _break(self):
        if self.paragraphs[-1]:
            self.paragraphs.append("")

    def handle_starttag(self, tag, attrs):
        if attrs:
            self.plain = False
        elif tag == "br":
            self.paragraphs[-1] += "\n"
        elif tag in TEXT_BLOCKS:
            self._break()
        else:
            self.plain = False

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in TEXT_BLOCKS:
            self._break()
        elif tag != "br":
            self.plain = False

    def handle_data(self, data):
        self.paragraphs[-1] += data

    def handle_comment(self, data):
        self.plain = False

    def handle_decl(self, decl):
        self.plain = False

    def handle_pi(self, data):
        self.plain = False

    def unknown_decl(self, data):
        self.plain = False


def _as_text(html: str) -> str | None:
    if "<!" in html or "<?" in html:
        # Never in a cleaned note; and where html.parser rescans the rest of
        # the text at each one left open (CVE-2025-6069).
        return None
    parser = _PlainParagraphs()
    parser.feed(html)
    parser.close()
    if not parser.plain:
        return None
    paragraphs = [text.strip(" \t\r\n") for text in parser.paragraphs]
    return "\n\n".join(text for text in paragraphs if text.strip())


def note_typed(text: str) -> str:
    """A note typed as text, as HTML: what it says, never read as markup
    ("A<B类" stays three characters), its blank lines making paragraphs."""
    return escape(text, quote=False)


def note_as_text(html: str) -> str | None:
    """The stored note as an editor types it: its paragraphs as lines of text
    with a blank line between them, no tags; None for any other note.

    The text is given only when saving it again as typed text gives back
    exactly the stored note. Any other note (bold, a link, a list: set in the
    admin or typed as HTML) is edited as stored, so saving it loses nothing.
    """
    if not html:
        return ""
    text = _as_text(html)
    if text is None:
        return None
    try:
        saved_again = richtext_clean(note_typed(text))
    except ValidationError:
        return None
    return text if saved_again == html else None


def note_for_editing(html: str) -> str:
    """What the note box shows for the stored note."""
    text = note_as_text(html)
    return html if text is None else text


class IssueNoteForm(forms.Form):
    TEXT, HTML = "text", "html"

    # Cleaned before the note, which it tells how to read. A post without it
    # (the admin's way, older pages) holds HTML, as notes always did.
    note_format = forms.ChoiceField(
        choices=[(TEXT, TEXT), (HTML, HTML)],
        required=False,
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label=_("Note of this issue"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown above the cases; empty shows the series' editor's note."),
    )

    def clean_note(self):
        note = self.cleaned_data["note"]
        if self.cleaned_data.get("note_format") == self.TEXT:
            note = note_typed(note)
        validate_richtext(note)
        return note

    @classmethod
    def for_issue(cls, issue, *, typed=None) -> "IssueNoteForm":
        """The issue's note box on the desk: the stored note as editable text
        where it is plain, else as stored; or, refused, what the editor typed
        (`typed`: the text and the format it was sent in)."""
        if typed is not None:
            note, note_format = typed
        else:
            text = note_as_text(issue.note)
            note = issue.note if text is None else text
            note_format = cls.HTML if text is None else cls.TEXT
        return cls(
            initial={"note": note, "note_format": note_format},
            auto_id=f"issue-{issue.pk}-%s",
        )


class IssueUnpublishForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Readers of the issue's pages see this."),
    )


class QueueFlagForm(forms.Form):
    case = forms.ModelChoiceField(
        queryset=Case.objects.filter(status=Case.Status.APPROVED),
        widget=forms.HiddenInput,
    )
    value = forms.BooleanField(required=False, widget=forms.HiddenInput)


class FindingOverrideForm(forms.Form):
    """放行: one open finding of a case, named by its key, and why it may stay."""

    field = forms.ChoiceField(
        choices=[(name, name) for name in FIELDS], widget=forms.HiddenInput
    )
    kind = forms.CharField(max_length=20, widget=forms.HiddenInput)
    term = forms.CharField(
        max_length=FINDING_TERM_MAX, strip=False, widget=forms.HiddenInput
    )
    start = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why it may stay"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded with your name on the case's timeline."),
        error_messages={"required": _("Say why this finding may stay as it is.")},
    )
    # The planned issue whose page the form was sent from, to return to it.
    issue = forms.IntegerField(required=False, widget=forms.HiddenInput)

    @classmethod
    def for_row(cls, row, *, case, issue=None) -> "FindingOverrideForm":
        finding = row.finding
        return cls(
            initial={
                "field": row.field,
                "kind": finding.kind,
                "term": finding.term,
                "start": finding.start,
                "issue": issue.pk if issue else None,
            },
            auto_id=f"override-{case.pk}-{row.field}-{row.index}-%s",
        )


class SearchForm(forms.Form):
    """The search box and its filters. A filter value that is not one of the
    choices (an old link, a hand-made address) is ignored, not refused: the
    reader still gets the search."""

    q = forms.CharField(label=_("Search"), required=False, strip=False)
    series = forms.ModelChoiceField(
        label=_("Series"),
        queryset=Series.objects.filter(is_active=True),
        to_field_name="slug",
        required=False,
        empty_label=_("All series"),
    )
    year = forms.TypedChoiceField(
        label=_("Year"), coerce=int, required=False, empty_value=None
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Branch.objects.order_by("name"),
        required=False,
        empty_label=_("All organisations"),
    )
    theme = forms.ModelChoiceField(
        label=_("Theme"),
        queryset=Theme.objects.filter(is_active=True),
        required=False,
        empty_label=_("All themes"),
    )

    FILTERS = ("series", "year", "organisation", "theme")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"type": "search", "maxlength": MAX_QUERY_CHARS}
        )
        years = (
            SearchEntry.objects.order_by("-year")
            .values_list("year", flat=True)
            .distinct()
        )
        self.fields["year"].choices = [("", _("All years"))] + [
            (year, str(year)) for year in years
        ]

    def search_filters(self) -> SearchFilters:
        self.is_valid()
        valid = getattr(self, "cleaned_data", {})
        return SearchFilters(
            series=valid.get("series"),
            year=valid.get("year"),
            branch=valid.get("organisation"),
            theme=valid.get("theme"),
        )
