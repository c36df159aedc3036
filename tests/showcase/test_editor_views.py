import datetime

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from showcase.models import Issue, QueueEntry, Series
from showcase.selectors import upcoming_slots
from showcase.services import issues_publish_due
from submissions.models import Case
from tests.showcase.factories import approved_case, planned_issue, series
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db


class EditorDeskTests:
    def test_only_editors_see_the_desk(self, who):
        assert (
            signed_in(who.editor).get(reverse("showcase_editor:desk")).status_code
            == 200
        )
        for user in (who.secretary, who.reviewer1):
            assert (
                signed_in(user).get(reverse("showcase_editor:desk")).status_code == 403
            )
            response = signed_in(user).post(reverse("showcase_editor:plan"), {})
            assert response.status_code == 403

    def test_desk_shows_queue_slots_and_planned_issues(self, who):
        the_series = series()
        waiting = approved_case(who, title="等待排期的案例")
        planned_issue(who, the_series, cases=[approved_case(who, title="已排期案例")])
        html = (
            signed_in(who.editor).get(reverse("showcase_editor:desk")).content.decode()
        )
        assert "等待排期的案例" in html and "已排期案例" in html
        slot = timezone.localtime(upcoming_slots(series=the_series)[0])
        assert slot.strftime("%Y-%m-%d") in html
        assert waiting.title in html

    def test_plan_for_a_slot_takes_the_front_of_the_queue(self, who):
        the_series = series()
        first, second = approved_case(who), approved_case(who)
        client = signed_in(who.editor)
        client.post(reverse("showcase_editor:hold"), {"case": first.pk, "value": "on"})
        slot = timezone.localtime(upcoming_slots(series=the_series)[0])
        client.post(
            reverse("showcase_editor:plan"),
            {
                "series": the_series.pk,
                "scheduled_at": slot.strftime("%Y-%m-%dT%H:%M"),
                "take_from_queue": "1",
            },
        )
        issue = Issue.objects.get()
        assert list(issue.cases.all()) == [second]
        assert issue.scheduled_at == slot
        assert QueueEntry.objects.get(case=first).is_held

    def test_publish_now_and_unpublish_through_the_desk(self, who):
        issue = planned_issue(who, series())
        client = signed_in(who.editor)
        client.post(reverse("showcase_editor:issue_publish", args=[issue.pk]))
        issue.refresh_from_db()
        assert (issue.status, issue.number) == ("published", 1)
        response = client.post(
            reverse("showcase_editor:issue_unpublish", args=[issue.pk]),
            {"reason": ""},
            follow=True,
        )
        issue.refresh_from_db()
        assert issue.status == "published"  # no reason, no unpublishing
        assert any("理由" in str(m) for m in response.context["messages"])
        client.post(
            reverse("showcase_editor:issue_unpublish", args=[issue.pk]),
            {"reason": "数据待核实"},
        )
        issue.refresh_from_db()
        assert (issue.status, issue.unpublish_reason) == ("unpublished", "数据待核实")

    def test_add_move_remove_and_note(self, who):
        first, second = approved_case(who), approved_case(who)
        issue = planned_issue(who, series(), cases=[first])
        client = signed_in(who.editor)
        client.post(
            reverse("showcase_editor:issue_add", args=[issue.pk]), {"case": second.pk}
        )
        client.post(
            reverse("showcase_editor:issue_up", args=[issue.pk]), {"case": second.pk}
        )
        assert list(issue.entries.values_list("case_id", flat=True)) == [
            second.pk,
            first.pk,
        ]
        client.post(
            reverse("showcase_editor:issue_remove", args=[issue.pk]), {"case": first.pk}
        )
        client.post(
            reverse("showcase_editor:issue_note", args=[issue.pk]),
            {"note": "<p>本期说明</p><script>alert(1)</script>"},
        )
        issue.refresh_from_db()
        assert issue.note == "<p>本期说明</p>"
        assert list(issue.cases.all()) == [second]

    def test_garbage_posts_are_refused_with_a_message(self, who):
        client = signed_in(who.editor)
        response = client.post(
            reverse("showcase_editor:plan"), {"scheduled_at": "soon"}, follow=True
        )
        assert response.status_code == 400
        assert 'value="soon"' in response.content.decode()
        assert not Issue.objects.exists()
        missing = reverse("showcase_editor:issue_publish", args=[999999])
        assert client.post(missing).status_code == 404


class IssuePlanDateTests:
    @pytest.mark.parametrize("typed", ["0001-01-01T00:00", "9999-12-31T23:59"])
    def test_a_time_outside_the_calendar_is_refused_and_kept(self, who, typed):
        the_series = series()
        waiting = approved_case(who)
        response = signed_in(who.editor).post(
            reverse("showcase_editor:plan"),
            {"series": the_series.pk, "scheduled_at": typed, "take_from_queue": 1},
        )
        assert response.status_code == 400
        html = response.content.decode()
        assert "请选择 2000-01-01 至" in html
        assert f'value="{typed}"' in html  # what the editor typed, to correct
        assert "<details open>" in html
        assert not Issue.objects.exists()
        waiting.refresh_from_db()
        assert waiting.status == Case.Status.APPROVED

    def test_a_time_in_range_is_planned(self, who):
        the_series = series()
        approved_case(who)
        when = timezone.localtime() + datetime.timedelta(days=2)
        signed_in(who.editor).post(
            reverse("showcase_editor:plan"),
            {
                "series": the_series.pk,
                "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
                "take_from_queue": 1,
            },
        )
        issue = Issue.objects.get()
        assert issue.scheduled_at == when.replace(second=0, microsecond=0)
        assert issue.cases.count() == 1


class DemoShowcaseTests:
    def test_demo_has_three_issues_out_and_the_next_goes_out_on_time(self):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        the_series = Series.objects.get()
        reader = Client()
        page = reader.get(the_series.get_absolute_url())
        assert [issue.number for issue in page.context["issues"]] == [3, 2, 1]
        for number in (1, 2, 3):
            url = reverse("showcase:issue", args=[the_series.slug, number])
            assert reader.get(url).status_code == 200
        planned = Issue.objects.get(status="planned")
        assert planned.scheduled_at > timezone.now()
        assert issues_publish_due().published == []  # not yet
        later = planned.scheduled_at + datetime.timedelta(minutes=1)
        published = issues_publish_due(now=later).published
        assert [issue.number for issue in published] == [4]
        case = planned.cases.get()
        assert Case.objects.get(pk=case.pk).status == Case.Status.PUBLISHED
