"""Oversized and deeply nested rich text on the editors' desk and in the admin."""

import time

import pytest
from django.urls import reverse
from django.utils.html import escape

from showcase.models import Issue, Series
from tests.showcase.factories import planned_issue, series
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db

SAVED_NOTE = "<p>本期说明</p>"
SAVED_EDITORS_NOTE = "<p>编者按：展示基层党建的生动实践。</p>"
HOSTILE = {
    "deep divs": ("<div>" * 100000 + "x", "内容过长"),
    "deep lists": ("<ul><li>" * 60000, "内容过长"),
    "deep within the length": ("<div>" * 900 + "x", "内容格式嵌套超过 256 层"),
}


def _issue_with_note(who) -> Issue:
    issue = planned_issue(who, series())
    client = signed_in(who.editor)
    client.post(
        reverse("showcase_editor:issue_note", args=[issue.pk]), {"note": SAVED_NOTE}
    )
    issue.refresh_from_db()
    assert issue.note == SAVED_NOTE
    return issue


class IssueNoteBoundsTests:
    @pytest.mark.parametrize("name", list(HOSTILE))
    def test_hostile_note_is_refused_fast_and_the_saved_one_kept(self, who, name):
        issue = _issue_with_note(who)
        note, message = HOSTILE[name]
        if len(note) > 5000:
            message = "不超过 5000 字符"  # the box's own limit comes first
        started = time.perf_counter()
        response = signed_in(who.editor).post(
            reverse("showcase_editor:issue_note", args=[issue.pk]),
            {"note": note},
        )
        assert time.perf_counter() - started < 3
        assert response.status_code == 400
        messages = [str(shown) for shown in response.context["messages"]]
        assert any(message in shown for shown in messages), messages
        # The desk shows the refused note in its box, as typed.
        planned = {entry.pk: entry for entry in response.context["planned"]}
        assert planned[issue.pk].note == note
        assert escape(note[:500]) in response.content.decode()
        issue.refresh_from_db()
        assert issue.note == SAVED_NOTE

    def test_an_ordinary_note_is_still_saved(self, who):
        issue = _issue_with_note(who)
        response = signed_in(who.editor).post(
            reverse("showcase_editor:issue_note", args=[issue.pk]),
            {"note": "<ul><li>要点<ul><li>细项</li></ul></li></ul>"},
        )
        assert response.status_code == 302
        issue.refresh_from_db()
        assert issue.note == "<ul><li>要点<ul><li>细项</li></ul></li></ul>"


class SeriesAdminBoundsTests:
    @pytest.mark.parametrize("name", list(HOSTILE))
    def test_hostile_editors_note_is_refused_fast(self, admin_client, name):
        the_series = series(editors_note=SAVED_EDITORS_NOTE)
        note, message = HOSTILE[name]
        started = time.perf_counter()
        response = admin_client.post(
            reverse("admin:showcase_series_change", args=[the_series.pk]),
            {
                "title": "改过的系列名",
                "name": the_series.name,
                "slug": the_series.slug,
                "column": the_series.column,
                "editors_note": note,
                "publish_weekday": the_series.publish_weekday,
                "publish_time": "09:00",
                "is_active": "on",
            },
        )
        assert time.perf_counter() - started < 3
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["editors_note"]
        assert message in response.content.decode()
        the_series.refresh_from_db()
        assert (the_series.title, the_series.editors_note) == (
            "「党建引领」系列案例展播",
            SAVED_EDITORS_NOTE,
        )
        assert Series.objects.count() == 1
