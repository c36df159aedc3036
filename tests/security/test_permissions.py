"""Every URL of the site × every role × GET and POST, from the URL configuration.

Each cell has an expected status; none may be a 500, and no page a role may
not see carries the title of a case it may not see.
"""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from campaigns.services import campaign_save
from exports.services import export_request
from review import services as review
from review.models import Notification
from showcase import services as showcase
from showcase.editor_urls import ISSUE_ACTIONS
from tests.review.factories import committed, decide, draft, people
from tests.showcase.factories import approved_case, series

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "correspondent",
    "secretary",
    "other_secretary",
    "reviewer1",
    "reviewer2",
    "editor",
    "admin",
]
MEMBERS = {"correspondent", "secretary"}
REVIEWERS = {"reviewer1", "reviewer2"}
EDITORS = {"editor", "admin"}
DEPARTMENT = REVIEWERS | EDITORS
SIGNED_IN = set(ROLES) - {"anonymous"}
HAS_ORGANISATION = MEMBERS | {"other_secretary"}
LOGIN = 302  # anonymous users are sent to the sign-in page


def _routes(patterns=None, namespace="", prefix=""):
    """{url name: route} for every named URL of ours (Django admin aside)."""
    routes = {}
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = (
                f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            )
            if inner != "admin:":
                routes.update(
                    _routes(pattern.url_patterns, inner, prefix + str(pattern.pattern))
                )
        elif isinstance(pattern, URLPattern) and pattern.name:
            routes[namespace + pattern.name] = prefix + str(pattern.pattern)
    return routes


def by_role(default, **statuses):
    return lambda role: statuses.get(role, default)


def members_only(member, other=404):
    """A page about the branch's own case."""
    return lambda role: (
        LOGIN
        if role == "anonymous"
        else (member(role) if callable(member) else member)
        if role in MEMBERS
        else other
    )


def group_only(group, allowed, refused=403):
    return lambda role: (
        LOGIN if role == "anonymous" else (allowed if role in group else refused)
    )


POST_ONLY = 405
# name: (expected GET status per role, expected POST status per role)
EXPECTED = {
    "home": (by_role(200), by_role(405)),
    "showcase:series": (by_role(200), by_role(405)),
    "showcase:issue": (by_role(200), by_role(405)),
    "showcase:case": (by_role(200), by_role(405)),
    "showcase:feed": (by_role(200), by_role(200)),
    # A GET changes nothing and goes on; a POST must come from our own pages
    # (tests/showcase/test_language_switch.py), and this one says nothing.
    "language_switch": (by_role(302), by_role(403)),
    "robots_txt": (by_role(200), by_role(405)),
    "healthz": (by_role(200), by_role(405)),
    "sitemap": (by_role(200), by_role(200)),
    "login": (by_role(302, anonymous=200), by_role(302, anonymous=200)),
    "logout": (by_role(405), by_role(302)),
    "password_change": (group_only(SIGNED_IN, 200), group_only(SIGNED_IN, 200)),
    "password_change_done": (group_only(SIGNED_IN, 200), group_only(SIGNED_IN, 405)),
    "set_language": (by_role(302), by_role(302)),
    "submissions:case_list": (group_only(SIGNED_IN, 200), group_only(SIGNED_IN, 405)),
    "submissions:case_create": (
        group_only(HAS_ORGANISATION, 200),
        group_only(HAS_ORGANISATION, 200),
    ),
    "submissions:case_detail": (members_only(200), group_only(SIGNED_IN, 405)),
    "submissions:case_update": (members_only(200), members_only(200)),
    "submissions:case_preview": (members_only(200), group_only(SIGNED_IN, 405)),
    "submissions:revision_detail": (members_only(200), group_only(SIGNED_IN, 405)),
    "submissions:case_submit": (
        by_role(POST_ONLY),
        members_only(by_role(302, correspondent=403)),
    ),
    "submissions:case_resubmit": (
        by_role(POST_ONLY),
        members_only(by_role(302, correspondent=403)),
    ),
    "submissions:case_withdraw": (
        by_role(POST_ONLY),
        members_only(by_role(302, correspondent=403)),
    ),
    "submissions:case_delete": (by_role(POST_ONLY), members_only(302)),
    "submissions:image_upload": (
        by_role(POST_ONLY),
        lambda role: 400 if role in HAS_ORGANISATION else 403,
    ),
    "review:queue": (group_only(REVIEWERS, 200), group_only(REVIEWERS, 405)),
    "review:case": (
        by_role(404, anonymous=LOGIN, reviewer1=200),
        by_role(404, anonymous=LOGIN, reviewer1=400, reviewer2=302),
    ),
    "review:rejected": (group_only(EDITORS, 200), group_only(EDITORS, 405)),
    "review:reopen": (by_role(POST_ONLY), group_only(EDITORS, 302)),
    "inbox:list": (group_only(SIGNED_IN, 200), group_only(SIGNED_IN, 405)),
    # A GET only leads the way; the recipient's POST also marks it read.
    "inbox:open": (
        by_role(404, anonymous=LOGIN, reviewer1=302),
        by_role(404, anonymous=LOGIN, reviewer1=302),
    ),
    "inbox:mark_read": (by_role(POST_ONLY), by_role(302, anonymous=403)),
    "inbox:mark_all_read": (by_role(POST_ONLY), by_role(302, anonymous=403)),
    "showcase_editor:desk": (group_only(EDITORS, 200), group_only(EDITORS, 405)),
    "campaigns:list": (group_only(DEPARTMENT, 200), group_only(DEPARTMENT, 405)),
    "campaigns:detail": (group_only(DEPARTMENT, 200), group_only(DEPARTMENT, 405)),
    # An empty form comes back with its errors.
    "campaigns:create": (group_only(EDITORS, 200), group_only(EDITORS, 200)),
    "campaigns:update": (group_only(EDITORS, 200), group_only(EDITORS, 200)),
    "campaigns:extend": (group_only(EDITORS, 405), group_only(EDITORS, 400)),
    "stats:dashboard": (group_only(DEPARTMENT, 200), group_only(DEPARTMENT, 405)),
}
EXPECTED["exports:start"] = (by_role(POST_ONLY), group_only(REVIEWERS | EDITORS, 302))
# The editor's own finished Word export: theirs and the other editors' to see.
for _name in ["exports:job", "exports:job_status", "exports:job_download"]:
    EXPECTED[_name] = (
        by_role(404, anonymous=LOGIN, editor=200, admin=200),
        group_only(SIGNED_IN, 405),
    )
