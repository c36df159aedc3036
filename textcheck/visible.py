"""The text a reader sees in a rich-text field, and the findings marked in it.

`visible_text` defines the offsets every finding uses: the text nodes of the
HTML, entities decoded, with one "\\n" between block elements (so a visible
line is a paragraph, a heading, a list item or a table cell). While it builds
that string it keeps, for each text node, where the node lies in the HTML
source; `highlight_html` reads the same table to put the marks back on the
source, so a finding found in the visible text is marked on exactly those
characters, split at every tag it crosses, and everything outside the marks
is copied from the input unchanged.
"""

import html
import itertools
from dataclasses import dataclass
from html.parser import HTMLParser

from django.utils.safestring import SafeString, mark_safe

# Elements that start a new visible line, before and after them.
BLOCK_TAGS = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "ul",
        "ol",
        "blockquote",
        "table",
        "caption",
        "tr",
        "td",
        "th",
        "div",
        "figure",
        "figcaption",
        "br",
        "hr",
    }
)
# Their content is never shown (a page given to the command line may have them;
# the sanitiser drops them from anything saved).
HIDDEN_TAGS = frozenset(
    {"script", "style", "template", "title", "noscript", "svg", "math", "textarea"}
)


@dataclass(frozen=True, slots=True)
class TextPiece:
    """One text node (or one entity) of the source and its place in both texts.

    A plain piece is the same characters in the source and the visible text,
    so it can be cut anywhere; an entity (`&amp;`) is kept whole."""

    visible_start: int
    visible_end: int
    source_start: int
    source_end: int
    plain: bool


class _Reader(HTMLParser):
    def __init__(self, source: str):
        super().__init__(convert_charrefs=False)
        self.source = source
        self.line_starts = [0]
        position = source.find("\n")
        while position != -1:
            self.line_starts.append(position + 1)
            position = source.find("\n", position + 1)
        # (source offset, kind, decoded text or tag name) for every token.
        self.tokens: list[tuple[int, str, str]] = []

    def _here(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag, attrs):
        self.tokens.append((self._here(), "start", tag))

    def handle_startendtag(self, tag, attrs):
        self.tokens.append((self._here(), "void", tag))

    def handle_endtag(self, tag):
        self.tokens.append((self._here(), "end", tag))

    def handle_data(self, data):
        self.tokens.append((self._here(), "data", data))

    def handle_entityref(self, name):
        self.tokens.append((self._here(), "entity", name))

    def handle_charref(self, name):
        self.tokens.append((self._here(), "entity", name))

    def handle_comment(self, data):
        self.tokens.append((self._here(), "other", ""))

    def handle_decl(self, decl):
        self.tokens.append((self._here(), "other", ""))

    def handle_pi(self, data):
        self.tokens.append((self._here(), "other", ""))

    def unknown_decl(self, data):
        self.tokens.append((self._here(), "other", ""))


def _read(source: str) -> tuple[str, list[TextPiece]]:
    reader = _Reader(source)
    reader.feed(source)
    reader.close()
    tokens = reader.tokens
    parts: list[str] = []
    pieces: list[TextPiece] = []
    length = 0
    at_line_start = True
    line_break = False
    hidden = 0
    for index, (start, kind, value) in enumerate(tokens):
        end = tokens[index + 1][0] if index + 1 < len(tokens) else len(source)
        if kind in ("start", "void", "end"):
            if value in HIDDEN_TAGS and kind != "void":
                hidden = hidden + 1 if kind == "start" else max(hidden - 1, 0)
            elif value in BLOCK_TAGS and not at_line_start:
                # Written before the next text, so no block leaves a "\n" at
                # the end or two in a row.
                line_break = True
                at_line_start = True
            continue
        if hidden or kind == "other":
            continue
        if kind == "data":
            text = value
            # Layout whitespace between blocks (between <tr> and <td>, after
            # </p>) is no text a reader sees.
            if at_line_start and not text.strip():
                continue
        else:
            text = html.unescape(source[start:end])
        if line_break:
            parts.append("\n")
            length += 1
            line_break = False
        parts.append(text)
        pieces.append(
            TextPiece(length, length + len(text), start, end, plain=kind == "data")
        )
        length += len(text)
        at_line_start = text.endswith("\n")
    return "".join(parts), pieces


def visible_text(html_text: str) -> str:
    """The text a reader sees, block elements separated by "\\n"."""
    return _read(html_text)[0]


def text_pieces(html_text: str) -> tuple[str, list[TextPiece]]:
    """`visible_text` and, for each text node, where it lies in the source."""
    return _read(html_text)


@dataclass(frozen=True, slots=True)
class _Segment:
    start: int
    end: int
    finding: int


def _segments(findings, length: int) -> list[_Segment]:
    """The visible text cut where findings start and end, each cut given to
    the innermost finding covering it; a finding left with nothing (the same
    span as an earlier one) gets an empty anchor at its start, so every
    finding has its id on the page."""
    spans = []
    for index, finding in enumerate(findings):
        start = max(0, min(finding.start, length))
        end = max(start, min(finding.end, length))
        spans.append((start, end, index))
    cuts = sorted({position for start, end, _ in spans for position in (start, end)})
    by_start = sorted(spans)
    active: list[tuple[int, int, int]] = []
    segments: list[_Segment] = []
    covered = set()
    next_span = 0
    for left, right in itertools.pairwise(cuts):
        active = [span for span in active if span[1] > left]
        while next_span < len(by_start) and by_start[next_span][0] <= left:
            if by_start[next_span][1] > left:
                active.append(by_start[next_span])
            next_span += 1
        if not active:
            continue
        innermost = max(active, key=lambda span: (span[0], -span[1], -span[2]))
        index = innermost[2]
        covered.add(index)
        if segments and segments[-1].finding == index and segments[-1].end == left:
            segments[-1] = _Segment(segments[-1].start, right, index)
        else:
            segments.append(_Segment(left, right, index))
    anchors = [
        _Segment(start, start, index)
        for start, end, index in spans
        if index not in covered
    ]
    return sorted(segments + anchors, key=lambda s: (s.start, s.end, s.finding))


