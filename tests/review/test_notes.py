"""批注: notes on passages of the text, from a reviewer to the branch."""

import threading

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from authoring.services import CaseContent, case_update
from casehub.exceptions import NotPermitted, WrongState
from inbox.models import Notification
from review import workflow
from review.anchors import field_text, passage_locate
from review.models import CaseEvent, Note, NoteAnchor, NoteResponse, NoteWithdrawal
from review.notes import (
    note_add,
    note_reply,
    note_withdraw,
    notes_body_html,
    notes_for_revision,
)
from submissions.models import Case
from tests.conftest import service_missing
from tests.review.factories import decide, draft, latest, people, reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The refusals read in English here; the pages' tests read the Chinese."""
    with translation.override("en"):
        yield


BODY = (
    "<p>一是坚持理论学习，每月集中学习一次。</p>"
    "<p>二是&nbsp;<strong>深入一线</strong>调研，解决实际问题。</p>"
    "<p>三是坚持理论学习与业务工作相结合。</p>"
)


def submitted(who, body=BODY):
    case = draft(who, body=body)
    workflow.case_submit(case=case, acting_user=who.secretary)
    case.refresh_from_db()
    return case


def passage(case, quote, occurrence=0, field="body"):
    text = field_text(latest(case), field)
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(quote, start + 1)
    return {"field": field, "start": start, "end": start + len(quote), "quote": quote}


def add(
    case, who, quote, text="请补充具体数据。", occurrence=0, field="body", **kwargs
):
    values = {**passage(case, quote, occurrence, field), **kwargs}
    return note_add(
        case=case,
        acting_user=who.reviewer1,
        revision=latest(case),
        text=text,
        **values,
    )


def revise(case, who, body):
    case.refresh_from_db()
    case_update(
        case=case,
        acting_user=who.correspondent,
        expected_version=case.version,
        content=CaseContent(title=case.title, lead=case.lead, body=body),
    )
    workflow.case_resubmit(case=case, acting_user=who.secretary)
    case.refresh_from_db()
    return case


def anchor_of(note, revision):
    return NoteAnchor.objects.get(note=note, revision=revision)


