"""Site search (站内搜索) over the published cases.

Chinese is written without spaces, and neither PostgreSQL's text search parsers
nor SQLite's FTS5 tokenizers split it into words. So the words are cut here, in
Python, with jieba, and stored space-joined (`SearchEntry.tokens`): PostgreSQL
reads them with the `simple` configuration into a tsvector under a GIN index
(a trigger, as the row is written), SQLite into an FTS5 table (triggers too).
A query is cut by the same segmenter and every one of its words must be found
(AND); the rank is SearchRank on PostgreSQL and bm25() on SQLite, among the
newest MAX_RANKED matches, so that a very common word costs a bounded time.

jieba knows common words, not ours: the names of organisations, series and
themes go into its user dictionary, so 先进制造计量研究中心党总支 or 党建引领 is
one word to it. The dictionary is read from the database in each process at
the first segmentation, again after DICTIONARY_TTL seconds, and at every
indexing (publish, unpublish, `manage.py search_reindex`), so a renamed
organisation is a whole word everywhere within minutes. The index is cut for
search (jieba's `cut_for_search`: the long words and the shorter ones inside
them), so a query cut more finely or more coarsely still meets its words.

Segmentation can still go wrong: a product name jieba does not know may be cut
one way in the text and another way in the query. So a search whose words find
nothing looks for the query as it was typed (normalised, lower case, 3 to 50
characters) as a substring of the stored plain text, newest first. Only then:
merged into every search, a phrase common enough to be found by its words
would cost a LIKE over most rows (measured: 325 ms on 20,000 cases).
On PostgreSQL a pg_trgm GIN index makes that LIKE indexed (a query of three
characters or more has trigrams to look up; hence the lower bound); where the
extension cannot be made, the LIKE scans. On SQLite, the embedded database of
one machine, it is a LIKE over the index rows.

Indexing happens when an issue is published or unpublished
(showcase.services), never while a reader waits; the text of a published case
cannot change (only drafts and returned cases are edited), and the names of
organisations and series that an administrator changes reach the index with
the next `search_reindex`.
"""

import hashlib
import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass

import jieba
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import F, FloatField, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from casehub.zishu import visible_text
from submissions.models import Branch, Case, CaseRevision, Theme

from .models import Issue, IssueCase, SearchEntry, Series

logger = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)

MAX_QUERY_CHARS = 50
MAX_QUERY_WORDS = 12
SUBSTRING_MIN_CHARS = 3
MAX_RESULTS = 500
MAX_RANKED = 500
PAGE_SIZE = 10
SNIPPET_CHARS = 120
DICTIONARY_TTL = 300
INDEX_BATCH = 200
# Characters that are not text: control characters (NUL among them), format
# characters, unassigned and private-use code points.
NOT_TEXT = frozenset({"Cc", "Cf", "Cn", "Co", "Cs"})
# A word has a letter or a digit; punctuation and "_" alone are not searched.
WORD = re.compile(r"[^\W_]")

_tokenizer = jieba.Tokenizer()
_dictionary_lock = threading.Lock()
_dictionary_words: set[str] = set()
_dictionary_loaded_at: float | None = None


def dictionary_words() -> set[str]:
    """The names jieba must keep whole: organisations, series and themes."""
    words = set(Branch.objects.values_list("name", flat=True))
    for name, title in Series.objects.values_list("name", "title"):
        words.update((name, title))
    words.update(Theme.objects.values_list("name", flat=True))
    return {word.strip() for word in words if word and word.strip()}


def dictionary_refresh() -> None:
    """Read the user dictionary again: add new names, forget old ones."""
    global _dictionary_loaded_at
    words = dictionary_words()
    with _dictionary_lock:
        for word in _dictionary_words - words:
            _tokenizer.del_word(word)
        for word in words - _dictionary_words:
            _tokenizer.add_word(word)
        _dictionary_words.clear()
        _dictionary_words.update(words)
        _dictionary_loaded_at = time.monotonic()


def _dictionary_ready() -> None:
    loaded_at = _dictionary_loaded_at
    if loaded_at is None or time.monotonic() - loaded_at > DICTIONARY_TTL:
        dictionary_refresh()


def _words(pieces) -> list[str]:
    return [piece.lower() for piece in pieces if WORD.search(piece)]


def segment(text: str) -> list[str]:
    """The words of `text` as the index keeps them: cut for search, lower case."""
    _dictionary_ready()
    return _words(_tokenizer.cut_for_search(text))


def query_normalise(raw: str) -> str:
    """The query as searched: no control characters, single spaces, bounded."""
    text = unicodedata.normalize("NFKC", (raw or "")[: MAX_QUERY_CHARS * 4])
    text = "".join(
        " " if unicodedata.category(char) in NOT_TEXT or char.isspace() else char
        for char in text
    )
    return " ".join(text.split())[:MAX_QUERY_CHARS].strip()


