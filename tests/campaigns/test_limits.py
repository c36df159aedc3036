"""A call's 字数 and image limits: set by editors, shown to writers, held at submit."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from authoring.services import CaseContent, case_update
from campaigns.forms import CampaignForm
from campaigns.models import Campaign, CampaignEvent
from campaigns.services import OutsideLimits, campaign_save
from casehub.exceptions import WrongState
from review import workflow
from review.models import CaseEvent
from showcase.models import Series
from submissions.models import Case
from tests.review.factories import decide, draft
from tests.showcase.factories import series
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
FIGURE = (
    '<figure class="image"><img src="/media/uploads/photo.png" alt="照片"></figure>'
)


def limited_call(who, **limits) -> Campaign:
    return campaign_save(
        acting_user=who.editor,
        title="“党建引领”案例征集",
        description="",
        series=Series.objects.first() or series(),
        opens_on=TODAY() - timedelta(days=10),
        closes_on=TODAY() + timedelta(days=10),
        branches=[who.branch],
        **limits,
    )


def body(characters: int, images: int = 0) -> str:
    """A body of exactly `characters` 字 (in paragraphs of at most 100) and
    `images` figures."""
    paragraphs = [
        "<p>" + "党" * min(100, characters - start) + "</p>"
        for start in range(0, characters, 100)
    ]
    return "".join(paragraphs) + FIGURE * images


def nothing_changed(case: Case) -> bool:
    case.refresh_from_db()
    return (
        case.status == Case.Status.DRAFT
        and not case.revisions.exists()
        and not CaseEvent.objects.filter(case=case).exists()
    )


class CampaignLimitsModelTests:
    def test_limits_are_optional(self, who):
        campaign = limited_call(who)
        assert (campaign.min_zishu, campaign.max_zishu, campaign.max_images) == (
            None,
            None,
            None,
        )
        assert not campaign.has_limits and campaign.limits_text == ""

    @pytest.mark.parametrize(
        ("limits", "field"),
        [
            ({"min_zishu": 3000, "max_zishu": 2000}, "max_zishu"),
            ({"min_zishu": 0}, "min_zishu"),
            ({"max_zishu": 0}, "max_zishu"),
            ({"max_zishu": 100_001}, "max_zishu"),
            ({"max_images": 101}, "max_images"),
        ],
    )
    def test_full_clean_refuses(self, who, limits, field):
        campaign = limited_call(who)
        for name, value in limits.items():
            setattr(campaign, name, value)
        with pytest.raises(ValidationError) as refused:
            campaign.full_clean()
        assert list(refused.value.message_dict) == [field]

    def test_equal_bounds_and_text_only_are_allowed(self, who):
        campaign = limited_call(who)
        campaign.min_zishu = campaign.max_zishu = 2000
        campaign.max_images = 0
        campaign.full_clean()

    @pytest.mark.parametrize(
        "limits",
        [
            {"min_zishu": 3000, "max_zishu": 2000},
            {"min_zishu": 0},
            {"max_zishu": 0},
        ],
    )
    def test_the_database_refuses_what_validation_would(self, who, limits):
        campaign = limited_call(who)
        with pytest.raises(IntegrityError), transaction.atomic():
            Campaign.objects.filter(pk=campaign.pk).update(**limits)

    def test_the_migrations_match_the_models(self):
        call_command("makemigrations", "campaigns", "--check", "--dry-run", verbosity=0)

    @pytest.mark.parametrize(
        ("limits", "english", "chinese"),
        [
            (
                {"min_zishu": 2000, "max_zishu": 5000, "max_images": 5},
                "2,000–5,000 characters, at most 5 images",
                "2,000–5,000 字，图片不超过 5 张",
            ),
            ({"min_zishu": 2000}, "at least 2,000 characters", "不少于 2,000 字"),
            ({"max_zishu": 1500}, "at most 1,500 characters", "不超过 1,500 字"),
            ({"max_images": 1}, "at most 1 image", "图片不超过 1 张"),
            ({"max_images": 0}, "text only, no images", "只收文字稿，不含图片"),
        ],
    )
    def test_the_limits_as_writers_read_them(self, who, limits, english, chinese):
        campaign = limited_call(who, **limits)
        with translation.override("en"):
            assert campaign.limits_text == english
        with translation.override("zh-hans"):
            assert campaign.limits_text == chinese


class CampaignLimitsServiceTests:
    def test_saved_and_audited(self, who):
        campaign = limited_call(who, min_zishu=2000, max_images=5)
        campaign.refresh_from_db()
        assert (campaign.min_zishu, campaign.max_zishu, campaign.max_images) == (
            2000,
            None,
            5,
        )
        opened = CampaignEvent.objects.get(campaign=campaign)
        assert "min_zishu: 2000" in opened.detail
        assert "max_images: 5" in opened.detail

    def test_a_change_of_limits_is_logged(self, who):
        campaign = limited_call(who, min_zishu=2000)
        campaign_save(
            acting_user=who.editor,
            campaign=campaign,
            title=campaign.title,
            description="",
            series=campaign.series,
            opens_on=campaign.opens_on,
            closes_on=campaign.closes_on,
            branches=[who.branch],
            min_zishu=1500,
        )
        changed = CampaignEvent.objects.filter(campaign=campaign).last()
        assert changed.action == CampaignEvent.Action.CHANGE
        assert changed.detail == "min_zishu: 2000 → 1500"

    def test_min_above_max_is_refused(self, who):
        with translation.override("en"), pytest.raises(WrongState) as refused:
            limited_call(who, min_zishu=3000, max_zishu=2000)
        assert refused.value.message == (
            "The most characters cannot be fewer than the fewest (3,000)."
        )
        assert not Campaign.objects.exists()


class CampaignLimitsFormTests:
    def data(self, **fields):
        values = {
            "title": "字数征集",
            "description": "",
            "series": series().pk,
            "opens_on": TODAY().isoformat(),
            "closes_on": (TODAY() + timedelta(days=30)).isoformat(),
        }
        values.update(fields)
        return values

    def test_min_above_max_is_one_error_on_the_maximum(self, who):
        with translation.override("en"):
            form = CampaignForm(self.data(min_zishu="3000", max_zishu="2000"))
            assert not form.is_valid()
            assert form.errors == {
                "max_zishu": [
                    "The most characters cannot be fewer than the fewest (3,000)."
                ]
            }

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("min_zishu", "0"),
            ("min_zishu", "-5"),
            ("min_zishu", "两千"),
            ("min_zishu", "9" * 5000),
            ("max_zishu", "100001"),
            ("max_images", "-1"),
            ("max_images", "1.5"),
        ],
    )
    def test_bad_numbers_are_refused(self, who, field, value):
        form = CampaignForm(self.data(**{field: value}))
        assert not form.is_valid()
        assert list(form.errors) == [field]

    def test_empty_means_no_limit(self, who):
        form = CampaignForm(self.data(min_zishu="", max_zishu="", max_images=""))
        assert form.is_valid(), form.errors
        assert form.cleaned_data["min_zishu"] is None

    def test_the_editor_sets_limits_on_the_call_page(self, who):
        client = signed_in(who.editor)
        form_page = client.get("/campaigns/new/").content.decode()
        assert 'name="min_zishu"' in form_page and 'name="max_images"' in form_page
        response = client.post(
            "/campaigns/new/",
            self.data(min_zishu="2000", max_zishu="5000", max_images="0"),
        )
        campaign = Campaign.objects.get(title="字数征集")
        assert response.url == campaign.get_absolute_url()
        assert (campaign.min_zishu, campaign.max_zishu, campaign.max_images) == (
            2000,
            5000,
            0,
        )
        page = client.get(campaign.get_absolute_url()).content.decode()
        with translation.override("zh-hans"):
            assert campaign.limits_text in page

    def test_a_refused_call_form_keeps_what_was_typed(self, who):
        client = signed_in(who.editor)
        response = client.post(
            "/campaigns/new/", self.data(min_zishu="3000", max_zishu="2000")
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert 'value="3000"' in page and 'value="2000"' in page
        assert not Campaign.objects.exists()


class CampaignLimitsShownToWritersTests:
    def test_the_case_form_names_the_limits_with_the_call(self, who):
        campaign = limited_call(who, min_zishu=2000, max_zishu=5000, max_images=5)
        plain = limited_call(who)
        client = signed_in(who.secretary)
        page = client.get("/submissions/new/").content.decode()
        assert "“党建引领”案例征集（2,000–5,000 字，图片不超过 5 张）" in page
        assert 'data-min-zishu="2000"' in page and 'data-max-images="5"' in page
        assert f'<option value="{plain.pk}">“党建引领”案例征集</option>' in page
        # The counter's script, and the editor's own word count gone.
        assert "js/zishu.js" in page
        assert '"removePlugins": ["WordCount"]' in page
        assert f'<option value="{campaign.pk}" data-limits=' in page

    def test_open_calls_show_their_limits(self, who):
        limited_call(who, min_zishu=2000)
        page = signed_in(who.secretary).get("/submissions/").content.decode()
        assert "不少于 2,000 字" in page


class SubmitWithinLimitsTests:
    def case_for(self, who, campaign, characters, images=0):
        return draft(who, campaign=campaign, body=body(characters, images))

    def refusal(self, who, case) -> str:
        with translation.override("en"), pytest.raises(OutsideLimits) as refused:
            workflow.case_submit(case=case, acting_user=who.secretary)
        assert nothing_changed(case)
        return refused.value.message

    def test_below_the_minimum(self, who):
        case = self.case_for(who, limited_call(who, min_zishu=2000), 1820)
        assert self.refusal(who, case) == (
            "The body has 1,820 characters; this call asks for at least 2,000."
        )

    def test_above_the_maximum(self, who):
        case = self.case_for(who, limited_call(who, max_zishu=1500), 1501)
        assert self.refusal(who, case) == (
            "The body has 1,501 characters; this call asks for at most 1,500."
        )

    def test_too_many_images(self, who):
        case = self.case_for(who, limited_call(who, max_images=2), 100, images=3)
        assert self.refusal(who, case) == (
            "The body has 3 images; this call allows at most 2."
        )

    def test_an_image_in_a_text_only_call(self, who):
        case = self.case_for(who, limited_call(who, max_images=0), 100, images=1)
        assert self.refusal(who, case) == (
            "The body has 1 image; this call takes text only."
        )

    def test_every_limit_missed_is_named(self, who):
        campaign = limited_call(who, min_zishu=2000, max_images=1)
        case = self.case_for(who, campaign, 10, images=2)
        assert self.refusal(who, case) == (
            "The body has 10 characters; this call asks for at least 2,000. "
            "The body has 2 images; this call allows at most 1."
        )

    def test_within_the_limits(self, who):
        campaign = limited_call(who, min_zishu=2000, max_zishu=2000, max_images=3)
        case = self.case_for(who, campaign, 2000, images=3)
        workflow.case_submit(case=case, acting_user=who.secretary)
        case.refresh_from_db()
        assert case.status == Case.Status.IN_REVIEW
        assert case.revisions.count() == 1

    def test_no_limits(self, who):
        case = self.case_for(who, limited_call(who), 1, images=30)
        workflow.case_submit(case=case, acting_user=who.secretary)
        case.refresh_from_db()
        assert case.status == Case.Status.IN_REVIEW

    def test_a_case_for_no_call_has_no_limits(self, who):
        case = draft(who, body=body(1))
        workflow.case_submit(case=case, acting_user=who.secretary)
        case.refresh_from_db()
        assert case.status == Case.Status.IN_REVIEW

    def test_resubmit_is_held_to_the_limits_too(self, who):
        campaign = limited_call(who, min_zishu=100)
        case = self.case_for(who, campaign, 100)
        workflow.case_submit(case=case, acting_user=who.secretary)
        decide(case, "return", who.reviewer1)
        case.refresh_from_db()
        case_update(
            case=case,
            acting_user=who.secretary,
            expected_version=case.version,
            content=CaseContent(
                title=case.title, lead=case.lead, body=body(99), campaign=campaign
            ),
        )
        events = CaseEvent.objects.filter(case=case).count()
        with translation.override("en"), pytest.raises(OutsideLimits) as refused:
            workflow.case_resubmit(case=case, acting_user=who.secretary)
        assert refused.value.message == (
            "The body has 99 characters; this call asks for at least 100."
        )
        case.refresh_from_db()
        assert case.status == Case.Status.RETURNED
        assert case.revisions.count() == 1
        assert CaseEvent.objects.filter(case=case).count() == events

    def test_the_secretary_reads_the_refusal_in_chinese(self, who):
        case = self.case_for(who, limited_call(who, min_zishu=2000), 1820)
        client = signed_in(who.secretary)
        response = client.post(f"/submissions/{case.pk}/submit/", follow=True)
        assert (
            "正文 1,820 字，本次征集要求不少于 2,000 字。" in response.content.decode()
        )
        assert nothing_changed(case)

    def test_the_table_names_the_requirement(self):
        for action in (workflow.Action.SUBMIT, workflow.Action.RESUBMIT):
            assert any(
                "limits" in need for need in workflow.TRANSITION[action].requires
            )
