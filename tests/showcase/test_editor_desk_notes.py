"""The editors' desk keeps what was typed, previews the issue, and the branch's
case page links to the public one once it is out."""

import datetime
import re
from html import escape, unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casehub.richtext import richtext_clean
from review import workflow
from showcase import services
from showcase.counter import views_pending
from showcase.forms import note_for_editing
from showcase.models import Issue, ShowcaseEvent
from showcase.services import issues_publish_due
from tests.review.factories import committed, decide, draft
from tests.showcase.factories import (
    approved_case,
    planned_issue,
    published_issue,
    series,
)
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db

TYPED_NOTE = "本期聚焦科研一线的党建实践。\n\n三个支部各有侧重，值得细读。"
NOTE_PARAGRAPHS = (
    "<p>本期聚焦科研一线的党建实践。</p><p>三个支部各有侧重，值得细读。</p>"
)
BODY = (
    "<h2>一、强化政治引领</h2><p>一是建立“党建+科研”双融合机制。</p>"
    "<p>二是开展<strong>攻关</strong>行动。</p>"
)


def desk(client):
    return client.get(reverse("showcase_editor:desk"))


def note_box(html: str, issue: Issue) -> str:
    """The text in the issue's note box, as the browser will show it."""
    found = re.search(
        rf'<textarea name="note"[^>]*id="issue-{issue.pk}-note"[^>]*>\n?'
        r"(.*?)</textarea>",
        html,
        re.DOTALL,
    )
    assert found, f"no note box for issue {issue.pk}"
    return unescape(found.group(1))


def approved_with(who, **content):
    """An approved case with its own text in the revision readers will see."""
    case = draft(who, **content)
    workflow.case_submit(case=case, acting_user=who.secretary)
    decide(case, "approve", who.reviewer1)
    decide(case, "approve", who.reviewer2)
    case.refresh_from_db()
    return case


class NoteForEditingTests:
    @pytest.mark.parametrize(
        ("stored", "shown"),
        [
            ("", ""),
            ("<p>一段</p>", "一段"),
            ("<p>第一段</p><p>第二段</p>", "第一段\n\n第二段"),
            ("<h2>一、强化政治引领</h2><p>正文。</p>", "一、强化政治引领\n\n正文。"),
            ("<p>研发&amp;转化</p>", "研发&转化"),
            ("<p>a &lt;b&gt; c</p>", "a <b> c"),
            # A note stored as typed, before the normaliser made paragraphs.
            ("第一段\n\n第二段", "第一段\n\n第二段"),
        ],
    )
    def test_paragraphs_come_back_as_text(self, stored, shown):
        assert note_for_editing(stored) == shown

    @pytest.mark.parametrize(
        "typed",
        [
            "一段",
            "第一段。\n\n第二段。",
            "一、强化政治引领\n\n（一）建强堡垒\n\n一是建立机制。",
            '研发&转化，a < b，“引号”与"引号"',
        ],
    )
    def test_the_text_shown_saves_as_the_note_it_came_from(self, typed):
        stored = richtext_clean(typed)
        assert "<p>" in stored
        assert note_for_editing(stored) == typed
        assert richtext_clean(note_for_editing(stored)) == stored

    @pytest.mark.parametrize(
        "stored",
        [
            "<p>编者按：<strong>科研</strong>一线</p>",
            '<p><a href="https://example.org/">链接</a></p>',
            "<ul><li>要点</li></ul>",
            '<p class="x">有属性</p>',
            "<!-- 注释 --><p>正文</p>",
            # Saved before the normaliser: the text would not save back alike.
            "<p>第一行<br>第二行</p>",
            "<p>甲</p><p>&nbsp;</p><p>乙</p>",
            "<h2>没有编号的标题</h2>",
        ],
    )
    def test_any_other_note_is_shown_as_stored(self, stored):
        assert note_for_editing(stored) == stored


