import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from authoring.services import CaseContent, case_update
from review import workflow
from review.models import Decision, ReviewStage
from submissions.models import Case
from tests.review.factories import (
    case_in_state,
    committed,
    decide,
    draft,
    latest,
    stage,
)
from tests.submissions.factories import ThemeFactory, signed_in

pytestmark = pytest.mark.django_db


def submitted(who, **content):
    case = draft(who, **content)
    workflow.case_submit(case=case, acting_user=who.secretary)
    case.refresh_from_db()
    return case


def decision_data(case, outcome, comment=""):
    return {
        "outcome": outcome,
        "comment": comment,
        "revision": latest(case).pk,
        "stage": case.current_stage_id,
    }


class ReviewQueueViewTests:
    def test_reviewer_sees_the_cases_at_their_stage(self, who):
        waiting = submitted(who, title="等待初审")
        at_final = case_in_state(who, "in_review_2")
        response = signed_in(who.reviewer1).get(reverse("review:queue"))
        assert response.status_code == 200
        assert list(response.context["cases"]) == [waiting]
        assert at_final.title not in response.content.decode()
        assert response.context["stages"][0][1] == {"waiting": 1, "overdue": 0}

    def test_branch_member_is_refused(self, who):
        assert signed_in(who.secretary).get(reverse("review:queue")).status_code == 403

    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(reverse("review:queue"))
        assert response.status_code == 302

    def test_longest_waiting_first_and_overdue_stands_out(self, who):
        older = submitted(who, title="先到")
        newer = submitted(who, title="后到")
        Case.objects.filter(pk=older.pk).update(
            stage_entered_at=older.stage_entered_at.replace(year=2020),
            stage_due_at=older.stage_due_at.replace(year=2020),
        )
        response = signed_in(who.reviewer1).get(reverse("review:queue"))
        assert list(response.context["cases"]) == [older, newer]
        page = response.content.decode()
        assert page.count('class="is-overdue"') == 1
        assert response.context["stages"][0][1]["overdue"] == 1
        only_overdue = signed_in(who.reviewer1).get(
            reverse("review:queue"), {"overdue": "on"}
        )
        assert list(only_overdue.context["cases"]) == [older]

    def test_filters(self, who):
        theme = ThemeFactory(name="科技创新")
        tagged = draft(who, title="科技攻关")
        tagged.themes.add(theme)
        workflow.case_submit(case=tagged, acting_user=who.secretary)
        other_branch_secretary = who.other_secretary
        other = draft(who, title="别的题目")
        workflow.case_submit(case=other, acting_user=who.secretary)
        client = signed_in(who.reviewer1)
        url = reverse("review:queue")
        assert list(client.get(url, {"theme": theme.pk}).context["cases"]) == [tagged]
        assert list(client.get(url, {"q": "攻关"}).context["cases"]) == [tagged]
        branch_name = who.branch.name
        assert len(client.get(url, {"q": branch_name}).context["cases"]) == 2
        other_branch = other_branch_secretary.memberships.get().branch
        assert list(client.get(url, {"branch": other_branch.pk}).context["cases"]) == []
        tagged.refresh_from_db()
        today = timezone.localdate(tagged.submitted_at).isoformat()
        dated = client.get(url, {"submitted_after": today, "submitted_before": today})
        assert len(dated.context["cases"]) == 2
        tomorrow = timezone.localdate(tagged.submitted_at) + datetime.timedelta(days=1)
        future = client.get(url, {"submitted_after": tomorrow.isoformat()})
        assert list(future.context["cases"]) == []

    def test_hostile_parameters_do_not_break_the_page(self, who):
        client = signed_in(who.reviewer1)
        url = reverse("review:queue")
        for params in (
            {"stage": "'; drop table"},
            {"submitted_after": "not-a-date"},
            {"branch": "x"},
            {"page": "-1"},
        ):
            assert client.get(url, params).status_code in (200, 404)

    def test_query_count_is_the_same_for_500_cases(
        self, who, django_assert_num_queries
    ):
        theme = ThemeFactory()
        client = signed_in(who.reviewer1)
        url = reverse("review:queue")

        def queries_for_page():
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            assert response.status_code == 200
            return len(captured)

        for _ in range(3):
            submitted(who).themes.add(theme)
        few = queries_for_page()
        for _ in range(497):
            submitted(who).themes.add(theme)
        assert Case.objects.filter(status="in_review").count() == 500
        with django_assert_num_queries(few):
            response = client.get(url)
        assert len(response.context["cases"]) == 25


