"""Every URL of the site × every role × GET and POST, from the URL configuration.

Each cell has an expected status; none may be a 500, and no page a role may
not see carries the title of a case it may not see. Each POST also has an
expected effect: where the role may act, a valid form changes the tables the
action writes; everywhere else the same form changes no table at all.

The world is built once per module, in a transaction each cell's own savepoint
rolls back to, so every cell starts from the same world.
"""

import datetime
import shutil

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from campaigns.services import campaign_save
from casehub.celery import app as celery_app
from exports.services import export_request
from inbox.models import Notification
from review import workflow as review
from review.models import ScoreAssignment
from review.notes import note_add
from review.scoring import score_record
from showcase import services as showcase
from showcase.editor_urls import ISSUE_ACTIONS
from tests.images import image_bytes, upload
from tests.review.factories import (
    case_in_state,
    case_to_scoring,
    committed,
    decide,
    draft,
    latest,
    people,
    scoring_stage,
    stage,
)
from tests.showcase.factories import approved_case, series
from tests.submissions.factories import PASSWORD, UserFactory
from textcheck.services import term_save

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

# What a request may move whatever it does: the session, django-axes' record
# of who came when, and the public pages' view counts.
COUNTERS = {
    "sessions.session",
    "axes.accessattempt",
    "axes.accessattemptexpiration",
    "axes.accesslog",
    "axes.accessfailurelog",
    "showcase.viewcount",
    "showcase.viewfold",
}


def tables():
    """Every row of every table but the counters."""
    snapshot = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label not in COUNTERS:
            snapshot[label] = list(model._base_manager.order_by("pk").values_list())
    return snapshot


def changes(before, after):
    return sorted(label for label in before if before[label] != after[label])


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


def nothing(role):
    """The POST changes no table, whoever sends it."""
    return set()


def acts(roles, *labels):
    """The POST of these roles changes (at least) these tables; anyone else's
    changes none. At least: an action may also write rows besides its own
    (an audit event, a notification), which their own tests check."""
    return lambda role: set(labels) if role in roles else set()