class NoteParagraphsTests:
    def test_a_note_with_blank_lines_is_published_as_paragraphs(self, who):
        issue = planned_issue(who, series(editors_note=""))
        client = signed_in(who.editor)
        client.post(
            reverse("showcase_editor:issue_note", args=[issue.pk]),
            {"note": TYPED_NOTE},
        )
        issue.refresh_from_db()
        assert issue.note == NOTE_PARAGRAPHS
        with committed():
            issue = services.issue_publish(issue=issue, acting_user=who.editor)
        page = Client().get(issue.get_absolute_url()).content.decode()
        assert NOTE_PARAGRAPHS in page

    def test_the_box_shows_the_stored_note_as_text_and_saving_it_changes_nothing(
        self, who
    ):
        issue = planned_issue(who, series())
        services.issue_update(issue=issue, acting_user=who.editor, note=NOTE_PARAGRAPHS)
        client = signed_in(who.editor)
        shown = note_box(desk(client).content.decode(), issue)
        assert shown == TYPED_NOTE
        assert "&lt;p&gt;" not in shown
        client.post(
            reverse("showcase_editor:issue_note", args=[issue.pk]), {"note": shown}
        )
        issue.refresh_from_db()
        assert issue.note == NOTE_PARAGRAPHS
        assert note_box(desk(client).content.decode(), issue) == TYPED_NOTE

    @pytest.mark.parametrize(
        "typed",
        [
            "编者按：本期介绍A<B类项目的做法\n\n第二段。",
            "比较 x<y 与 y<x",
            "<strong>写出来的尖括号</strong> & 符号",
        ],
    )
    def test_text_typed_in_the_box_is_never_read_as_markup(self, who, typed):
        issue = planned_issue(who, series())
        client = signed_in(who.editor)
        page = desk(client).content.decode()
        # The box says how its text is to be read: as text, for a plain note.
        assert re.search(
            r'<input type="hidden" name="note_format" value="text"[^>]*'
            rf'id="issue-{issue.pk}-note_format"',
            page,
        )
        client.post(
            reverse("showcase_editor:issue_note", args=[issue.pk]),
            {"note": typed, "note_format": "text"},
        )
        issue.refresh_from_db()
        assert "<strong>" not in issue.note
        assert note_box(desk(client).content.decode(), issue) == typed
        reader_page = issue.note
        for paragraph in typed.split("\n\n"):
            assert escape(paragraph, quote=False) in reader_page

    def test_a_note_with_markup_is_shown_and_saved_as_it_is(self, who):
        issue = planned_issue(who, series())
        stored = '<p>编者按：<strong>科研</strong>一线，<a href="https://example.org/">详见</a></p>'
        services.issue_update(issue=issue, acting_user=who.editor, note=stored)
        issue.refresh_from_db()
        stored = issue.note  # as the sanitiser keeps it (rel on the link)
        client = signed_in(who.editor)
        response = desk(client)
        note_form = response.context["planned"][0].note_form
        shown = note_form["note"].value()
        assert shown == stored
        assert note_form["note_format"].value() == "html"
        client.post(
            reverse("showcase_editor:issue_note", args=[issue.pk]), {"note": shown}
        )
        issue.refresh_from_db()
        assert issue.note == stored


