"""The check itself: a text (or the visible text of HTML) against the
dictionaries and the built-in rules, as a list of findings.

The dictionary is one Aho-Corasick automaton (pyahocorasick) per dictionary
version and process, built on first use and rebuilt when the version in the
database moves on, so a check costs one query and one pass over the text
however many terms there are. The matches are taken leftmost-longest and
never overlap: where terms overlap, the one that starts first (the longest of
those) is the one written, and the others are not findings.

- sensitive: the term is a finding; its replacement (if any) the suggestion.
- expression: the term is a finding with the standard form as suggestion,
  unless the standard form itself is written there (the standard form often
  contains the wrong one: 党的十九大 holds 十九大). Where the term stands in
  the standard form is known when the automaton is built, so that check is
  one comparison per match.
- person: a title within three characters before or after the name (no
  punctuation between) that is a known title but not one of the person's.
  Known titles are TITLES plus every person's own; the longest title found
  counts (副院长, not the 院长 inside it); a title agrees with the person's
  when one ends with the other with no 副 or 总 before it (党委书记 and 书记
  agree, 副院长 and 院长 do not).
"""

import threading
from dataclasses import dataclass, fields

import ahocorasick
from django.utils.translation import gettext as _

from .models import (
    CHECKED_FIELDS,
    TITLE_SEPARATOR,
    BuiltinCheck,
    Dictionary,
    Severity,
    Term,
)
from .rules import BUILTIN_CHECKS, words
from .visible import visible_text

TITLES = words(
    """
    书记 副书记 院长 副院长 所长 副所长 主任 副主任 部长 副部长 处长 副处长 科长 副科长
    局长 副局长 厅长 副厅长 司长 副司长 董事长 副董事长 董事 总经理 副总经理 经理 副经理
    总裁 副总裁 主席 副主席 秘书长 副秘书长 总工程师 副总工程师 总会计师 总经济师 总师
    委员 常委 组长 副组长 校长 副校长 会长 副会长 理事长 副理事长 监事长 社长 副社长
    主编 副主编 总编辑 副总编辑 馆长 副馆长 站长 副站长 队长 副队长 省长 副省长 市长
    副市长 县长 副县长 区长 副区长 镇长 副镇长 乡长 副乡长 总监 副总监 首席科学家
    """
)
# Rank words: a title with one of these before the person's title is another post.
RANK_MARKS = ("副", "总")
TITLE_WINDOW = 3
# What may stand between a name and its title besides letters: spaces and an
# opening bracket. 的 and the conjunctions make it someone else's title
# (张三的副院长, 张三和李四副院长).
TITLE_GAP_PUNCTUATION = frozenset(" \u3000（(")
TITLE_GAP_REFUSED = frozenset("的和与及或")


@dataclass(frozen=True)
class Finding:
    """One thing to look at: `start`/`end` index the visible text (end
    exclusive); `term` is the text there, `suggestion` what to write."""

    kind: str
    term: str
    start: int
    end: int
    severity: str
    suggestion: str
    message: str

    def as_dict(self) -> dict:
        return {field.name: getattr(self, field.name) for field in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> "Finding":
        return cls(**{field.name: data[field.name] for field in fields(cls)})

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.kind, self.term, self.start)


FINDING_KEYS = tuple(field.name for field in fields(Finding))


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: str
    term: str
    replacement: str
    severity: str
    # expression: where the term stands inside its standard form.
    offsets: tuple[int, ...] = ()
    # person: the correct titles, first the one a suggestion uses.
    titles: tuple[str, ...] = ()


# Findings kept for one field of a case: a page shows them all and a stored
# result holds them all, so their number is bounded; past it the blocking ones
# are kept first, so a case that must not be published still cannot be.
MAX_FIELD_FINDINGS = 1000

# The order one span's entries are tried in: the first that finds wins.
KIND_ORDER = {Term.Kind.SENSITIVE: 0, Term.Kind.EXPRESSION: 1, Term.Kind.PERSON: 2}


@dataclass(frozen=True)
class LoadedDictionary:
    """The dictionary of one version, ready to match."""

    version: int
    stamp: tuple
    automaton: object | None
    titles: frozenset[str]
    title_lengths: tuple[int, ...]
    modes: dict[str, str]


_loaded: LoadedDictionary | None = None
_loading = threading.Lock()


def dictionary_load() -> LoadedDictionary:
    """The current dictionary: one query when this process has it already.

    The stamp is the version and the time of the last change, so a rolled
    back edit that left the same number behind (tests do) is rebuilt too."""
    global _loaded
    row = Dictionary.objects.filter(pk=1).values_list("version", "changed_at").first()
    stamp = tuple(row) if row else (0, None)
    loaded = _loaded
    if loaded is not None and loaded.stamp == stamp:
        return loaded
    with _loading:
        if _loaded is not None and _loaded.stamp == stamp:
            return _loaded
        _loaded = _build(stamp)
        return _loaded


