"""The reviewer's page: the revision's stored findings marked in the text,
listed beside it with their suggestions and the button that quotes one into
the comment."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from review import workflow
from tests.review.factories import committed, draft, latest
from tests.review.test_text_check_workflow import BLOCKED_WORD, BODY, term
from tests.submissions.factories import signed_in
from textcheck.models import RevisionCheck

pytestmark = pytest.mark.django_db


def queries(request) -> int:
    """How many queries `request()` makes."""
    with CaptureQueriesContext(connection) as captured:
        request()
    return len(captured)


TITLE_WORD = "某某工程"


def in_review(who, **content):
    case = draft(who, **content)
    with committed():
        workflow.case_submit(case=case, acting_user=who.secretary)
    return case


def review_page(who, case):
    response = signed_in(who.reviewer1).get(reverse("review:case", args=[case.pk]))
    assert response.status_code == 200
    return response


class ReviewPageFindingsTests:
    def test_the_body_finding_is_marked_and_listed_with_its_quote(self, who):
        term(BLOCKED_WORD, replacement="规范用语")
        case = in_review(who, body=BODY)
        page = review_page(who, case).content.decode()
        mark = re.search(
            r'<mark class="finding finding-block" id="finding-body-0"', page
        )
        assert mark, page
        assert 'data-finding="0" title="' in page
        assert f">{BLOCKED_WORD}</mark>" in page
        assert 'data-finding-mark="finding-body-0"' in page
        assert 'id="finding-item-body-0"' in page
        quote = re.search(r'data-finding-quote="([^"]*)"', page).group(1)
        assert f"“{BLOCKED_WORD}”" in quote and "规范用语" in quote
        assert "js/findings.js" in page
        assert 'data-comment-field="id_comment"' in page

    def test_a_title_finding_is_listed_not_marked(self, who):
        term(TITLE_WORD, severity="warn")
        case = in_review(who, title=f"{TITLE_WORD}的党建实践")
        response = review_page(who, case)
        [row] = [row for row in response.context["findings"] if row.field == "title"]
        assert (row.finding.term, row.mark_id) == (TITLE_WORD, "")
        page = response.content.decode()
        assert 'id="finding-item-title-0"' in page
        assert (
            "<mark"
            not in page.split('class="case-article__title"')[1].split("</h1>")[0]
        )

    def test_nothing_found_says_so(self, who):
        case = in_review(who, body="<p>支部坚持学习。</p>")
        response = review_page(who, case)
        assert response.context["findings"] == []
        assert "<mark" not in response.content.decode()

    def test_the_stored_result_is_read_not_recomputed(self, who):
        term(BLOCKED_WORD)
        case = in_review(who, body=BODY)
        stored = RevisionCheck.objects.get(revision=latest(case))
        with CaptureQueriesContext(connection) as captured:
            review_page(who, case)
        writes = [
            query["sql"]
            for query in captured
            if "textcheck_revisioncheck" in query["sql"]
            and query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
        ]
        assert writes == []
        assert RevisionCheck.objects.get(pk=stored.pk).checked_at == stored.checked_at

    def test_a_dictionary_change_shows_on_the_next_view(self, who):
        case = in_review(who, body=BODY)
        assert review_page(who, case).context["findings"] == []
        term(BLOCKED_WORD)
        rows = review_page(who, case).context["findings"]
        assert [row.finding.term for row in rows] == [BLOCKED_WORD]

    def test_query_count_does_not_grow_with_the_findings(
        self, who, django_assert_num_queries
    ):
        term(BLOCKED_WORD)
        few = in_review(who, body=BODY)
        many = in_review(who, body="".join([BODY] * 40))
        review_page(who, few)
        review_page(who, many)
        client = signed_in(who.reviewer1)
        count = queries(lambda: client.get(reverse("review:case", args=[few.pk])))
        with django_assert_num_queries(count):
            response = client.get(reverse("review:case", args=[many.pk]))
        assert len(response.context["findings"]) == 40

    def test_without_a_stored_check_the_page_checks_and_writes_nothing(self, who):
        term(BLOCKED_WORD)
        case = draft(who, body=BODY)
        workflow.case_submit(case=case, acting_user=who.secretary)  # no worker
        rows = review_page(who, case).context["findings"]
        assert [row.finding.term for row in rows] == [BLOCKED_WORD]
        assert not RevisionCheck.objects.exists()
