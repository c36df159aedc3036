"""Stored XSS: public attack strings typed into every field that is shown again.

The corpus (tests/data/xss/payloads.jsonl; sources and licences in its README)
goes in through the real form views, the cases are reviewed and published, and
every page that shows a field again is read with an HTML parser: nothing people
typed may come out as a script, an event handler, a script address or an
embedding element. Chromium then opens the published pages and no dialog may
open.

Rich text carries many payloads per field to keep the run short. Each payload
follows a marked paragraph, and one that leaves a tag, a quote or a raw-text
element open is followed by CLOSER; every marked paragraph must come through
the sanitiser, which shows that no payload hid the ones after it (the few that
hide everything after them go last in their field).
"""

import collections
import datetime
import itertools
import json
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.html import escape

from authoring.forms import CaseWithdrawForm
from casehub.richtext import sanitize_html
from inbox.models import Notification
from review import workflow as review
from review.anchors import field_text
from review.forms import DecisionForm, NoteForm, ReopenForm
from review.models import CaseEvent, Decision, Note, NoteResponse, NoteWithdrawal
from review.notes import MAX_NOTES_PER_ROUND
from showcase import services as showcase
from showcase.api import html_for_other_sites
from showcase.cache import public_cache_bump_on_commit
from showcase.forms import IssueNoteForm, IssueUnpublishForm
from showcase.models import Issue, Series
from submissions.models import Case
from tests.review.factories import committed, decide, draft, latest, people
from tests.showcase.factories import published_issue, series
from tests.submissions.factories import signed_in

CORPUS = Path(__file__).resolve().parents[1] / "data" / "xss"

# Attributes a browser reads as an address to load or to go to.
URL_ATTRIBUTES = frozenset(
    {
        "action",
        "archive",
        "background",
        "cite",
        "classid",
        "codebase",
        "data",
        "dynsrc",
        "formaction",
        "href",
        "icon",
        "longdesc",
        "lowsrc",
        "manifest",
        "ping",
        "poster",
        "profile",
        "src",
        "srcset",
        "usemap",
        "xlink:href",
    }
)
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")
IMAGE_DATA = "data:image/"
# Elements none of our templates writes: on a page, they came from input.
FOREIGN_ELEMENTS = frozenset(
    {
        "applet",
        "base",
        "embed",
        "frame",
        "frameset",
        "iframe",
        "math",
        "object",
        "portal",
        "style",
        "svg",
        "template",
    }
)
OUR_LINK_RELS = frozenset({"alternate", "canonical", "icon", "stylesheet"})

# Ends whatever a payload left open (a quoted attribute, a tag, a comment, a
# raw-text or foreign element), so the next payload is read from a clean start.
CLOSER = (
    "`'\">-->]]></script></style></textarea></title></xmp></noembed></noframes>"
    "</iframe></noscript></object></template></select></svg></math></table></a>"
)
SHORT_FIELDS = ("title", "tagline", "author_name", "source")
# Case bodies for the form test (about 30 payloads each) and for Chromium
# (about 50 each), and cases per issue.
FORM_CASES = 40
BROWSER_CASES = 26
ISSUE_SIZE = 8
# Every fifth case of the form test goes round twice: edited through the form,
# and shown on the review page with what changed.
SECOND_ROUND_EVERY = 5
# Only a sample of the corpus goes through these rarer reasons.
WITHDRAW_ROUNDS = 4
UNPUBLISH_ROUNDS = 8


@cache
def corpus() -> tuple[str, ...]:
    with (CORPUS / "payloads.jsonl").open(encoding="utf-8") as lines:
        return tuple(json.loads(line)["payload"] for line in lines)


def max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


