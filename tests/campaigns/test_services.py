"""Saving and extending calls: under the call's lock, audited, history kept."""

import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.models import Campaign, CampaignEvent, Extension
from campaigns.selectors import (
    campaign_accepts,
    extension_until,
    open_calls_for,
    participation,
)
from campaigns.services import campaign_delete, campaign_save, extension_grant
from casehub.exceptions import NotPermitted
from tests.conftest import service_missing
from tests.review.factories import people
from tests.showcase.factories import series
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def call_settings(who, **changes):
    values = {
        "acting_user": who.editor,
        "title": "年度案例征集",
        "description": "",
        "series": changes.pop("the_series", None) or series(),
        "opens_on": TODAY() - timedelta(days=20),
        "closes_on": TODAY() - timedelta(days=1),
        "branches": [who.branch],
    }
    values.update(changes)
    return values


def grant(who, campaign, days, reason=""):
    return extension_grant(
        campaign=campaign,
        branch=who.branch,
        until=TODAY() + timedelta(days=days),
        reason=reason,
        acting_user=who.editor,
    )


class CampaignSaveTests:
    def test_opening_and_changing_a_call_are_logged(self, who):
        campaign = campaign_save(**call_settings(who))
        opened = CampaignEvent.objects.get()
        assert (opened.campaign, opened.actor, opened.action) == (
            campaign,
            who.editor,
            CampaignEvent.Action.CREATE,
        )
        assert "title: 年度案例征集" in opened.detail
        later = TODAY() + timedelta(days=9)
        campaign_save(
            **call_settings(who, the_series=campaign.series, closes_on=later),
            campaign=campaign,
        )
        changed = CampaignEvent.objects.latest("pk")
        assert changed.action == CampaignEvent.Action.CHANGE
        was = (TODAY() - timedelta(days=1)).isoformat()
        assert changed.detail == f"closes_on: {was} → {later.isoformat()}"

    def test_saving_without_a_change_adds_nothing(self, who):
        campaign = campaign_save(**call_settings(who))
        campaign_save(
            **call_settings(who, the_series=campaign.series), campaign=campaign
        )
        assert CampaignEvent.objects.count() == 1

    def test_a_refused_save_changes_and_logs_nothing(self, who):
        campaign = campaign_save(**call_settings(who))
        with pytest.raises(NotPermitted):
            campaign_save(
                **call_settings(
                    who,
                    the_series=campaign.series,
                    acting_user=who.reviewer1,
                    title="改名",
                ),
                campaign=campaign,
            )
        campaign.refresh_from_db()
        assert campaign.title == "年度案例征集"
        assert CampaignEvent.objects.count() == 1

    def test_the_editors_page_writes_the_log(self, who):
        the_series = series()
        signed_in(who.editor).post(
            "/campaigns/new/",
            {
                "title": "页面上发起的征集",
                "series": the_series.pk,
                "opens_on": TODAY().isoformat(),
                "closes_on": (TODAY() + timedelta(days=30)).isoformat(),
            },
        )
        event = CampaignEvent.objects.get()
        assert (event.campaign.title, event.actor) == ("页面上发起的征集", who.editor)