def query_words(query: str) -> list[str]:
    """The words of a normalised query, each once, in order, bounded."""
    _dictionary_ready()
    words = []
    for word in _words(_tokenizer.cut(query)):
        if word not in words:
            words.append(word)
    return words[:MAX_QUERY_WORDS]


def query_digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:24]


# Indexing


def _revisions_latest(case_ids) -> dict[int, CaseRevision]:
    """What each case's public page shows: its latest revision."""
    latest = {}
    for revision in CaseRevision.objects.filter(case_id__in=case_ids).order_by(
        "case_id", "-number"
    ):
        latest.setdefault(revision.case_id, revision)
    return latest


def _entry_build(entry: IssueCase, revision: CaseRevision) -> SearchEntry:
    issue = entry.issue
    series = issue.series
    issue_label = f"第{issue.number}期"
    body_text = " ".join(visible_text(revision.body).split())
    fields = [
        revision.title,
        revision.tagline,
        revision.branch_name,
        revision.lead,
        body_text,
        series.title,
        series.name,
        issue_label,
        " ".join(revision.theme_names or []),
    ]
    text = "\n".join(field for field in fields if field)
    return SearchEntry(
        case_id=entry.case_id,
        issue=issue,
        series=series,
        branch_id=entry.case.branch_id,
        year=timezone.localtime(issue.published_at).year,
        published_at=issue.published_at,
        title=revision.title,
        tagline=revision.tagline,
        branch_name=revision.branch_name,
        series_title=series.title,
        issue_number=issue.number,
        body_text=" ".join(
            part for part in (" ".join(revision.lead.split()), body_text) if part
        ),
        plain_text=text.lower(),
        tokens=" ".join(segment(text)),
    )


def _entries_write(case_ids: list[int]) -> int:
    written = 0
    for start in range(0, len(case_ids), INDEX_BATCH):
        batch = case_ids[start : start + INDEX_BATCH]
        entries = (
            IssueCase.objects.filter(
                case_id__in=batch,
                case__status=Case.Status.PUBLISHED,
                issue__status=Issue.Status.PUBLISHED,
            )
            .select_related("issue__series", "case")
            .order_by("case_id", "-issue__published_at")
        )
        latest_entry = {}
        for entry in entries:
            latest_entry.setdefault(entry.case_id, entry)
        revisions = _revisions_latest(latest_entry)
        rows = [
            _entry_build(entry, revisions[case_id])
            for case_id, entry in latest_entry.items()
            if case_id in revisions
        ]
        SearchEntry.objects.bulk_create(rows)
        written += len(rows)
    return written


@transaction.atomic
def search_index_cases(*, case_ids) -> int:
    """Bring the entries of these cases in line with the site: an entry for
    each one published in a published issue, none for the others. Returns how
    many entries were written."""
    case_ids = sorted(set(case_ids))
    if not case_ids:
        return 0
    dictionary_refresh()
    SearchEntry.objects.filter(case_id__in=case_ids).delete()
    return _entries_write(case_ids)


def search_index_cases_on_commit(*, case_ids) -> None:
    """Index these cases once the publication commits; a failure is logged and
    leaves the cases for the next `search_reindex`, the publication stands."""
    case_ids = list(case_ids)

    def index():
        try:
            search_index_cases(case_ids=case_ids)
        except Exception:
            logger.exception("search index not updated for cases %s", case_ids)

    transaction.on_commit(index)


def search_reindex() -> int:
    """Rebuild the whole index from what the site shows; returns the entries."""
    published = list(
        Case.objects.filter(status=Case.Status.PUBLISHED).values_list("pk", flat=True)
    )
    with transaction.atomic():
        dictionary_refresh()
        SearchEntry.objects.all().delete()
        written = _entries_write(sorted(published))
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO showcase_search_fts(showcase_search_fts) "
                    "VALUES ('rebuild')"
                )
    return written


# Searching


@dataclass(frozen=True)
class SearchFilters:
    series: Series | None = None
    year: int | None = None
    branch: Branch | None = None
    theme: Theme | None = None

    @property
    def any(self) -> bool:
        return any(
            value is not None
            for value in (self.series, self.year, self.branch, self.theme)
        )