class PageReading(HTMLParser):
    """What on a page could run script, and the text of its paragraphs."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.dangers: list[str] = []
        self.paragraphs: set[str] = set()
        self._paragraph: list[str] | None = None
        self._script: str | None = None
        self._forms: list[dict] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        named = dict(attrs)
        for name, value in attrs:
            if (
                name.startswith("on")
                or name in ("style", "srcdoc")
                or (name in URL_ATTRIBUTES and _loads_script(tag, name, value or ""))
            ):
                self.dangers.append(f"<{tag} {name}={(value or '')[:60]!r}>")
        if tag == "script":
            self._script = named.get("type") or "script"
            # JSON configuration for the editor is data a browser never runs.
            ours = (named.get("src") or "").startswith("/static/")
            if not ours and self._script != "application/json":
                self.dangers.append(f"<script {named}>")
        elif tag in FOREIGN_ELEMENTS:
            self.dangers.append(f"<{tag} {named}>")
        elif tag == "meta" and "http-equiv" in named:
            self.dangers.append(f"<meta {named}>")
        elif tag == "link":
            rels = set((named.get("rel") or "").lower().split())
            if not rels or not rels <= OUR_LINK_RELS:
                self.dangers.append(f"<link {named}>")
        elif tag == "form":
            self._forms.append({"attrs": named, "csrf": False})
        elif tag == "input" and named.get("name") == "csrfmiddlewaretoken":
            if self._forms and named.get("value"):
                self._forms[-1]["csrf"] = True
        elif tag == "p":
            self._paragraph = []

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None
        elif tag == "form" and self._forms:
            self._form_check(self._forms.pop())
        elif tag == "p" and self._paragraph is not None:
            self.paragraphs.add("".join(self._paragraph))
            self._paragraph = None

    def handle_data(self, data):
        if self._script not in (None, "application/json") and data.strip():
            self.dangers.append(f"inline script {data[:60]!r}")
        if self._paragraph is not None:
            self._paragraph.append(data)

    def close(self):
        super().close()
        while self._forms:
            self._form_check(self._forms.pop())

    def _form_check(self, form):
        """Our forms post with a CSRF token, or are GET search forms, or are
        the footer's language switch (tokenless, for the shared cache)."""
        attrs = form["attrs"]
        if (attrs.get("method") or "get").lower() == "get":
            ours = attrs.get("role") == "search"
        else:
            action = (attrs.get("action") or "").split("?")[0]
            switch = action.startswith("/lang/") and (
                resolve(action).url_name == "language_switch"
            )
            ours = form["csrf"] or switch
        if not ours:
            self.dangers.append(f"<form {attrs}>")


def _loads_script(tag: str, name: str, value: str) -> bool:
    if tag == "img" and name == "src" and _squeezed(value).startswith(IMAGE_DATA):
        return False  # an image, SVG included, runs no script (the QR code)
    if name == "srcset":
        addresses = [part.split()[0] for part in value.split(",") if part.split()]
    else:
        addresses = [value]
    return any(_squeezed(address).startswith(SCRIPT_SCHEMES) for address in addresses)


def _squeezed(address: str) -> str:
    """The address without whitespace and control characters, which browsers skip."""
    return "".join(
        char
        for char in address
        if not char.isspace() and unicodedata.category(char) != "Cc"
    ).lower()


def inert(html: str, where: str) -> PageReading:
    try:
        reading = PageReading(html)
    except AssertionError as error:
        # html.parser gives up on markup no template writes, such as "<![".
        pytest.fail(f"{where}: stray markup: {error}")
    assert not reading.dangers, f"{where}: {reading.dangers[:5]}"
    return reading


def page(client: Client, url: str, *, status: int = 200) -> str:
    """GET `url`, which must answer `status` and carry nothing that runs."""
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    html = response.content.decode()
    inert(html, url)
    return html


def feed_items(client: Client, url: str) -> list:
    """The feed's items; feed readers show each description as HTML."""
    response = client.get(url)
    assert response.status_code == 200, url
    items = ET.fromstring(response.content).find("channel").findall("item")
    for item in items:
        inert(item.findtext("description") or "", f"{url} {item.findtext('guid')}")
        for address in (item.findtext("link"), item.findtext("guid")):
            assert not _loads_script("a", "href", address or ""), address
    return items


# The API's fields that hold HTML, shown as HTML by the sites that embed them.
API_HTML_FIELDS = frozenset({"body_html", "note_html", "editors_note_html"})


def api_answer(client: Client, url: str, *, status: int = 200) -> dict:
    """GET the API's `url`: JSON in which no character could open or close a
    tag, should a site write it into a page as it is, and whose HTML fields
    carry nothing that runs."""
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    assert response["Content-Type"] == "application/json", url
    raw = response.content.decode()
    assert not set(raw) & set("<>&"), url
    answer = json.loads(raw)
    _api_inert(answer, url)
    return answer


def _api_inert(value, where: str) -> None:
    if isinstance(value, list):
        for item in value:
            _api_inert(item, where)
    elif isinstance(value, dict):
        for name, item in value.items():
            if name in API_HTML_FIELDS:
                inert(item, f"{where} {name}")
            elif name.endswith("url") and isinstance(item, str):
                assert not _loads_script("a", "href", item), (where, name, item)
            else:
                _api_inert(item, where)


