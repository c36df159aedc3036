"""The text check's writes: results stored with revisions, findings let
through, and every dictionary edit.

A dictionary edit (a term saved, deleted or imported, a built-in check
switched) locks the Dictionary row, bumps its version once, writes one
TermEvent per entry changed and, on commit, queues the re-check of the
revisions still on their way to publication. A check result is current when
it carries the current version, so `revision_check` is cheap to call from
any page: one query for the version, one for the stored result.

The engine (`text_check`, `visible_text`, `highlight_html`, `Finding`) lives
in textcheck.check and textcheck.visible and is importable from here too.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from casehub.exceptions import NotPermitted, WrongState

from . import tasks
from .check import (
    FINDING_KEYS,
    Finding,
    case_text_check,
    dictionary_load,
    fields_check,
    text_check,
)
from .models import (
    CHECKED_FIELDS,
    BuiltinCheck,
    Dictionary,
    FindingOverride,
    RevisionCheck,
    Term,
    TermEvent,
    dictionary_version,
    term_problems,
)
from .terms_csv import problems_error, terms_export, terms_read
from .visible import highlight_html, highlight_text, visible_text

__all__ = [
    "FINDING_KEYS",
    "Finding",
    "builtin_mode_save",
    "case_text_check",
    "dictionary_version",
    "finding_override_record",
    "highlight_html",
    "highlight_text",
    "revision_block_message",
    "revision_check",
    "revision_open_findings",
    "term_delete",
    "term_save",
    "terms_delete",
    "terms_export",
    "terms_import",
    "terms_read",
    "text_check",
    "visible_text",
]


def revision_check(revision) -> RevisionCheck:
    """The revision's stored check if it used the current dictionary, else
    the check computed now and stored (also when the worker has not run yet).

    A result computed with an older dictionary never replaces a newer one
    another process stored meanwhile."""
    dictionary = dictionary_load()
    try:
        stored = revision.text_check
    except RevisionCheck.DoesNotExist:
        stored = None
    if stored is not None and stored.version == dictionary.version:
        return stored
    checked = fields_check(
        {field: getattr(revision, field) for field in CHECKED_FIELDS}, dictionary
    )
    findings = {
        field: [finding.as_dict() for finding in found]
        for field, found in checked.items()
    }
    now = timezone.now()
    stored_now = RevisionCheck.objects.filter(
        revision=revision, version__lte=dictionary.version
    ).update(version=dictionary.version, findings=findings, checked_at=now)
    if not stored_now:
        try:
            with transaction.atomic():
                RevisionCheck.objects.create(
                    revision=revision,
                    version=dictionary.version,
                    findings=findings,
                    checked_at=now,
                )
        except IntegrityError:
            pass  # another process stored a result first; it is read below
    check = RevisionCheck.objects.get(revision=revision)
    check.revision = revision
    return check


def revision_findings(check: RevisionCheck) -> list[tuple[str, Finding]]:
    """(field, finding) for every finding of a stored check, field by field."""
    return [
        (field, Finding.from_dict(data))
        for field in CHECKED_FIELDS
        for data in check.findings.get(field, [])
    ]


def revision_open_findings(
    revision, *, severity: str | None = None
) -> list[tuple[str, Finding]]:
    """The revision's findings no editor has let through, in field order;
    only those of `severity` when given. Reads prefetched overrides."""
    overridden = {
        (override.field, override.kind, override.term, override.start)
        for override in revision.finding_overrides.all()
    }
    return [
        (field, finding)
        for field, finding in revision_findings(revision_check(revision))
        if (field, *finding.key) not in overridden
        and (severity is None or finding.severity == severity)
    ]


def revision_block_message(revision) -> str | None:
    """Why the revision may not be scheduled or published yet, or None."""
    blocking = revision_open_findings(revision, severity=Term.Severity.BLOCK)
    if not blocking:
        return None
    count = len(blocking)
    return ngettext(
        "%(count)d text problem must be resolved (first: “%(term)s”) before the "
        "case can be scheduled or published: correct it, or an editor lets it "
        "through with a reason.",
        "%(count)d text problems must be resolved (first: “%(term)s”) before the "
        "case can be scheduled or published: correct them, or an editor lets "
        "them through with a reason.",
        count,
    ) % {"count": count, "term": blocking[0][1].term}


def finding_override_record(
    *, revision, field: str, finding: Finding, reason: str, actor
) -> FindingOverride:
    """Let one finding of the revision through, with the reason. The caller
    (review.workflow) checks the actor's role and writes the case's event."""
    reason = (reason or "").strip()
    if not reason:
        raise WrongState(_("Say why this finding may be let through."))
    if field not in CHECKED_FIELDS:
        raise WrongState(_("This finding is not in the revision's text check."))
    current = {
        found.key: found
        for found_field, found in revision_findings(revision_check(revision))
        if found_field == field
    }
    stored = current.get(finding.key)
    if stored is None:
        raise WrongState(_("This finding is not in the revision's text check."))
    try:
        with transaction.atomic():
            return FindingOverride.objects.create(
                revision=revision,
                field=field,
                kind=stored.kind,
                term=stored.term,
                start=stored.start,
                end=stored.end,
                reason=reason,
                actor=actor,
            )
    except IntegrityError:
        raise WrongState(_("This finding has already been let through.")) from None


# Dictionary edits


def _require(acting_user, *permissions: str) -> None:
    """The admin's own model permissions; None is the command line."""
    if acting_user is None:
        return
    if not all(acting_user.has_perm(f"textcheck.{name}") for name in permissions):
        raise NotPermitted(_("You may not change the text check's dictionary."))


