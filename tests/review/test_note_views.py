"""The pages of 批注: the reviewer's form and marks, the branch's answers."""

import pytest
from django.urls import reverse

from review.anchors import field_text
from review.models import Note, NoteResponse, NoteWithdrawal
from review.notes import note_reply
from tests.review.factories import decide, latest
from tests.review.test_notes import BODY, add, passage, revise, submitted
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db


def note_data(case, quote="深入一线", **change):
    return {**passage(case, quote), "text": "请补充数据。", "suggestion": "", **change}


class NoteAddViewTests:
    def url(self, case):
        return reverse("review:note_add", args=[case.pk])

    def test_the_review_page_offers_the_form_and_marks_the_notes(self, who):
        case = submitted(who)
        add(case, who, "深入一线")
        page = signed_in(who.reviewer1).get(reverse("review:case", args=[case.pk]))
        html = page.content.decode()
        assert 'id="note-form"' in html
        assert 'class="finding finding-note" id="note-body-0"' in html
        assert "js/notes.js" in html
        assert "请补充具体数据。" in html

    def test_a_reviewer_adds_a_note(self, who):
        case = submitted(who)
        response = signed_in(who.reviewer1).post(self.url(case), note_data(case))
        assert response.status_code == 302
        note = Note.objects.get()
        assert (note.quote, note.text, note.author) == (
            "深入一线",
            "请补充数据。",
            who.reviewer1,
        )

    def test_a_bad_selection_keeps_what_was_typed(self, who):
        case = submitted(who)
        data = {**note_data(case, text="我写的批注内容"), "quote": ""}
        response = signed_in(who.reviewer1).post(self.url(case), data)
        assert response.status_code == 400
        html = response.content.decode()
        assert "我写的批注内容" in html
        assert "请在正文中选中要批注的原文" in html
        assert not Note.objects.exists()

    def test_a_quote_not_in_the_text_keeps_what_was_typed(self, who):
        case = submitted(who)
        data = {**note_data(case, text="我写的批注内容"), "quote": "不存在的话"}
        response = signed_in(who.reviewer1).post(self.url(case), data)
        assert response.status_code == 400
        assert "这段原文，请重新选择" in response.content.decode()
        assert "我写的批注内容" in response.content.decode()
        assert not Note.objects.exists()

    def test_too_long_a_note_is_refused_with_the_text_kept(self, who):
        case = submitted(who)
        data = note_data(case, text="长" * 2001)
        response = signed_in(who.reviewer1).post(self.url(case), data)
        assert response.status_code == 400
        assert not Note.objects.exists()

    @pytest.mark.parametrize("actor", ["reviewer2", "secretary", "editor"])
    def test_anyone_else_gets_404(self, who, actor):
        case = submitted(who)
        response = signed_in(getattr(who, actor)).post(self.url(case), note_data(case))
        assert response.status_code == 404
        assert not Note.objects.exists()

    def test_get_is_not_allowed(self, who):
        case = submitted(who)
        assert signed_in(who.reviewer1).get(self.url(case)).status_code == 405

    def test_a_finding_becomes_a_note(self, who):
        from textcheck.services import term_save

        term_save(
            kind="expression",
            term="深入一线",
            replacement="深入基层一线",
            severity="warn",
            note="",
            acting_user=None,
        )
        case = submitted(who)
        page = signed_in(who.reviewer1).get(reverse("review:case", args=[case.pk]))
        assert "data-finding-note" in page.content.decode()
        finding = next(
            f
            for f in page.context["findings"]
            if f.field == "body" and f.finding.term == "深入一线"
        ).finding
        response = signed_in(who.reviewer1).post(
            self.url(case),
            {
                "field": "body",
                "start": finding.start,
                "end": finding.end,
                "quote": finding.term,
                "text": finding.message,
                "suggestion": finding.suggestion,
            },
        )
        assert response.status_code == 302
        note = Note.objects.get()
        assert note.text == finding.message and note.quote == "深入一线"