def _read_after(html: str) -> bool:
    """True when a paragraph after `html` comes through the sanitiser."""
    probe = sanitize_html(f"{html}<p>xss-probe</p>")
    return "xss-probe" in PageReading(probe).paragraphs


@cache
def leaves_open(payload: str) -> bool:
    return not _read_after(payload)


@cache
def hides_the_rest(payload: str) -> bool:
    """True for the few payloads (<plaintext>, say) after which no markup is read."""
    return not _read_after(f"{payload}{CLOSER}")


@dataclass
class RichText:
    html: str
    markers: list[str]

    def assert_came_through(self, saved: str, where: str) -> None:
        """`saved` runs nothing, and every payload was read from a clean start."""
        reading = inert(saved, where)
        hidden = [marker for marker in self.markers if marker not in reading.paragraphs]
        assert not hidden, f"{where}: a payload hid the ones after it: {hidden[:5]}"


def rich_text(payloads, label: str) -> RichText:
    parts, markers = [], []
    for number, payload in enumerate(payloads):
        marker = f"xss-{label}-{number}"
        markers.append(marker)
        parts.append(f"<p>{marker}</p>{payload}")
        if leaves_open(payload) and not hides_the_rest(payload):
            parts.append(CLOSER)
    return RichText("".join(parts), markers)