class PublishWithNoteTests:
    def test_the_desk_publishes_from_the_note_form(self, who):
        """The publish button belongs to the form of the note box, so the
        browser sends the typed note with it."""
        issue = planned_issue(who, series())
        html = desk(signed_in(who.editor)).content.decode()
        publish = reverse("showcase_editor:issue_publish", args=[issue.pk])
        forms = re.findall(r"<form\b.*?</form>", html, re.DOTALL)
        with_box = [form for form in forms if f'id="issue-{issue.pk}-note"' in form]
        assert len(with_box) == 1
        assert f'formaction="{publish}"' in with_box[0]
        assert reverse("showcase_editor:issue_note", args=[issue.pk]) in with_box[0]

    def test_publishing_with_a_typed_note_keeps_it(self, who):
        issue = planned_issue(who, series())
        with committed():
            response = signed_in(who.editor).post(
                reverse("showcase_editor:issue_publish", args=[issue.pk]),
                {"note": "<p>随发布一起保存的说明。</p>"},
            )
        assert response.status_code == 302
        issue.refresh_from_db()
        assert (issue.status, issue.number) == (Issue.Status.PUBLISHED, 1)
        assert issue.note == "<p>随发布一起保存的说明。</p>"
        actions = list(
            ShowcaseEvent.objects.filter(issue=issue).values_list("action", flat=True)
        )
        assert actions == ["issue_plan", "issue_publish", "issue_edit"]
        page = Client().get(issue.get_absolute_url()).content.decode()
        assert "<p>随发布一起保存的说明。</p>" in page

    def test_publishing_with_plain_typed_paragraphs_publishes_paragraphs(self, who):
        issue = planned_issue(who, series())
        signed_in(who.editor).post(
            reverse("showcase_editor:issue_publish", args=[issue.pk]),
            {"note": TYPED_NOTE},
        )
        issue.refresh_from_db()
        assert issue.status == Issue.Status.PUBLISHED
        assert issue.note == NOTE_PARAGRAPHS

    def test_an_untouched_box_leaves_the_note_and_the_log_alone(self, who):
        issue = planned_issue(who, series())
        services.issue_update(issue=issue, acting_user=who.editor, note="<p>原说明</p>")
        signed_in(who.editor).post(
            reverse("showcase_editor:issue_publish", args=[issue.pk]),
            {"note": note_for_editing("<p>原说明</p>")},
        )
        issue.refresh_from_db()
        assert (issue.status, issue.note) == (Issue.Status.PUBLISHED, "<p>原说明</p>")
        edits = ShowcaseEvent.objects.filter(issue=issue, action="issue_edit")
        assert edits.count() == 1  # the one above, none at publication

    def test_a_refused_publication_keeps_the_typed_note_in_the_box(self, who):
        issue = planned_issue(who, series(), cases=[])
        services.issue_update(issue=issue, acting_user=who.editor, note="<p>旧说明</p>")
        typed = "新写的说明，还没保存。\n\n第二段。"
        response = signed_in(who.editor).post(
            reverse("showcase_editor:issue_publish", args=[issue.pk]), {"note": typed}
        )
        assert response.status_code == 400
        messages = [str(message) for message in response.context["messages"]]
        assert "没有案例的期次不能发布。" in messages
        assert note_box(response.content.decode(), issue) == typed
        issue.refresh_from_db()
        # Nothing was saved: the publication and its note are one transaction.
        assert (issue.status, issue.note) == (Issue.Status.PLANNED, "<p>旧说明</p>")
        edits = ShowcaseEvent.objects.filter(issue=issue, action="issue_edit")
        assert edits.count() == 1  # the old note's, none for the typed one

    def test_an_issue_published_meanwhile_keeps_its_note(self, who):
        issue = planned_issue(who, series())
        services.issue_update(
            issue=issue, acting_user=who.editor, note="<p>已发布的说明</p>"
        )
        with committed():
            services.issue_publish(issue=issue, acting_user=who.editor)
        response = signed_in(who.editor).post(
            reverse("showcase_editor:issue_publish", args=[issue.pk]),
            {"note": "另一位编辑打的字"},
        )
        assert response.status_code == 400
        issue.refresh_from_db()
        assert (issue.number, issue.note) == (1, "<p>已发布的说明</p>")

    def test_a_refused_note_publishes_nothing(self, who):
        issue = planned_issue(who, series())
        note = "<div>" * 900 + "x"
        response = signed_in(who.editor).post(
            reverse("showcase_editor:issue_publish", args=[issue.pk]), {"note": note}
        )
        assert response.status_code == 400
        messages = [str(message) for message in response.context["messages"]]
        assert any("嵌套超过" in message for message in messages), messages
        assert note_box(response.content.decode(), issue).startswith("<div>")
        issue.refresh_from_db()
        assert (issue.status, issue.note) == (Issue.Status.PLANNED, "")


def main_of(html: str) -> str:
    """The page's main content without the preview banner."""
    main = html.split('<main id="main" class="site-main">', 1)[1].split("</main>")[0]
    main = re.sub(r'<div class="preview-bar".*?</div>', "", main, flags=re.DOTALL)
    # The count of reads is the readers' own: the first reader counts as one.
    return re.sub(r"浏览量：\d+", "浏览量：N", main).strip()


