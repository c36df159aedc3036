"""Where a note's passage stands in a revision's text.

A note keeps its passage (the quote) with the offsets it had in the visible
text of its field (`textcheck.services.visible_text`, the offsets the text
check's findings use) and a little of the text either side. In the revision
it was written on the offsets are checked against the quote; in a later
revision the quote is looked for again, and among its occurrences the one
whose surroundings match best, then the nearest to the old place (mapped
through what changed, `OffsetMap`), wins.
"""

from functools import lru_cache

from django.db.models import Exists, OuterRef, Q
from django.utils.text import normalize_newlines

from textcheck.services import visible_text

from .models import Decision, Note, NoteAnchor, NoteResponse

# The fields a note may be written on; the body is rich text, the lead plain.
NOTED_FIELDS = (Note.Field.BODY, Note.Field.LEAD)
# Characters kept either side of a passage to find it again.
CONTEXT = 40
# Occurrences of a quote weighed at most, the nearest to the old place: a
# passage a hundred times in a text is one no surrounding tells apart anyway.
MAX_OCCURRENCES = 200


@lru_cache(maxsize=8)
def _body_text(body: str) -> str:
    # A revision is frozen and a round's notes are added to it one by one:
    # its body is read once, not once a note (8 bodies of at most 1 MB).
    return visible_text(body)


def field_text(revision, field: str) -> str:
    """The visible text of `field` of `revision` (a case or a revision)."""
    if field == Note.Field.BODY:
        return _body_text(revision.body or "")
    # The lead as its page shows it (Django's linebreaks), whatever line
    # breaks the form sent.
    return normalize_newlines(revision.lead or "")


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


def _occurrences_near(text: str, quote: str, start: int):
    """The places of `quote` in `text`, nearest to `start` first, at most
    MAX_OCCURRENCES of them: each side is searched outward from `start`, so
    the text is read once however often the quote is in it."""
    right = text.find(quote, start)
    left = text.rfind(quote, 0, start - 1 + len(quote)) if start > 0 else -1
    for _ in range(MAX_OCCURRENCES):
        if right == -1 and left == -1:
            return
        if left == -1 or (right != -1 and right - start <= start - left):
            yield right
            right = text.find(quote, right + 1)
        else:
            yield left
            left = text.rfind(quote, 0, left - 1 + len(quote)) if left > 0 else -1


def passage_locate(
    text: str, *, quote: str, start: int, before: str = "", after: str = ""
) -> int | None:
    """Where `quote` starts in `text`: among the occurrences nearest to
    `start`, the one whose surroundings match `before`/`after` best, the
    nearest to `start` among equals; None when the quote is not in the text.
    """
    if not quote:
        return None
    start = max(0, min(start, len(text)))
    best = None
    for position in _occurrences_near(text, quote, start):
        around = _shared_suffix(text[max(0, position - CONTEXT) : position], before)
        around += _shared_prefix(
            text[position + len(quote) : position + len(quote) + CONTEXT], after
        )
        score = (around, -abs(position - start), -position)
        if best is None or score > best[0]:
            best = (score, position)
    return None if best is None else best[1]


def _common_prefix(left: str, right: str) -> int:
    """The length of the longest common prefix, by halving: the comparisons
    are the strings' own, so a megabyte costs milliseconds."""
    low, high = 0, min(len(left), len(right))
    while low < high:
        middle = (low + high + 1) // 2
        if left[:middle] == right[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


class OffsetMap:
    """Where an offset of the old text is likely to be in the new one: the
    same in the part before the first change, shifted by the change in
    length in the part after the last, and in proportion in between. It
    orders the occurrences of a passage when their surroundings tie."""

    def __init__(self, old: str, new: str):
        self.prefix = _common_prefix(old, new)
        most = min(len(old), len(new)) - self.prefix
        self.suffix = min(_common_prefix(old[::-1], new[::-1]), most)
        self.old_length, self.new_length = len(old), len(new)

    def __call__(self, offset: int) -> int:
        if offset <= self.prefix:
            return offset
        old_end = self.old_length - self.suffix
        new_end = self.new_length - self.suffix
        if offset >= old_end:
            return offset - old_end + new_end
        span = old_end - self.prefix
        return self.prefix + (offset - self.prefix) * (new_end - self.prefix) // span


def notes_carry(*, previous, revision) -> list[NoteAnchor]:
    """Anchor in `revision`, its successor, the notes that go on from
    `previous`: those written on it, and those of earlier rounds that were
    still open when it was submitted (not marked done, their passage still
    found in it); each where
    its passage is now, or nowhere ("passage changed"). Only notes of rounds
    that were decided go on, and none withdrawn: the branch never saw those."""
    decided = Decision.objects.filter(
        revision_id=OuterRef("note__revision_id"), stage_id=OuterRef("note__stage_id")
    )
    # Done before `previous` was submitted: the reviewer of `previous` saw
    # it done. One done while `previous` was back with the branch goes on
    # once more, for the next reviewer to see it done.
    done = NoteResponse.objects.filter(
        note_id=OuterRef("note_id"),
        kind=NoteResponse.Kind.DONE,
        created_at__lt=previous.created_at,
    )
    going_on = (
        NoteAnchor.objects.filter(revision=previous, note__withdrawal__isnull=True)
        .filter(Exists(decided))
        .filter(Q(note__revision=previous) | (Q(start__isnull=False) & ~Exists(done)))
        .select_related("note")
        .order_by("pk")
    )
    texts: dict[str, str] = {}
    places: dict[str, OffsetMap] = {}
    anchors = []
    for own in going_on:
        note = own.note
        if note.field not in texts:
            texts[note.field] = field_text(revision, note.field)
            places[note.field] = OffsetMap(
                field_text(previous, note.field), texts[note.field]
            )
        start = passage_locate(
            texts[note.field],
            quote=note.quote,
            start=places[note.field](own.start) if own.found else 0,
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