def _fts_match(words: list[str]) -> str:
    """An FTS5 query that means these words, all of them, and nothing else:
    each is a quoted string, so AND, OR, NEAR, *, ^ and quotes are text."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


@dataclass(frozen=True)
class SearchMatches:
    ranked: QuerySet[SearchEntry]
    matches: QuerySet[SearchEntry]

    def count(self) -> int:
        """How many cases were found, up to MAX_RESULTS; nothing is ranked.
        (Not counted with a LIMIT: PostgreSQL would then test row after row
        rather than read the indexes.)"""
        return min(self.matches.order_by().count(), MAX_RESULTS)


def search_entries(
    *, query: str, filters: SearchFilters = SearchFilters()
) -> SearchMatches:
    """The published cases that `query` (normalised) finds: `ranked` best
    first, and `matches` unordered, for counting."""
    entries = SearchEntry.objects.filter(series__is_active=True)
    if filters.series is not None:
        entries = entries.filter(series=filters.series)
    if filters.year is not None:
        entries = entries.filter(year=filters.year)
    if filters.branch is not None:
        entries = entries.filter(branch=filters.branch)
    if filters.theme is not None:
        entries = entries.filter(case__themes=filters.theme)
    words = query_words(query)
    needle = query.lower()
    rank = Value(0.0, output_field=FloatField())
    found = Q(pk__in=[])
    if words and connection.vendor == "postgresql":
        words_query = SearchQuery(" ".join(words), config="simple", search_type="plain")
        found = Q(vector=words_query)
        rank = SearchRank(F("vector"), words_query)
    elif words:
        match = _fts_match(words)
        found = Q(
            pk__in=RawSQL(
                "SELECT rowid FROM showcase_search_fts "
                "WHERE showcase_search_fts MATCH %s",
                [match],
            )
        )
        # bm25() is lower for better matches; negated, it ranks as SearchRank.
        rank = RawSQL(
            "(SELECT -rank FROM showcase_search_fts WHERE "
            "showcase_search_fts MATCH %s AND rowid = showcase_searchentry.id)",
            [match],
            output_field=FloatField(),
        )
    # The substring search only where the words find nothing: a phrase common
    # enough to be found by its words would cost a LIKE over most rows.
    if len(needle) >= SUBSTRING_MIN_CHARS and not entries.filter(found).exists():
        found = Q(plain_text__contains=needle)
        rank = Value(0.0, output_field=FloatField())
    matches = entries.filter(found)
    # Ranking reads every match's words: a query that finds more cases than
    # MAX_RANKED is ranked among the newest MAX_RANKED of them, so its cost
    # stays bounded however large the archive grows.
    newest = matches.order_by("-published_at", "-pk").values("pk")[:MAX_RANKED]
    ranked = (
        SearchEntry.objects.filter(pk__in=newest)
        .annotate(rank=rank)
        .order_by("-rank", "-published_at", "-pk")
    )
    return SearchMatches(ranked=ranked, matches=matches)


def search_terms(query: str) -> list[str]:
    """What the snippets mark: the query's words and the query itself."""
    terms = query_words(query)
    if query and query.lower() not in terms:
        terms.append(query.lower())
    return terms


def _terms_pattern(terms) -> re.Pattern | None:
    ordered = sorted({term for term in terms if term}, key=len, reverse=True)
    if not ordered:
        return None
    return re.compile("|".join(re.escape(term) for term in ordered), re.IGNORECASE)


def highlight(text: str, terms, *, width: int | None = None) -> SafeString:
    """`text` escaped, the terms in it wrapped in <mark>. With `width`, only
    that many characters around the first match, with … where text was cut."""
    pattern = _terms_pattern(terms)
    first = pattern.search(text) if pattern else None
    prefix = suffix = ""
    if width is not None:
        start = max(0, first.start() - width // 3) if first else 0
        end = start + width
        prefix = "…" if start > 0 else ""
        suffix = "…" if end < len(text) else ""
        text = text[start:end]
    pieces = [prefix]
    position = 0
    if pattern is not None:
        for match in pattern.finditer(text):
            pieces.append(escape(text[position : match.start()]))
            pieces.append(f"<mark>{escape(match.group())}</mark>")
            position = match.end()
    pieces.append(escape(text[position:]))
    pieces.append(suffix)
    # Every piece of the text went through escape(); only our <mark> is markup.
    return mark_safe("".join(pieces))  # noqa: S308


@dataclass(frozen=True)
class SearchResult:
    entry: SearchEntry
    title: SafeString
    snippet: SafeString


def search_results(entries, *, query: str) -> list[SearchResult]:
    """One page of entries with their titles and snippets marked."""
    terms = search_terms(query)
    return [
        SearchResult(
            entry=entry,
            title=highlight(entry.title, terms),
            snippet=highlight(entry.body_text, terms, width=SNIPPET_CHARS),
        )
        for entry in entries
    ]


class _Paginator(Paginator):
    """A paginator told how to count: by the unranked matches."""

    def __init__(self, object_list, per_page, *, count):
        super().__init__(object_list, per_page)
        self._count = count

    @cached_property
    def count(self) -> int:
        return self._count()


def search_page(
    *, query: str, filters: SearchFilters = SearchFilters(), page_number=1
) -> tuple[Page, list[SearchResult]]:
    """One page of what `query` finds, as the search page shows it: at most
    MAX_RESULTS cases, PAGE_SIZE a page, a page number out of range the last."""
    found = search_entries(query=query, filters=filters)
    paginator = _Paginator(found.ranked[:MAX_RESULTS], PAGE_SIZE, count=found.count)
    page = paginator.get_page(page_number)
    return page, search_results(page.object_list, query=query)