def _dictionary_locked() -> Dictionary:
    """The Dictionary row, locked: every edit waits for the one before it."""
    dictionary = Dictionary.objects.select_for_update().filter(pk=1).first()
    if dictionary is None:
        Dictionary.objects.get_or_create(pk=1, defaults={"version": 0})
        dictionary = Dictionary.objects.select_for_update().get(pk=1)
    return dictionary


def _version_bump(dictionary: Dictionary) -> int:
    dictionary.version += 1
    dictionary.changed_at = timezone.now()
    dictionary.save(update_fields=["version", "changed_at"])
    # Robust: a broker that is down leaves the re-check to the first page or
    # publication that reads the result, never the edit itself refused.
    transaction.on_commit(tasks.open_revisions_recheck.delay, robust=True)
    return dictionary.version


def _snapshot(term: Term) -> dict[str, str]:
    return {
        "kind": term.kind,
        "term": term.term,
        "replacement": term.replacement,
        "severity": term.severity,
        "note": term.note,
    }


def _cleaned(row: dict) -> dict[str, str]:
    return {
        "kind": str(row.get("kind", "")).strip(),
        "term": str(row.get("term", "")).strip(),
        "replacement": str(row.get("replacement", "")).strip(),
        "severity": str(row.get("severity", "")).strip(),
        "note": str(row.get("note", "")).strip(),
    }


@transaction.atomic
def term_save(
    *,
    kind: str,
    term: str,
    replacement: str,
    severity: str,
    note: str,
    acting_user,
    current: Term | None = None,
) -> Term:
    """Add the entry, or change the one with this kind and term (or
    `current`, which may be renamed). Saving what is already there changes
    nothing and bumps no version."""
    values = _cleaned(
        {
            "kind": kind,
            "term": term,
            "replacement": replacement,
            "severity": severity,
            "note": note,
        }
    )
    problems = term_problems(**values)
    if problems:
        raise ValidationError(problems)
    dictionary = _dictionary_locked()
    same_name = Term.objects.select_for_update().filter(
        kind=values["kind"], term=values["term"]
    )
    if current is not None:
        entry = Term.objects.select_for_update().get(pk=current.pk)
        if same_name.exclude(pk=entry.pk).exists():
            raise ValidationError(
                _("The dictionary has this term of this kind already.")
            )
        _require(acting_user, "change_term")
    else:
        entry = same_name.first()
        _require(acting_user, "change_term" if entry else "add_term")
    before = _snapshot(entry) if entry is not None else None
    if entry is None:
        entry = Term()
    for name, value in values.items():
        setattr(entry, name, value)
    after = _snapshot(entry)
    if before == after:
        return entry
    entry.save()
    TermEvent.objects.create(
        actor=acting_user,
        action=TermEvent.Action.ADD if before is None else TermEvent.Action.CHANGE,
        kind=entry.kind,
        term=entry.term,
        before=before,
        after=after,
        version=_version_bump(dictionary),
    )
    return entry


