"""Stages change through review.stages: locked, audited, and never taken out of
use while cases wait at them."""

import threading
import time
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.urls import reverse

from casehub.exceptions import NotPermitted, WrongState
from review import workflow
from review.models import ReviewStage, StageEvent
from review.stages import (
    ScoringUnusable,
    StageInUse,
    stage_create,
    stage_deactivate,
    stage_update,
)
from submissions.models import Case
from tests.conftest import service_missing
from tests.review.factories import case_in_state, draft, latest, people, stage
from tests.submissions.factories import UserFactory, signed_in

pytestmark = pytest.mark.django_db


def changelist_data(stages, **changes_by_pk):
    """The admin's list of stages as it would be posted, with `changes` applied."""
    data = {
        "form-TOTAL_FORMS": str(len(stages)),
        "form-INITIAL_FORMS": str(len(stages)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, item in enumerate(stages):
        values = {
            "id": item.pk,
            "position": item.position,
            "due_in_days": item.due_in_days,
            "resume_after_return": item.resume_after_return,
            "is_active": "on" if item.is_active else "",
        }
        values.update(changes_by_pk.get(f"s{item.pk}", {}))
        for name, value in values.items():
            if name == "is_active" and not value:
                continue
            data[f"form-{index}-{name}"] = value
    return data


# The rubric's inline on the stage form, left empty (a review stage has none).
NO_CRITERIA = {"criteria-TOTAL_FORMS": "0", "criteria-INITIAL_FORMS": "0"}


def change_form_data(item, **changes):
    values = {
        "position": item.position,
        "name": item.name,
        "reviewer_group": item.reviewer_group_id,
        "due_in_days": item.due_in_days,
        "resume_after_return": item.resume_after_return,
        "is_active": "on" if item.is_active else "",
        "kind": item.kind,
        "scorers_per_case": item.scorers_per_case,
        **NO_CRITERIA,
        "_save": "Save",
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value != ""}


class StageServiceTests:
    def test_a_stage_with_waiting_cases_is_not_deactivated(self, who, admin_user):
        case_in_state(who, "in_review_1")
        case_in_state(who, "in_review_1")
        with pytest.raises(StageInUse) as refused:
            stage_deactivate(stage=stage(1), acting_user=admin_user)
        assert (
            refused.value.message
            == "初审尚有 2 个案例等待审核，请审核完毕后再停用该阶段。"
        )
        assert stage(1).is_active
        assert not StageEvent.objects.exists()

    def test_an_empty_stage_is_deactivated_and_the_change_logged(self, who, admin_user):
        case_in_state(who, "in_review_2")  # waiting elsewhere does not count
        stage_deactivate(stage=stage(1), acting_user=admin_user)
        assert not stage(1).is_active
        event = StageEvent.objects.get()
        assert (event.stage, event.actor, event.action) == (
            stage(1),
            admin_user,
            StageEvent.Action.DEACTIVATE,
        )
        assert event.changes == {"is_active": ["True", "False"]}
        # A case submitted now starts at the next stage in use.
        case = case_in_state(who, "in_review_1")
        case.refresh_from_db()
        assert case.current_stage == stage(2)

    def test_changes_are_logged_field_by_field_and_no_change_logs_nothing(
        self, admin_user
    ):
        was = stage(2).due_in_days
        stage_update(stage=stage(2), acting_user=admin_user, due_in_days=was + 2)
        stage_update(stage=stage(2), acting_user=admin_user, due_in_days=was + 2)
        stage_update(stage=stage(2), acting_user=admin_user, is_active=False)
        stage_update(stage=stage(2), acting_user=admin_user, is_active=True)
        assert stage(2).due_in_days == was + 2
        assert [(e.action, e.changes) for e in StageEvent.objects.all()] == [
            (StageEvent.Action.CHANGE, {"due_in_days": [str(was), str(was + 2)]}),
            (StageEvent.Action.DEACTIVATE, {"is_active": ["True", "False"]}),
            (StageEvent.Action.ACTIVATE, {"is_active": ["False", "True"]}),
        ]

    def test_a_new_stage_is_logged_with_its_settings(self, admin_user):
        group = Group.objects.create(name="党委审定组")
        created = stage_create(
            acting_user=admin_user,
            position=3,
            name="党委审定",
            reviewer_group=group,
            due_in_days=2,
        )
        event = StageEvent.objects.get()
        assert (event.stage, event.action) == (created, StageEvent.Action.CREATE)
        assert event.changes["name"] == [None, "党委审定"]
        assert event.changes["is_active"] == [None, "True"]

    def test_only_administrators_change_stages(self, who):
        with pytest.raises(NotPermitted):
            stage_update(stage=stage(1), acting_user=who.editor, due_in_days=9)
        with pytest.raises(NotPermitted):
            stage_deactivate(stage=stage(1), acting_user=who.reviewer1)
        assert stage(1).due_in_days == 3 and stage(1).is_active
        assert not StageEvent.objects.exists()

    def test_the_log_is_append_only(self, admin_user):
        stage_update(stage=stage(1), acting_user=admin_user, due_in_days=4)
        event = StageEvent.objects.get()
        with pytest.raises(TypeError):
            event.save()
        with pytest.raises(TypeError):
            StageEvent.objects.all().delete()


class InactiveStageReviewerTests:
    """What reviewers of a stage out of use are told (data from before the rule)."""

    def test_a_decision_there_is_refused_as_out_of_use_not_as_a_stranger(self, who):
        case = case_in_state(who, "in_review_1")
        ReviewStage.objects.filter(position=1).update(is_active=False)
        with pytest.raises(WrongState) as refused:
            workflow.case_approve(
                case=case,
                acting_user=who.reviewer1,
                stage=stage(1),
                revision=latest(case),
            )
        assert refused.value.message == "初审目前已停用，如有疑问请联系管理员。"
        assert not isinstance(refused.value, NotPermitted)
        # Someone outside the stage's group is still simply not its reviewer.
        with pytest.raises(NotPermitted):
            workflow.case_approve(
                case=case,
                acting_user=who.reviewer2,
                stage=stage(1),
                revision=latest(case),
            )
        case.refresh_from_db()
        assert case.status == Case.Status.IN_REVIEW

    def test_the_queue_names_the_stage_out_of_use(self, who, admin_user):
        stage_deactivate(stage=stage(1), acting_user=admin_user)
        response = signed_in(who.reviewer1).get(reverse("review:queue"))
        assert response.status_code == 403
        page = response.content.decode()
        assert "您负责审核的阶段目前已停用：初审。" in page
        assert "只有初审审核人员" not in page
        outsider = signed_in(who.secretary).get(reverse("review:queue"))
        assert "您不是任何审核阶段的审核人员。" in outsider.content.decode()


class StageAdminTests:
    url = "/admin/review/reviewstage/"

    def test_the_list_refuses_to_deactivate_a_stage_with_waiting_cases(
        self, who, admin_client
    ):
        case_in_state(who, "in_review_1")
        stages = list(ReviewStage.objects.order_by("position"))
        first = stage(1)
        response = admin_client.post(
            self.url,
            changelist_data(
                stages, **{f"s{first.pk}": {"is_active": "", "due_in_days": 5}}
            ),
        )
        assert response.status_code == 200
        assert "初审尚有 1 个案例等待审核" in response.content.decode()
        first.refresh_from_db()
        assert first.is_active and first.due_in_days == 3
        assert not StageEvent.objects.exists()

    def test_the_list_saves_through_the_service(self, who, admin_client, admin_user):
        stages = list(ReviewStage.objects.order_by("position"))
        first = stage(1)
        response = admin_client.post(
            self.url,
            changelist_data(
                stages, **{f"s{first.pk}": {"is_active": "", "due_in_days": 5}}
            ),
        )
        assert response.status_code == 302
        first.refresh_from_db()
        assert not first.is_active and first.due_in_days == 5
        event = StageEvent.objects.get()
        assert (event.actor, event.action) == (
            admin_user,
            StageEvent.Action.DEACTIVATE,
        )
        assert event.changes == {
            "due_in_days": ["3", "5"],
            "is_active": ["True", "False"],
        }

    def test_the_change_form_refuses_with_what_was_typed_kept(self, who, admin_client):
        case_in_state(who, "in_review_1")
        first = stage(1)
        response = admin_client.post(
            f"{self.url}{first.pk}/change/",
            change_form_data(first, is_active="", name="初审（停用）"),
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert "初审尚有 1 个案例等待审核" in page
        assert 'value="初审（停用）"' in page
        first.refresh_from_db()
        assert first.is_active and first.name == "初审"

    def test_a_case_arriving_after_the_form_check_is_refused_as_a_message(
        self, who, admin_client
    ):
        # The form saw an empty stage; by the locked save a case waits there.
        case_in_state(who, "in_review_1")
        first = stage(1)
        with mock.patch("review.admin.stage_deactivation_check"):
            response = admin_client.post(
                f"{self.url}{first.pk}/change/",
                change_form_data(first, is_active=""),
                follow=True,
            )
        messages = [str(m) for m in response.context["messages"]]
        assert messages == ["初审尚有 1 个案例等待审核，请审核完毕后再停用该阶段。"]
        first.refresh_from_db()
        assert first.is_active
        assert not StageEvent.objects.exists()

    def test_adding_a_stage_logs_it(self, admin_client, admin_user):
        group = Group.objects.create(name="党委审定组")
        response = admin_client.post(
            f"{self.url}add/",
            {
                "position": 3,
                "name": "党委审定",
                "reviewer_group": group.pk,
                "due_in_days": 2,
                "resume_after_return": ReviewStage.Resume.FIRST_STAGE,
                "is_active": "on",
                "kind": ReviewStage.Kind.REVIEW,
                "scorers_per_case": 3,
                **NO_CRITERIA,
                "_save": "Save",
            },
        )
        assert response.status_code == 302
        created = ReviewStage.objects.get(name="党委审定")
        assert StageEvent.objects.get().stage == created
        assert admin_client.get(f"{self.url}{created.pk}/change/").status_code == 200


@pytest.mark.django_db(transaction=True)
class StageRaceTests:
    """A submission and a deactivation of its first stage at the same moment."""

    def _race(self, *, first, second):
        """Run `first` inside a transaction held open a while, and `second`
        once `first` has done its work but not committed."""
        done, results = threading.Event(), {}

        def hold(name, action):
            try:
                with transaction.atomic():
                    results[name] = action()
                    done.set()
                    time.sleep(0.5)
            except Exception as error:  # the test inspects what each got
                results[name] = error
                done.set()
            finally:
                connection.close()

        def follow(name, action):
            try:
                done.wait(timeout=10)
                results[name] = action()
            except Exception as error:
                results[name] = error
            finally:
                connection.close()

        threads = [
            threading.Thread(target=hold, args=first),
            threading.Thread(target=follow, args=second),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        return results

    def _setup(self):
        if connection.vendor != "postgresql":
            service_missing(
                "the race test needs PostgreSQL's row locks; set DATABASE_URL"
            )
        who = people()
        admin = type(who.editor).objects.create_superuser("root", "root@example.org")
        return who, admin, draft(who)

    def test_a_case_arriving_first_stops_the_deactivation(self):
        who, admin, case = self._setup()
        results = self._race(
            first=(
                "submit",
                lambda: workflow.case_submit(case=case, acting_user=who.secretary),
            ),
            second=(
                "deactivate",
                lambda: stage_deactivate(stage=stage(1), acting_user=admin),
            ),
        )
        assert isinstance(results["deactivate"], StageInUse), results
        assert stage(1).is_active
        case.refresh_from_db()
        assert case.current_stage == stage(1)

    def test_a_deactivation_first_sends_the_case_on_to_the_next_stage(self):
        who, admin, case = self._setup()
        results = self._race(
            first=(
                "deactivate",
                lambda: stage_deactivate(stage=stage(1), acting_user=admin),
            ),
            second=(
                "submit",
                lambda: workflow.case_submit(case=case, acting_user=who.secretary),
            ),
        )
        assert not isinstance(results["submit"], Exception), results
        assert not stage(1).is_active
        case.refresh_from_db()
        assert (case.status, case.current_stage) == (Case.Status.IN_REVIEW, stage(2))
        assert not Case.objects.filter(
            status=Case.Status.IN_REVIEW, current_stage__is_active=False
        ).exists()


class ScoringStageAdminTests:
    """A scoring stage is set up with its rubric; a bad one is refused."""

    url = "/admin/review/reviewstage/"

    def _form(self, group, *, criteria, scorers=3):
        data = {
            "position": 3,
            "name": "评选",
            "reviewer_group": group.pk,
            "due_in_days": 7,
            "resume_after_return": ReviewStage.Resume.FIRST_STAGE,
            "is_active": "on",
            "kind": ReviewStage.Kind.SCORING,
            "scorers_per_case": scorers,
            "criteria-TOTAL_FORMS": str(len(criteria)),
            "criteria-INITIAL_FORMS": "0",
            "_save": "Save",
        }
        for index, (name, weight) in enumerate(criteria):
            data.update(
                {
                    f"criteria-{index}-order": index,
                    f"criteria-{index}-name": name,
                    f"criteria-{index}-weight": weight,
                    f"criteria-{index}-scale_max": 10,
                }
            )
        return data

    def _panel(self, size):
        group = Group.objects.create(name="评审专家组")
        for n in range(size):
            UserFactory(username=f"panel{n}").groups.add(group)
        return group

    def test_a_scoring_stage_is_set_up_with_its_rubric(self, admin_client):
        group = self._panel(3)
        response = admin_client.post(
            f"{self.url}add/",
            self._form(
                group, criteria=[("创新性", 30), ("实效性", 40), ("示范性", 30)]
            ),
        )
        assert response.status_code == 302
        created = ReviewStage.objects.get(name="评选")
        assert created.kind == ReviewStage.Kind.SCORING
        assert [c.weight for c in created.criteria.all()] == [30, 40, 30]

    @pytest.mark.parametrize(
        ("criteria", "scorers", "message"),
        [
            ([], 3, "评选阶段至少需要一项评分标准"),
            ([("创新性", 0)], 3, "权重须大于 0"),
            ([("创新性", 30)], 0, "每个案例至少由一位评审专家评分"),
        ],
    )
    def test_a_bad_rubric_is_refused(self, admin_client, criteria, scorers, message):
        group = self._panel(3)
        response = admin_client.post(
            f"{self.url}add/", self._form(group, criteria=criteria, scorers=scorers)
        )
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not ReviewStage.objects.filter(name="评选").exists()

    @pytest.mark.parametrize(
        ("size", "scorers", "message"),
        [
            (0, 3, "没有在职成员"),
            (2, 3, "超过了评审专家组"),
        ],
    )
    def test_a_panel_that_could_not_score_is_refused(
        self, admin_client, size, scorers, message
    ):
        group = self._panel(size)
        response = admin_client.post(
            f"{self.url}add/",
            self._form(group, criteria=[("创新性", 30)], scorers=scorers),
        )
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not ReviewStage.objects.filter(name="评选").exists()
        assert not StageEvent.objects.filter(stage__name="评选").exists()


class ScoringStageServiceTests:
    """review.stages refuses an unusable scoring stage whoever calls it."""

    def _admin(self):
        return get_user_model().objects.create_superuser("root", "r@example.org", "x")

    def test_an_empty_panel_or_too_large_k_is_refused_and_nothing_saved(self):
        admin = self._admin()
        group = Group.objects.create(name="空的专家组")
        for per_case in (0, 1):
            with pytest.raises(ScoringUnusable):
                stage_create(
                    acting_user=admin,
                    position=5,
                    name="评选",
                    reviewer_group=group,
                    kind=ReviewStage.Kind.SCORING,
                    scorers_per_case=per_case,
                )
        UserFactory(username="lone").groups.add(group)
        with pytest.raises(ScoringUnusable, match="超过了评审专家组"):
            stage_create(
                acting_user=admin,
                position=5,
                name="评选",
                reviewer_group=group,
                kind=ReviewStage.Kind.SCORING,
                scorers_per_case=2,
            )
        assert not ReviewStage.objects.filter(name="评选").exists()
        assert not StageEvent.objects.filter(actor=admin).exists()
        stage = stage_create(
            acting_user=admin,
            position=5,
            name="评选",
            reviewer_group=group,
            kind=ReviewStage.Kind.SCORING,
            scorers_per_case=1,
        )
        with pytest.raises(ScoringUnusable):
            stage_update(stage=stage, acting_user=admin, scorers_per_case=4)
        stage.refresh_from_db()
        assert stage.scorers_per_case == 1
        # A review stage's group may be empty: nobody is assigned there.
        stage_create(
            acting_user=admin,
            position=6,
            name="复核",
            reviewer_group=Group.objects.create(name="复核组"),
        )
