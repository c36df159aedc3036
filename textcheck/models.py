"""The department's dictionaries, the built-in checks' settings, and what the
check found in each submitted revision.

A check result records the dictionary version it was computed with: any edit
of a term or a built-in setting bumps `Dictionary.version` in the same
transaction, so a stored result is current exactly when its version is.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from casehub.audit import AppendOnlyModel

TERM_MAX = 100
REPLACEMENT_MAX = 500
NOTE_MAX = 2000
# A person's correct titles are written in `replacement`, separated by this.
TITLE_SEPARATOR = "|"
# The fields of a revision the check reads; body is HTML, the others plain text.
CHECKED_FIELDS = ("title", "tagline", "lead", "body")
# A finding's term: at most a person's name, three characters and a title.
FINDING_TERM_MAX = 2 * TERM_MAX + 8


class Severity(models.TextChoices):
    BLOCK = "block", _("Must be resolved")
    WARN = "warn", _("Warning")


class Term(models.Model):
    class Kind(models.TextChoices):
        SENSITIVE = "sensitive", _("Sensitive word")
        EXPRESSION = "expression", _("Standard expression")
        PERSON = "person", _("Person and titles")

    Severity = Severity

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    term = models.CharField(
        _("term"),
        max_length=TERM_MAX,
        help_text=_(
            "The word to look for; for a person, the name. Found in the text "
            "exactly as written."
        ),
    )
    replacement = models.CharField(
        _("replacement"),
        max_length=REPLACEMENT_MAX,
        blank=True,
        help_text=_(
            "Sensitive word: what to write instead (may be empty). Expression: "
            "the standard form. Person: the correct titles, separated by |."
        ),
    )
    severity = models.CharField(
        _("severity"),
        max_length=10,
        choices=Severity.choices,
        default=Severity.WARN,
    )
    note = models.TextField(
        _("source"),
        max_length=NOTE_MAX,
        blank=True,
        help_text=_("Where the rule comes from, e.g. the style guide's name."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("dictionary term")
        verbose_name_plural = _("dictionary terms")
        ordering = ["kind", "term"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "term"], name="term_unique_per_kind"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.term}"

    def clean(self):
        super().clean()
        problems = term_problems(
            kind=self.kind,
            term=self.term,
            replacement=self.replacement,
            severity=self.severity,
            note=self.note,
        )
        if problems:
            raise ValidationError(problems)

    @property
    def titles(self) -> list[str]:
        """A person's correct titles, in the order written."""
        return person_titles(self.replacement)


def person_titles(replacement: str) -> list[str]:
    return [
        title.strip() for title in replacement.split(TITLE_SEPARATOR) if title.strip()
    ]


# Control characters and line breaks: a term is one line of text.
CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@")


def term_problems(
    *, kind: str, term: str, replacement: str, severity: str, note: str
) -> list[str]:
    """What is wrong with one dictionary entry, each as a sentence; the same
    rules for the admin form, the services and every row of a CSV import."""
    problems = []
    if kind not in Term.Kind.values:
        problems.append(
            gettext("Unknown kind “%(value)s”: use sensitive, expression or person.")
            % {"value": kind}
        )
    if severity not in Severity.values:
        problems.append(
            gettext("Unknown severity “%(value)s”: use block or warn.")
            % {"value": severity}
        )
    if not term.strip():
        problems.append(gettext("The term is empty."))
    elif len(term) > TERM_MAX:
        problems.append(
            gettext("The term is longer than %(max)d characters.") % {"max": TERM_MAX}
        )
    if len(replacement) > REPLACEMENT_MAX:
        problems.append(
            gettext("The replacement is longer than %(max)d characters.")
            % {"max": REPLACEMENT_MAX}
        )
    if len(note) > NOTE_MAX:
        problems.append(
            gettext("The source is longer than %(max)d characters.") % {"max": NOTE_MAX}
        )
    if CONTROL.search(term) or CONTROL.search(replacement):
        problems.append(
            gettext("The term and the replacement must each be one line of text.")
        )
    if any(value.startswith(FORMULA_STARTS) for value in (term, replacement, note)):
        problems.append(
            gettext(
                "A term, replacement or source must not start with =, +, - or @: "
                "spreadsheets would run it as a formula."
            )
        )
    if kind == Term.Kind.EXPRESSION:
        if not replacement.strip():
            problems.append(gettext("Give the standard form as the replacement."))
        elif replacement.strip() == term.strip():
            problems.append(gettext("The standard form is the same as the term."))
    if kind == Term.Kind.PERSON:
        titles = person_titles(replacement)
        if not titles:
            problems.append(
                gettext(
                    "Give the person's correct titles as the replacement, "
                    "separated by |."
                )
            )
        elif any(len(title) > TERM_MAX for title in titles):
            problems.append(
                gettext("A title is longer than %(max)d characters.")
                % {"max": TERM_MAX}
            )
    return problems


