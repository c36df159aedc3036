"""What changed between two revisions, marked character by character.

Chinese has no spaces between words, so a word diff would mark whole sentences;
characters are the unit. Paragraphs are matched first, then only changed
paragraphs are compared character by character, which keeps long texts fast.

The review page must always open, whatever was submitted: SequenceMatcher's
work grows with the product of the lengths (with how often each element of one
side occurs in the other), so each comparison is costed first, in linear time,
and one that would cost more than its budget is shown as replaced: the old
removed, the new added. What the two sides share at the start and the end is
taken off before, so a small change in a long paragraph is still marked
character by character.
"""

from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from html.parser import HTMLParser

from django.utils.translation import gettext as _

BLOCK_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "li", "blockquote", "figcaption", "tr", "br", "hr"}
)


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            alt = dict(attrs).get("alt") or ""
            marker = _("[image: %(alt)s]") % {"alt": alt} if alt else _("[image]")
            self.parts.append(marker)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_paragraphs(html: str) -> list[str]:
    """The text of a rich-text fragment, one string per block."""
    extractor = _TextExtractor()
    extractor.feed(html or "")
    extractor.close()
    text = "".join(extractor.parts)
    return [line.strip() for line in text.split("\n") if line.strip()]


@dataclass(frozen=True)
class Span:
    kind: str  # "same", "added" or "removed"
    text: str


# Element comparisons SequenceMatcher may make for one pair of paragraphs, for
# the paragraphs of one field, and for all the characters of one revision diff:
# at worst 0.1 to 0.2 s per million on a busy machine (make bench: diff_worst_ms).
# A rewritten paragraph of several thousand Chinese characters stays well
# within the first.
CHAR_BUDGET = 1_000_000
PARAGRAPH_BUDGET = 1_000_000
REVISION_CHAR_BUDGET = 2_000_000
# Setting up one SequenceMatcher costs about as much as this many comparisons:
# ten thousand one-word paragraphs, each changed, are no cheaper than one long.
CALL_COST = 400


class Budget:
    """What is left of a budget of comparisons (by default, one revision diff's)."""

    def __init__(self, total: int | None = None):
        self.left = REVISION_CHAR_BUDGET if total is None else total

    def fits(self, cost: int, *, limit: int) -> bool:
        return cost <= limit and cost <= self.left

    def take(self, cost: int, *, limit: int) -> bool:
        """Spend `cost` if it fits both `limit` and what is left."""
        if not self.fits(cost, limit=limit):
            return False
        self.left -= cost
        return True


def matching_cost(old, new) -> int:
    """An upper bound on the comparisons one pass of SequenceMatcher makes:
    every element of `old` is looked up among its occurrences in `new`."""
    counts = Counter(new)
    return sum(counts[item] for item in old)


def _common_ends(old, new) -> tuple[int, int]:
    """How many elements both sequences share at the start, and then at the end."""
    limit = min(len(old), len(new))
    head = 0
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return head, tail


def _opcodes(old, new, *, limit: int, budget: Budget):
    """SequenceMatcher's opcodes, or one "replace" of the middle when matching
    it would cost more than the budget allows."""
    head, tail = _common_ends(old, new)
    old_middle, new_middle = old[head : len(old) - tail], new[head : len(new) - tail]
    if old_middle and new_middle:
        # The cheap lower bound first: once the budget is spent, nothing more
        # is counted either.
        cost = CALL_COST + len(old_middle)
        if budget.fits(cost, limit=limit):
            cost += matching_cost(old_middle, new_middle)
        if budget.take(cost, limit=limit):
            matcher = SequenceMatcher(None, old_middle, new_middle, autojunk=False)
            middle = [
                (op, a1 + head, a2 + head, b1 + head, b2 + head)
                for op, a1, a2, b1, b2 in matcher.get_opcodes()
            ]
        else:
            middle = [("replace", head, len(old) - tail, head, len(new) - tail)]
    elif old_middle:
        middle = [("delete", head, len(old) - tail, head, head)]
    elif new_middle:
        middle = [("insert", head, head, head, len(new) - tail)]
    else:
        middle = []
    opcodes = [("equal", 0, head, 0, head)] if head else []
    opcodes.extend(middle)
    if tail:
        opcodes.append(("equal", len(old) - tail, len(old), len(new) - tail, len(new)))
    return opcodes


def _char_diff(old: str, new: str, *, budget: Budget) -> list[Span]:
    spans = []
    for op, old_start, old_end, new_start, new_end in _opcodes(
        old, new, limit=CHAR_BUDGET, budget=budget
    ):
        if op == "equal":
            spans.append(Span("same", old[old_start:old_end]))
            continue
        if old_end > old_start:
            spans.append(Span("removed", old[old_start:old_end]))
        if new_end > new_start:
            spans.append(Span("added", new[new_start:new_end]))
    return spans


def paragraphs_diff(
    old: list[str], new: list[str], *, budget: Budget | None = None
) -> list[list[Span]]:
    """One list of spans per paragraph of the union of both texts."""
    budget = budget or Budget()
    result = []
    # The paragraph match has a budget of its own: it is what finds the
    # paragraphs whose characters are then compared.
    opcodes = _opcodes(
        old, new, limit=PARAGRAPH_BUDGET, budget=Budget(PARAGRAPH_BUDGET)
    )
    for op, old_start, old_end, new_start, new_end in opcodes:
        old_part, new_part = old[old_start:old_end], new[new_start:new_end]
        if op == "equal":
            result.extend([Span("same", text)] for text in old_part)
        elif op == "delete":
            result.extend([Span("removed", text)] for text in old_part)
        elif op == "insert":
            result.extend([Span("added", text)] for text in new_part)
        else:
            paired = min(len(old_part), len(new_part))
            for index in range(paired):
                result.append(
                    _char_diff(old_part[index], new_part[index], budget=budget)
                )
            result.extend([Span("removed", text)] for text in old_part[paired:])
            result.extend([Span("added", text)] for text in new_part[paired:])
    return result


@dataclass(frozen=True)
class FieldDiff:
    label: str
    paragraphs: list[list[Span]]

    @property
    def changed(self) -> bool:
        return any(span.kind != "same" for spans in self.paragraphs for span in spans)


def revision_diff(old, new, *, labels: dict[str, str]) -> list[FieldDiff]:
    """Field-by-field differences between two revisions (or anything alike)."""
    fields = []
    budget = Budget()
    for name, label in labels.items():
        before, after = getattr(old, name) or "", getattr(new, name) or ""
        if name == "body":
            old_paragraphs = html_to_paragraphs(before)
            new_paragraphs = html_to_paragraphs(after)
        else:
            old_paragraphs = [line for line in before.splitlines() if line.strip()]
            new_paragraphs = [line for line in after.splitlines() if line.strip()]
        fields.append(
            FieldDiff(
                label, paragraphs_diff(old_paragraphs, new_paragraphs, budget=budget)
            )
        )
    return fields
