"""The public API against its own OpenAPI schema, over HTTP on loopback.

Schemathesis reads /api/v1/openapi.json from a live server on 127.0.0.1 and
sends every operation requests generated from it: valid ones with the
addresses of real series, issues and cases (so answers with bodies are
checked, not only 404s), valid ones with whatever else the schema allows, and
invalid ones. Every answer must be no server error, of a status, content type
and body the schema declares for it, and every invalid request refused.
"""

import datetime
import json

import pytest
import schemathesis
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from showcase import services
from tests.review.factories import people
from tests.showcase.factories import approved_case, planned_issue, series

pytestmark = [pytest.mark.django_db(transaction=True)]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Requests per operation and kind: seven operations, three kinds, in well
# under a minute on this machine.
EXAMPLES = 25


@pytest.fixture
def world():
    """Two series with published issues, a planned and a withdrawn one."""
    who = people()
    main, other = series(), series(slug="other", title="另一个系列")
    issues = []
    for the_series in (main, main, other):
        issue = planned_issue(
            who,
            the_series,
            cases=[approved_case(who), approved_case(who)],
            when=timezone.now() + datetime.timedelta(days=1),
        )
        issues.append(services.issue_publish(issue=issue, acting_user=who.editor))
    services.issue_unpublish(issue=issues[1], acting_user=who.editor, reason="撤下")
    planned_issue(who, main)
    shown = issues[0]
    return {
        "slug": main.slug,
        "number": shown.number,
        "case_id": shown.cases.first().pk,
        "series": main.slug,
    }


def known_values(operation, world) -> dict:
    """The real values of the path parameters this operation has."""
    names = {parameter.name for parameter in operation.path_parameters}
    return {name: world[name] for name in names}


def fuzz(strategy, *, checks, seen: set, base_url: str) -> None:
    """Send EXAMPLES requests drawn from `strategy`, each answer checked."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        response = case.call_and_validate(base_url=base_url, checks=checks)
        seen.add(response.status_code)

    run()


def test_every_answer_conforms_to_the_schema(live_server, world):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.path for operation in operations} == {
        "/api/v1/series/",
        "/api/v1/series/{slug}/",
        "/api/v1/series/{slug}/issues/",
        "/api/v1/series/{slug}/issues/{number}/",
        "/api/v1/issues/latest/",
        "/api/v1/cases/{case_id}/",
    }
    statuses = {}
    for operation in operations:
        known = known_values(operation, world)
        kinds = {
            "known": operation.as_strategy(
                GenerationMode.POSITIVE, path_parameters=known
            ),
            "positive": operation.as_strategy(GenerationMode.POSITIVE),
            "negative": operation.as_strategy(GenerationMode.NEGATIVE),
        }
        if operation.path == "/api/v1/issues/latest/":
            kinds["known"] = st.one_of(
                kinds["known"],
                operation.as_strategy(
                    GenerationMode.POSITIVE, query={"series": world["series"]}
                ),
            )
        for kind, strategy in kinds.items():
            checks = CHECKS + ([negative_data_rejection] if kind == "negative" else [])
            seen = statuses.setdefault((operation.path, kind), set())
            fuzz(strategy, checks=checks, seen=seen, base_url=live_server.url)
    # The known addresses were answered with bodies the schema checked.
    for operation in operations:
        assert 200 in statuses[(operation.path, "known")], operation.path
    assert 422 in statuses[("/api/v1/series/{slug}/issues/", "negative")]


def test_the_schema_says_which_fields_may_be_null():
    """A client generated from the schema should not have to guard against a
    null the API never sends, nor miss one it does."""
    schemas = json.loads(Client().get("/api/v1/openapi.json").content)["components"][
        "schemas"
    ]

    def nullable(schema, field):
        options = schemas[schema]["properties"][field].get("anyOf", [])
        return {"type": "null"} in options

    may_be_null = {
        ("SeriesOut", "latest_issue_number"),
        ("CaseOut", "cover_image_url"),
        ("CaseOut", "cover_thumbnail_url"),
        ("IssueCaseOut", "cover_thumbnail_url"),
        ("Page", "next"),
        ("Page", "previous"),
    }
    for name, schema in schemas.items():
        for field in schema.get("properties", {}):
            if name.endswith("Page") and field in ("next", "previous"):
                assert nullable(name, field), (name, field)
                continue
            assert nullable(name, field) == ((name, field) in may_be_null), (
                name,
                field,
            )