POST_ONLY = 405
CASE = "submissions.case"
# name: (expected GET status per role, expected POST status per role,
#        the tables the POST changes per role)
EXPECTED = {
    "home": (by_role(200), by_role(405), nothing),
    "showcase:series": (by_role(200), by_role(405), nothing),
    "showcase:issue": (by_role(200), by_role(405), nothing),
    "showcase:case": (by_role(200), by_role(405), nothing),
    "showcase:search": (by_role(200), by_role(405), nothing),
    # The list other sites frame: the same for every role, published only.
    "showcase:embed_issues": (by_role(200), by_role(405), nothing),
    # The beacons of a case page from the published copy count a read only
    # when the browser says our own page sent them, which no request here
    # does; a read is never a row (it waits in Redis for the fold).
    "showcase:case_views": (by_role(405), by_role(403), nothing),
    "showcase:case_views_pixel": (by_role(403), by_role(405), nothing),
    "showcase:feed": (by_role(200), by_role(200), nothing),
    # A GET changes nothing and goes on; a POST must come from our own pages
    # (tests/showcase/test_language_switch.py), and this one says nothing.
    "language_switch": (by_role(302), by_role(403), nothing),
    "robots_txt": (by_role(200), by_role(405), nothing),
    "healthz": (by_role(200), by_role(405), nothing),
    "sitemap": (by_role(200), by_role(200), nothing),
    # The public API (showcase.api): what anonymous readers may read, the same
    # for everyone; GET only, so a POST is refused before anything is read.
    "api:openapi": (by_role(200), by_role(405), nothing),
    "api:series_list": (by_role(200), by_role(405), nothing),
    "api:series": (by_role(200), by_role(405), nothing),
    "api:issue_list": (by_role(200), by_role(405), nothing),
    "api:issue": (by_role(200), by_role(405), nothing),
    "api:latest_issues": (by_role(200), by_role(405), nothing),
    "api:case": (by_role(200), by_role(405), nothing),
    # The API's own root names nothing; it too answers GET only.
    "api:api-root": (by_role(404), by_role(405), nothing),
    # A signed-in user is sent on before the form is read.
    "login": (
        by_role(302, anonymous=200),
        by_role(302),
        acts({"anonymous"}, "auth.user"),
    ),
    # Signing out ends the session, which is a counter here.
    "logout": (by_role(405), by_role(302), nothing),
    "password_change": (
        group_only(SIGNED_IN, 200),
        group_only(SIGNED_IN, 302),
        acts(SIGNED_IN, "auth.user"),
    ),
    "password_change_done": (
        group_only(SIGNED_IN, 200),
        group_only(SIGNED_IN, 405),
        nothing,
    ),
    # The language is a cookie.
    "set_language": (by_role(302), by_role(302), nothing),
    # Everyone's landing page after signing in, a section per role held.
    "desk:home": (group_only(SIGNED_IN, 200), group_only(SIGNED_IN, 405), nothing),
    "submissions:case_list": (
        group_only(SIGNED_IN, 200),
        group_only(SIGNED_IN, 405),
        nothing,
    ),
    "submissions:case_create": (
        group_only(HAS_ORGANISATION, 200),
        group_only(HAS_ORGANISATION, 302),
        acts(HAS_ORGANISATION, CASE),
    ),
    "submissions:case_detail": (
        members_only(200),
        group_only(SIGNED_IN, 405),
        nothing,
    ),
    "submissions:case_update": (
        members_only(200),
        members_only(302),
        acts(MEMBERS, CASE),
    ),
    "submissions:case_preview": (
        members_only(200),
        group_only(SIGNED_IN, 405),
        nothing,
    ),
    "submissions:revision_detail": (
        members_only(200),
        group_only(SIGNED_IN, 405),
        nothing,
    ),
    # 检查当前文本: the text sent is checked, nothing is saved.
    "submissions:case_text_check": (
        by_role(POST_ONLY),
        members_only(200),
        nothing,
    ),
    "submissions:case_submit": (
        by_role(POST_ONLY),
        members_only(by_role(302, correspondent=403)),
        acts({"secretary"}, CASE, "submissions.caserevision", "review.caseevent"),
    ),
    "submissions:case_resubmit": (
        by_role(POST_ONLY),
        members_only(by_role(302, correspondent=403)),
        acts({"secretary"}, CASE, "submissions.caserevision", "review.caseevent"),
    ),
    "submissions:case_withdraw": (
        by_role(POST_ONLY),
        members_only(by_role(302, correspondent=403)),
        acts({"secretary"}, CASE, "review.caseevent"),
    ),
    "submissions:case_delete": (
        by_role(POST_ONLY),
        members_only(302),
        acts(MEMBERS, CASE),
    ),
    "submissions:image_upload": (
        by_role(POST_ONLY),
        lambda role: 200 if role in HAS_ORGANISATION else 403,
        acts(HAS_ORGANISATION, "submissions.editorimage"),
    ),
    "review:queue": (group_only(REVIEWERS, 200), group_only(REVIEWERS, 405), nothing),
    # The second stage's reviewer is told the case is not theirs (yet).
    "review:case": (
        by_role(404, anonymous=LOGIN, reviewer1=200),
        by_role(404, anonymous=LOGIN, reviewer1=302, reviewer2=302),
        acts({"reviewer1"}, CASE, "review.decision", "review.caseevent"),
    ),
    # 批注: only a reviewer of the stage the case waits at notes its text.
    "review:note_add": (
        by_role(POST_ONLY),
        by_role(404, anonymous=LOGIN, reviewer1=302),
        acts({"reviewer1"}, "review.note", "review.noteanchor"),
    ),
    # Only its author withdraws a note, while its round is open; to anyone
    # else the note is not there.
    "review:note_withdraw": (
        by_role(POST_ONLY),
        by_role(404, anonymous=LOGIN, reviewer1=302),
        acts({"reviewer1"}, "review.notewithdrawal"),
    ),
    # The branch answers the notes of its returned case.
    "submissions:case_note_reply": (
        by_role(POST_ONLY),
        members_only(302),
        acts(MEMBERS, "review.noteresponse"),
    ),
    # 评选: reviewer2 sits on the scoring panel, with two people from outside.
    "review:scoring": (
        group_only(EDITORS | {"reviewer2"}, 200),
        group_only(SIGNED_IN, 405),
        nothing,
    ),
    "review:score": (
        by_role(404, anonymous=LOGIN, reviewer2=200),
        by_role(404, anonymous=LOGIN, reviewer2=302),
        acts({"reviewer2"}, "review.score"),
    ),
    "review:scoring_results": (
        group_only(EDITORS | {"reviewer2"}, 200),
        group_only(SIGNED_IN, 405),
        nothing,
    ),
    "review:scoring_reassign": (
        by_role(POST_ONLY),
        group_only(EDITORS, 302),
        acts(EDITORS, "review.scoreassignment"),
    ),
    # An editor asks one more panel member to score a case waiting there …
    "review:scoring_assign_add": (
        by_role(POST_ONLY),
        group_only(EDITORS, 302),
        acts(EDITORS, "review.scoreassignment", "review.caseevent"),
    ),
    # … or returns it to its branch (the table's row for a scoring stage).
    "review:scoring_close": (
        by_role(POST_ONLY),
        group_only(EDITORS, 302),
        acts(EDITORS, CASE, "review.caseevent"),
    ),
    "showcase_editor:scored_accept": (
        by_role(POST_ONLY),
        group_only(EDITORS, 302),
        acts(EDITORS, CASE, "review.caseevent", "showcase.queueentry"),
    ),
    "review:rejected": (group_only(EDITORS, 200), group_only(EDITORS, 405), nothing),
    "review:reopen": (
        by_role(POST_ONLY),
        group_only(EDITORS, 302),
        acts(EDITORS, CASE, "review.caseevent"),
    ),
    "inbox:list": (group_only(SIGNED_IN, 200), group_only(SIGNED_IN, 405), nothing),
    # A GET only leads the way; the recipient's POST also marks it read.
    "inbox:open": (
        by_role(404, anonymous=LOGIN, reviewer1=302),
        by_role(404, anonymous=LOGIN, reviewer1=302),
        acts({"reviewer1"}, "inbox.notification"),
    ),
    # Someone else's notification stays as it is.
    "inbox:mark_read": (
        by_role(POST_ONLY),
        by_role(302, anonymous=403),
        acts({"reviewer1"}, "inbox.notification"),
    ),
    # Only those the world left something unread: the branch told of its
    # cases, the reviewers of what came in, the editor of the rejection.
    "inbox:mark_all_read": (
        by_role(POST_ONLY),
        by_role(302, anonymous=403),
        acts(MEMBERS | REVIEWERS | {"editor"}, "inbox.notification"),
    ),
    "showcase_editor:desk": (
        group_only(EDITORS, 200),
        group_only(EDITORS, 405),
        nothing,
    ),
    # A planned issue and one of its cases as readers will see them.
    "showcase_editor:issue_preview": (
        group_only(EDITORS, 200),
        group_only(EDITORS, 405),
        nothing,
    ),
    "showcase_editor:issue_case_preview": (
        group_only(EDITORS, 200),
        group_only(EDITORS, 405),
        nothing,
    ),
    # The text check's open findings of a planned issue and of a queued case,
    # and 放行: an editor lets one through with a reason.
    "showcase_editor:issue_findings": (
        group_only(EDITORS, 200),
        group_only(EDITORS, 405),
        nothing,
    ),
    "showcase_editor:case_findings": (
        group_only(EDITORS, 200),
        group_only(EDITORS, 405),
        nothing,
    ),
    "showcase_editor:finding_override": (
        by_role(POST_ONLY),
        group_only(EDITORS, 302),
        acts(EDITORS, "textcheck.findingoverride", "review.caseevent"),
    ),
    "campaigns:list": (
        group_only(DEPARTMENT, 200),
        group_only(DEPARTMENT, 405),
        nothing,
    ),
    "campaigns:detail": (
        group_only(DEPARTMENT, 200),
        group_only(DEPARTMENT, 405),
        nothing,
    ),
    "campaigns:create": (
        group_only(EDITORS, 200),
        group_only(EDITORS, 302),
        acts(EDITORS, "campaigns.campaign"),
    ),
    "campaigns:update": (
        group_only(EDITORS, 200),
        group_only(EDITORS, 302),
        acts(EDITORS, "campaigns.campaign"),
    ),
    "campaigns:extend": (
        group_only(EDITORS, 405),
        group_only(EDITORS, 302),
        acts(EDITORS, "campaigns.extension"),
    ),
    "stats:dashboard": (
        group_only(DEPARTMENT, 200),
        group_only(DEPARTMENT, 405),
        nothing,
    ),
    "exports:start": (
        by_role(POST_ONLY),
        group_only(REVIEWERS | EDITORS, 302),
        acts(REVIEWERS | EDITORS, "exports.exportjob"),
    ),
    "showcase_editor:plan": (
        by_role(POST_ONLY),
        group_only(EDITORS, 302),
        acts(EDITORS, "showcase.issue", CASE),
    ),
    "showcase_editor:pin": (
        by_role(POST_ONLY),
        group_only(EDITORS, 302),
        acts(EDITORS, "showcase.queueentry"),
    ),
    "showcase_editor:hold": (
        by_role(POST_ONLY),
        group_only(EDITORS, 302),
        acts(EDITORS, "showcase.queueentry"),
    ),
}
# The editor's own finished Word export: theirs and the other editors' to see.
for _name in ["exports:job", "exports:job_status", "exports:job_download"]:
    EXPECTED[_name] = (
        by_role(404, anonymous=LOGIN, editor=200, admin=200),
        group_only(SIGNED_IN, 405),
        nothing,
    )