def dealt(payloads, hands: int) -> list[list[str]]:
    """The payloads in `hands` runs of neighbours, each with at most one hider last."""
    ordinary = [payload for payload in payloads if not hides_the_rest(payload)]
    hiders = [payload for payload in payloads if hides_the_rest(payload)]
    assert len(hiders) <= hands
    size = -(-len(ordinary) // hands)
    runs = [ordinary[start : start + size] for start in range(0, len(ordinary), size)]
    for index, hider in enumerate(hiders):
        runs[index].append(hider)
    return runs


def rich_bundles(payloads, limit: int) -> list[list[str]]:
    """The payloads in runs whose rich text stays within `limit` characters."""
    ordinary = [payload for payload in payloads if not hides_the_rest(payload)]
    runs = [[]]
    for payload in ordinary:
        if len(rich_text([*runs[-1], payload], "bundle-000").html) > limit:
            runs.append([])
        runs[-1].append(payload)
    runs.extend([payload] for payload in payloads if hides_the_rest(payload))
    assert all(len(rich_text(run, "bundle-000").html) <= limit for run in runs)
    return runs


def plain_bundles(payloads, limit: int) -> list[str]:
    """The payloads joined line by line into texts of at most `limit` characters."""
    texts = [""]
    for payload in payloads:
        assert len(payload) <= limit
        joined = f"{texts[-1]}\n{payload}" if texts[-1] else payload
        if len(joined) > limit:
            texts.append(payload)
        else:
            texts[-1] = joined
    return texts


def passages_of(text: str, limit: int) -> list[tuple[int, int]]:
    """`text` cut at line ends into runs of whole lines of at most `limit`
    characters (a longer line is left out)."""
    spans: list[list[int]] = []
    position = 0
    for line in text.split("\n"):
        end = position + len(line)
        if len(line) > limit:
            spans.append([])  # a line too long ends the run
        elif spans and spans[-1] and end - spans[-1][0] <= limit:
            spans[-1][1] = end
        else:
            spans.append([position, end])
        position = end + 1
    return [(a, b) for a, b in (span for span in spans if span) if text[a:b].strip()]


class ShortValues:
    """Payloads for one-line fields in corpus order; those too long are kept aside."""

    def __init__(self, fields: dict[str, int]):
        self.fields = fields
        self._payloads = itertools.cycle(corpus())

    def take(self) -> tuple[dict[str, str], dict[str, str]]:
        fitting, too_long = {}, {}
        for name, limit in self.fields.items():
            payload = next(self._payloads)
            while len(payload.strip()) > limit:
                too_long.setdefault(name, payload)
                payload = next(self._payloads)
            fitting[name] = payload
        return fitting, too_long


def refused(client: Client, url: str, data: dict, too_long: dict) -> None:
    """The form says each field in `too_long` is too long and shows that again."""
    response = client.post(url, {**data, **too_long})
    assert response.status_code == 200, (url, response.status_code)
    errors = response.context["form"].errors
    html = response.content.decode()
    for name in too_long:
        assert [error.code for error in errors.as_data()[name]] == ["max_length"]
        assert escape(errors[name][0]) in html
    inert(html, f"{url} (refused)")


def decided_by_form(client: Client, case: Case, outcome: str, comment: str):
    case.refresh_from_db()
    response = client.post(
        reverse("review:case", args=[case.pk]),
        {
            "outcome": outcome,
            "comment": comment,
            "revision": latest(case).pk,
            "stage": case.current_stage_id,
        },
    )
    assert response.status_code == 302, response.content[:300]
    event = case.events.latest("created_at", "pk")
    assert event.comment == comment.strip()
    return event


def embeds(the_series) -> list[str]:
    """The list other sites frame, of the series and of every series."""
    embed = reverse("showcase:embed_issues")
    return [f"{embed}?series={the_series.slug}&limit=20", f"{embed}?limit=20"]


def issue_published(who, the_series, cases, *, day: int) -> Issue:
    issue = showcase.issue_plan(
        series=the_series,
        scheduled_at=timezone.now() + datetime.timedelta(days=day),
        acting_user=who.editor,
        cases=cases,
    )
    return showcase.issue_publish(issue=issue, acting_user=who.editor)


def in_issues(cases) -> list[tuple[int, list]]:
    """The cases in issue-sized runs, each with a day of its own."""
    return [
        (day, cases[start : start + ISSUE_SIZE])
        for day, start in enumerate(range(0, len(cases), ISSUE_SIZE), start=1)
    ]


class XssCorpusTests:
    def test_corpus_holds_over_a_thousand_unique_payloads_of_known_sources(self):
        rows = [
            json.loads(line)
            for line in (CORPUS / "payloads.jsonl").read_text("utf-8").split("\n")
            if line
        ]
        payloads = [row["payload"] for row in rows]
        assert len(set(payloads)) == len(payloads) >= 1000
        readme = (CORPUS / "README.md").read_text("utf-8")
        for source in {row["source"] for row in rows}:
            assert f"`{source}`" in readme, source


@pytest.mark.django_db
class StoredXssTests:
    def test_case_fields_stay_inert_from_the_form_to_the_published_pages(self, who):
        secretary, reviewer = signed_in(who.secretary), signed_in(who.reviewer1)
        values = ShortValues({name: max_length(Case, name) for name in SHORT_FIELDS})
        self.refusals = collections.Counter()
        cases = []
        for number, payloads in enumerate(dealt(corpus(), FORM_CASES)):
            body = rich_text(payloads, f"body{number}")
            case = self._written(secretary, who, values, "\n\n".join(payloads), body)
            body.assert_came_through(case.body, f"case {case.pk} body")
            page(secretary, reverse("submissions:case_preview", args=[case.pk]))
            review.case_submit(case=case, acting_user=who.secretary)
            if number % SECOND_ROUND_EVERY == 0:
                review.case_withdraw(case=case, acting_user=who.secretary)
                self._edited(secretary, case, values)
                review.case_submit(case=case, acting_user=who.secretary)
            page(reviewer, reverse("review:case", args=[case.pk]))
            decide(case, "approve", who.reviewer1, comment="")
            decide(case, "approve", who.reviewer2, comment="")
            cases.append(case)

        reader, the_series = Client(), series()
        feed = reverse("showcase:feed", args=[the_series.slug])
        issues = []
        for day, issue_cases in in_issues(cases):
            issues.append(issue_published(who, the_series, issue_cases, day=day))
            # The feed lists the latest cases only: read it after every issue.
            assert feed_items(reader, feed)
        page(reader, reverse("home"))
        page(reader, the_series.get_absolute_url())
        for url in embeds(the_series):
            page(reader, url)
            page(secretary, url)
        for issue in issues:
            page(reader, issue.get_absolute_url())
        for case in cases:
            page(reader, reverse("showcase:case", args=[case.pk]))
            page(secretary, case.get_absolute_url())
        for number in range(1, -(-len(cases) // 20) + 1):
            page(secretary, f"{reverse('submissions:case_list')}?page={number}")
        assert self.refusals["create"] and self.refusals["edit"]
        self._read_through_the_api(reader, the_series, issues, cases)

    def _read_through_the_api(self, reader, the_series, issues, cases) -> None:
        """The API gives what the pages show: the sanitised HTML (its addresses
        on this site made absolute) and the typed text as stored, neither
        escaped twice nor altered."""
        listed = api_answer(
            reader, reverse("api:issue_list", args=[the_series.slug]) + "?page_size=50"
        )
        assert len(listed["items"]) == len(issues)
        api_answer(reader, reverse("api:latest_issues") + "?limit=20")
        for issue in issues:
            api_answer(
                reader, reverse("api:issue", args=[the_series.slug, issue.number])
            )
        for case in cases:
            answer = api_answer(reader, reverse("api:case", args=[case.pk]))
            revision = latest(case)
            assert answer["body_html"] == html_for_other_sites(revision.body)
            assert (answer["title"], answer["tagline"], answer["author"]) == (
                revision.title,
                revision.tagline,
                revision.author_name,
            )
            assert (answer["source"], answer["lead"]) == (
                revision.source,
                revision.lead,
            )

    def _written(self, client, who, values, lead, body) -> Case:
        url = reverse("submissions:case_create")
        fitting, too_long = values.take()
        data = {"branch": who.branch.pk, "lead": lead, "body": body.html, **fitting}
        if too_long:
            before = Case.objects.count()
            refused(client, url, data, too_long)
            assert Case.objects.count() == before
            self.refusals["create"] += 1
        response = client.post(url, data)
        assert response.status_code == 302, response.content[:300]
        return Case.objects.get(pk=resolve(response.url).kwargs["pk"])

    def _edited(self, client, case, values) -> None:
        url = reverse("submissions:case_update", args=[case.pk])
        case.refresh_from_db()
        fitting, too_long = values.take()
        data = {"version": case.version, "lead": case.lead, "body": case.body}
        if too_long:
            refused(client, url, {**data, **fitting}, too_long)
            saved = Case.objects.get(pk=case.pk)
            assert saved.version == case.version
            assert all(getattr(saved, name) == getattr(case, name) for name in fitting)
            self.refusals["edit"] += 1
        response = client.post(url, {**data, **fitting})
        assert response.status_code == 302, response.content[:300]

    def test_review_comments_and_reasons_stay_inert_wherever_shown(self, who):
        secretary, editor = signed_in(who.secretary), signed_in(who.editor)
        reviewer, final_reviewer = signed_in(who.reviewer1), signed_in(who.reviewer2)
        cases = [draft(who, title=f"审核意见{number}") for number in range(3)]
        for case in cases:
            review.case_submit(case=case, acting_user=who.secretary)
        comments = plain_bundles(
            corpus(), DecisionForm.base_fields["comment"].max_length
        )
        for number, comment in enumerate(comments):
            case = cases[number % len(cases)]
            decided_by_form(reviewer, case, Decision.Outcome.RETURN, comment)
            review.case_resubmit(case=case, acting_user=who.secretary)
        for case in cases:
            page(reviewer, reverse("review:case", args=[case.pk]))
        returned, approved, rejected = cases

        # Returned: the branch sees the last comment above the history.
        decided_by_form(reviewer, returned, Decision.Outcome.RETURN, comments[0])
        assert 'class="return-note"' in page(secretary, returned.get_absolute_url())
        received = Notification.objects.filter(recipient=who.secretary).count()
        for number in range(1, -(-received // 30) + 1):
            page(secretary, f"{reverse('inbox:list')}?page={number}")

        # Approved with comments; a decision that comes too late is refused and
        # the reviewer is shown the comment again.
        decided_by_form(reviewer, approved, Decision.Outcome.APPROVE, comments[1])
        decided_by_form(final_reviewer, approved, Decision.Outcome.APPROVE, comments[2])
        late = comments[3]
        response = reviewer.post(
            reverse("review:case", args=[approved.pk]),
            {"outcome": "return", "comment": late, "revision": 1, "stage": 1},
        )
        assert response.status_code == 302
        assert escape(late.strip()[:20]) in page(reviewer, response.url)
        page(secretary, approved.get_absolute_url())

        # Rejected, then reopened by an editor with a reason.
        reasons = plain_bundles(corpus(), ReopenForm.base_fields["comment"].max_length)
        decided_by_form(reviewer, rejected, Decision.Outcome.REJECT, comments[4])
        page(editor, reverse("review:rejected"))
        response = editor.post(
            reverse("review:reopen", args=[rejected.pk]), {"comment": reasons[5]}
        )
        assert response.status_code == 302
        reopened = rejected.events.latest("created_at", "pk")
        assert reopened.action == CaseEvent.Action.REOPEN
        assert reopened.comment == reasons[5].strip()
        assert 'class="return-note"' in page(secretary, rejected.get_absolute_url())

        # Withdrawn by the secretary, with a reason.
        withdrawn = draft(who, title="撤回理由")
        limit = CaseWithdrawForm.base_fields["comment"].max_length
        short = [payload for payload in corpus() if len(payload) <= limit]
        for reason in plain_bundles(short, limit)[:WITHDRAW_ROUNDS]:
            review.case_submit(case=withdrawn, acting_user=who.secretary)
            response = secretary.post(
                reverse("submissions:case_withdraw", args=[withdrawn.pk]),
                {"comment": reason},
            )
            assert response.status_code == 302
            assert withdrawn.events.latest("created_at", "pk").comment == reason.strip()
        page(secretary, withdrawn.get_absolute_url())

    def test_notes_stay_inert_wherever_shown(self, who):
        """批注: every payload as a noted passage (the body holds them as
        text), a note, a suggestion and an answer, through the forms, on the
        review page, the branch's case and revision pages, the timeline and
        the inbox, and again on the next round's review page."""
        reviewer, secretary = signed_in(who.reviewer1), signed_in(who.secretary)
        texts = plain_bundles(corpus(), NoteForm.base_fields["text"].max_length)
        quote_limit = NoteForm.base_fields["quote"].max_length
        paragraphs = [
            payload.strip()
            for payload in corpus()
            if payload.strip() and len(payload.strip()) <= quote_limit
        ]
        # The corpus in two bodies, a payload a paragraph (as text); runs of
        # neighbouring paragraphs make the passages, a few hundred notes.
        halves = (
            paragraphs[: len(paragraphs) // 2],
            paragraphs[len(paragraphs) // 2 :],
        )
        noted, cases = 0, []
        for number, half in enumerate(halves):
            body = "".join(f"<p>{escape(text)}</p>" for text in half)
            case = draft(who, title=f"批注{number}", body=body)
            review.case_submit(case=case, acting_user=who.secretary)
            visible = field_text(latest(case), "body")
            spans = passages_of(visible, quote_limit)
            assert len(spans) <= MAX_NOTES_PER_ROUND
            url = reverse("review:note_add", args=[case.pk])
            for start, end in spans:
                response = reviewer.post(
                    url,
                    {
                        "field": "body",
                        "start": start,
                        "end": end,
                        "quote": visible[start:end],
                        "text": texts[noted % len(texts)],
                        "suggestion": texts[-1 - noted % len(texts)],
                    },
                )
                assert response.status_code == 302, response.content[:300]
                noted += 1
            # A refused note (its passage is not in the text) shows the form
            # again with what was typed.
            refused_note = reviewer.post(
                url,
                {
                    "field": "body",
                    "start": 0,
                    "end": 5,
                    "quote": ("不在正文中" + texts[number % len(texts)])[:quote_limit],
                    "text": texts[number % len(texts)],
                    "suggestion": texts[-1],
                },
            )
            assert refused_note.status_code == 400
            inert(refused_note.content.decode(), f"refused note {case.pk}")
            if number == 1:
                # A few withdrawn: the review page shows them struck out.
                for note in case.notes.order_by("-pk")[:3]:
                    response = reviewer.post(
                        reverse("review:note_withdraw", args=[case.pk, note.pk])
                    )
                    assert response.status_code == 302
                assert NoteWithdrawal.objects.count() == 3
            page(reviewer, reverse("review:case", args=[case.pk]))
            decided_by_form(reviewer, case, Decision.Outcome.RETURN, texts[0])
            cases.append(case)
        assert Note.objects.count() == noted
        assert any("<script" in note.quote.lower() for note in Note.objects.all())

        # The branch answers the first case's notes with every payload.
        first = cases[0]
        notes = list(first.notes.order_by("pk"))
        for index, text in enumerate(texts):
            response = secretary.post(
                reverse(
                    "submissions:case_note_reply", args=[first.pk, notes[index].pk]
                ),
                {"kind": "answer", "text": text},
            )
            assert response.status_code == 302
        assert NoteResponse.objects.count() == len(texts)
        # An answer refused (too long) is given back in a message.
        response = secretary.post(
            reverse("submissions:case_note_reply", args=[first.pk, notes[-1].pk]),
            {"kind": "answer", "text": texts[1] + "长" * 2001},
        )
        assert response.status_code == 302
        page(secretary, response.url.split("#")[0])
        for case in cases:
            page(secretary, case.get_absolute_url())
            page(secretary, reverse("submissions:revision_detail", args=[case.pk, 1]))
        page(secretary, reverse("inbox:list"))

        # The next round: the notes carried, with their answers, beside the text.
        review.case_resubmit(case=first, acting_user=who.secretary)
        html = page(reviewer, reverse("review:case", args=[first.pk]))
        assert 'id="carried-notes-heading"' in html

    def test_issue_note_and_unpublish_reason_stay_inert(self, who):
        editor, reader = signed_in(who.editor), Client()
        the_series = series(editors_note="")
        issue = published_issue(who, the_series)
        case = issue.cases.get()
        limit = IssueNoteForm.base_fields["note"].max_length
        for number, payloads in enumerate(rich_bundles(corpus(), limit)):
            note = rich_text(payloads, f"note{number}")
            with committed():
                response = editor.post(
                    reverse("showcase_editor:issue_note", args=[issue.pk]),
                    {"note": note.html},
                )
            assert response.status_code == 302
            issue.refresh_from_db()
            note.assert_came_through(issue.note, f"note {number}")
            page(reader, issue.get_absolute_url())
            number_url = reverse("api:issue", args=[the_series.slug, issue.number])
            answer = api_answer(reader, number_url)
            assert answer["note_html"] == html_for_other_sites(issue.note)
        page(reader, reverse("showcase:case", args=[case.pk]))

        # A planned issue's note is shown to editors in the desk's text box.
        planned = showcase.issue_plan(
            series=the_series,
            scheduled_at=timezone.now() + datetime.timedelta(days=3),
            acting_user=who.editor,
        )
        note = rich_text(rich_bundles(corpus(), limit)[0], "planned")
        editor.post(
            reverse("showcase_editor:issue_note", args=[planned.pk]),
            {"note": note.html},
        )
        page(editor, reverse("showcase_editor:desk"))

        limit = IssueUnpublishForm.base_fields["reason"].max_length
        short = [payload for payload in corpus() if len(payload) <= limit]
        for number, reason in enumerate(plain_bundles(short, limit)[:UNPUBLISH_ROUNDS]):
            if number:
                issue = published_issue(who, the_series, cases=[case])
            with committed():
                response = editor.post(
                    reverse("showcase_editor:issue_unpublish", args=[issue.pk]),
                    {"reason": reason},
                )
            assert response.status_code == 302
            issue.refresh_from_db()
            assert issue.status == Issue.Status.UNPUBLISHED
            assert issue.unpublish_reason == reason.strip()
            page(reader, issue.get_absolute_url(), status=410)
            # The API has nothing of it, the reason included.
            api_answer(
                reader,
                reverse("api:issue", args=[the_series.slug, issue.number]),
                status=404,
            )
            case.refresh_from_db()
        page(reader, the_series.get_absolute_url())
        page(signed_in(who.secretary), case.get_absolute_url())

    def test_series_fields_set_in_the_admin_stay_inert(self, who):
        admin = signed_in(
            get_user_model().objects.create_superuser(
                "xss-admin", "xss-admin@example.org", "unused"
            )
        )
        # Signed in, pages are built afresh: admin edits leave the cache alone.
        reader = signed_in(who.outsider)
        the_series = series(editors_note="")
        issue = published_issue(who, the_series)
        url = reverse("admin:showcase_series_change", args=[the_series.pk])
        values = ShortValues(
            {name: max_length(Series, name) for name in ("title", "name", "column")}
        )
        notes = dealt(corpus(), len([p for p in corpus() if hides_the_rest(p)]) or 1)
        for number, payloads in enumerate(notes):
            note = rich_text(payloads, f"series{number}")
            fitting, _too_long = values.take()
            # Committed, so the API's cached answers (the same for everyone,
            # signed in or not) are retired as the admin's save retires them.
            with committed():
                response = admin.post(
                    url,
                    {
                        "slug": the_series.slug,
                        "editors_note": note.html,
                        "publish_weekday": the_series.publish_weekday,
                        "publish_time": "09:00",
                        "is_active": "on",
                        **fitting,
                    },
                )
            assert response.status_code == 302, response.content[:300]
            the_series.refresh_from_db()
            note.assert_came_through(the_series.editors_note, f"series note {number}")
            page(reader, the_series.get_absolute_url())
            page(reader, issue.get_absolute_url())
            page(reader, reverse("home"))
            # The list other sites frame is shared by every reader, so it is
            # read after the change has retired the cached one.
            with committed():
                public_cache_bump_on_commit()
            one, every = embeds(the_series)
            assert escape(the_series.title) in page(reader, one)
            assert escape(the_series.name) in page(reader, every)
            feed_items(reader, reverse("showcase:feed", args=[the_series.slug]))
            answer = api_answer(reader, reverse("api:series", args=[the_series.slug]))
            shown = html_for_other_sites(the_series.editors_note)
            assert answer["editors_note_html"] == shown
            assert answer["title"] == the_series.title


# Run in Chromium: every element and attribute that could run script.
DOM_DANGERS = """(urlAttributes) => {
  const schemes = /^(javascript|vbscript|data):/;
  const found = [];
  for (const element of document.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      const address = attribute.value.replace(/[\\s\\u0000-\\u001f\\u007f]/g, "");
      // An image, SVG included, runs no script (the QR code is one).
      const image = element.tagName === "IMG" && name === "src"
        && address.toLowerCase().startsWith("data:image/");
      if (image) {
        continue;
      }
      if (name.startsWith("on") || name === "srcdoc"
          || (urlAttributes.includes(name) && schemes.test(address.toLowerCase()))) {
        found.push(element.tagName + " " + name + "=" + attribute.value.slice(0, 60));
      }
    }
  }
  for (const script of document.scripts) {
    if (!script.src.startsWith(location.origin + "/static/")) {
      found.push(script.outerHTML.slice(0, 80));
    }
  }
  const foreign = "iframe,frame,frameset,object,embed,applet,base,style,svg,math,"
    + "template,portal,meta[http-equiv]";
  for (const element of document.querySelectorAll(foreign)) {
    found.push(element.outerHTML.slice(0, 80));
  }
  return found;
}"""


@pytest.mark.browser
class PublishedPagesInChromiumTests:
    def test_no_dialog_opens_on_the_published_pages(
        self,
        transactional_db,
        browser,
        visitor,
    ):
        who = people()
        the_series = series()
        values = ShortValues({name: max_length(Case, name) for name in SHORT_FIELDS})
        cases = []
        for number, payloads in enumerate(dealt(corpus(), BROWSER_CASES)):
            fitting, _too_long = values.take()
            case = draft(
                who,
                lead="\n\n".join(payloads).strip(),
                body=rich_text(payloads, f"b{number}").html,
                **{name: value.strip() for name, value in fitting.items()},
            )
            review.case_submit(case=case, acting_user=who.secretary)
            decide(case, "approve", who.reviewer1)
            decide(case, "approve", who.reviewer2)
            cases.append(case)
        notes = rich_bundles(corpus(), IssueNoteForm.base_fields["note"].max_length)
        issues = []
        for day, issue_cases in in_issues(cases):
            issue = issue_published(who, the_series, issue_cases, day=day)
            note = rich_text(notes[day], f"n{day}").html
            showcase.issue_update(issue=issue, acting_user=who.editor, note=note)
            issues.append(issue)
        lists = [
            reverse("home"),
            the_series.get_absolute_url(),
            *embeds(the_series),
            *[issue.get_absolute_url() for issue in issues],
        ]
        paths = [
            *lists,
            *[reverse("showcase:case", args=[case.pk]) for case in cases],
        ]

        # The lists as readers get them; a script the Content-Security-Policy
        # stopped would show as a console error.
        reader = visitor()
        opened = self._dialogs(reader.page, answer=False)
        for path in lists:
            self._read(reader.page, reader.base_url + path)
        assert opened == [] and reader.errors == []

        # Every page with the policy switched off, so that the markup alone has
        # to keep script out.

        unguarded = browser.new_context(bypass_csp=True, locale="zh-CN")
        try:
            page = unguarded.new_page()
            opened = self._dialogs(page, answer=True)
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            for path in paths:
                self._read(page, reader.base_url + path)
            assert opened == [] and errors == []
        finally:
            unguarded.close()

    def _dialogs(self, page, *, answer: bool) -> list[str]:
        """Every dialog the page opens; dismissed here when nobody else answers it."""
        opened = []

        def record(dialog):
            opened.append(f"{page.url}: {dialog.type} {dialog.message!r}")
            if answer:
                dialog.dismiss()

        page.on("dialog", record)
        return opened

    def _read(self, page, url: str) -> None:
        response = page.goto(url)
        assert response.status == 200, url
        # Timers and focus handlers fire just after the load event.
        page.wait_for_timeout(20)
        assert page.evaluate(DOM_DANGERS, sorted(URL_ATTRIBUTES)) == [], url