@transaction.atomic
def terms_delete(*, terms, acting_user) -> int:
    """Delete the entries (one version bump for all); returns how many."""
    _require(acting_user, "delete_term")
    dictionary = _dictionary_locked()
    entries = list(
        Term.objects.select_for_update()
        .filter(pk__in=[term.pk for term in terms])
        .order_by("pk")
    )
    if not entries:
        return 0
    version = _version_bump(dictionary)
    TermEvent.objects.bulk_create(
        TermEvent(
            actor=acting_user,
            action=TermEvent.Action.DELETE,
            kind=entry.kind,
            term=entry.term,
            before=_snapshot(entry),
            after=None,
            version=version,
        )
        for entry in entries
    )
    Term.objects.filter(pk__in=[entry.pk for entry in entries]).delete()
    return len(entries)


def term_delete(*, term: Term, acting_user) -> None:
    terms_delete(terms=[term], acting_user=acting_user)


IMPORT_BATCH = 2000


@transaction.atomic
def terms_import(*, rows, acting_user) -> dict[str, int]:
    """Add the rows' entries and replace those with the same kind and term;
    entries not in the rows stay. All or nothing: a bad row (numbered as in
    the CSV, the header being row 1: a row's "row" when it has one) refuses
    the whole import."""
    _require(acting_user, "add_term", "change_term")
    rows = list(rows)
    values = [_cleaned(row) for row in rows]
    problems = []
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(values):
        number = rows[index].get("row", index + 2)
        for problem in term_problems(**row):
            problems.append(
                _("Row %(row)d: %(problem)s") % {"row": number, "problem": problem}
            )
        key = (row["kind"], row["term"])
        if key in seen:
            problems.append(
                _("Row %(row)d: the same kind and term as row %(first)d.")
                % {"row": number, "first": seen[key]}
            )
        seen.setdefault(key, number)
    if problems:
        raise problems_error(problems)
    dictionary = _dictionary_locked()
    existing = {
        (entry.kind, entry.term): entry
        for entry in Term.objects.select_for_update().iterator(chunk_size=IMPORT_BATCH)
    }
    added, changed, events = [], [], []
    for row in values:
        entry = existing.get((row["kind"], row["term"]))
        if entry is None:
            added.append(Term(**row))
            events.append((TermEvent.Action.ADD, None, row))
            continue
        before = _snapshot(entry)
        if before == row:
            continue
        for name, value in row.items():
            setattr(entry, name, value)
        entry.updated_at = timezone.now()
        changed.append(entry)
        events.append((TermEvent.Action.CHANGE, before, row))
    counts = {
        "added": len(added),
        "changed": len(changed),
        "unchanged": len(values) - len(added) - len(changed),
    }
    if not events:
        return counts
    version = _version_bump(dictionary)
    Term.objects.bulk_create(added, batch_size=IMPORT_BATCH)
    Term.objects.bulk_update(
        changed,
        ["replacement", "severity", "note", "updated_at"],
        batch_size=IMPORT_BATCH,
    )
    TermEvent.objects.bulk_create(
        (
            TermEvent(
                actor=acting_user,
                action=action,
                kind=after["kind"],
                term=after["term"],
                before=before,
                after=after,
                version=version,
            )
            for action, before, after in events
        ),
        batch_size=IMPORT_BATCH,
    )
    return counts


@transaction.atomic
def builtin_mode_save(*, kind: str, mode: str, acting_user) -> BuiltinCheck:
    """Switch a built-in check off, to warn or to block; audited like a term."""
    if kind not in BuiltinCheck.Kind.values or mode not in BuiltinCheck.Mode.values:
        raise ValidationError(_("Unknown built-in check or mode."))
    _require(acting_user, "change_builtincheck")
    dictionary = _dictionary_locked()
    check, _created = BuiltinCheck.objects.select_for_update().get_or_create(
        kind=kind, defaults={"mode": BuiltinCheck.DEFAULT_MODE}
    )
    before = check.mode
    if before == mode:
        return check
    check.mode = mode
    check.save(update_fields=["mode"])
    TermEvent.objects.create(
        actor=acting_user,
        action=TermEvent.Action.CHANGE,
        kind=kind,
        term="",
        before={"mode": before},
        after={"mode": mode},
        version=_version_bump(dictionary),
    )
    return check
