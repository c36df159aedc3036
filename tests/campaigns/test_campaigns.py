"""Calls for cases: who takes part, who may still submit, who is reminded."""

import csv
import io
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from authoring.services import CaseContent, case_create
from campaigns import tasks
from campaigns.models import Campaign, Extension
from campaigns.selectors import campaigns_with_counts, open_calls_for
from campaigns.services import NotAccepting, campaign_save, extension_grant
from casehub.exceptions import NotPermitted, WrongState
from inbox.models import Notification
from review import workflow as review
from submissions.models import Case, Membership
from tests.review.factories import case_in_state, committed, decide, draft
from tests.showcase.factories import series
from tests.submissions.factories import BranchFactory, member, signed_in

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def open_call(who, *, days_left=10, branches=None, **fields):
    return campaign_save(
        acting_user=who.editor,
        title=fields.get("title", "年度案例征集"),
        description="",
        series=fields.get("the_series") or series(),
        opens_on=TODAY() - timedelta(days=20),
        closes_on=TODAY() + timedelta(days=days_left),
        branches=branches,
    )


def for_call(case, campaign):
    Case.objects.filter(pk=case.pk).update(campaign=campaign)
    case.refresh_from_db()
    return case


class CampaignBranchesTests:
    def test_no_organisation_chosen_means_every_active_one(self, who):
        BranchFactory(is_active=False)
        campaign = open_call(who)
        from submissions.models import Branch

        assert set(campaign.branches.all()) == set(
            Branch.objects.filter(is_active=True)
        )


def people_of(who, secretary):
    """The factories' people, with `secretary`'s organisation as theirs."""
    correspondent = member(
        Membership.Role.CORRESPONDENT,
        branch=secretary.memberships.get().branch,
        username=f"c-{secretary.username}",
    )
    return type(who)(
        secretary=secretary,
        correspondent=correspondent,
        other_secretary=who.other_secretary,
        reviewer1=who.reviewer1,
        reviewer2=who.reviewer2,
        editor=who.editor,
        outsider=who.outsider,
    )


class SubmissionWindowTests:
    def test_an_open_call_takes_the_case(self, who):
        campaign = open_call(who)
        case = draft(who, campaign=campaign)
        review.case_submit(case=case, acting_user=who.secretary)
        case.refresh_from_db()
        assert (case.campaign, case.status) == (campaign, Case.Status.IN_REVIEW)

    def test_after_closing_a_submission_needs_an_extension(self, who):
        campaign = open_call(who, days_left=1)
        case = draft(who, campaign=campaign)
        later = timezone.now() + timedelta(days=3)
        with mock.patch("django.utils.timezone.now", return_value=later):
            with pytest.raises(NotAccepting) as refused:
                review.case_submit(case=case, acting_user=who.secretary)
            assert (
                "请联系编辑延期" in refused.value.message
                or "延期" in refused.value.message
            )
            case.refresh_from_db()
            assert case.status == Case.Status.DRAFT
            extension_grant(
                campaign=campaign,
                branch=who.branch,
                until=TODAY() + timedelta(days=5),
                acting_user=who.editor,
            )
            review.case_submit(case=case, acting_user=who.secretary)
        case.refresh_from_db()
        assert case.status == Case.Status.IN_REVIEW

    def test_a_returned_case_comes_back_after_closing(self, who):
        campaign = open_call(who, days_left=1)
        case = draft(who, campaign=campaign)
        review.case_submit(case=case, acting_user=who.secretary)
        decide(case, "return", who.reviewer1)
        later = timezone.now() + timedelta(days=3)
        with mock.patch("django.utils.timezone.now", return_value=later):
            review.case_resubmit(case=case, acting_user=who.secretary)
        case.refresh_from_db()
        assert case.status == Case.Status.IN_REVIEW

    def test_an_organisation_not_expected_cannot_answer(self, who):
        campaign = open_call(
            who, branches=[who.other_secretary.memberships.get().branch]
        )
        with pytest.raises(NotAccepting):
            draft(who, campaign=campaign)

    def test_extensions_are_for_editors_and_must_run_past_the_close(self, who):
        campaign = open_call(who)
        with pytest.raises(NotPermitted):
            extension_grant(
                campaign=campaign,
                branch=who.branch,
                until=TODAY() + timedelta(days=30),
                acting_user=who.reviewer1,
            )
        with pytest.raises(WrongState, match="延期"):
            extension_grant(
                campaign=campaign,
                branch=who.branch,
                until=campaign.closes_on,
                acting_user=who.editor,
            )
        assert not Extension.objects.exists()

    def test_the_case_form_offers_only_calls_open_to_the_organisation(self, who):
        mine = open_call(who, title="本组织可参加的征集")
        open_call(
            who,
            title="别的组织的征集",
            the_series=mine.series,
            branches=[who.other_secretary.memberships.get().branch],
        )
        client = signed_in(who.secretary)
        page = client.get(f"/submissions/new/?campaign={mine.pk}").content.decode()
        assert "本组织可参加的征集" in page and "别的组织的征集" not in page
        assert f'<option value="{mine.pk}" selected>' in page
        # A call that is not offered is refused by the form, and nothing saved.
        others = mine.__class__.objects.exclude(pk=mine.pk).get()
        response = client.post(
            "/submissions/new/",
            {
                "branch": who.branch.pk,
                "title": "标题",
                "campaign": others.pk,
                "save": "",
            },
        )
        assert response.status_code == 200
        assert not Case.objects.filter(title="标题").exists()
        response = client.post(
            "/submissions/new/",
            {"branch": who.branch.pk, "title": "标题", "campaign": mine.pk, "save": ""},
        )
        assert Case.objects.get(title="标题").campaign == mine

    def test_branch_users_see_open_calls_with_the_days_left(self, who):
        campaign = open_call(who, days_left=4, title="征集甲")
        closing = open_call(
            who, days_left=0, title="征集乙", the_series=campaign.series
        )
        calls = open_calls_for(branches=[who.branch])
        assert [(c.campaign, c.days_left) for c in calls] == [
            (closing, 0),
            (campaign, 4),
        ]
        page = signed_in(who.secretary).get("/submissions/").content.decode()
        assert "征集甲" in page and "还剩 4 天" in page
        assert "今天截止" in page


