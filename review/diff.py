"""What changed between two revisions, marked character by character.

Chinese has no spaces between words, so a word diff would mark whole sentences;
characters are the unit. Paragraphs are matched first, then only changed
paragraphs are compared character by character, which keeps long texts fast.
"""

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


def _char_diff(old: str, new: str) -> list[Span]:
    spans = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for op, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if op == "equal":
            spans.append(Span("same", old[old_start:old_end]))
            continue
        if old_end > old_start:
            spans.append(Span("removed", old[old_start:old_end]))
        if new_end > new_start:
            spans.append(Span("added", new[new_start:new_end]))
    return spans


def paragraphs_diff(old: list[str], new: list[str]) -> list[list[Span]]:
    """One list of spans per paragraph of the union of both texts."""
    result = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for op, old_start, old_end, new_start, new_end in matcher.get_opcodes():
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
                result.append(_char_diff(old_part[index], new_part[index]))
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
    for name, label in labels.items():
        before, after = getattr(old, name) or "", getattr(new, name) or ""
        if name == "body":
            old_paragraphs = html_to_paragraphs(before)
            new_paragraphs = html_to_paragraphs(after)
        else:
            old_paragraphs = [line for line in before.splitlines() if line.strip()]
            new_paragraphs = [line for line in after.splitlines() if line.strip()]
        fields.append(FieldDiff(label, paragraphs_diff(old_paragraphs, new_paragraphs)))
    return fields
