import datetime
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from authoring.services import CaseContent, case_create, case_update
from campaigns.services import campaign_save
from desk.selectors import DESK_ROWS, SLOT_WEEKS
from review import workflow
from review.setup import EDITOR_GROUP
from showcase.selectors import upcoming_slots
from showcase.services import issue_plan
from submissions.models import Case, Membership
from tests.review.factories import case_in_state, decide, draft, stage
from tests.showcase.factories import approved_case, series
from tests.submissions.factories import PASSWORD, MembershipFactory, signed_in

pytestmark = pytest.mark.django_db

DESK = reverse("desk:home")
# The case list's message to someone in no organisation, as the site says it.
NOT_A_MEMBER = "您尚未加入任何党组织"


def desk_of(user):
    response = signed_in(user).get(DESK)
    assert response.status_code == 200
    return response


def sections_on(response) -> list[str]:
    """The sections the page shows, in its order."""
    return re.findall(r'data-desk-section="(\w+)"', response.content.decode())


def returned(who, comment, title="退回修改的案例"):
    case = draft(who, title=title)
    workflow.case_submit(case=case, acting_user=who.secretary)
    decide(case, "return", who.reviewer1, comment=comment)
    case.refresh_from_db()
    return case


def every_role(who, reviewer_stage):
    """A second secretary of the branch, who is also the correspondent of
    another organisation, a reviewer at `reviewer_stage` and an editor."""
    user = MembershipFactory(branch=who.branch, role=Membership.Role.SECRETARY).user
    MembershipFactory(user=user, role=Membership.Role.CORRESPONDENT)
    user.groups.add(reviewer_stage.reviewer_group, Group.objects.get(name=EDITOR_GROUP))
    return user


def edited_by(case, user, title):
    case.refresh_from_db()
    return case_update(
        case=case,
        acting_user=user,
        expected_version=case.version,
        content=CaseContent(title=title, lead="导语。", body="<p>一是……</p>"),
    )


class DeskAccessTests:
    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(DESK)
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={DESK}"

    @pytest.mark.parametrize("username", ["secretary", "reviewer1", "editor"])
    def test_signing_in_lands_on_the_desk(self, client, who, username):
        response = client.post(
            reverse("login"),
            {"username": username, "password": PASSWORD},
            follow=True,
        )
        assert response.redirect_chain == [(DESK, 302)]
        assert response.status_code == 200
        assert response.context["desk"] is not None
        assert response.wsgi_request.user.username == username

    def test_the_header_leads_to_the_desk_first(self, who):
        page = desk_of(who.reviewer1).content.decode()
        nav = page[page.index('class="site-nav"') :]
        links = re.findall(r'<li><a href="([^"]+)"', nav)
        assert links[:2] == [reverse("home"), DESK]


class DeskSectionTests:
    @pytest.mark.parametrize(
        "role, sections",
        [
            ("secretary", ["secretary"]),
            ("other_secretary", ["secretary"]),
            ("correspondent", ["correspondent"]),
            ("reviewer1", ["reviewer"]),
            ("reviewer2", ["reviewer"]),
            ("editor", ["editor"]),
            ("outsider", []),
        ],
    )
    def test_each_role_sees_its_sections_and_nothing_else(self, who, role, sections):
        response = desk_of(getattr(who, role))
        assert response.context["desk"].sections == sections
        assert sections_on(response) == sections
        page = response.content.decode()
        assert ('id="desk-without-role"' in page) == (role == "outsider")
        # Only those in an organisation are offered to write a case.
        writes = reverse("submissions:case_create") + '">'
        assert (writes in page) == (
            role in {"secretary", "other_secretary", "correspondent"}
        )

    def test_a_user_with_several_roles_sees_each_section_in_order(self, who):
        user = every_role(who, stage(2))
        response = desk_of(user)
        everything = ["secretary", "correspondent", "reviewer", "editor"]
        assert sections_on(response) == everything
        assert 'id="desk-without-role"' not in response.content.decode()
        # As a reviewer of the second stage only, they see that stage.
        rows = response.context["desk"].reviewer
        assert [row.stage for row in rows] == [stage(2)]

    def test_a_department_role_without_a_section_is_not_told_to_join(self, who):
        """Someone who may only run calls has nothing on the desk, and is not
        told they belong nowhere: their work is in the menu."""
        user = who.outsider
        user.user_permissions.add(Permission.objects.get(codename="manage_campaign"))
        response = desk_of(user)
        page = response.content.decode()
        assert sections_on(response) == []
        assert 'id="desk-without-role"' not in page
        assert 'id="desk-nothing-waiting"' in page