class ReminderTests:
    def test_secretaries_of_organisations_yet_to_submit_are_reminded_once_a_day(
        self, who, mailoutbox, settings
    ):
        settings.CAMPAIGN_REMINDER_DAYS = 3
        waiting = member(Membership.Role.SECRETARY, username="waiting")
        campaign = open_call(
            who,
            days_left=2,
            branches=[who.branch, waiting.memberships.get().branch],
        )
        # who.branch has submitted; `waiting`'s organisation has not.
        case = draft(who, campaign=campaign)
        review.case_submit(case=case, acting_user=who.secretary)
        mailoutbox.clear()
        with committed():
            assert tasks.campaign_reminders_send.delay().get() == 1
        with committed():
            tasks.campaign_reminders_send.delay()
        reminders = Notification.objects.filter(kind=Notification.Kind.CAMPAIGN)
        assert [n.recipient for n in reminders] == [waiting]
        assert [m.to for m in mailoutbox] == [[waiting.email]]
        assert campaign.title in mailoutbox[0].subject
        tomorrow = timezone.now() + timedelta(days=1)
        with mock.patch("django.utils.timezone.now", return_value=tomorrow):
            tasks.campaign_reminders_send.delay()
        assert reminders.all().count() == 2

    def test_an_organisation_that_withdrew_its_case_is_reminded(self, who):
        campaign = open_call(who, days_left=1, branches=[who.branch])
        case = draft(who, campaign=campaign)
        with committed():
            review.case_submit(case=case, acting_user=who.secretary)
        assert tasks.campaign_reminders_send.delay().get() == 0
        with committed():
            review.case_withdraw(case=case, acting_user=who.secretary)
        assert tasks.campaign_reminders_send.delay().get() == 1
        assert [c.submitted for c in open_calls_for(branches=[who.branch])] == [False]
        assert campaigns_with_counts().filter(pk=campaign.pk).get().submitted == 0

    def test_no_reminder_before_the_window_or_after_the_close(self, who, settings):
        settings.CAMPAIGN_REMINDER_DAYS = 3
        open_call(who, days_left=5)
        assert tasks.campaign_reminders_send.delay().get() == 0
        later = timezone.now() + timedelta(days=6)
        with mock.patch("django.utils.timezone.now", return_value=later):
            assert tasks.campaign_reminders_send.delay().get() == 0
        assert not Notification.objects.exists()

    def test_correspondents_and_organisations_not_expected_are_left_alone(self, who):
        open_call(who, days_left=1, branches=[who.branch])
        tasks.campaign_reminders_send.delay()
        assert list(
            Notification.objects.values_list("recipient__username", flat=True)
        ) == ["secretary"]

    def test_the_reminder_is_in_the_inbox_and_opens_the_cases_page(self, who):
        open_call(who, days_left=1, title="即将截止的征集")
        tasks.campaign_reminders_send.delay()
        client = signed_in(who.secretary)
        inbox = client.get("/inbox/").content.decode()
        assert "即将截止的征集" in inbox
        notification = Notification.objects.get(recipient=who.secretary)
        assert client.get(f"/inbox/{notification.pk}/").url == "/submissions/"

    def test_the_reminder_is_on_the_beat_schedule(self, settings):
        tasks_scheduled = [e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()]
        assert "campaigns.tasks.campaign_reminders_send" in tasks_scheduled