class ReviewCaseViewTests:
    def test_page_shows_the_revision_the_timeline_and_the_form(self, who):
        case = submitted(who, title="党建引领新篇章", tagline="筑基·创新·暖心")
        page = signed_in(who.reviewer1).get(reverse("review:case", args=[case.pk]))
        html = page.content.decode()
        assert page.status_code == 200
        assert 'class="case-article"' in html and "筑基·创新·暖心" in html
        assert 'name="outcome"' in html
        assert "timeline" in html
        assert page.context["previous"] is None

    def test_second_round_shows_what_changed(self, who):
        case = submitted(who, lead="支部组织党员开展学习。")
        decide(case, "return", who.reviewer1, comment="请补充成效")
        case.refresh_from_db()
        case_update(
            case=case,
            acting_user=who.correspondent,
            expected_version=case.version,
            content=CaseContent(
                title=case.title,
                lead="支部组织全体党员开展专题学习。",
                body=case.body,
            ),
        )
        workflow.case_resubmit(case=case, acting_user=who.secretary)
        html = (
            signed_in(who.reviewer1)
            .get(reverse("review:case", args=[case.pk]))
            .content.decode()
        )
        assert "<ins>全体</ins>" in html
        assert "<ins>专题</ins>" in html
        assert "请补充成效" in html  # the earlier round's comment, in the timeline

    def test_reviewer_of_another_stage_gets_404(self, who):
        case = submitted(who)
        url = reverse("review:case", args=[case.pk])
        assert signed_in(who.reviewer2).get(url).status_code == 404
        assert signed_in(who.secretary).get(url).status_code == 404
        missing = reverse("review:case", args=[999999])
        assert signed_in(who.reviewer1).get(missing).status_code == 404

    def test_approve(self, who):
        case = submitted(who)
        response = signed_in(who.reviewer1).post(
            reverse("review:case", args=[case.pk]), decision_data(case, "approve")
        )
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.current_stage == stage(2)

    def test_return_without_comment_is_explained_next_to_the_field(self, who):
        case = submitted(who)
        response = signed_in(who.reviewer1).post(
            reverse("review:case", args=[case.pk]), decision_data(case, "return")
        )
        assert response.status_code == 400
        assert response.context["form"].errors["comment"]
        assert "需要填写意见" in response.content.decode()
        assert not Decision.objects.exists()

    def test_double_post_is_a_no_op_with_a_message(self, who):
        case = submitted(who)
        client = signed_in(who.reviewer1)
        url = reverse("review:case", args=[case.pk])
        data = decision_data(case, "return", comment="请修改")
        client.post(url, data, follow=True)
        response = client.post(url, data, follow=True)
        assert response.status_code == 200
        assert Decision.objects.count() == 1
        texts = " ".join(str(m) for m in response.context["messages"])
        assert f"{who.reviewer1.first_name} 已于" in texts  # who decided first
        assert "请修改" in texts  # the comment typed the second time, given back

    def test_decision_on_an_outdated_revision_names_who_decided(self, who):
        case = submitted(who)
        stale = decision_data(case, "approve")
        decide(case, "return", who.reviewer1, comment="退回")
        workflow.case_resubmit(case=case, acting_user=who.secretary)
        response = signed_in(who.reviewer1).post(
            reverse("review:case", args=[case.pk]), stale, follow=True
        )
        texts = " ".join(str(m) for m in response.context["messages"])
        assert who.reviewer1.first_name in texts
        assert Decision.objects.count() == 1

    def test_tampered_stage_is_refused(self, who):
        case = submitted(who)
        data = decision_data(case, "approve")
        data["stage"] = stage(2).pk
        response = signed_in(who.reviewer1).post(
            reverse("review:case", args=[case.pk]), data
        )
        assert response.status_code == 403
        assert not Decision.objects.exists()

    def test_garbage_post_is_a_400_not_a_500(self, who):
        case = submitted(who)
        response = signed_in(who.reviewer1).post(
            reverse("review:case", args=[case.pk]),
            {"outcome": "publish", "revision": "x", "stage": ""},
        )
        assert response.status_code == 400