class TermEvent(AppendOnlyModel):
    """One dictionary edit: a term added, changed or deleted, or a built-in
    check switched. `kind` is the term's kind or the built-in check's."""

    class Action(models.TextChoices):
        ADD = "add", _("Added")
        CHANGE = "change", _("Changed")
        DELETE = "delete", _("Deleted")

    # Null for the command line and the starter dictionary.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    kind = models.CharField(_("kind"), max_length=20)
    term = models.CharField(_("term"), max_length=TERM_MAX)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    version = models.PositiveIntegerField(_("dictionary version"))
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("dictionary event")
        verbose_name_plural = _("dictionary events")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.action} {self.kind} {self.term} (v{self.version})"


class Dictionary(models.Model):
    """One row: the version every check result is compared with."""

    version = models.PositiveIntegerField(_("version"), default=1)
    changed_at = models.DateTimeField(_("changed"), auto_now_add=True)

    class Meta:
        verbose_name = _("dictionary version")
        verbose_name_plural = _("dictionary version")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="dictionary_single_row")
        ]

    def __str__(self):
        return f"v{self.version}"


def dictionary_version() -> int:
    """The current version; 0 before the first edit of an emptied database."""
    version = Dictionary.objects.filter(pk=1).values_list("version", flat=True)
    return version.first() or 0


class BuiltinCheck(models.Model):
    class Kind(models.TextChoices):
        NUMBERING = "numbering", _("Numbering continuity")
        PUNCTUATION = "punctuation", _("Punctuation")
        REPEAT = "repeat", _("Repeated characters and words")

    class Mode(models.TextChoices):
        OFF = "off", _("Off")
        WARN = "warn", _("Warning")
        BLOCK = "block", _("Must be resolved")

    # A kind without its row (an emptied test database) runs in this mode.
    DEFAULT_MODE = Mode.WARN

    kind = models.CharField(
        _("check"), max_length=20, choices=Kind.choices, unique=True
    )
    mode = models.CharField(
        _("mode"), max_length=10, choices=Mode.choices, default=DEFAULT_MODE
    )

    class Meta:
        verbose_name = _("built-in check")
        verbose_name_plural = _("built-in checks")
        ordering = ["kind"]

    def __str__(self):
        return self.get_kind_display()


class RevisionCheck(models.Model):
    """The findings in one submitted revision, with the dictionary version used."""

    revision = models.OneToOneField(
        "submissions.CaseRevision",
        verbose_name=_("case revision"),
        on_delete=models.CASCADE,
        related_name="text_check",
    )
    version = models.PositiveIntegerField(_("dictionary version"))
    # {"title": [finding dict, …], "tagline": […], "lead": […], "body": […]}
    findings = models.JSONField(_("findings"), default=dict)
    checked_at = models.DateTimeField(_("checked"))

    class Meta:
        verbose_name = _("revision text check")
        verbose_name_plural = _("revision text checks")

    def __str__(self):
        return f"{self.revision_id} v{self.version}"


class FindingOverride(AppendOnlyModel):
    """An editor let one finding of one revision through, with a reason.

    The finding is named by its field, kind, term and start: a revision's text
    never changes, so the same finding keeps that key when the revision is
    checked again with a newer dictionary."""

    revision = models.ForeignKey(
        "submissions.CaseRevision",
        verbose_name=_("case revision"),
        on_delete=models.CASCADE,
        related_name="finding_overrides",
    )
    field = models.CharField(_("field"), max_length=20)
    kind = models.CharField(_("kind"), max_length=20)
    term = models.CharField(_("term"), max_length=FINDING_TERM_MAX)
    start = models.PositiveIntegerField(_("start"))
    end = models.PositiveIntegerField(_("end"))
    reason = models.TextField(_("reason"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("finding let through")
        verbose_name_plural = _("findings let through")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["revision", "field", "kind", "term", "start"],
                name="finding_override_once",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""), name="finding_override_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.revision_id} {self.field} {self.term}@{self.start}"