class ExtensionGrantTests:
    def test_a_grant_is_logged(self, who):
        campaign = campaign_save(**call_settings(who))
        extension = grant(who, campaign, 5, reason="材料补充")
        event = CampaignEvent.objects.get(action=CampaignEvent.Action.EXTEND)
        assert (event.campaign, event.branch, event.actor) == (
            campaign,
            who.branch,
            who.editor,
        )
        assert event.detail == f"until: {extension.until.isoformat()}\nreason: 材料补充"

    def test_a_re_grant_keeps_the_old_one_and_the_new_date_is_in_force(self, who):
        campaign = campaign_save(**call_settings(who))
        first = grant(who, campaign, 10)
        second = grant(who, campaign, 3)  # an editor may shorten it, too
        first.refresh_from_db()
        assert list(Extension.objects.filter(campaign=campaign)) == [first, second]
        assert (first.in_force, second.in_force) == (False, True)
        assert first.until == TODAY() + timedelta(days=10)
        assert extension_until(campaign=campaign, branch=who.branch) == second.until
        [row] = participation(campaign=campaign)
        assert row.extended_until == second.until
        assert [call.deadline for call in open_calls_for(branches=[who.branch])] == [
            second.until
        ]
        assert campaign_accepts(campaign=campaign, branch=who.branch)
        in_a_week = TODAY() + timedelta(days=7)
        assert not campaign_accepts(
            campaign=campaign, branch=who.branch, today=in_a_week
        )
        last = CampaignEvent.objects.filter(action=CampaignEvent.Action.EXTEND).last()
        assert last.detail == f"until: {first.until.isoformat()} → {second.until}"

    def test_the_call_page_shows_the_extension_in_force(self, who):
        campaign = campaign_save(**call_settings(who))
        first = grant(who, campaign, 10)
        second = grant(who, campaign, 4)
        html = signed_in(who.editor).get(campaign.get_absolute_url()).content.decode()
        assert second.until.isoformat() in html
        assert first.until.isoformat() not in html

    def test_the_admin_lists_every_grant(self, who, admin_client):
        campaign = campaign_save(**call_settings(who))
        grant(who, campaign, 10, reason="第一次")
        grant(who, campaign, 4, reason="第二次")
        page = admin_client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/")
        html = page.content.decode()
        assert "第一次" in html and "第二次" in html


class CampaignDeleteTests:
    def test_deleting_a_call_keeps_its_log(self, who, admin_user):
        campaign = campaign_save(**call_settings(who, title="误开的征集"))
        grant(who, campaign, 5)
        with pytest.raises(NotPermitted):
            campaign_delete(campaign=campaign, acting_user=who.editor)
        campaign_delete(campaign=campaign, acting_user=admin_user)
        assert not Campaign.objects.exists()
        assert not Extension.objects.exists()
        actions = list(CampaignEvent.objects.values_list("action", "campaign"))
        assert actions == [
            (CampaignEvent.Action.CREATE, None),
            (CampaignEvent.Action.EXTEND, None),
            (CampaignEvent.Action.DELETE, None),
        ]
        assert "title: 误开的征集" in CampaignEvent.objects.last().detail


@pytest.mark.django_db(transaction=True)
class ExtensionRaceTests:
    """Two editors extend the same organisation's deadline at the same moment."""

    def test_both_grants_are_kept_and_the_later_one_is_in_force(self):
        if connection.vendor != "postgresql":
            service_missing(
                "the race test needs PostgreSQL's row locks; set DATABASE_URL"
            )
        who = people()
        campaign = campaign_save(**call_settings(who))
        barrier = threading.Barrier(2)
        results = {}
        # Each grant pauses between reading what is in force and adding its
        # row: without the call's lock both would find nothing to replace.
        real_create = Extension.objects.create

        def slow_create(**fields):
            time.sleep(0.3)
            return real_create(**fields)

        def attempt(days):
            try:
                barrier.wait(timeout=10)
                results[days] = grant(who, campaign, days)
            except Exception as error:  # the test inspects what each got
                results[days] = error
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt, args=(d,)) for d in (6, 8)]
        with mock.patch.object(Extension.objects, "create", side_effect=slow_create):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)

        assert all(isinstance(r, Extension) for r in results.values()), results
        rows = list(Extension.objects.filter(campaign=campaign).order_by("pk"))
        assert len(rows) == 2
        in_force = [row for row in rows if row.in_force]
        assert in_force == [rows[-1]]
        assert extension_until(campaign=campaign, branch=who.branch) == rows[-1].until
        assert (
            CampaignEvent.objects.filter(action=CampaignEvent.Action.EXTEND).count()
            == 2
        )