def _mark_open(finding, index: int, *, id_prefix: str, with_id: bool) -> str:
    severity = html.escape(str(finding.severity), quote=True)
    identity = (
        f' id="{html.escape(f"{id_prefix}-{index}", quote=True)}"' if with_id else ""
    )
    title = html.escape(str(finding.message), quote=True)
    return (
        f'<mark class="finding finding-{severity}"{identity} '
        f'data-finding="{index}" title="{title}">'
    )


class _Marker:
    """Writes marks for segments in order, the id on each finding's first."""

    def __init__(self, findings, id_prefix: str):
        self.findings = findings
        self.id_prefix = id_prefix
        self.marked: set[int] = set()

    def wrap(self, index: int, content: str) -> str:
        opening = _mark_open(
            self.findings[index],
            index,
            id_prefix=self.id_prefix,
            with_id=index not in self.marked,
        )
        self.marked.add(index)
        return f"{opening}{content}</mark>"


def highlight_html(html_text: str, findings, *, id_prefix: str) -> SafeString:
    """`html_text` (already sanitised) with each finding's visible range in
    `<mark class="finding finding-<severity>" id="<id_prefix>-<i>"
    data-finding="<i>" title="<message>">`, i the finding's index in
    `findings`; a range over several elements gets one mark in each."""
    text, pieces = _read(html_text)
    segments = _segments(findings, len(text))
    if not segments:
        return mark_safe(html_text)  # noqa: S308 (sanitised HTML, as it came)
    marker = _Marker(findings, id_prefix)
    out: list[str] = []
    cursor = 0
    first = 0  # the first segment that may still reach the runs ahead
    for run in _runs(pieces):
        while first < len(segments) and segments[first].end < run[0].visible_start:
            first += 1
        out.append(html_text[cursor : run[0].source_start])
        cursor = run[-1].source_end
        out.append(_run_marked(html_text, run, segments, first, marker))
    out.append(html_text[cursor:])
    # The input's own bytes between marks; every attribute written is escaped.
    return mark_safe("".join(out))  # noqa: S308


def _runs(pieces: list[TextPiece]) -> list[list[TextPiece]]:
    """Pieces with no tag between them (text and its entities): one mark
    may hold several."""
    runs: list[list[TextPiece]] = []
    for piece in pieces:
        if (
            runs
            and runs[-1][-1].source_end == piece.source_start
            and runs[-1][-1].visible_end == piece.visible_start
        ):
            runs[-1].append(piece)
        else:
            runs.append([piece])
    return runs


def _run_marked(source, run: list[TextPiece], segments, first, marker) -> str:
    run_start, run_end = run[0].visible_start, run[-1].visible_end
    inside = []
    for index in range(first, len(segments)):
        segment = segments[index]
        if segment.start >= run_end:
            break
        if segment.start == segment.end:
            if run_start <= segment.start:
                inside.append(segment)
        elif segment.end > run_start:
            inside.append(segment)
    if not inside:
        return source[run[0].source_start : run[-1].source_end]
    out = []
    position = run_start
    for segment in inside:
        start = max(segment.start, run_start)
        end = min(segment.end, run_end)
        if start > position:
            out.append(_source_of(source, run, position, start))
            position = start
        out.append(marker.wrap(segment.finding, _source_of(source, run, start, end)))
        position = max(position, end)
    if position < run_end:
        out.append(_source_of(source, run, position, run_end))
    return "".join(out)


def _source_of(source, run: list[TextPiece], start: int, end: int) -> str:
    """The source of visible characters start…end of a run. An entity is one
    character to the reader and is never cut: it goes with the range it
    starts in."""
    out = []
    for piece in run:
        if piece.visible_end <= start or piece.visible_start >= end:
            continue
        if piece.plain:
            left = max(start, piece.visible_start) - piece.visible_start
            right = min(end, piece.visible_end) - piece.visible_start
            out.append(source[piece.source_start + left : piece.source_start + right])
        elif start <= piece.visible_start:
            out.append(source[piece.source_start : piece.source_end])
    return "".join(out)


def highlight_text(text: str, findings, *, id_prefix: str) -> SafeString:
    """The same marks on a plain-text field (title, tagline, lead), escaped."""
    segments = _segments(findings, len(text))
    marker = _Marker(findings, id_prefix)
    out = []
    position = 0
    for segment in segments:
        if segment.start > position:
            out.append(html.escape(text[position : segment.start], quote=False))
            position = segment.start
        content = html.escape(text[segment.start : segment.end], quote=False)
        out.append(marker.wrap(segment.finding, content))
        position = max(position, segment.end)
    out.append(html.escape(text[position:], quote=False))
    return mark_safe("".join(out))  # noqa: S308 (every text inside was escaped)
