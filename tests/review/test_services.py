import pytest

from authoring.services import CaseContent, case_create, case_update
from casehub.exceptions import NotPermitted, WrongState
from review.models import CaseEvent
from review.workflow import case_submit, case_withdraw
from submissions.models import Case, Membership
from tests.review.factories import reviewer
from tests.submissions.factories import UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def secretary():
    return member(Membership.Role.SECRETARY, username="shuji")


@pytest.fixture
def correspondent(secretary):
    branch = secretary.memberships.get().branch
    return member(Membership.Role.CORRESPONDENT, branch=branch, username="tongxun")


@pytest.fixture
def draft(correspondent):
    return case_create(
        branch=correspondent.memberships.get().branch,
        acting_user=correspondent,
        content=CaseContent(
            title="党建引领新篇章", lead="导语", body="<p>一是……</p>", author_name="李"
        ),
    )


def state(case):
    case.refresh_from_db()
    return (
        case.status,
        case.revisions.count(),
        # The workflow's events; saves in between are audited apart.
        CaseEvent.objects.filter(case=case).exclude(action="edit").count(),
    )


class CaseSubmitTests:
    def test_secretary_submits(self, draft, secretary):
        event = case_submit(case=draft, acting_user=secretary)
        assert state(draft) == (Case.Status.IN_REVIEW, 1, 1)
        assert draft.submitted_at is not None
        assert (event.actor, event.action) == (secretary, CaseEvent.Action.SUBMIT)
        assert (event.from_status, event.to_status) == (
            Case.Status.DRAFT,
            Case.Status.IN_REVIEW,
        )
        revision = event.revision
        assert (revision.number, revision.title, revision.body) == (
            1,
            "党建引领新篇章",
            "<p>一是……</p>",
        )
        assert revision.source == draft.branch.name
        assert revision.submitted_by == secretary
        assert event.to_stage.position == 1

    def test_notification_email_waits_for_commit(
        self, draft, secretary, django_capture_on_commit_callbacks, mailoutbox
    ):
        first_reader = reviewer(1)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            case_submit(case=draft, acting_user=secretary)
        assert len(callbacks) == 2  # the emails, then the text check's task
        assert mailoutbox == []
        callbacks[0]()
        assert [mail.to for mail in mailoutbox] == [[first_reader.email]]

    def test_correspondent_cannot_submit(self, draft, correspondent):
        with pytest.raises(NotPermitted):
            case_submit(case=draft, acting_user=correspondent)
        assert state(draft) == (Case.Status.DRAFT, 0, 0)

    def test_secretary_of_another_branch_cannot_submit(self, draft):
        with pytest.raises(NotPermitted):
            case_submit(case=draft, acting_user=member(Membership.Role.SECRETARY))
        assert state(draft) == (Case.Status.DRAFT, 0, 0)

    def test_outsider_cannot_submit(self, draft):
        with pytest.raises(NotPermitted):
            case_submit(case=draft, acting_user=UserFactory())
        assert state(draft) == (Case.Status.DRAFT, 0, 0)

    def test_submitting_twice_is_refused_and_changes_nothing(self, draft, secretary):
        case_submit(case=draft, acting_user=secretary)
        with pytest.raises(WrongState):
            case_submit(case=draft, acting_user=secretary)
        assert state(draft) == (Case.Status.IN_REVIEW, 1, 1)

    def test_incomplete_case_is_refused_with_what_is_missing(
        self, correspondent, secretary
    ):
        case = case_create(
            branch=secretary.memberships.get().branch,
            acting_user=correspondent,
            content=CaseContent(title="只有标题"),
        )
        with pytest.raises(WrongState) as caught:
            case_submit(case=case, acting_user=secretary)
        assert "导语" in caught.value.message and "正文" in caught.value.message
        assert state(case) == (Case.Status.DRAFT, 0, 0)

    def test_resubmitting_after_withdrawal_freezes_a_new_round(
        self, draft, secretary, correspondent
    ):
        case_submit(case=draft, acting_user=secretary)
        case_withdraw(case=draft, acting_user=secretary)
        draft.refresh_from_db()
        case_update(
            case=draft,
            acting_user=correspondent,
            expected_version=draft.version,
            content=CaseContent(title="第二稿", lead="导语", body="<p>二是……</p>"),
        )
        case_submit(case=draft, acting_user=secretary)
        assert state(draft) == (Case.Status.IN_REVIEW, 2, 3)
        first, second = draft.revisions.order_by("number")
        assert (first.title, second.title) == ("党建引领新篇章", "第二稿")


class CaseWithdrawTests:
    def test_secretary_withdraws_a_case_in_review(self, draft, secretary):
        case_submit(case=draft, acting_user=secretary)
        event = case_withdraw(case=draft, acting_user=secretary, comment=" 补充材料 ")
        assert state(draft) == (Case.Status.WITHDRAWN, 1, 2)
        assert (event.from_status, event.to_status) == (
            Case.Status.IN_REVIEW,
            Case.Status.WITHDRAWN,
        )
        assert event.comment == "补充材料"
        assert event.revision.number == 1
        assert draft.is_editable

    def test_draft_cannot_be_withdrawn(self, draft, secretary):
        with pytest.raises(WrongState):
            case_withdraw(case=draft, acting_user=secretary)
        assert state(draft) == (Case.Status.DRAFT, 0, 0)

    def test_correspondent_cannot_withdraw(self, draft, secretary, correspondent):
        case_submit(case=draft, acting_user=secretary)
        with pytest.raises(NotPermitted):
            case_withdraw(case=draft, acting_user=correspondent)
        assert state(draft) == (Case.Status.IN_REVIEW, 1, 1)


class CaseEventTests:
    def test_audit_rows_cannot_be_changed_or_deleted(self, draft, secretary):
        event = case_submit(case=draft, acting_user=secretary)
        event.comment = "改写历史"
        with pytest.raises(TypeError):
            event.save()
        with pytest.raises(TypeError):
            event.delete()
        with pytest.raises(TypeError):
            CaseEvent.objects.filter(pk=event.pk).update(comment="x")
        with pytest.raises(TypeError):
            CaseEvent.objects.all().delete()
        event.refresh_from_db()
        assert event.comment == ""