def _build(stamp: tuple) -> LoadedDictionary:
    entries: dict[str, list[_Entry]] = {}
    titles = set(TITLES)
    rows = Term.objects.values_list("kind", "term", "replacement", "severity")
    for kind, term, replacement, severity in rows.iterator(chunk_size=5000):
        if not term:
            continue
        entry = _entry(kind, term, replacement, severity)
        if kind == Term.Kind.PERSON:
            if not entry.titles:
                continue
            titles.update(entry.titles)
        entries.setdefault(term, []).append(entry)
    automaton = None
    if entries:
        automaton = ahocorasick.Automaton()
        for term, found in entries.items():
            found.sort(key=lambda entry: KIND_ORDER.get(entry.kind, 9))
            automaton.add_word(term, (len(term), tuple(found)))
        automaton.make_automaton()
    modes = dict.fromkeys(BUILTIN_CHECKS, BuiltinCheck.DEFAULT_MODE.value)
    modes.update(BuiltinCheck.objects.values_list("kind", "mode"))
    return LoadedDictionary(
        version=stamp[0],
        stamp=stamp,
        automaton=automaton,
        titles=frozenset(titles),
        title_lengths=tuple(sorted({len(title) for title in titles}, reverse=True)),
        modes=modes,
    )


def _entry(kind: str, term: str, replacement: str, severity: str) -> _Entry:
    if kind == Term.Kind.EXPRESSION:
        offsets = []
        position = replacement.find(term)
        while position != -1:
            offsets.append(position)
            position = replacement.find(term, position + 1)
        return _Entry(kind, term, replacement, severity, offsets=tuple(offsets))
    if kind == Term.Kind.PERSON:
        titles = tuple(
            title.strip()
            for title in replacement.split(TITLE_SEPARATOR)
            if title.strip()
        )
        return _Entry(kind, term, replacement, severity, titles=titles)
    return _Entry(kind, term, replacement, severity)


def text_check(*, text: str | None = None, html: str | None = None) -> list[Finding]:
    """The findings in a plain text or in the visible text of (sanitised)
    HTML, sorted by start. Linear in the text; nothing is refused, the
    fields' own bounds cap what comes in."""
    if (text is None) == (html is None):
        raise TypeError("text_check takes exactly one of text and html.")
    return findings_in(
        visible_text(html) if html is not None else text, dictionary_load()
    )


def case_text_check(*, title: str, tagline: str, lead: str, body: str) -> dict:
    """{field: findings} for a case's text (body HTML, the others plain), as
    a draft or preview shows it: computed, not stored."""
    return fields_check(
        {"title": title, "tagline": tagline, "lead": lead, "body": body},
        dictionary_load(),
    )


def fields_check(values: dict, dictionary: LoadedDictionary) -> dict:
    """{field: findings} of a case's four fields, each at most
    MAX_FIELD_FINDINGS."""
    result = {}
    for name in CHECKED_FIELDS:
        text = values[name] or ""
        if name == "body":
            text = visible_text(text)
        result[name] = findings_bounded(findings_in(text, dictionary))
    return result


def findings_bounded(findings: list[Finding]) -> list[Finding]:
    """At most MAX_FIELD_FINDINGS, the blocking ones first, sorted by start."""
    if len(findings) <= MAX_FIELD_FINDINGS:
        return findings
    kept = sorted(
        findings,
        key=lambda finding: (finding.severity != Severity.BLOCK, finding.start),
    )[:MAX_FIELD_FINDINGS]
    return sorted(kept, key=lambda finding: (finding.start, finding.end, finding.kind))


def findings_in(text: str, dictionary: LoadedDictionary) -> list[Finding]:
    found = _dictionary_findings(text, dictionary)
    for kind, check in BUILTIN_CHECKS.items():
        mode = dictionary.modes.get(kind, BuiltinCheck.DEFAULT_MODE)
        if mode == BuiltinCheck.Mode.OFF:
            continue
        found.extend(
            Finding(kind, term, start, end, mode, suggestion, message)
            for kind, start, end, term, suggestion, message in check(text)
        )
    found.sort(key=lambda finding: (finding.start, finding.end, finding.kind))
    return found


