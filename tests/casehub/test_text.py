from unittest import mock

import pytest
from django.utils import timezone

from campaigns.services import campaign_save
from casehub.text import bidi_strip, text_render
from review.models import ReviewStage
from tests.review.factories import draft
from tests.showcase.factories import series
from tests.submissions.factories import BranchFactory, UserFactory

CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


class BidiStripTests:
    def test_every_control_goes_and_the_text_stays(self):
        assert bidi_strip(f"党建{CONTROLS}引领 ABC") == "党建引领 ABC"

    def test_text_without_controls_is_unchanged(self):
        text = "党建引领新篇章:筑基·创新·暖心 (2024) \u200b\u3000"
        assert bidi_strip(text) == text


@pytest.mark.django_db
class BidiStripOnSaveTests:
    """Every plain-text field a user types loses its controls, however saved."""

    def test_every_plain_field_of_a_case(self, who):
        case = draft(
            who,
            title="标题\u202e反转",
            tagline="口\u2066号",
            author_name="作\u200f者",
            source="来\u202d源",
            lead="导\u202b语。",
        )
        case.refresh_from_db()
        assert (case.title, case.tagline, case.author_name, case.source, case.lead) == (
            "标题反转",
            "口号",
            "作者",
            "来源",
            "导语。",
        )

    def test_the_other_models_users_type_into(self, who):
        branch = BranchFactory(name="第\u202e一党支部")
        user = UserFactory(first_name="张\u202e三")
        the_series = series(title="党建\u202e引领", column="基层\u2067党建")
        campaign = campaign_save(
            acting_user=who.editor,
            title="征集\u202e活动",
            description="说\u202e明",
            series=the_series,
            opens_on=timezone.localdate(),
            closes_on=timezone.localdate(),
        )
        stage = ReviewStage.objects.get(position=1)
        stage.name = "初\u202e审"
        stage.save()
        for obj in (branch, user, the_series, campaign, stage):
            obj.refresh_from_db()
        assert branch.name == "第一党支部"
        assert user.first_name == "张三"
        assert (the_series.title, the_series.column) == ("党建引领", "基层党建")
        assert (campaign.title, campaign.description) == ("征集活动", "说明")
        assert stage.name == "初审"

    def test_a_save_of_some_fields_writes_only_those(self, who):
        case = draft(who)
        case.title = "标题\u202e"
        case.tagline = "口号\u202e"
        case.save(update_fields=["title"])
        case.refresh_from_db()
        assert case.title == "标题"
        assert case.tagline == ""

    def test_rich_text_is_left_to_its_sanitiser(self, who):
        # Taking characters out of HTML after it was sanitised could change
        # what an address means; rich text is the sanitiser's alone.
        with mock.patch("submissions.models.richtext_clean", side_effect=str):
            case = draft(who, title="标题\u202e", body="<p>甲\u202e乙</p>")
        case.refresh_from_db()
        assert case.title == "标题"
        assert case.body == "<p>甲\u202e乙</p>"


class TextRenderTests:
    def test_nothing_is_escaped(self, tmp_path, settings):
        (tmp_path / "plain.txt").write_text("{{ title }} · {% include 'inner.txt' %}")
        (tmp_path / "inner.txt").write_text("{{ title }}")
        settings.TEMPLATES = [
            {
                **settings.TEMPLATES[0],
                "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]],
            }
        ]
        title = "“A&B” <x> \"q\" 'y'"
        assert text_render("plain.txt", {"title": title}) == f"{title} · {title}"
