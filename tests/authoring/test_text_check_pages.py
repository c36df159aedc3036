"""The writer's 文字检查: the saved draft's findings on the case form and in
the preview (marked in the body there), and 检查当前文本, the JSON check of
the text in the form's boxes, which saves nothing."""

import json

import pytest
from django.urls import reverse

from authoring.forms import TextCheckForm
from review.workflow import case_submit
from submissions.models import Case
from tests.review.factories import draft
from tests.review.test_text_check_workflow import BLOCKED_WORD, BODY, term
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db

TITLE_WORD = "某某工程"


@pytest.fixture
def terms(db):
    term(BLOCKED_WORD, replacement="规范用语")
    term(TITLE_WORD, severity="warn")


def check_data(**fields):
    data = {"title": "党建引领新篇章", "tagline": "", "lead": "导语。", "body": ""}
    data.update(fields)
    return data


class CaseFormPanelTests:
    def test_the_saved_drafts_findings_are_listed(self, who, terms):
        case = draft(who, title=f"{TITLE_WORD}的实践", body=BODY)
        response = signed_in(who.correspondent).get(
            reverse("submissions:case_update", args=[case.pk])
        )
        rows = response.context["findings"]
        assert [(row.field, row.finding.term) for row in rows] == [
            ("title", TITLE_WORD),
            ("body", BLOCKED_WORD),
        ]
        page = response.content.decode()
        assert "data-findings-panel" in page
        assert reverse("submissions:case_text_check", args=[case.pk]) in page
        assert "规范用语" in page

    def test_a_refused_save_lists_the_saved_text_not_the_posted(self, who, terms):
        case = draft(who, body="<p>支部坚持学习。</p>")
        response = signed_in(who.correspondent).post(
            reverse("submissions:case_update", args=[case.pk]),
            {
                "title": "",  # refused: a title is required
                "lead": "导语。",
                "body": BODY,
                "version": case.version,
            },
        )
        assert response.status_code == 200
        assert response.context["form"].errors
        assert response.context["findings"] == []

    def test_the_new_case_form_has_no_panel(self, who, terms):
        response = signed_in(who.correspondent).get(reverse("submissions:case_create"))
        assert "data-findings-panel" not in response.content.decode()


class PreviewTests:
    def test_the_body_finding_is_marked_and_listed(self, who, terms):
        case = draft(who, body=BODY)
        response = signed_in(who.correspondent).get(
            reverse("submissions:case_preview", args=[case.pk])
        )
        page = response.content.decode()
        assert 'id="finding-body-0"' in page
        assert f">{BLOCKED_WORD}</mark>" in page
        assert 'data-finding-mark="finding-body-0"' in page
        # The writer quotes into no comment.
        assert "data-finding-quote" not in page

    def test_a_submitted_case_shows_its_text_only(self, who, terms):
        case = draft(who, body=BODY)
        case_submit(case=case, acting_user=who.secretary)
        page = signed_in(who.correspondent).get(
            reverse("submissions:case_preview", args=[case.pk])
        )
        assert "<mark" not in page.content.decode()


class CheckNowTests:
    def url(self, case):
        return reverse("submissions:case_text_check", args=[case.pk])

    def test_the_text_sent_is_checked_and_nothing_saved(self, who, terms):
        case = draft(who, body="<p>支部坚持学习。</p>")
        before = Case.objects.values().get(pk=case.pk)
        response = signed_in(who.correspondent).post(
            self.url(case), check_data(title=f"{TITLE_WORD}的实践", body=BODY)
        )
        assert response.status_code == 200
        findings = json.loads(response.content)["findings"]
        assert [(found["field"], found["term"]) for found in findings] == [
            ("title", TITLE_WORD),
            ("body", BLOCKED_WORD),
        ]
        body = findings[1]
        assert body["severity"] == "block"
        assert body["suggestion"] == "规范用语"
        assert body["field_label"] and body["severity_label"]
        assert Case.objects.values().get(pk=case.pk) == before

    def test_a_term_split_across_tags_is_found(self, who, terms):
        case = draft(who)
        split = f"<p>杜绝<strong>{BLOCKED_WORD[:1]}</strong>{BLOCKED_WORD[1:]}</p>"
        response = signed_in(who.correspondent).post(
            self.url(case), check_data(body=split + "<script>alert(1)</script>")
        )
        [found] = json.loads(response.content)["findings"]
        assert (found["term"], found["start"]) == (BLOCKED_WORD, 2)

    @pytest.mark.parametrize(
        "fields",
        [
            {"title": "长" * 121},
            {"tagline": "长" * 61},
            {"lead": "长" * (TextCheckForm.base_fields["lead"].max_length + 1)},
            {"body": "<p>" + "字" * 1400 + "</p>"},
            {"body": "<blockquote>" * 70 + "深" + "</blockquote>" * 70},
        ],
        ids=["title", "tagline", "lead", "body-size", "body-depth"],
    )
    def test_text_beyond_the_bounds_is_refused_with_a_message(
        self, who, settings, fields
    ):
        case = draft(who)
        settings.CASEHUB_RICHTEXT_MAX_BYTES = 4096
        settings.CASEHUB_RICHTEXT_MAX_DEPTH = 64
        response = signed_in(who.correspondent).post(
            self.url(case), check_data(**fields)
        )
        assert response.status_code == 400
        assert json.loads(response.content)["error"]

    def test_another_branch_gets_not_found(self, who, terms):
        case = draft(who, body=BODY)
        response = signed_in(who.other_secretary).post(
            self.url(case), check_data(body=BODY)
        )
        assert response.status_code == 404

    def test_get_is_not_allowed_and_anonymous_signs_in(self, who, client):
        case = draft(who)
        assert signed_in(who.correspondent).get(self.url(case)).status_code == 405
        assert client.post(self.url(case), check_data()).status_code == 302

    def test_a_post_without_the_csrf_token_is_refused(self, who, terms):
        case = draft(who)
        client = signed_in(who.correspondent, enforce_csrf_checks=True)
        assert client.post(self.url(case), check_data(body=BODY)).status_code == 403