class SecretaryDeskTests:
    def test_drafts_waiting_for_sign_off_are_those_the_table_lets_them_submit(
        self, who
    ):
        cases = {
            state: case_in_state(who, state)
            for state in ("draft", "withdrawn", "in_review_1", "returned", "approved")
        }
        theirs = draft(who, title="另一支部的草稿")
        Case.objects.filter(pk=theirs.pk).update(
            branch=who.other_secretary.memberships.get().branch
        )
        desk = desk_of(who.secretary).context["desk"].secretary
        shown = {case.pk for case in desk.to_sign_off.rows}
        offered = {
            case.pk
            for case in Case.objects.all()
            if "submit" in workflow.action_names(case, who.secretary)
        }
        assert shown == offered == {cases["draft"].pk, cases["withdrawn"].pk}
        assert desk.to_sign_off.total == 2
        resubmittable = {
            case.pk
            for case in Case.objects.all()
            if "resubmit" in workflow.action_names(case, who.secretary)
        }
        assert {case.pk for case in desk.returned.rows} == resubmittable
        assert resubmittable == {cases["returned"].pk}

    def test_a_returned_case_shows_the_latest_comment(self, who):
        case = returned(who, "请补充具体数据。")
        workflow.case_resubmit(case=case, acting_user=who.secretary)
        decide(case, "return", who.reviewer1, comment="数据仍不完整<script>")
        rejected = case_in_state(who, "rejected")
        workflow.case_reopen(
            case=rejected, acting_user=who.editor, comment="重新审视后退回修改"
        )
        response = desk_of(who.secretary)
        rows = response.context["desk"].secretary.returned.rows
        comments = {row.pk: row.return_comment for row in rows}
        assert comments == {
            case.pk: "数据仍不完整<script>",
            rejected.pk: "重新审视后退回修改",
        }
        page = response.content.decode()
        assert "数据仍不完整&lt;script&gt;" in page
        assert "请补充具体数据。" not in page

    def test_open_calls_show_the_days_left(self, who):
        the_series = series()
        today = timezone.localdate()
        campaign_save(
            acting_user=who.editor,
            title="二〇二五年度案例征集",
            description="",
            series=the_series,
            opens_on=today,
            closes_on=today + datetime.timedelta(days=10),
            branches=[who.branch],
        )
        page = desk_of(who.secretary).content.decode()
        assert "二〇二五年度案例征集" in page
        assert "还剩 10 天" in page
        # The other organisation was not asked.
        assert (
            "二〇二五年度案例征集" not in desk_of(who.other_secretary).content.decode()
        )

    def test_many_drafts_show_the_first_few_and_a_link_to_all(self, who):
        for number in range(DESK_ROWS + 2):
            draft(who, title=f"草稿{number}")
        response = desk_of(who.secretary)
        to_sign_off = response.context["desk"].secretary.to_sign_off
        assert len(to_sign_off.rows) == DESK_ROWS
        assert to_sign_off.total == DESK_ROWS + 2
        assert to_sign_off.rows[0].title == f"草稿{DESK_ROWS + 1}"  # the newest
        assert f"{DESK_ROWS + 2}" in response.content.decode()


class CorrespondentDeskTests:
    def test_their_organisations_drafts_those_they_edited_last_first(self, who):
        mine = draft(who, title="我写的草稿")
        secretarys = edited_by(
            draft(who, title="书记改过的草稿"), who.secretary, "书记改过的草稿"
        )
        back = returned(who, "请修改")
        case_in_state(who, "in_review_1")
        edited_by(mine, who.correspondent, "我写的草稿")
        # The secretary's edit is the newest, yet the correspondent's come first.
        edited_by(secretarys, who.secretary, "书记又改过的草稿")
        response = desk_of(who.correspondent)
        drafts = response.context["desk"].correspondent.drafts
        # Their own first (the draft they wrote, the returned case they wrote),
        # then the others, the newest first.
        assert [case.pk for case in drafts.rows] == [mine.pk, back.pk, secretarys.pk]
        page = response.content.decode()
        # No sign-off, returns or calls: those are the secretary's.
        assert 'data-desk-section="secretary"' not in page