class BranchNoteTests:
    def returned(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        return case, note

    def url(self, case, note):
        return reverse("submissions:case_note_reply", args=[case.pk, note.pk])

    def test_the_case_page_lists_the_notes_with_their_forms(self, who):
        case, note = self.returned(who)
        page = signed_in(who.secretary).get(case.get_absolute_url())
        html = page.content.decode()
        assert "请补充具体数据。" in html
        assert self.url(case, note) in html
        revision = signed_in(who.secretary).get(
            reverse("submissions:revision_detail", args=[case.pk, 1])
        )
        assert 'id="note-body-0"' in revision.content.decode()

    def test_a_member_marks_done(self, who):
        case, note = self.returned(who)
        response = signed_in(who.correspondent).post(
            self.url(case, note), {"kind": "done"}
        )
        assert response.status_code == 302
        assert NoteResponse.objects.get().kind == "done"

    def test_an_empty_answer_is_refused(self, who):
        case, note = self.returned(who)
        response = signed_in(who.secretary).post(
            self.url(case, note), {"kind": "answer", "text": ""}, follow=True
        )
        assert not NoteResponse.objects.exists()
        assert "请填写答复内容" in response.content.decode()

    def test_others_get_404(self, who):
        case, note = self.returned(who)
        for user in (who.other_secretary, who.reviewer1):
            response = signed_in(user).post(self.url(case, note), {"kind": "done"})
            assert response.status_code == 404
        assert not NoteResponse.objects.exists()

    def test_the_reviewer_sees_what_became_of_the_notes(self, who):
        case, note = self.returned(who)
        signed_in(who.secretary).post(self.url(case, note), {"kind": "done"})
        case = revise(case, who, BODY.replace("每月", "每周"))
        page = signed_in(who.reviewer1).get(reverse("review:case", args=[case.pk]))
        html = page.content.decode()
        assert 'data-note-status="done"' in html
        assert "此前各轮的批注" in html
        assert latest(case).number == 2

    def test_review_page_query_count_with_many_notes(
        self, who, django_assert_max_num_queries
    ):
        case = submitted(who)
        for occurrence in range(2):
            add(case, who, "理论学习", occurrence=occurrence)
        for _ in range(10):
            add(case, who, "深入一线")
        client = signed_in(who.reviewer1)
        client.get(reverse("review:case", args=[case.pk]))
        with django_assert_max_num_queries(20):
            client.get(reverse("review:case", args=[case.pk]))


class BranchSeesSentNotesTests:
    """A note is the reviewer's own until the decision goes out with it."""

    def test_no_note_of_an_open_round_on_the_branch_pages(self, who):
        case = submitted(who)
        add(case, who, "深入一线", text="审核中尚未发出的批注")
        secretary = signed_in(who.secretary)
        for url in (
            case.get_absolute_url(),
            reverse("submissions:revision_detail", args=[case.pk, 1]),
        ):
            html = secretary.get(url).content.decode()
            assert "审核中尚未发出的批注" not in html, url
            assert "finding-note" not in html, url
        decide(case, "return", who.reviewer1)
        assert (
            "审核中尚未发出的批注"
            in secretary.get(case.get_absolute_url()).content.decode()
        )


class NoteReplyIdorTests:
    """A note id from another case, of this branch or another, is a 404."""

    def returned(self, who, **content):
        case = submitted(who, **content)
        note = add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        return case, note

    def test_a_note_of_another_case_of_the_branch(self, who):
        case, _note = self.returned(who)
        _other_case, other_note = self.returned(who)
        response = signed_in(who.secretary).post(
            reverse("submissions:case_note_reply", args=[case.pk, other_note.pk]),
            {"kind": "done"},
        )
        assert response.status_code == 404
        assert not NoteResponse.objects.exists()

    def test_a_note_of_another_branchs_case(self, who):
        from authoring.services import CaseContent, case_create
        from review import workflow

        _case, note = self.returned(who)
        branch = who.other_secretary.memberships.get().branch
        theirs = case_create(
            branch=branch,
            acting_user=who.other_secretary,
            content=CaseContent(title="他们的案例", lead="导语。", body=BODY),
        )
        workflow.case_submit(case=theirs, acting_user=who.other_secretary)
        decide(theirs, "return", who.reviewer1)
        client = signed_in(who.other_secretary)
        for url in (
            reverse("submissions:case_note_reply", args=[theirs.pk, note.pk]),
            reverse("submissions:case_note_reply", args=[note.case_id, note.pk]),
        ):
            assert client.post(url, {"kind": "done"}).status_code == 404, url
        assert not NoteResponse.objects.exists()

    def test_a_note_id_that_does_not_exist(self, who):
        case, note = self.returned(who)
        response = signed_in(who.secretary).post(
            reverse("submissions:case_note_reply", args=[case.pk, note.pk + 999]),
            {"kind": "done"},
        )
        assert response.status_code == 404


class CarriedNoteViewTests:
    def test_an_open_note_of_round_one_is_answered_in_round_two(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线", text="第一轮的批注")
        decide(case, "return", who.reviewer1)
        case = revise(case, who, BODY)
        decide(case, "return", who.reviewer1)
        secretary = signed_in(who.secretary)
        url = reverse("submissions:case_note_reply", args=[case.pk, note.pk])
        html = secretary.get(case.get_absolute_url()).content.decode()
        assert "第一轮的批注" in html and url in html
        response = secretary.post(url, {"kind": "done"})
        assert response.status_code == 302
        assert NoteResponse.objects.get().note == note
        html = secretary.get(case.get_absolute_url()).content.decode()
        assert "标记已完成" not in html  # done once; the answer form stays
        assert url in html


class LineBreakTests:
    """A browser sends a selection's line breaks as "\\r\\n"."""

    def test_a_passage_across_paragraphs_of_the_body(self, who):
        case = submitted(who)
        text = field_text(latest(case), "body")
        quote = "实际问题。\n三是坚持"
        start = text.index(quote)
        response = signed_in(who.reviewer1).post(
            reverse("review:note_add", args=[case.pk]),
            {
                "field": "body",
                "start": start,
                "end": start + len(quote),
                "quote": quote.replace("\n", "\r\n"),
                "text": "请说明。",
            },
        )
        assert response.status_code == 302
        note = Note.objects.get()
        assert note.quote == quote
        anchor = note.anchors.get()
        assert (anchor.start, anchor.end) == (start, start + len(quote))

    def test_a_lead_typed_with_crlf(self, who):
        lead = "第一段导语。\r\n\r\n第二段：以问题为导向\r\n以成果为检验。"
        case = submitted(who)
        case.refresh_from_db()
        from authoring.services import CaseContent, case_update
        from review import workflow

        decide(case, "return", who.reviewer1)
        case.refresh_from_db()
        case_update(
            case=case,
            acting_user=who.correspondent,
            expected_version=case.version,
            content=CaseContent(title=case.title, lead=lead, body=BODY),
        )
        workflow.case_resubmit(case=case, acting_user=who.secretary)
        shown = "第一段导语。\n\n第二段：以问题为导向\n以成果为检验。"
        quote = "以问题为导向\n以成果"
        start = shown.index(quote)
        response = signed_in(who.reviewer1).post(
            reverse("review:note_add", args=[case.pk]),
            {
                "field": "lead",
                "start": start,
                "end": start + len(quote),
                "quote": quote.replace("\n", "\r\n"),
                "text": "请说明。",
            },
        )
        assert response.status_code == 302
        anchor = Note.objects.get().anchors.get(revision=latest(case))
        assert (anchor.start, anchor.end) == (start, start + len(quote))


class BranchNotePagesQueryTests:
    def test_the_branch_pages_with_many_notes(self, who, django_assert_max_num_queries):
        case = submitted(who)
        for occurrence in range(2):
            add(case, who, "理论学习", occurrence=occurrence)
        for _ in range(20):
            add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        for note in Note.objects.all()[:10]:
            note_reply(note=note, acting_user=who.secretary, kind="answer", text="已改")
        client = signed_in(who.secretary)
        urls = (
            case.get_absolute_url(),
            reverse("submissions:revision_detail", args=[case.pk, 1]),
        )
        for url in urls:
            client.get(url)
            with django_assert_max_num_queries(25):
                response = client.get(url)
            assert response.content.decode().count('class="note-item ') == 22


class NoteWithdrawViewTests:
    def url(self, note):
        return reverse("review:note_withdraw", args=[note.case_id, note.pk])

    def page(self, client, case):
        return client.get(reverse("review:case", args=[case.pk])).content.decode()

    def test_the_author_withdraws_from_the_review_page(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线", text="写错的批注")
        add(case, who, "理论学习", text="留下的批注")
        client = signed_in(who.reviewer1)
        html = self.page(client, case)
        assert html.count("data-note-withdraw") == 2
        response = client.post(self.url(note))
        assert response.status_code == 302
        assert response.url.endswith("#notes-heading")
        assert NoteWithdrawal.objects.get().note == note
        html = self.page(client, case)
        assert "批注已撤回" in html
        # Struck out on the reviewer's page, not marked in the text.
        assert 'data-note-status="withdrawn"' in html
        assert "写错的批注" in html and "已由" in html
        assert "留下的批注" in html
        assert html.count('class="finding finding-note"') == 1
        assert html.count("data-note-withdraw") == 1
        assert '<span class="notes__count">1</span>' in html

    def test_the_branch_never_sees_it(self, who):
        case = submitted(who)
        withdraw_me = add(case, who, "深入一线", text="写错的批注")
        add(case, who, "理论学习", text="留下的批注")
        signed_in(who.reviewer1).post(self.url(withdraw_me))
        decide(case, "return", who.reviewer1)
        secretary = signed_in(who.secretary)
        for url in (
            case.get_absolute_url(),
            reverse("submissions:revision_detail", args=[case.pk, 1]),
            reverse("inbox:list"),
        ):
            html = secretary.get(url).content.decode()
            assert "写错的批注" not in html, url
        html = secretary.get(case.get_absolute_url()).content.decode()
        assert "留下的批注" in html
        assert html.count('class="note-item ') == 1

    def test_another_reviewer_of_the_stage_gets_404(self, who):
        from tests.review.factories import reviewer

        case = submitted(who)
        note = add(case, who, "深入一线")
        colleague = signed_in(reviewer(1, username="reviewer1b"))
        assert "data-note-withdraw" not in self.page(colleague, case)
        assert colleague.post(self.url(note)).status_code == 404
        assert not NoteWithdrawal.objects.exists()

    @pytest.mark.parametrize("actor", ["reviewer2", "secretary", "editor"])
    def test_anyone_else_gets_404(self, who, actor):
        case = submitted(who)
        note = add(case, who, "深入一线")
        assert signed_in(getattr(who, actor)).post(self.url(note)).status_code == 404
        assert not NoteWithdrawal.objects.exists()

    def test_a_note_of_another_case_is_404(self, who):
        case = submitted(who)
        other = submitted(who)
        note = add(other, who, "深入一线")
        url = reverse("review:note_withdraw", args=[case.pk, note.pk])
        assert signed_in(who.reviewer1).post(url).status_code == 404
        assert not NoteWithdrawal.objects.exists()

    def test_after_the_decision_it_is_refused_with_a_message(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        client = signed_in(who.reviewer1)
        response = client.post(self.url(note), follow=True)
        assert response.redirect_chain[-1][0] == reverse("review:queue")
        assert "该批注所在的审核轮次已结束" in response.content.decode()
        assert not NoteWithdrawal.objects.exists()

    def test_twice_is_refused_with_a_message(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        client = signed_in(who.reviewer1)
        client.post(self.url(note))
        response = client.post(self.url(note), follow=True)
        assert "该批注已撤回" in response.content.decode()
        assert NoteWithdrawal.objects.count() == 1

    def test_get_is_not_allowed(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        assert signed_in(who.reviewer1).get(self.url(note)).status_code == 405

    def test_review_page_query_count_with_many_withdrawn_notes(
        self, who, django_assert_max_num_queries
    ):
        from review.notes import note_withdraw

        case = submitted(who)
        for _ in range(12):
            note = add(case, who, "深入一线")
            note_withdraw(note=note, acting_user=who.reviewer1)
        add(case, who, "理论学习")
        client = signed_in(who.reviewer1)
        client.get(reverse("review:case", args=[case.pk]))
        with django_assert_max_num_queries(20):
            html = client.get(reverse("review:case", args=[case.pk])).content.decode()
        assert html.count('data-note-status="withdrawn"') == 12

    def test_withdraw_and_write_again_fills_the_form_with_the_old_note(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线", text="错字的批注", suggestion="深入基层")
        client = signed_in(who.reviewer1)
        response = client.post(self.url(note), {"rewrite": "1"})
        assert response.url.endswith(f"?rewrite={note.pk}#note-form")
        page = client.get(response.url.split("#")[0])
        form = page.context["note_form"]
        anchor = note.anchors.get()
        assert form.initial == {
            "field": "body",
            "start": anchor.start,
            "end": anchor.end,
            "quote": "深入一线",
            "text": "错字的批注",
            "suggestion": "深入基层",
        }
        assert "“深入一线”" in page.content.decode()
        # Sent again as it stands, it is a new note; the old one stays withdrawn.
        data = {**form.initial, "text": "改正后的批注"}
        assert (
            client.post(reverse("review:note_add", args=[case.pk]), data).status_code
            == 302
        )
        assert list(Note.objects.filter(withdrawal__isnull=True)) == [
            Note.objects.get(text="改正后的批注")
        ]

    def test_rewrite_names_only_the_reviewers_own_withdrawn_note(self, who):
        from review.notes import note_withdraw
        from tests.review.factories import reviewer

        case = submitted(who)
        standing = add(case, who, "理论学习", text="仍有效的批注")
        colleague = reviewer(1, username="reviewer1b")
        theirs = note_add_as(case, colleague, "深入一线", "同事的批注")
        note_withdraw(note=theirs, acting_user=colleague)
        client = signed_in(who.reviewer1)
        for wanted in (standing.pk, theirs.pk, "x", "²", "9" * 5000, 10**9):
            page = client.get(
                reverse("review:case", args=[case.pk]), {"rewrite": wanted}
            )
            assert page.context["note_form"].initial == {}, wanted


def note_add_as(case, user, quote, text):
    from review.notes import note_add

    return note_add(
        case=case,
        acting_user=user,
        revision=latest(case),
        text=text,
        **passage(case, quote),
    )
