"""Findings of the text check as the pages show them.

One row per finding, in the order of the case's fields and, within a field,
of the text: its field's name, its number (the same as its mark's in the
highlighted text, `textcheck.services.highlight_html`), and the quote a
reviewer puts into a return comment. The writer's, the reviewer's and the
editor's pages all list them through this, so a finding reads the same
everywhere.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from textcheck.models import CHECKED_FIELDS, Severity
from textcheck.services import Finding, highlight_html

# The fields a revision's check covers, in the order a reader meets them.
FIELDS = CHECKED_FIELDS
FIELD_LABELS = {
    "title": gettext_lazy("Title"),
    "tagline": gettext_lazy("Tagline"),
    "lead": gettext_lazy("Lead paragraph"),
    "body": gettext_lazy("Body"),
}
SEVERITY_LABELS = dict(Severity.choices)
# The fields shown through `highlight_html`; the others are short and listed.
HIGHLIGHTED = frozenset({"body"})


@dataclass(frozen=True)
class FindingRow:
    field: str
    finding: Finding
    # The finding's place among its field's findings: its mark's number.
    index: int
    id_prefix: str

    @property
    def field_label(self) -> str:
        return str(FIELD_LABELS.get(self.field, self.field))

    @property
    def severity_label(self) -> str:
        return str(SEVERITY_LABELS.get(self.finding.severity, self.finding.severity))

    @property
    def is_block(self) -> bool:
        return self.finding.severity == "block"

    @property
    def item_id(self) -> str:
        return f"{self.id_prefix}-item-{self.field}-{self.index}"

    @property
    def mark_id(self) -> str:
        """The id of the finding's mark in the text, "" for a field not highlighted."""
        if self.field not in HIGHLIGHTED:
            return ""
        return mark_prefix(self.id_prefix, self.field) + f"-{self.index}"

    @property
    def quote(self) -> str:
        return finding_quote(self.finding)


def mark_prefix(id_prefix: str, field: str) -> str:
    """The `id_prefix` to give `highlight_html` for `field`'s marks."""
    return f"{id_prefix}-{field}"


def finding_quote(finding: Finding) -> str:
    """The finding as a reviewer quotes it to the branch in a comment."""
    values = {
        "term": finding.term,
        "message": finding.message,
        "suggestion": finding.suggestion,
    }
    if finding.suggestion:
        return _("“%(term)s”: %(message)s (suggestion: %(suggestion)s)") % values
    return _("“%(term)s”: %(message)s") % values


def by_field(pairs) -> dict[str, list[Finding]]:
    """(field, finding) pairs as {field: findings}, every field present."""
    grouped = {field: [] for field in FIELDS}
    for field, finding in pairs:
        grouped.setdefault(field, []).append(finding)
    return grouped


def finding_rows(findings: dict[str, list[Finding]], *, id_prefix: str) -> list:
    """The rows of `findings` ({field: findings}), fields in reading order."""
    ordered = [field for field in FIELDS if field in findings]
    ordered += sorted(set(findings) - set(FIELDS))
    return [
        FindingRow(field=field, finding=finding, index=index, id_prefix=id_prefix)
        for field in ordered
        for index, finding in enumerate(findings[field])
    ]


def severity_counts(pairs) -> dict[str, int]:
    """How many of the (field, finding) pairs block, and how many only warn."""
    counts = {"block": 0, "warn": 0}
    for _field, finding in pairs:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts


def findings_context(*, text, findings: dict[str, list[Finding]], id_prefix: str):
    """What a page shows of `findings` ({field: findings} of `text`, a case or
    a revision): the rows to list, and the body with each finding marked."""
    body_findings = findings.get("body", [])
    body_html = ""
    if body_findings:
        body_html = highlight_html(
            text.body, body_findings, id_prefix=mark_prefix(id_prefix, "body")
        )
    return {
        "findings": finding_rows(findings, id_prefix=id_prefix),
        "body_html": body_html,
    }