for _action in ["plan", "pin", "hold"] + [f"issue_{name}" for name in ISSUE_ACTIONS]:
    EXPECTED[f"showcase_editor:{_action}"] = (
        by_role(POST_ONLY),
        group_only(EDITORS, 302),
    )
# An empty plan comes back as the desk with the form's errors.
EXPECTED["showcase_editor:plan"] = (by_role(POST_ONLY), group_only(EDITORS, 400))


@pytest.fixture
def world():
    """One of everything, each with a title no other object has."""
    who = people()
    admin = get_user_model().objects.create_superuser(
        "admin", "admin@example.org", "x", first_name="管理员"
    )
    the_series = series()
    out = approved_case(who)
    out.__class__.objects.filter(pk=out.pk).update(title="已发布的案例标题")
    with committed():
        published = showcase.issue_publish(
            issue=showcase.issue_plan(
                series=the_series,
                scheduled_at=timezone.now(),
                acting_user=who.editor,
                cases=[out],
            ),
            acting_user=who.editor,
        )
    planned = showcase.issue_plan(
        series=the_series,
        scheduled_at=timezone.now(),
        acting_user=who.editor,
        cases=[approved_case(who, title="已排期的案例标题")],
    )
    the_draft = draft(who, title="草稿案例标题甲")
    in_review = draft(who, title="审核中案例标题乙")
    with committed():
        review.case_submit(case=in_review, acting_user=who.secretary)
    rejected = draft(who, title="未通过案例标题丙")
    review.case_submit(case=rejected, acting_user=who.secretary)
    decide(rejected, "reject", who.reviewer1, comment="不予通过")
    campaign = campaign_save(
        acting_user=who.editor,
        title="征集活动",
        description="",
        series=the_series,
        opens_on=timezone.localdate(),
        closes_on=timezone.localdate(),
    )
    reviewer_notice = Notification.objects.filter(recipient=who.reviewer1).first()
    with committed():
        export = export_request(
            kind="issue", object_id=published.pk, acting_user=who.editor
        )
    users = {role: getattr(who, role, None) for role in ROLES}
    users["admin"] = admin
    return {
        "users": users,
        "kwargs": {
            "showcase:series": {"slug": the_series.slug},
            "showcase:feed": {"slug": the_series.slug},
            "showcase:issue": {"slug": the_series.slug, "number": 1},
            "showcase:case": {"pk": out.pk},
            "language_switch": {"code": "en"},
            "submissions:revision_detail": {"pk": in_review.pk, "number": 1},
            "review:case": {"pk": in_review.pk},
            "review:reopen": {"pk": rejected.pk},
            "campaigns:detail": {"pk": campaign.pk},
            "campaigns:update": {"pk": campaign.pk},
            "campaigns:extend": {"pk": campaign.pk},
            "inbox:open": {"pk": reviewer_notice.pk},
            "inbox:mark_read": {"pk": reviewer_notice.pk},
            "exports:start": {"kind": "issue", "object_id": published.pk},
            "exports:job": {"public_id": export.public_id},
            "exports:job_status": {"public_id": export.public_id},
            "exports:job_download": {"public_id": export.public_id},
        },
        "case_pk": the_draft.pk,
        "issue_pk": planned.pk,
        # Titles, and the roles that may read them on the site.
        "secrets": {
            "草稿案例标题甲": MEMBERS,
            "审核中案例标题乙": MEMBERS | {"reviewer1"},
            "未通过案例标题丙": MEMBERS | EDITORS | REVIEWERS,
            "已排期的案例标题": MEMBERS | EDITORS | REVIEWERS,
        },
    }


def url_for(name, world):
    kwargs = world["kwargs"].get(name)
    if kwargs is None:
        kwargs = {}
        if "<int:pk>" in _routes()[name]:
            key = "issue_pk" if name.startswith("showcase_editor:") else "case_pk"
            kwargs = {"pk": world[key]}
    return reverse(name, kwargs=kwargs)


def test_every_url_has_an_expectation():
    assert set(_routes()) == set(EXPECTED)


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_permission_matrix(world, name, role, method):
    client = Client(raise_request_exception=False)
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    response = getattr(client, method)(url_for(name, world))
    expected_get, expected_post = EXPECTED[name]
    expected = (expected_get if method == "get" else expected_post)(role)
    assert response.status_code != 500
    assert response.status_code == expected, (name, role, method)
    # Feeds and downloaded files (a Word export of a published issue) are not
    # pages; tests/exports checks what an export holds.
    if (
        response.status_code == 200
        and not response.streaming
        and not response.get("Content-Type", "").startswith("application/rss")
    ):
        body = response.content.decode()
        for title, readers in world["secrets"].items():
            if role not in readers:
                assert title not in body, (name, role, title)