# What each action on an issue writes.
ISSUE_EFFECTS = {
    "add": ("showcase.issuecase", CASE),
    "remove": ("showcase.issuecase", CASE),
    "up": ("showcase.issuecase",),
    "down": ("showcase.issuecase",),
    "note": ("showcase.issue",),
    "publish": ("showcase.issue", CASE),
    "unpublish": ("showcase.issue", CASE),
    "delete": ("showcase.issue", "showcase.issuecase", CASE),
}
for _action in ISSUE_ACTIONS:
    EXPECTED[f"showcase_editor:issue_{_action}"] = (
        by_role(POST_ONLY),
        group_only(EDITORS, 302),
        acts(EDITORS, *ISSUE_EFFECTS[_action]),
    )


def _day(days=0) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def _campaign_body(world, role, title):
    return {
        "title": title,
        "description": "",
        "series": world["series_pk"],
        "opens_on": _day(),
        "closes_on": _day(7),
        "branches": [world["branch_pk"]],
    }


def _case_body(world, role, title):
    return {
        "branch": world["branch_of"].get(role, ""),
        "title": title,
        "lead": "导语。",
        "body": "<p>一是……</p>",
    }


# name: the valid form a POST sends, from (world, role). Every role sends the
# same one, so a refusal is a refusal of a form that would have been taken.
BODIES = {
    "login": lambda world, role: {"username": "secretary", "password": PASSWORD},
    "password_change": lambda world, role: {
        "old_password": PASSWORD,
        "new_password1": "another horse, another battery",
        "new_password2": "another horse, another battery",
    },
    "submissions:case_create": lambda world, role: _case_body(
        world, role, "新建的案例"
    ),
    "submissions:case_update": lambda world, role: {
        **_case_body(world, role, "改过标题的草稿"),
        "version": world["draft_version"],
    },
    "submissions:image_upload": lambda world, role: {"upload": upload(image_bytes())},
    "review:case": lambda world, role: {
        "outcome": "approve",
        "comment": "",
        "revision": world["in_review_revision_pk"],
        "stage": world["stage1_pk"],
    },
    "review:reopen": lambda world, role: {"comment": "重新审视后退回修改"},
    "review:note_add": lambda world, role: {
        "field": "body",
        "start": 0,
        "end": 2,
        "quote": "一是",
        "text": "请补充具体事例。",
    },
    "submissions:case_note_reply": lambda world, role: {"kind": "done"},
    "review:score": lambda world, role: {
        "kind": "scored",
        "comment": "创新突出",
        **{f"criterion_{pk}": 7 for pk in world["criterion_pks"]},
    },
    "review:scoring_reassign": lambda world, role: {
        "new_scorer": world["free_scorer_pk"]
    },
    "showcase_editor:scored_accept": lambda world, role: {"campaign": "", "count": 1},
    "review:scoring_assign_add": lambda world, role: {
        "new_scorer": world["free_for_waiting_pk"]
    },
    "review:scoring_close": lambda world, role: {
        "outcome": "return",
        "comment": "评分截止仍无结果，请修改后再报",
        "revision": world["waiting_revision_pk"],
    },
    "campaigns:create": lambda world, role: _campaign_body(world, role, "新的征集"),
    "campaigns:update": lambda world, role: _campaign_body(
        world, role, "改过标题的征集"
    ),
    "campaigns:extend": lambda world, role: {
        "branch": world["branch_pk"],
        "until": _day(3),
        "reason": "材料还在审定",
    },
    "showcase_editor:plan": lambda world, role: {
        "series": world["series_pk"],
        "scheduled_at": (timezone.localtime() + datetime.timedelta(days=8)).strftime(
            "%Y-%m-%d %H:%M"
        ),
        "take_from_queue": 1,
    },
    "showcase_editor:pin": lambda world, role: {
        "case": world["queued_pk"],
        "value": "on",
    },
    "showcase_editor:hold": lambda world, role: {
        "case": world["queued_pk"],
        "value": "on",
    },
    "showcase_editor:issue_add": lambda world, role: {"case": world["queued_pk"]},
    "showcase_editor:issue_remove": lambda world, role: {
        "case": world["planned_case_pks"][1]
    },
    "showcase_editor:issue_up": lambda world, role: {
        "case": world["planned_case_pks"][1]
    },
    "showcase_editor:issue_down": lambda world, role: {
        "case": world["planned_case_pks"][0]
    },
    "showcase_editor:issue_note": lambda world, role: {"note": "<p>本期按语。</p>"},
    "showcase_editor:finding_override": lambda world, role: {
        **world["queued_finding"],
        "reason": "标题沿用原文，予以保留",
    },
    "showcase_editor:issue_unpublish": lambda world, role: {"reason": "内容需更正"},
}


