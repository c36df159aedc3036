"""Hostile input to the public API: every answer is JSON and none is a 500.

Whatever a client puts in the address (huge or negative numbers, a NUL,
characters no slug has, a slug of thousands of characters, parameters nobody
defined), the answer is a 4xx with a message, or the page asked for; an
object that is not public answers exactly as one that does not exist.
"""

import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from showcase import services
from tests.review.factories import committed
from tests.showcase.factories import approved_case, planned_issue, published_issue
from tests.showcase.factories import series as series_make

pytestmark = pytest.mark.django_db

HUGE = "9" * 5000
NUMBERS = [
    "0",
    "-1",
    str(2**63),
    str(2**64 + 1),
    "1" + "0" * 30,
    HUGE,
    "1e3",
    "0x10",
    "٣",
    "１",
    " 1",
    "1.0",
    "NaN",
    "",
]
# Read as the number they spell, as Python would: the same answer as for it.
LENIENT = {" 1": "1", "1.0": "1"}
TEXTS = [
    "a" * 61,
    "a" * 5000,
    "党建引领",
    "dangjian\u202e",
    "😀",
    "../dangjian",
    "dangjian' OR '1'='1",
    "%00",
    "\u0000",
    "<script>alert(1)</script>",
    "dang jian",
    "\u200bdangjian",
    "DANGJIAN\n",
]


@pytest.fixture
def world(who):
    the_series = series_make()
    shown = published_issue(who, the_series)
    withdrawn = published_issue(who, the_series)
    with committed():
        services.issue_unpublish(issue=withdrawn, acting_user=who.editor, reason="撤下")
    planned = planned_issue(who, the_series, cases=[approved_case(who)])
    return {"series": the_series, "shown": shown, "planned": planned}


def answered(response) -> dict:
    """The answer is JSON, no server error, and not kept by any cache."""
    assert response.status_code < 500, response.content[:300]
    assert response["Content-Type"] == "application/json", response.content[:300]
    body = json.loads(response.content)
    if response.status_code >= 400:
        assert body["detail"], body
        assert "no-cache" in response.get("Cache-Control", ""), response.status_code
        assert "ETag" not in response
    return body


class ApiHostileInputTests:
    @pytest.mark.parametrize("value", NUMBERS)
    def test_any_page_number(self, world, value):
        for name, args in (("series_list", []), ("issue_list", ["dangjian"])):
            for parameter in ("page", "page_size"):
                response = Client().get(
                    reverse(f"api:{name}", args=args), {parameter: value}
                )
                answered(response)
                assert response.status_code in (200, 404, 422), (name, value)

    def test_a_huge_page_is_missing_and_a_huge_size_refused(self, world):
        url = reverse("api:issue_list", args=["dangjian"])
        huge = Client().get(url, {"page": "1" + "0" * 30})
        assert huge.status_code == 404
        assert answered(huge)["detail"] == "此地址下没有已发布的内容。"
        too_many = answered(Client().get(url, {"page_size": HUGE}))
        assert too_many["errors"][0]["parameter"] == "page_size"
        digits = answered(Client().get(url, {"page": HUGE}))
        assert digits["errors"] == [
            {"parameter": "page", "message": "参数 page 过大。"}
        ]

    @pytest.mark.parametrize("value", NUMBERS)
    def test_any_case_and_issue_number(self, world, value):
        if value == "":
            return  # an empty part is another address, checked below
        case_id = world["shown"].cases.get().pk
        for url in (
            "/api/v1/cases/{}/",
            "/api/v1/series/dangjian/issues/{}/",
        ):
            response = Client().get(url.format(value.replace("1", str(case_id))))
            answered(response)
            if value in LENIENT:
                spelled = url.format(LENIENT[value].replace("1", str(case_id)))
                assert response.content == Client().get(spelled).content, url
            else:
                assert response.status_code in (400, 404, 422), (url, value)

    @pytest.mark.parametrize("value", TEXTS)
    def test_any_slug(self, world, value):
        from urllib.parse import quote

        for url in (
            f"/api/v1/series/{quote(value, safe='')}/",
            f"/api/v1/series/{quote(value, safe='')}/issues/",
            f"/api/v1/series/{quote(value, safe='')}/issues/1/",
        ):
            response = Client().get(url)
            answered(response)
            assert response.status_code in (400, 404, 422), (url, response.status_code)
        response = Client().get(reverse("api:latest_issues"), {"series": value})
        answered(response)
        assert response.status_code in (400, 404, 422), response.status_code

    def test_a_slug_no_series_can_have_is_refused_with_a_message(self, world):
        response = Client().get("/api/v1/series/%E5%85%9A%E5%BB%BA/")
        assert response.status_code == 422
        assert answered(response)["errors"] == [
            {
                "parameter": "slug",
                "message": "参数 slug 只能包含字母、数字、连字符和下划线。",
            }
        ]
        long = answered(Client().get("/api/v1/series/" + "a" * 61 + "/"))
        assert long["errors"][0]["message"] == "参数 slug 过长。"

    def test_a_nul_anywhere_is_refused_in_json(self, world):
        for url in (
            "/api/v1/series/?page=%00",
            "/api/v1/series/dangjian/issues/?x=%00",
            "/api/v1/issues/latest/?series=dang%00jian",
            "/api/v1/series/dang%00jian/",
            "/api/v1/cases/1%00/",
        ):
            response = Client().get(url)
            assert response.status_code == 400, url
            assert "网址中含有空字符" in answered(response)["detail"]

    def test_unknown_parameters_change_nothing(self, world):
        url = reverse("api:issue_list", args=["dangjian"])
        plain = Client().get(url)
        cache.clear()
        noisy = Client().get(
            url, {"order": "-id", "status": "planned", "series": "x", "fields": "*"}
        )
        assert noisy.status_code == 200
        assert noisy.content == plain.content
        numbers = [item["number"] for item in answered(noisy)["items"]]
        assert numbers == [world["shown"].number]

    def test_what_is_not_public_answers_as_what_does_not_exist(self, world):
        planned_case = world["planned"].cases.get()
        withdrawn = world["shown"].number + 1
        missing_case = Client().get("/api/v1/cases/999999/")
        missing_issue = Client().get("/api/v1/series/dangjian/issues/999/")
        for response, missing in (
            (Client().get(f"/api/v1/cases/{planned_case.pk}/"), missing_case),
            (
                Client().get(f"/api/v1/series/dangjian/issues/{withdrawn}/"),
                missing_issue,
            ),
        ):
            assert response.status_code == 404
            assert response.content == missing.content
            assert response.headers == missing.headers

    def test_an_address_under_the_api_that_names_nothing_is_json(self, world):
        for url in ("/api/v1/", "/api/v1/nothing/", "/api/v2/series/", "/api/"):
            response = Client().get(url)
            assert response.status_code == 404, url
            assert answered(response)["detail"] == "此地址下没有已发布的内容。"

    def test_the_schema_is_answered_with_validators(self, world):
        first = Client().get("/api/v1/openapi.json")
        assert first.status_code == 200
        schema = json.loads(first.content)
        assert schema["openapi"].startswith("3.1")
        again = Client().get("/api/v1/openapi.json", HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304
        assert Client().post("/api/v1/openapi.json").status_code == 405
