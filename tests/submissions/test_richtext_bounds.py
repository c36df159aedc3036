"""Oversized and deeply nested rich text, posted as a branch member would."""

import time

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from authoring.services import CaseContent, case_update
from submissions.models import Case
from tests.casehub.test_richtext import EDITOR_NESTED
from tests.review.factories import draft
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db

SAVED_BODY = "<h2>一、筑基</h2><p>一是加强组织建设。</p>"
HOSTILE_BODIES = {
    "deep divs": ("<div>" * 100000 + "x", "内容过长"),
    "deep lists": ("<ul><li>" * 60000, "内容过长"),
    "flat and too large": ("<p>一是加强组织建设。</p>" * 20000, "内容过长"),
    "deep within the size": ("<div>" * 5000 + "x", "嵌套超过 256 层"),
}


def form_data(case, **fields):
    data = {
        "title": case.title,
        "tagline": "",
        "author_name": "",
        "source": "",
        "lead": case.lead,
        "body": SAVED_BODY,
        "version": case.version,
    }
    data.update(fields)
    return data


class CaseFormRichTextBoundsTests:
    @pytest.mark.parametrize("name", list(HOSTILE_BODIES))
    def test_hostile_body_is_refused_fast_and_nothing_saved_is_lost(self, who, name):
        body, message = HOSTILE_BODIES[name]
        case = draft(who, body=SAVED_BODY)
        url = reverse("submissions:case_update", args=[case.pk])
        client = signed_in(who.correspondent)
        started = time.perf_counter()
        response = client.post(url, form_data(case, title="我改过的标题", body=body))
        elapsed = time.perf_counter() - started
        assert elapsed < 3
        assert response.status_code == 200
        assert response.context["form"].errors["body"]
        page = response.content.decode()
        assert message in page
        assert "我改过的标题" in page  # what the person typed comes back
        assert response.context["form"]["body"].value() == body
        saved = Case.objects.get(pk=case.pk)
        assert (saved.body, saved.title, saved.version) == (
            SAVED_BODY,
            case.title,
            case.version,
        )

    def test_a_new_case_with_a_hostile_body_is_not_created(self, who):
        response = signed_in(who.correspondent).post(
            reverse("submissions:case_create"),
            {
                "branch": who.branch.pk,
                "title": "新案例",
                "lead": "导语。",
                "body": "<ul><li>" * 60000,
            },
        )
        assert response.status_code == 200
        assert "内容过长" in response.content.decode()
        assert not Case.objects.filter(title="新案例").exists()

    def test_the_editors_deepest_output_is_saved(self, who):
        case = draft(who, body=SAVED_BODY)
        response = signed_in(who.correspondent).post(
            reverse("submissions:case_update", args=[case.pk]),
            form_data(case, body=EDITOR_NESTED),
        )
        assert response.status_code == 302
        # All of it, the soft line break made two paragraphs (casehub.normalise).
        stored = EDITOR_NESTED.replace("<br>", "</p><p>")
        assert Case.objects.get(pk=case.pk).body == stored

    def test_the_services_refuse_what_the_form_would(self, who):
        # The last line: a path without the form (an import, a script) still
        # never hands unbounded text to the parser.
        case = draft(who, body=SAVED_BODY)
        started = time.perf_counter()
        with pytest.raises(ValidationError):
            case_update(
                case=case,
                acting_user=who.correspondent,
                expected_version=case.version,
                content=CaseContent(
                    title=case.title,
                    lead=case.lead,
                    body="<div>" * (settings.CASEHUB_RICHTEXT_MAX_DEPTH + 1),
                ),
            )
        assert time.perf_counter() - started < 3
        assert Case.objects.get(pk=case.pk).body == SAVED_BODY