WORLD_TERM = {
    "kind": "expression",
    "term": "新篇章",
    "replacement": "新的篇章",
    "severity": "warn",
    "note": "权限测试用词条",
}


def _world_build():
    """One of everything, each with a title no other object has."""
    who = people()
    # Every case's title ("党建引领新篇章") has a finding, one that only warns.
    term_save(**WORLD_TERM, acting_user=None)
    admin = get_user_model().objects.create_superuser(
        "admin", "admin@example.org", PASSWORD, first_name="管理员"
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
    # Two cases, so that one can move up, the other down, one leave.
    planned_cases = [approved_case(who, title="已排期的案例标题"), approved_case(who)]
    planned = showcase.issue_plan(
        series=the_series,
        scheduled_at=timezone.now(),
        acting_user=who.editor,
        cases=planned_cases,
    )
    queued = approved_case(who)
    the_draft = draft(who, title="草稿案例标题甲")
    in_review = draft(who, title="审核中案例标题乙")
    with committed():
        review.case_submit(case=in_review, acting_user=who.secretary)
    rejected = draft(who, title="未通过案例标题丙")
    review.case_submit(case=rejected, acting_user=who.secretary)
    decide(rejected, "reject", who.reviewer1, comment="不予通过")
    returned = case_in_state(who, "returned")
    noted = draft(who)
    review.case_submit(case=noted, acting_user=who.secretary)
    note = note_add(
        case=noted,
        acting_user=who.reviewer1,
        revision=latest(noted),
        field="body",
        start=0,
        end=2,
        quote="一是",
        text="请补充具体事例。",
    )
    decide(noted, "return", who.reviewer1, comment="见批注")
    # reviewer1's note in the open round of the case in review, to withdraw.
    open_note = note_add(
        case=in_review,
        acting_user=who.reviewer1,
        revision=latest(in_review),
        field="body",
        start=0,
        end=2,
        quote="一是",
        text="请核对这句的表述。",
    )
    campaign = campaign_save(
        acting_user=who.editor,
        title="征集活动",
        description="",
        series=the_series,
        opens_on=timezone.localdate(),
        closes_on=timezone.localdate(),
        branches=[who.branch],
    )
    # 评选: a scoring stage after the two review stages, two cases at it; the
    # first is scored by one of the panel, the second waits for reviewer2.
    experts = [
        UserFactory(username=f"expert{n}", first_name=f"专家{n}") for n in (1, 2)
    ]
    scoring_at = scoring_stage(members=[who.reviewer2, *experts], per_case=2)
    scored_case = case_to_scoring(who, title="评选中案例标题丁")
    waiting_case = case_to_scoring(who, title="评选中案例标题戊")
    assigned = set(
        ScoreAssignment.objects.filter(case=scored_case).values_list(
            "scorer", flat=True
        )
    )
    first_scorer = next(u for u in experts if u.pk in assigned)
    score_record(
        case=scored_case,
        acting_user=first_scorer,
        kind="scored",
        points={c.pk: 8 for c in scoring_at.criteria.all()},
    )
    assert ScoreAssignment.objects.filter(
        case=waiting_case, scorer=who.reviewer2
    ).exists()
    movable = ScoreAssignment.objects.get(case=scored_case, scorer=who.reviewer2)
    free_scorer = next(u for u in experts if u.pk not in assigned)
    reviewer_notice = Notification.objects.filter(
        recipient=who.reviewer1, read_at__isnull=True
    ).first()
    with committed():
        export = export_request(
            kind="issue", object_id=published.pk, acting_user=who.editor
        )
    users = {role: getattr(who, role, None) for role in ROLES}
    users["admin"] = admin
    the_draft.refresh_from_db()
    return {
        "users": users,
        "kwargs": {
            "showcase:series": {"slug": the_series.slug},
            "showcase:feed": {"slug": the_series.slug},
            "showcase:issue": {"slug": the_series.slug, "number": 1},
            "showcase:case": {"pk": out.pk},
            "showcase:case_views": {"pk": out.pk},
            "showcase:case_views_pixel": {"pk": out.pk},
            "api:series": {"slug": the_series.slug},
            "api:issue_list": {"slug": the_series.slug},
            "api:issue": {"slug": the_series.slug, "number": 1},
            "api:case": {"case_id": out.pk},
            "language_switch": {"code": "en"},
            "submissions:revision_detail": {"pk": in_review.pk, "number": 1},
            "submissions:case_resubmit": {"pk": returned.pk},
            "submissions:case_withdraw": {"pk": in_review.pk},
            "review:case": {"pk": in_review.pk},
            "review:reopen": {"pk": rejected.pk},
            "review:note_add": {"pk": in_review.pk},
            "submissions:case_note_reply": {"pk": noted.pk, "note_pk": note.pk},
            "review:note_withdraw": {"pk": in_review.pk, "note_pk": open_note.pk},
            "campaigns:detail": {"pk": campaign.pk},
            "campaigns:update": {"pk": campaign.pk},
            "campaigns:extend": {"pk": campaign.pk},
            "inbox:open": {"pk": reviewer_notice.pk},
            "inbox:mark_read": {"pk": reviewer_notice.pk},
            "exports:start": {"kind": "issue", "object_id": published.pk},
            "exports:job": {"public_id": export.public_id},
            "exports:job_status": {"public_id": export.public_id},
            "exports:job_download": {"public_id": export.public_id},
            "showcase_editor:issue_unpublish": {"pk": published.pk},
            "showcase_editor:issue_case_preview": {
                "pk": planned.pk,
                "case_pk": planned_cases[0].pk,
            },
            "showcase_editor:case_findings": {"pk": queued.pk},
            "showcase_editor:finding_override": {"pk": queued.pk},
            "review:score": {"pk": waiting_case.pk},
            "review:scoring_results": {"pk": scoring_at.pk},
            "review:scoring_reassign": {"pk": movable.pk},
            "showcase_editor:scored_accept": {"pk": scoring_at.pk},
            "review:scoring_assign_add": {"pk": waiting_case.pk},
            "review:scoring_close": {"pk": waiting_case.pk},
        },
        "free_for_waiting_pk": next(
            u.pk
            for u in experts
            if not ScoreAssignment.objects.filter(case=waiting_case, scorer=u).exists()
        ),
        "waiting_revision_pk": latest(waiting_case).pk,
        "criterion_pks": [c.pk for c in scoring_at.criteria.all()],
        "free_scorer_pk": free_scorer.pk,
        "case_pk": the_draft.pk,
        "issue_pk": planned.pk,
        "draft_version": the_draft.version,
        "in_review_revision_pk": latest(in_review).pk,
        "stage1_pk": stage(1).pk,
        "series_pk": the_series.pk,
        "branch_pk": who.branch.pk,
        "branch_of": {
            "secretary": who.branch.pk,
            "correspondent": who.branch.pk,
            "other_secretary": who.other_secretary.memberships.get().branch.pk,
        },
        "queued_pk": queued.pk,
        "queued_finding": {
            "field": "title",
            "kind": WORLD_TERM["kind"],
            "term": WORLD_TERM["term"],
            "start": "党建引领新篇章".index(WORLD_TERM["term"]),
        },
        "planned_case_pks": [case.pk for case in planned_cases],
        # Titles, and the roles that may read them on the site.
        "secrets": {
            "草稿案例标题甲": MEMBERS,
            "审核中案例标题乙": MEMBERS | {"reviewer1"},
            "未通过案例标题丙": MEMBERS | EDITORS | REVIEWERS,
            "已排期的案例标题": MEMBERS | EDITORS | REVIEWERS,
            "评选中案例标题丁": MEMBERS | EDITORS | REVIEWERS,
            "评选中案例标题戊": MEMBERS | EDITORS | REVIEWERS,
        },
    }


@pytest.fixture(scope="module")
def world_built(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, built once for the module inside a transaction that is rolled
    back when the module is done; each cell's own transaction (the `db`
    fixture) is a savepoint inside it, rolled back after the cell."""
    files = tmp_path_factory.mktemp("world")
    roots = {"MEDIA_ROOT": files / "media", "EXPORT_ROOT": files / "exports"}
    eager = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    try:
        with (
            django_db_blocker.unblock(),
            override_settings(PASSWORD_HASHERS=hashers, **roots),
            transaction.atomic(),
        ):
            built = _world_build()
            built["roots"] = roots
            yield built
            transaction.set_rollback(True)
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = eager


@pytest.fixture
def world(world_built, db, _isolated, settings):
    """The module's world for one cell, with a copy of the files it wrote (the
    Word export, images) in the cell's own media and export folders."""
    for name, built_root in world_built["roots"].items():
        if built_root.exists():
            shutil.copytree(built_root, getattr(settings, name), dirs_exist_ok=True)
    return world_built


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