class BranchTimelineTests:
    def test_branch_reads_the_return_comment_and_resubmits(self, who):
        case = submitted(who)
        decide(case, "return", who.reviewer1, comment="请补充活动照片")
        client = signed_in(who.secretary)
        html = client.get(case.get_absolute_url()).content.decode()
        assert "请补充活动照片" in html
        assert reverse("submissions:case_resubmit", args=[case.pk]) in html
        assert "初审" in html
        response = client.post(reverse("submissions:case_resubmit", args=[case.pk]))
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.status == Case.Status.IN_REVIEW
        assert case.revisions.count() == 2
        actions = list(case.events.values_list("action", flat=True))
        assert actions == ["submit", "return", "resubmit"]


class RejectedCaseViewTests:
    def test_editor_reopens_with_a_reason(self, who):
        case = case_in_state(who, "rejected")
        client = signed_in(who.editor)
        assert case.title in client.get(reverse("review:rejected")).content.decode()
        client.post(reverse("review:reopen", args=[case.pk]), {"comment": "值得再改"})
        case.refresh_from_db()
        assert case.status == Case.Status.RETURNED
        assert case.events.last().comment == "值得再改"

    def test_reopen_needs_a_reason(self, who):
        case = case_in_state(who, "rejected")
        signed_in(who.editor).post(reverse("review:reopen", args=[case.pk]), {})
        case.refresh_from_db()
        assert case.status == Case.Status.REJECTED

    def test_others_may_not(self, who):
        case = case_in_state(who, "rejected")
        for user in (who.reviewer1, who.secretary):
            client = signed_in(user)
            assert client.get(reverse("review:rejected")).status_code == 403
            url = reverse("review:reopen", args=[case.pk])
            assert client.post(url, {"comment": "x"}).status_code == 403
        case.refresh_from_db()
        assert case.status == Case.Status.REJECTED


class UserTextInSentencesTests:
    """Titles and names set inside our sentences: escaped once, and isolated."""

    def test_the_inbox_escapes_a_title_once(self, who):
        with committed():
            submitted(who, title='“A&B” <x> "q"')
        html = signed_in(who.reviewer1).get(reverse("inbox:list")).content.decode()
        assert "<bdi>“A&amp;B” &lt;x&gt; &quot;q&quot;</bdi>" in html
        assert "&amp;quot;" not in html
        assert "&amp;amp;" not in html

    def test_a_title_loses_its_override_on_save(self, who):
        with committed():
            case = submitted(who, title="标题\u202e反转", tagline="\u2067口号\u2069")
        case.refresh_from_db()
        assert (case.title, case.tagline) == ("标题反转", "口号")
        assert latest(case).title == "标题反转"
        html = signed_in(who.reviewer1).get(reverse("inbox:list")).content.decode()
        assert "\u202e" not in html
        assert "<bdi>标题反转</bdi>" in html

    def test_an_override_stored_earlier_is_isolated_in_the_inbox(self, who):
        with committed():
            case = submitted(who)
        # A row written before titles were cleaned, or around the models.
        Case.objects.filter(pk=case.pk).update(title="标题\u202e反转")
        html = signed_in(who.reviewer1).get(reverse("inbox:list")).content.decode()
        assert "\u202e" not in html
        assert "<bdi>标题反转</bdi>" in html

    def test_names_in_the_timeline_are_isolated(self, who):
        case = submitted(who)
        decide(case, "return", who.reviewer1, comment="请修改")
        # Names written around the models, so only the page can isolate them.
        get_user_model().objects.filter(pk=who.reviewer1.pk).update(
            first_name="审核\u202e员"
        )
        ReviewStage.objects.filter(position=1).update(name="初审\u202e")
        html = signed_in(who.secretary).get(case.get_absolute_url()).content.decode()
        timeline = html[html.index('<ol class="timeline">') :]
        timeline = timeline[: timeline.index("</ol>")]
        assert "\u202e" not in timeline
        assert "<bdi>审核员</bdi>" in timeline
        assert "<bdi>初审</bdi>" in timeline