class CampaignPageTests:
    def test_editor_opens_a_call_for_every_organisation(self, who):
        client = signed_in(who.editor)
        the_series = series()
        response = client.post(
            "/campaigns/new/",
            {
                "title": "新的征集",
                "description": "说明",
                "series": the_series.pk,
                "opens_on": TODAY().isoformat(),
                "closes_on": (TODAY() + timedelta(days=30)).isoformat(),
            },
        )
        campaign = the_series.campaigns.get()
        assert response.url == campaign.get_absolute_url()
        assert campaign.branches.count() == 2  # the two organisations of `who`

    def test_closing_before_opening_is_refused_with_the_form_kept(self, who):
        client = signed_in(who.editor)
        response = client.post(
            "/campaigns/new/",
            {
                "title": "日期颠倒",
                "series": series().pk,
                "opens_on": "2026-05-01",
                "closes_on": "2026-04-01",
            },
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert "征集不能在开始之前截止" in page and "日期颠倒" in page

    def test_participation_page_and_its_downloads(self, who):
        campaign = open_call(who, branches=[who.branch])
        for_call(case_in_state(who, "in_review_1"), campaign)
        client = signed_in(who.reviewer1)
        page = client.get(campaign.get_absolute_url()).content.decode()
        assert who.branch.name in page and "审核中" in page
        response = client.get(campaign.get_absolute_url() + "?format=csv")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows == [
            ["党组织", "最远进度", "案例数", "已提交", "延期至"],
            [who.branch.name, "审核中", "1", "1", ""],
        ]
        response = client.get(campaign.get_absolute_url() + "?format=xlsx")
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert [c.value for c in sheet[2]] == [who.branch.name, "审核中", 1, 1, None]

    def test_editor_grants_an_extension_and_a_bad_date_is_explained(self, who):
        campaign = open_call(who, branches=[who.branch])
        client = signed_in(who.editor)
        response = client.post(
            f"/campaigns/{campaign.pk}/extend/",
            {"branch": who.branch.pk, "until": "not-a-date"},
        )
        assert response.status_code == 400
        assert "有效的日期" in response.content.decode()
        # A date the service refuses keeps what was typed, with the reason why.
        response = client.post(
            f"/campaigns/{campaign.pk}/extend/",
            {
                "branch": who.branch.pk,
                "until": campaign.closes_on.isoformat(),
                "reason": "材料尚在补充",
            },
        )
        assert response.status_code == 400
        html = response.content.decode()
        assert "延期日期须晚于征集截止日，且不能早于今天。" in html
        assert 'value="材料尚在补充"' in html
        assert f'value="{campaign.closes_on.isoformat()}"' in html
        assert not Extension.objects.exists()
        until = campaign.closes_on + timedelta(days=7)
        client.post(
            f"/campaigns/{campaign.pk}/extend/",
            {"branch": who.branch.pk, "until": until.isoformat(), "reason": "补充材料"},
        )
        assert Extension.objects.get().until == until

    def test_branch_users_cannot_see_the_department_pages(self, who):
        campaign = open_call(who)
        client = signed_in(who.secretary)
        assert client.get("/campaigns/").status_code == 403
        assert client.get(campaign.get_absolute_url()).status_code == 403


def test_case_content_accepts_a_call(who):
    campaign = open_call(who)
    case = case_create(
        branch=who.branch,
        acting_user=who.correspondent,
        content=CaseContent(title="征集案例", campaign=campaign),
    )
    assert case.campaign == campaign


class CampaignAdminTests:
    def test_admins_look_up_calls_and_cannot_remove_one_cases_answered(
        self, client, who, admin_user
    ):
        campaign = open_call(who, title="误开的征集")
        answered = open_call(who, title="已有案例的征集", the_series=campaign.series)
        for_call(draft(who), answered)
        client.force_login(admin_user)

        listing = client.get("/admin/campaigns/campaign/")
        assert listing.status_code == 200
        assert "误开的征集" in listing.content.decode()
        assert (
            client.get(f"/admin/campaigns/campaign/{answered.pk}/change/").status_code
            == 200
        )
        assert client.get("/admin/campaigns/campaign/add/").status_code == 403

        client.post(f"/admin/campaigns/campaign/{answered.pk}/delete/", {"post": "yes"})
        assert Campaign.objects.filter(pk=answered.pk).exists()
        client.post(f"/admin/campaigns/campaign/{campaign.pk}/delete/", {"post": "yes"})
        assert not Campaign.objects.filter(pk=campaign.pk).exists()