def _dictionary_findings(text: str, dictionary: LoadedDictionary) -> list[Finding]:
    if dictionary.automaton is None or not text:
        return []
    longest: dict[int, tuple[int, tuple[_Entry, ...]]] = {}
    for last, (length, entries) in dictionary.automaton.iter(text):
        start = last - length + 1
        known = longest.get(start)
        if known is None or known[0] <= last:
            longest[start] = (last + 1, entries)
    messages = _messages()
    found = []
    reach = 0
    for start in sorted(longest):
        if start < reach:
            continue
        end, entries = longest[start]
        reach = end
        for entry in entries:
            finding = _entry_finding(text, start, end, entry, dictionary, messages)
            if finding is not None:
                found.append(finding)
                break
    return found


def _messages() -> dict[str, str]:
    """The messages, translated once a check rather than once a finding."""
    return {
        "sensitive": _("“%(term)s” must not be used: write “%(right)s” instead."),
        "sensitive_delete": _("“%(term)s” must not be used: delete or rephrase it."),
        "expression": _(
            "“%(term)s” is not the standard expression: write “%(right)s”."
        ),
        "person": _(
            "%(name)s's title is “%(titles)s”, not “%(wrong)s”: write “%(right)s”."
        ),
    }


def _entry_finding(text, start, end, entry: _Entry, dictionary, messages):
    if entry.kind == Term.Kind.SENSITIVE:
        message = messages["sensitive" if entry.replacement else "sensitive_delete"]
        return Finding(
            entry.kind,
            entry.term,
            start,
            end,
            entry.severity,
            entry.replacement,
            message % {"term": entry.term, "right": entry.replacement},
        )
    if entry.kind == Term.Kind.EXPRESSION:
        for offset in entry.offsets:
            if offset <= start and text.startswith(entry.replacement, start - offset):
                return None
        return Finding(
            entry.kind,
            entry.term,
            start,
            end,
            entry.severity,
            entry.replacement,
            messages["expression"] % {"term": entry.term, "right": entry.replacement},
        )
    if entry.kind == Term.Kind.PERSON:
        return _person_finding(text, start, end, entry, dictionary, messages)
    return None


def _person_finding(text, start, end, entry: _Entry, dictionary, messages):
    near = _title_near(text, start, end, dictionary)
    if near is None:
        return None
    title_start, title_end = near
    title = text[title_start:title_end]
    if _title_agrees(title, entry.titles):
        return None
    span_start, span_end = min(start, title_start), max(end, title_end)
    suggestion = (
        text[span_start:title_start] + entry.titles[0] + text[title_end:span_end]
    )
    return Finding(
        entry.kind,
        text[span_start:span_end],
        span_start,
        span_end,
        entry.severity,
        suggestion,
        messages["person"]
        % {
            "name": entry.term,
            "titles": "、".join(entry.titles),
            "wrong": title,
            "right": suggestion,
        },
    )


def _title_near(text, start, end, dictionary) -> tuple[int, int] | None:
    """The known title nearest the name (within TITLE_WINDOW characters, no
    punctuation between), the longest where titles nest; after the name
    before before it."""
    titles, lengths = dictionary.titles, dictionary.title_lengths
    candidates = []
    for gap in range(TITLE_WINDOW + 1):
        if gap and not _gap_allowed(text[end + gap - 1 : end + gap]):
            break
        left = end + gap
        for length in lengths:
            if left + length <= len(text) and text[left : left + length] in titles:
                candidates.append((gap, 0, left, left + length))
    for gap in range(TITLE_WINDOW + 1):
        if gap and not _gap_allowed(text[start - gap : start - gap + 1]):
            break
        right = start - gap
        for length in lengths:
            if length <= right and text[right - length : right] in titles:
                candidates.append((gap, 1, right - length, right))
    spans = [(left, right) for _, _, left, right in candidates]
    outermost = [
        candidate
        for candidate in candidates
        if not any(
            (left <= candidate[2] and candidate[3] <= right)
            and (left, right) != (candidate[2], candidate[3])
            for left, right in spans
        )
    ]
    if not outermost:
        return None
    _gap, _side, left, right = min(
        outermost, key=lambda c: (c[0], -(c[3] - c[2]), c[1])
    )
    return left, right


def _gap_allowed(character: str) -> bool:
    if not character or character == "\n":
        return False
    if character in TITLE_GAP_REFUSED:
        return False
    return character.isalnum() or character in TITLE_GAP_PUNCTUATION


def _title_agrees(title: str, titles: tuple[str, ...]) -> bool:
    for own in titles:
        if title == own:
            return True
        longer, shorter = (title, own) if len(title) > len(own) else (own, title)
        if longer.endswith(shorter) and not any(
            mark in longer[: -len(shorter)] for mark in RANK_MARKS
        ):
            return True
    return False
