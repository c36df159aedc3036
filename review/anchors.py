"""Where a note's passage stands in a revision's text.

A note keeps its passage (the quote) with the offsets it had in the visible
text of its field (`textcheck.services.visible_text`, the offsets the text
check's findings use) and a little of the text either side. In the revision
it was written on the offsets are checked against the quote; in a later
revision the quote is looked for again, and among its occurrences the one
whose surroundings match best, then the nearest to the old place, wins.
"""

from textcheck.services import visible_text

from .models import Note, NoteAnchor

# The fields a note may be written on; the body is rich text, the lead plain.
NOTED_FIELDS = (Note.Field.BODY, Note.Field.LEAD)
# Characters kept either side of a passage to find it again.
CONTEXT = 40
# Occurrences of a quote weighed at most: a passage a hundred times in a text
# is one no surrounding tells apart anyway.
MAX_OCCURRENCES = 200


def field_text(revision, field: str) -> str:
    """The visible text of `field` of `revision` (a case or a revision)."""
    if field == Note.Field.BODY:
        return visible_text(revision.body or "")
    return revision.lead or ""


def context_of(text: str, start: int, end: int) -> tuple[str, str]:
    """The text before and after `start`…`end`, CONTEXT characters each."""
    return text[max(0, start - CONTEXT) : start], text[end : end + CONTEXT]


def _shared_suffix(left: str, right: str) -> int:
    count = 0
    for a, b in zip(reversed(left), reversed(right), strict=False):
        if a != b:
            break
        count += 1
    return count


def _shared_prefix(left: str, right: str) -> int:
    count = 0
    for a, b in zip(left, right, strict=False):
        if a != b:
            break
        count += 1
    return count


def passage_locate(
    text: str, *, quote: str, start: int, before: str = "", after: str = ""
) -> int | None:
    """Where `quote` starts in `text`: at `start` if it is there, else the
    occurrence whose surroundings match `before`/`after` best, the nearest
    to `start` among equals; None when the quote is not in the text."""
    if not quote:
        return None
    if text[start : start + len(quote)] == quote:
        return start
    best = None
    position = text.find(quote)
    seen = 0
    while position != -1 and seen < MAX_OCCURRENCES:
        around = _shared_suffix(text[max(0, position - CONTEXT) : position], before)
        around += _shared_prefix(
            text[position + len(quote) : position + len(quote) + CONTEXT], after
        )
        score = (around, -abs(position - start))
        if best is None or score > best[0]:
            best = (score, position)
        seen += 1
        position = text.find(quote, position + 1)
    return None if best is None else best[1]


def notes_carry(*, previous, revision) -> list[NoteAnchor]:
    """Anchor the notes written on `previous` in `revision`, its successor:
    each where its passage is now, or nowhere ("passage changed")."""
    notes = list(Note.objects.filter(revision=previous).prefetch_related("anchors"))
    texts: dict[str, str] = {}
    anchors = []
    for note in notes:
        if note.field not in texts:
            texts[note.field] = field_text(revision, note.field)
        own = next(
            (a for a in note.anchors.all() if a.revision_id == previous.pk), None
        )
        start = passage_locate(
            texts[note.field],
            quote=note.quote,
            start=own.start if own is not None and own.found else 0,
            before=note.before,
            after=note.after,
        )
        anchors.append(
            NoteAnchor(
                note=note,
                revision=revision,
                start=start,
                end=None if start is None else start + len(note.quote),
            )
        )
    return NoteAnchor.objects.bulk_create(anchors)