class NoteAddTests:
    def test_a_reviewer_of_the_stage_notes_a_passage(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线", suggestion="深入基层一线")
        assert note.stage_id == case.current_stage_id
        assert note.revision == latest(case)
        assert note.quote == "深入一线"
        anchor = anchor_of(note, latest(case))
        text = field_text(latest(case), "body")
        assert text[anchor.start : anchor.end] == "深入一线"
        assert note.before.endswith("二是\xa0") and note.after.startswith("调研")

    def test_offsets_that_are_off_find_the_quote_by_text(self, who):
        case = submitted(who)
        values = passage(case, "深入一线")
        note = note_add(
            case=case,
            acting_user=who.reviewer1,
            revision=latest(case),
            text="说明",
            **{**values, "start": values["start"] + 3, "end": values["end"] + 3},
        )
        assert anchor_of(note, latest(case)).start == values["start"]

    def test_a_quote_not_in_the_text_is_refused(self, who):
        case = submitted(who)
        with pytest.raises(WrongState, match="not in the text"):
            note_add(
                case=case,
                acting_user=who.reviewer1,
                revision=latest(case),
                field="body",
                start=0,
                end=4,
                quote="不存在的话",
                text="说明",
            )
        assert not Note.objects.exists()

    @pytest.mark.parametrize("actor", ["reviewer2", "secretary", "editor", "outsider"])
    def test_anyone_but_a_reviewer_of_the_stage_is_refused(self, who, actor):
        case = submitted(who)
        with pytest.raises(NotPermitted):
            note_add(
                case=case,
                acting_user=getattr(who, actor),
                revision=latest(case),
                text="说明",
                **passage(case, "深入一线"),
            )
        assert not Note.objects.exists()

    def test_no_note_once_the_round_is_closed(self, who):
        case = submitted(who)
        decide(case, "approve", who.reviewer1)
        case.refresh_from_db()
        # At stage 2 now: reviewer1's round on this revision has closed.
        with pytest.raises(NotPermitted):
            add(case, who, "深入一线")
        decide(case, "return", who.reviewer2)
        case.refresh_from_db()
        with pytest.raises(NotPermitted):
            note_add(
                case=case,
                acting_user=who.reviewer2,
                revision=latest(case),
                text="说明",
                **passage(case, "深入一线"),
            )
        assert not Note.objects.exists()

    def test_a_closed_round_is_refused_to_a_reviewer_who_still_has_the_role(self, who):
        case = submitted(who)
        old = latest(case)
        decide(case, "return", who.reviewer1)
        case = revise(case, who, BODY.replace("每月", "每周"))
        with pytest.raises(WrongState, match="round is closed"):
            note_add(
                case=case,
                acting_user=who.reviewer1,
                revision=old,
                text="说明",
                **passage(case, "深入一线"),
            )

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"text": "长" * 2001}, "longer than"),
            ({"text": "  "}, "Write the note"),
            ({"suggestion": "长" * 2001}, "longer than"),
            ({"field": "title"}, "lead or the body"),
        ],
    )
    def test_bounded_input(self, who, change, message):
        case = submitted(who)
        values = {"text": "说明", **passage(case, "深入一线"), **change}
        with pytest.raises(WrongState, match=message):
            note_add(
                case=case, acting_user=who.reviewer1, revision=latest(case), **values
            )

    def test_a_round_holds_a_bounded_number_of_notes(self, who, monkeypatch):
        monkeypatch.setattr("review.notes.MAX_NOTES_PER_ROUND", 2)
        case = submitted(who)
        add(case, who, "理论学习")
        add(case, who, "深入一线")
        with pytest.raises(WrongState, match="at most 2 notes"):
            add(case, who, "实际问题")
        assert Note.objects.count() == 2

    def test_a_quote_too_long_is_refused(self, who):
        case = submitted(who, body="<p>" + "学" * 600 + "</p>")
        with pytest.raises(WrongState, match="at most 500"):
            note_add(
                case=case,
                acting_user=who.reviewer1,
                revision=latest(case),
                field="body",
                start=0,
                end=501,
                quote="学" * 501,
                text="说明",
            )

    def test_a_note_on_the_lead(self, who):
        case = submitted(who)
        note = add(case, who, "导语", occurrence=0, field="lead")
        assert anchor_of(note, latest(case)).start == 0

    def test_notes_are_append_only(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        with pytest.raises(TypeError):
            note.save()
        with pytest.raises(TypeError):
            Note.objects.filter(pk=note.pk).update(text="改过")
        with pytest.raises(TypeError):
            note.delete()
        with pytest.raises(TypeError):
            NoteAnchor.objects.all().delete()

    @pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"
    )
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE review_note SET text = 'x'",
            "DELETE FROM review_noteanchor",
            "UPDATE review_notewithdrawal SET created_at = now()",
            "DELETE FROM review_notewithdrawal",
        ],
    )
    def test_the_database_refuses_changes_too(self, who, statement):
        case = submitted(who)
        withdraw(add(case, who, "深入一线"), who.reviewer1)
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)


class ReturnTests:
    def test_the_return_counts_the_notes_for_the_branch(self, who):
        case = submitted(who)
        add(case, who, "深入一线")
        add(case, who, "理论学习", occurrence=1)
        event = decide(case, "return", who.reviewer1)
        assert event.note_count == 2
        notice = Notification.objects.get(recipient=who.secretary, event=event)
        assert notice.event.note_count == 2