class PreviewTests:
    @pytest.fixture
    def planned(self, who):
        the_series = series(editors_note="<p>系列编者按。</p>")
        published_issue(who, the_series)  # No. 1 is out: this one will be No. 2
        cases = [
            approved_with(who, title="预览中的第一个案例", body=BODY),
            approved_with(who, title="预览中的第二个案例", lead="第二篇导语。"),
        ]
        issue = services.issue_plan(
            series=the_series,
            scheduled_at=timezone.now() + datetime.timedelta(days=2),
            acting_user=who.editor,
            cases=cases,
            note="<p>本期说明第一段。</p><p>本期说明第二段。</p>",
        )
        return issue, cases

    def test_the_desk_links_to_the_previews(self, who, planned):
        issue, cases = planned
        html = desk(signed_in(who.editor)).content.decode()
        assert reverse("showcase_editor:issue_preview", args=[issue.pk]) in html
        for case in cases:
            url = reverse(
                "showcase_editor:issue_case_preview", args=[issue.pk, case.pk]
            )
            assert url in html

    def test_the_previews_are_marked_and_kept_out_of_caches_and_indexes(
        self, who, planned
    ):
        issue, cases = planned
        client = signed_in(who.editor)
        for url in [
            reverse("showcase_editor:issue_preview", args=[issue.pk]),
            reverse("showcase_editor:issue_case_preview", args=[issue.pk, cases[0].pk]),
        ]:
            response = client.get(url)
            assert response.status_code == 200
            html = response.content.decode()
            assert '<div class="preview-bar" role="note">' in html
            assert "<strong>预览</strong>" in html
            assert "第 2 期" in html
            assert '<meta name="robots" content="noindex, nofollow">' in html
            assert "no-store" in response["Cache-Control"]
            assert "public" not in response["Cache-Control"]
            assert response["X-Robots-Tag"] == "noindex, nofollow"
            assert "导出 Word" not in html  # readers have no export button

    def test_the_case_preview_counts_no_read(self, who, planned):
        issue, cases = planned
        client = signed_in(who.editor)
        url = reverse(
            "showcase_editor:issue_case_preview", args=[issue.pk, cases[0].pk]
        )
        for _read in range(3):
            assert "浏览量：0" in client.get(url).content.decode()
        assert views_pending(cases[0].pk) == 0
        # The public page, once out, does count the same reader.
        issues_publish_due(now=issue.scheduled_at + datetime.timedelta(minutes=1))
        client.get(reverse("showcase:case", args=[cases[0].pk]))
        assert views_pending(cases[0].pk) == 1

    def test_the_previews_are_what_readers_get_once_it_is_out(self, who, planned):
        issue, cases = planned
        client = signed_in(who.editor)
        issue_preview = client.get(
            reverse("showcase_editor:issue_preview", args=[issue.pk])
        ).content.decode()
        case_previews = [
            client.get(
                reverse("showcase_editor:issue_case_preview", args=[issue.pk, case.pk])
            ).content.decode()
            for case in cases
        ]
        assert "<p>本期说明第一段。</p><p>本期说明第二段。</p>" in issue_preview
        assert "<h2>一、强化政治引领</h2>" in case_previews[0]
        assert "第二篇导语。" in case_previews[1]

        # The schedule publishes it at its slot, as the preview said.
        with committed():
            issues_publish_due(now=issue.scheduled_at + datetime.timedelta(minutes=1))
        issue.refresh_from_db()
        assert (issue.status, issue.number) == (Issue.Status.PUBLISHED, 2)
        reader = Client()
        assert main_of(issue_preview) == main_of(
            reader.get(issue.get_absolute_url()).content.decode()
        )
        for case, preview in zip(cases, case_previews, strict=True):
            public = reader.get(reverse("showcase:case", args=[case.pk]))
            assert main_of(preview) == main_of(public.content.decode())

    def test_a_preview_shows_only_the_issues_own_cases(self, who, planned):
        issue, _cases = planned
        other = approved_case(who)
        client = signed_in(who.editor)
        url = reverse("showcase_editor:issue_case_preview", args=[issue.pk, other.pk])
        assert client.get(url).status_code == 404
        missing = reverse("showcase_editor:issue_preview", args=[999999])
        assert client.get(missing).status_code == 404

    def test_a_published_issue_is_previewed_where_it_is(self, who, planned):
        issue, cases = planned
        with committed():
            services.issue_publish(issue=issue, acting_user=who.editor)
        issue.refresh_from_db()
        client = signed_in(who.editor)
        response = client.get(reverse("showcase_editor:issue_preview", args=[issue.pk]))
        assert response.status_code == 302
        assert response["Location"] == issue.get_absolute_url()
        response = client.get(
            reverse("showcase_editor:issue_case_preview", args=[issue.pk, cases[0].pk])
        )
        assert response["Location"] == reverse("showcase:case", args=[cases[0].pk])

    def test_only_editors_preview(self, who, planned):
        issue, cases = planned
        urls = [
            reverse("showcase_editor:issue_preview", args=[issue.pk]),
            reverse("showcase_editor:issue_case_preview", args=[issue.pk, cases[0].pk]),
        ]
        for url in urls:
            assert Client().get(url).status_code == 302  # to the sign-in page
            for user in (who.secretary, who.reviewer1, who.reviewer2):
                response = signed_in(user).get(url)
                assert response.status_code == 403
                assert "预览中的第一个案例" not in response.content.decode()


class CasePagePublicLinkTests:
    def test_the_link_appears_once_the_case_is_out_and_goes_with_it(self, who):
        case = approved_case(who)
        link = f'href="{reverse("showcase:case", args=[case.pk])}"'
        secretary = signed_in(who.secretary)
        assert link not in secretary.get(case.get_absolute_url()).content.decode()
        issue = planned_issue(who, series(), cases=[case])
        page = secretary.get(case.get_absolute_url()).content.decode()
        assert link not in page  # scheduled, not yet out
        with committed():
            services.issue_publish(issue=issue, acting_user=who.editor)
        page = secretary.get(case.get_absolute_url()).content.decode()
        assert link in page
        assert Client().get(reverse("showcase:case", args=[case.pk])).status_code == 200
        with committed():
            services.issue_unpublish(
                issue=issue, acting_user=who.editor, reason="内容需更正"
            )
        assert link not in secretary.get(case.get_absolute_url()).content.decode()