class ReviewerDeskTests:
    def test_waiting_and_overdue_at_each_of_their_stages(self, who):
        late = case_in_state(who, "in_review_1")
        case_in_state(who, "in_review_1")
        case_in_state(who, "in_review_2")
        Case.objects.filter(pk=late.pk).update(
            stage_due_at=timezone.now() - datetime.timedelta(days=1)
        )
        first = desk_of(who.reviewer1)
        [row] = first.context["desk"].reviewer
        assert (row.stage, row.waiting, row.overdue) == (stage(1), 2, 1)
        queue = reverse("review:queue")
        page = first.content.decode()
        assert f'href="{queue}?stage={stage(1).pk}&amp;overdue=on"' in page
        [second] = desk_of(who.reviewer2).context["desk"].reviewer
        assert (second.stage, second.waiting, second.overdue) == (stage(2), 1, 0)
        # Counts only: no title of a case under review is on the desk.
        assert late.title not in page


class EditorDeskTests:
    def test_approved_cases_waiting_and_the_next_free_slot(self, who):
        the_series = series()
        first = approved_case(who, title="第一篇通过的案例")
        approved_case(who, title="第二篇通过的案例")
        response = desk_of(who.editor)
        editor = response.context["desk"].editor
        assert editor.waiting.total == 2
        assert [case.title for case in editor.waiting.rows] == [
            "第一篇通过的案例",
            "第二篇通过的案例",
        ]
        slots = upcoming_slots(series=the_series, count=2)
        [slot] = editor.slots
        assert (slot.series, slot.next_free) == (the_series, slots[0])

        # Once an issue is planned in that slot, the next week's is free.
        issue_plan(
            series=the_series,
            scheduled_at=slots[0],
            acting_user=who.editor,
            cases=[first],
        )
        editor = desk_of(who.editor).context["desk"].editor
        assert editor.waiting.total == 1
        assert editor.slots[0].next_free == slots[1]

    def test_no_free_slot_is_said_so(self, who):
        the_series = series()
        for slot in upcoming_slots(series=the_series, count=SLOT_WEEKS):
            issue_plan(series=the_series, scheduled_at=slot, acting_user=who.editor)
        response = desk_of(who.editor)
        assert response.context["desk"].editor.slots[0].next_free is None
        assert 'class="muted desk-no-slot"' in response.content.decode()


class CaseListMessageTests:
    @pytest.mark.parametrize(
        "role, told",
        [
            ("outsider", True),
            ("reviewer1", False),
            ("editor", False),
            ("secretary", False),
        ],
    )
    def test_only_someone_with_no_role_is_told_to_join(self, who, role, told):
        response = signed_in(getattr(who, role)).get(reverse("submissions:case_list"))
        assert (NOT_A_MEMBER in response.content.decode()) == told


class DeskQueryTests:
    def test_the_query_count_does_not_grow_with_the_cases(
        self, who, django_assert_max_num_queries
    ):
        """One user with every role, so that every section is read."""
        user = every_role(who, stage(1))
        other = user.memberships.get(role=Membership.Role.CORRESPONDENT).branch
        series()
        client = signed_in(user)

        def world(count):
            for _ in range(count):
                draft(who)
                returned(who, "请修改")
                case_in_state(who, "in_review_1")
                approved_case(who)
                case_create(
                    branch=other,
                    acting_user=user,
                    content=CaseContent(title="通讯员支部的草稿"),
                )

        def queries():
            with CaptureQueriesContext(connection) as captured:
                response = client.get(DESK)
            assert response.status_code == 200
            return len(captured), response

        world(1)
        few, _response = queries()
        world(DESK_ROWS + 2)
        with django_assert_max_num_queries(few):
            response = client.get(DESK)
        desk = response.context["desk"]
        assert desk.sections == ["secretary", "correspondent", "reviewer", "editor"]
        assert desk.secretary.to_sign_off.total == DESK_ROWS + 3
        assert len(desk.secretary.returned.rows) == DESK_ROWS
        assert desk.correspondent.drafts.total == DESK_ROWS + 3
        assert desk.reviewer[0].waiting == DESK_ROWS + 3
        assert desk.editor.waiting.total == DESK_ROWS + 3