def test_every_acting_post_has_a_form():
    """A POST that may act is tried with a form it would take."""
    needs_no_form = {
        "submissions:case_submit",
        "submissions:case_resubmit",
        "submissions:case_withdraw",
        "submissions:case_delete",
        "review:note_withdraw",
        "inbox:open",
        "inbox:mark_read",
        "inbox:mark_all_read",
        "exports:start",
        "showcase_editor:issue_publish",
        "showcase_editor:issue_delete",
    }
    acting = {
        name
        for name, (_get, _post, effect) in EXPECTED.items()
        if any(effect(role) for role in ROLES)
    }
    assert acting - needs_no_form == set(BODIES)


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_permission_matrix(world, name, role, method):
    client = Client(raise_request_exception=False)
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    expected_get, expected_post, effect = EXPECTED[name]
    if method == "get":
        response = client.get(url_for(name, world))
    else:
        before = tables()
        body = BODIES.get(name, lambda world, role: {})(world, role)
        response = client.post(url_for(name, world), body)
        changed = changes(before, tables())
    expected = (expected_get if method == "get" else expected_post)(role)
    assert response.status_code != 500
    assert response.status_code == expected, (name, role, method)
    if method == "post":
        # An allowed POST made its rows; a refused one, or one with nothing to
        # do, left every table as it was.
        must_change = effect(role)
        if must_change:
            assert changed and must_change <= set(changed), (name, role, changed)
        else:
            assert changed == [], (name, role, changed)
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