class NoteReplyTests:
    def returned_with_note(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        return case, note

    @pytest.mark.parametrize("actor", ["secretary", "correspondent"])
    def test_a_member_marks_done_or_answers(self, who, actor):
        _case, note = self.returned_with_note(who)
        user = getattr(who, actor)
        note_reply(note=note, acting_user=user, kind="done")
        note_reply(note=note, acting_user=user, kind="answer", text="已补充调研数据。")
        assert list(note.responses.values_list("kind", "text")) == [
            ("done", ""),
            ("answer", "已补充调研数据。"),
        ]

    @pytest.mark.parametrize(
        "actor", ["other_secretary", "reviewer1", "editor", "outsider"]
    )
    def test_no_one_else_may_answer(self, who, actor):
        _case, note = self.returned_with_note(who)
        with pytest.raises(NotPermitted):
            note_reply(note=note, acting_user=getattr(who, actor), kind="done")
        assert not NoteResponse.objects.exists()

    def test_an_answer_needs_words(self, who):
        _case, note = self.returned_with_note(who)
        with pytest.raises(WrongState, match="Write the answer"):
            note_reply(note=note, acting_user=who.secretary, kind="answer", text=" ")
        with pytest.raises(WrongState, match="longer than"):
            note_reply(
                note=note, acting_user=who.secretary, kind="answer", text="长" * 2001
            )

    def test_not_while_the_case_is_in_review(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        with pytest.raises(WrongState, match="round is closed"):
            note_reply(note=note, acting_user=who.secretary, kind="done")

    def test_nothing_changes_after_resubmit(self, who):
        case, note = self.returned_with_note(who)
        note_reply(note=note, acting_user=who.secretary, kind="done")
        revise(case, who, BODY)
        with pytest.raises(WrongState, match="round is closed"):
            note_reply(note=note, acting_user=who.secretary, kind="answer", text="再")
        assert note.responses.count() == 1


class CarryTests:
    def test_notes_carry_to_the_new_revision(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        case = revise(case, who, BODY)
        [row] = notes_for_revision(revision=latest(case))
        assert row.note == note and row.carried and row.status == "open"
        text = field_text(latest(case), "body")
        assert text[row.start : row.end] == "深入一线"

    def test_a_moved_passage_is_found_again(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        moved = "<p>新增一段：全面从严治党。</p>" + BODY
        case = revise(case, who, moved)
        anchor = anchor_of(note, latest(case))
        text = field_text(latest(case), "body")
        assert anchor.start == text.index("深入一线")

    def test_the_occurrence_with_the_same_surroundings_wins(self, who):
        case = submitted(who)
        # The second 坚持理论学习 (in 三是…) is noted.
        note = add(case, who, "坚持理论学习", occurrence=1)
        decide(case, "return", who.reviewer1)
        # A new paragraph before it brings a third occurrence nearer the
        # old place; the surroundings still point at 三是….
        changed = BODY.replace(
            "<p>三是", "<p>坚持理论学习不放松，坚持理论学习不停步。</p><p>三是"
        )
        case = revise(case, who, changed)
        anchor = anchor_of(note, latest(case))
        text = field_text(latest(case), "body")
        assert text[anchor.start - 2 : anchor.start] == "三是"

    def test_a_passage_gone_is_passage_changed(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        note_reply(note=note, acting_user=who.secretary, kind="answer", text="已改写")
        case = revise(case, who, BODY.replace("深入一线", "走进车间"))
        [row] = notes_for_revision(revision=latest(case))
        assert not row.anchor.found and row.passage_changed
        assert row.status == "answered" and row.mark_id == ""
        [unanswered] = notes_for_revision(revision=latest(case))
        assert unanswered.note.quote == "深入一线"

    def test_passage_changed_without_an_answer(self, who):
        case = submitted(who)
        add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        case = revise(case, who, BODY.replace("深入一线", "走进车间"))
        [row] = notes_for_revision(revision=latest(case))
        assert row.status == "passage_changed"

    def test_the_carry_is_part_of_the_resubmit(self, who):
        case = submitted(who)
        add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        case.refresh_from_db()
        with pytest.raises(RuntimeError), transaction.atomic():
            workflow.case_resubmit(case=case, acting_user=who.secretary)
            raise RuntimeError
        case.refresh_from_db()
        assert case.status == Case.Status.RETURNED
        assert NoteAnchor.objects.count() == 1

    def test_marks_in_the_body(self, who):
        case = submitted(who)
        add(case, who, "深入一线")
        rows = notes_for_revision(revision=latest(case))
        html = notes_body_html(latest(case).body, rows)
        assert '<strong><mark class="finding finding-note" id="note-body-0"' in html
        assert "深入一线</mark></strong>" in html


class PassageLocateTests:
    def test_at_the_offsets(self):
        assert passage_locate("甲乙丙甲乙丙", quote="甲乙", start=3) == 3

    def test_nearest_among_equals(self):
        assert passage_locate("甲乙丙丁甲乙丙丁甲乙", quote="甲乙", start=7) == 8

    def test_gone(self):
        assert passage_locate("甲乙丙", quote="丁", start=0) is None


class TimelineTests:
    def test_the_decision_carries_its_notes(self, who):
        from review.notes import events_notes_attach
        from review.selectors import case_timeline

        case = submitted(who)
        note = add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        events = events_notes_attach(case_timeline(case=case))
        returned = [e for e in events if e.action == CaseEvent.Action.RETURN]
        assert returned[0].round_notes == [note]


class NoteScoringStageTests:
    def test_no_note_at_a_scoring_stage(self, who):
        """评选 may be blind: a note would give the branch the scorer's name."""
        from tests.review.factories import case_to_scoring, scoring_stage

        scoring_stage(members=[who.reviewer2], per_case=1, blind=True)
        case = case_to_scoring(who, body=BODY)
        assert case.current_stage.is_scoring
        with pytest.raises(NotPermitted, match="scoring round"):
            note_add(
                case=case,
                acting_user=who.reviewer2,
                revision=latest(case),
                text="说明",
                **passage(case, "深入一线"),
            )
        assert not Note.objects.exists()


class NoteBoundsTests:
    def test_a_case_holds_a_bounded_number_of_notes(self, who, monkeypatch):
        monkeypatch.setattr("review.notes.MAX_NOTES_PER_CASE", 2)
        case = submitted(who)
        add(case, who, "理论学习")
        decide(case, "return", who.reviewer1)
        case = revise(case, who, BODY)
        add(case, who, "深入一线")
        with pytest.raises(WrongState, match="at most 2 notes over all"):
            add(case, who, "实际问题")
        assert Note.objects.count() == 2

    def test_done_is_marked_once(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        note_reply(note=note, acting_user=who.secretary, kind="done")
        with pytest.raises(WrongState, match="already marked done"):
            note_reply(note=note, acting_user=who.correspondent, kind="done")
        assert note.responses.count() == 1

    def test_a_note_takes_a_bounded_number_of_answers(self, who, monkeypatch):
        monkeypatch.setattr("review.notes.MAX_RESPONSES_PER_NOTE", 2)
        case = submitted(who)
        note = add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        for text in ("一", "二"):
            note_reply(note=note, acting_user=who.secretary, kind="answer", text=text)
        with pytest.raises(WrongState, match="already has 2 answers"):
            note_reply(note=note, acting_user=who.secretary, kind="answer", text="三")
        assert note.responses.count() == 2

    @pytest.mark.parametrize(
        ("start", "end"),
        [(-5, 3), (10**12, 10**12 + 4), (30, 4), (4, 4), (0, 10**9)],
    )
    def test_offsets_out_of_place_find_the_quote_by_text(self, who, start, end):
        case = submitted(who)
        note = note_add(
            case=case,
            acting_user=who.reviewer1,
            revision=latest(case),
            field="body",
            start=start,
            end=end,
            quote="深入一线",
            text="说明",
        )
        anchor = anchor_of(note, latest(case))
        text = field_text(latest(case), "body")
        assert text[anchor.start : anchor.end] == "深入一线"


class NotesSentOnlyTests:
    def test_the_branch_sees_no_note_of_an_open_round(self, who):
        case = submitted(who)
        add(case, who, "深入一线")
        assert notes_for_revision(revision=latest(case))
        assert notes_for_revision(revision=latest(case), sent_only=True) == []
        decide(case, "return", who.reviewer1)
        [row] = notes_for_revision(revision=latest(case), sent_only=True)
        assert row.note.quote == "深入一线"


class CarryOpenNotesTests:
    """Open notes go on from round to round until the branch marks them done."""

    def two_returns(self, who):
        case = submitted(who)
        open_note = add(case, who, "深入一线", text="第一轮：请补充。")
        done_note = add(case, who, "实际问题", text="第一轮：已改即可。")
        decide(case, "return", who.reviewer1)
        note_reply(note=done_note, acting_user=who.secretary, kind="done")
        case = revise(case, who, BODY)
        second = add(case, who, "每月", text="第二轮。")
        decide(case, "return", who.reviewer1)
        return case, open_note, done_note, second

    def test_an_open_note_of_an_earlier_round_is_answered_in_a_later_one(self, who):
        _case, open_note, _done, _second = self.two_returns(who)
        response = note_reply(note=open_note, acting_user=who.secretary, kind="done")
        assert response.note == open_note

    def test_open_notes_go_on_to_every_new_revision(self, who):
        case, open_note, _done, second = self.two_returns(who)
        case = revise(case, who, "<p>新增一段。</p>" + BODY)
        rows = notes_for_revision(revision=latest(case))
        assert {row.note for row in rows} == {open_note, second}
        text = field_text(latest(case), "body")
        for row in rows:
            assert text[row.start : row.end] == row.note.quote

    def test_a_note_done_in_the_first_round_stops_after_it_was_shown(self, who):
        case, open_note, done_note, second = self.two_returns(who)
        # done_note was carried to round 2 to be seen done; not to round 3.
        case = revise(case, who, BODY)
        statuses = {
            row.note: row.status for row in notes_for_revision(revision=latest(case))
        }
        assert statuses == {open_note: "open", second: "open"}
        assert done_note not in statuses

    def test_a_note_whose_passage_went_stops_after_it_was_shown(self, who):
        case = submitted(who)
        gone = add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        case = revise(case, who, BODY.replace("深入一线", "走进车间"))
        [row] = notes_for_revision(revision=latest(case))
        assert row.passage_changed
        decide(case, "return", who.reviewer1)
        case = revise(case, who, BODY)
        assert gone not in {
            row.note for row in notes_for_revision(revision=latest(case))
        }


class NearestOccurrenceTests:
    def test_the_occurrence_nearest_the_old_place_among_many(self):
        # 300 equal occurrences: the one nearest the old offset wins, even
        # far past the first ones.
        text = "丙" + "甲乙丁" * 300
        assert passage_locate(text, quote="甲乙", start=3 * 250) == 3 * 250 + 1

    def test_the_nearest_before_the_old_place(self):
        text = "甲乙丁" * 300
        assert passage_locate(text, quote="甲乙", start=3 * 250 + 2) == 3 * 250 + 3
        assert passage_locate(text, quote="甲乙", start=3 * 250 + 1) == 3 * 250

    def test_surroundings_win_over_the_old_offset(self):
        text = "一是坚持学习。二是坚持实践。"
        old = text.index("坚持")
        # The passage at the old offset is the first 坚持, but the note was on
        # the one after 二是.
        assert (
            passage_locate(text, quote="坚持", start=old, before="二是", after="实践")
            == text.index("二是坚持") + 2
        )

    def test_carry_with_the_quote_several_times_in_the_new_text(self, who):
        body = "".join(f"<p>第{n}段：坚持理论学习。</p>" for n in range(1, 9))
        case = submitted(who, body=body)
        note = add(case, who, "坚持理论学习", occurrence=5)
        decide(case, "return", who.reviewer1)
        # Every paragraph reads alike once the numbers go: only the old place
        # tells the sixth apart.
        case = revise(case, who, "".join("<p>段：坚持理论学习。</p>" for _ in range(8)))
        anchor = anchor_of(note, latest(case))
        text = field_text(latest(case), "body")
        assert text[: anchor.start].count("坚持理论学习") == 5


class CarryCostTests:
    """Carrying reads each text once a note, however often its quote occurs."""

    def test_the_largest_body_with_a_full_round_carries_in_bounded_time(self, who):
        import time

        paragraph = "<p>Keep studying, go to the front line, solve real problems.</p>"
        body = paragraph * (250 * 1000 // len(paragraph))
        case = submitted(who, body=body)
        text = field_text(latest(case), "body")
        step = len(text) // 200
        revision = latest(case)
        for n in range(200):
            at = text.index("front line", n * step)
            note_add(
                case=case,
                acting_user=who.reviewer1,
                revision=revision,
                field="body",
                start=at,
                end=at + len("front line"),
                quote="front line",
                text="Say where.",
            )
        decide(case, "return", who.reviewer1)
        # Each quote is there thousands of times, none where it was.
        started = time.perf_counter()
        case = revise(case, who, "<p>New.</p>" + body)
        elapsed = time.perf_counter() - started
        anchors = NoteAnchor.objects.filter(revision=latest(case))
        assert anchors.count() == 200
        assert len({anchor.start for anchor in anchors}) == 200
        assert elapsed < 10, elapsed

    def test_a_megabyte_text_and_many_lookups(self):
        import time

        text = "甲乙丁" * (1000 * 1000 // 3)
        started = time.perf_counter()
        for n in range(200):
            passage_locate(
                text, quote="甲乙", start=n * 4999, before="丁" * 40, after="丁" * 40
            )
        # A missing quote is one scan of the text each.
        for _ in range(200):
            assert passage_locate(text, quote="戊", start=500_000) is None
        assert time.perf_counter() - started < 5


class CarryDoneShownOnceTests:
    def test_a_note_done_in_a_later_round_is_shown_done_once_more(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        case = revise(case, who, BODY)
        decide(case, "return", who.reviewer1)
        note_reply(note=note, acting_user=who.secretary, kind="done")
        # The reviewer of the third revision sees it done…
        case = revise(case, who, BODY)
        [row] = notes_for_revision(revision=latest(case))
        assert row.note == note and row.status == "done"
        # … and it stops there.
        decide(case, "return", who.reviewer1)
        case = revise(case, who, BODY)
        assert notes_for_revision(revision=latest(case)) == []


class Races:
    """Calls run at once in real threads, each on its own connection."""

    def race(self, *calls):
        barrier = threading.Barrier(len(calls))
        results = []

        def attempt(call):
            try:
                barrier.wait()
                results.append(call())
            except Exception as error:  # the test reads what each thread got
                results.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt, args=(call,)) for call in calls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        return results

    def world(self):
        if connection.vendor != "postgresql":
            service_missing(
                "the race test needs PostgreSQL's row locks; set DATABASE_URL"
            )
        who = people()
        case = submitted(who)
        return who, case, reviewer(1, username="reviewer1b")


@pytest.mark.django_db(transaction=True)
class NoteRaceTests(Races):
    """On PostgreSQL, with real threads: the case's row lock orders notes and
    decisions, so no note lands in a round after its decision, and a round's
    bound holds however many reviewers press at once."""

    def test_a_note_and_the_decision_at_once(self):
        who, case, other = self.world()
        revision = latest(case)
        results = self.race(
            lambda: note_add(
                case=case,
                acting_user=other,
                revision=revision,
                text="并发批注",
                **passage(case, "深入一线"),
            ),
            lambda: workflow.case_return(
                case=case,
                acting_user=who.reviewer1,
                stage=case.current_stage,
                revision=revision,
                comment="退回",
            ),
        )
        event = CaseEvent.objects.get(action=CaseEvent.Action.RETURN)
        assert event.note_count == Note.objects.count(), results
        if not Note.objects.exists():
            # Too late: the case had left the stage, or the round had closed.
            assert any(
                isinstance(result, (NotPermitted, WrongState)) for result in results
            ), results

    def test_the_round_bound_holds_under_concurrent_notes(self, monkeypatch):
        monkeypatch.setattr("review.notes.MAX_NOTES_PER_ROUND", 1)
        who, case, other = self.world()
        revision = latest(case)
        results = self.race(
            *(
                lambda actor=actor: note_add(
                    case=case,
                    acting_user=actor,
                    revision=revision,
                    text="并发批注",
                    **passage(case, "深入一线"),
                )
                for actor in (who.reviewer1, other)
            )
        )
        assert Note.objects.count() == 1
        assert sorted(type(result).__name__ for result in results) == [
            "Note",
            "WrongState",
        ]


def withdraw(note, actor):
    return note_withdraw(note=note, acting_user=actor)


class NoteWithdrawTests:
    """The author takes a note back while its round is open; the note stays
    as written, and no longer stands."""

    def test_the_author_withdraws_a_note_of_the_open_round(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        withdrawal = withdraw(note, who.reviewer1)
        assert (withdrawal.note, withdrawal.actor) == (note, who.reviewer1)
        note.refresh_from_db()
        assert note.text == "请补充具体数据。"
        assert notes_for_revision(revision=latest(case)) == []
        rows = notes_for_revision(
            revision=latest(case), withdrawn_at=case.current_stage
        )
        assert [(row.note, row.status, row.mark_id) for row in rows] == [
            (note, "withdrawn", "")
        ]
        assert notes_body_html("<p>x</p>", rows) == "<p>x</p>"

    def test_the_decision_counts_and_sends_only_the_notes_that_stand(self, who):
        case = submitted(who)
        kept = add(case, who, "深入一线")
        withdraw(add(case, who, "理论学习", text="写错了"), who.reviewer1)
        event = decide(case, "return", who.reviewer1)
        assert event.note_count == 1
        notice = Notification.objects.get(recipient=who.secretary, event=event)
        assert notice.event.note_count == 1
        sent = notes_for_revision(revision=latest(case), sent_only=True)
        assert [row.note for row in sent] == [kept]

    def test_the_timeline_leaves_it_out(self, who):
        from review.notes import events_notes_attach
        from review.selectors import case_timeline

        case = submitted(who)
        kept = add(case, who, "深入一线")
        withdraw(add(case, who, "理论学习"), who.reviewer1)
        decide(case, "return", who.reviewer1)
        events = events_notes_attach(case_timeline(case=case))
        returned = [e for e in events if e.action == CaseEvent.Action.RETURN]
        assert returned[0].round_notes == [kept]

    def test_a_withdrawn_note_is_not_carried_on(self, who):
        case = submitted(who)
        kept = add(case, who, "深入一线")
        gone = add(case, who, "理论学习")
        withdraw(gone, who.reviewer1)
        decide(case, "return", who.reviewer1)
        case = revise(case, who, BODY)
        assert not NoteAnchor.objects.filter(note=gone, revision=latest(case)).exists()
        assert [row.note for row in notes_for_revision(revision=latest(case))] == [kept]

    def test_the_branch_cannot_answer_a_withdrawn_note(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        withdraw(note, who.reviewer1)
        decide(case, "return", who.reviewer1, comment="退回")
        with pytest.raises(WrongState, match="round is closed"):
            note_reply(note=note, acting_user=who.secretary, kind="done")
        assert not NoteResponse.objects.exists()

    @pytest.mark.parametrize("actor", ["colleague", "reviewer2", "secretary", "editor"])
    def test_only_the_author_may_withdraw(self, who, actor):
        case = submitted(who)
        note = add(case, who, "深入一线")
        colleague = reviewer(1, username="reviewer1b")
        user = colleague if actor == "colleague" else getattr(who, actor)
        with pytest.raises(NotPermitted, match="who wrote"):
            withdraw(note, user)
        assert not NoteWithdrawal.objects.exists()

    def test_once_only(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        withdraw(note, who.reviewer1)
        with pytest.raises(WrongState, match="already been withdrawn"):
            withdraw(note, who.reviewer1)
        assert NoteWithdrawal.objects.count() == 1

    @pytest.mark.parametrize("outcome", ["approve", "return", "reject"])
    def test_refused_once_the_decision_is_out(self, who, outcome):
        case = submitted(who)
        note = add(case, who, "深入一线")
        decide(case, outcome, who.reviewer1, comment="结论")
        with pytest.raises(WrongState, match="round is closed"):
            withdraw(note, who.reviewer1)
        assert not NoteWithdrawal.objects.exists()

    def test_refused_in_a_later_round_at_the_same_stage(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        decide(case, "return", who.reviewer1)
        revise(case, who, BODY)
        # Carried to round 2, open again at stage 1; but its own round closed.
        with pytest.raises(WrongState, match="round is closed"):
            withdraw(note, who.reviewer1)
        assert not NoteWithdrawal.objects.exists()

    def test_refused_to_an_author_no_longer_on_the_stage(self, who):
        case = submitted(who)
        note = add(case, who, "深入一线")
        who.reviewer1.groups.clear()
        with pytest.raises(NotPermitted, match="withdraw notes"):
            withdraw(note, who.reviewer1)
        assert not NoteWithdrawal.objects.exists()

    def test_the_withdrawal_is_append_only(self, who):
        case = submitted(who)
        withdrawal = withdraw(add(case, who, "深入一线"), who.reviewer1)
        with pytest.raises(TypeError):
            withdrawal.save()
        with pytest.raises(TypeError):
            withdrawal.delete()
        with pytest.raises(TypeError):
            NoteWithdrawal.objects.all().delete()


@pytest.mark.django_db(transaction=True)
class NoteWithdrawRaceTests(Races):
    """A withdrawal and the decision at once, on PostgreSQL with real threads:
    either the note is withdrawn before the decision counts it, or the
    withdrawal is refused and the note went out with the decision."""

    def test_a_withdrawal_and_the_decision_at_once(self):
        who, case, _other = self.world()
        revision = latest(case)
        note = add(case, who, "深入一线")
        add(case, who, "理论学习")
        results = self.race(
            lambda: note_withdraw(note=note, acting_user=who.reviewer1),
            lambda: workflow.case_return(
                case=case,
                acting_user=who.reviewer1,
                stage=case.current_stage,
                revision=revision,
                comment="退回",
            ),
        )
        event = CaseEvent.objects.get(action=CaseEvent.Action.RETURN)
        sent = [
            row.note for row in notes_for_revision(revision=revision, sent_only=True)
        ]
        if NoteWithdrawal.objects.exists():
            assert event.note_count == 1 and note not in sent, results
        else:
            assert event.note_count == 2 and note in sent, results
            assert any(isinstance(r, WrongState) for r in results), results
