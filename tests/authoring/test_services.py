import pytest
from django.core.exceptions import ValidationError

from authoring.services import (
    CaseContent,
    case_create,
    case_update,
    editor_image_store,
)
from casehub.exceptions import EditConflict, NotPermitted, WrongState
from casehub.images import image_clean
from inbox.models import Notification
from review.models import CaseEvent
from review.workflow import case_delete_draft, case_submit
from submissions.models import Case, EditorImage, Membership
from tests.images import image_bytes, upload
from tests.submissions.factories import ThemeFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def content(**fields):
    values = {
        "title": "党建引领新篇章",
        "tagline": "筑基·创新·暖心",
        "lead": "导语",
        "body": "<h2>一、筑基</h2><p>一是……</p>",
    }
    values.update(fields)
    return CaseContent(**values)


class CaseCreateTests:
    def test_member_creates_a_draft(self, django_capture_on_commit_callbacks):
        writer = member(Membership.Role.CORRESPONDENT)
        branch = writer.memberships.get().branch
        theme = ThemeFactory(name="科技创新")
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            case = case_create(
                branch=branch, acting_user=writer, content=content(themes=[theme])
            )
        assert case.status == Case.Status.DRAFT
        assert case.version == 1
        assert list(case.themes.all()) == [theme]
        assert case.created_by == writer == case.last_edited_by
        assert callbacks == []  # no cover, no thumbnail task

    def test_cover_thumbnail_is_made_by_a_task_after_commit(
        self, django_capture_on_commit_callbacks
    ):
        writer = member()
        branch = writer.memberships.get().branch
        cover = image_clean(
            upload(image_bytes("JPEG", size=(1200, 800)), "c.jpg", "image/jpeg")
        )
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            case = case_create(
                branch=branch, acting_user=writer, content=content(cover=cover)
            )
        assert len(callbacks) == 1
        case.refresh_from_db()
        assert case.cover_image.name.startswith("covers/")
        assert case.cover_thumbnail.name.startswith("covers/thumbs/")
        assert case.cover_thumbnail.width <= 480

    def test_non_member_cannot_create(self):
        branch = member().memberships.get().branch
        with pytest.raises(NotPermitted):
            case_create(branch=branch, acting_user=UserFactory(), content=content())
        assert not Case.objects.exists()


class CaseUpdateTests:
    def make_case(self):
        writer = member(Membership.Role.CORRESPONDENT)
        case = case_create(
            branch=writer.memberships.get().branch,
            acting_user=writer,
            content=content(),
        )
        return writer, case

    def test_save_bumps_the_version(self):
        writer, case = self.make_case()
        updated = case_update(
            case=case,
            acting_user=writer,
            expected_version=1,
            content=content(title="新标题"),
        )
        assert (updated.title, updated.version) == ("新标题", 2)

    def test_each_save_is_an_audit_event_and_a_refused_one_is_not(self):
        writer, case = self.make_case()
        case_update(
            case=case, acting_user=writer, expected_version=1, content=content()
        )
        with pytest.raises(EditConflict):
            case_update(
                case=case, acting_user=writer, expected_version=1, content=content()
            )
        events = list(case.events.values_list("action", "actor", "comment"))
        assert events == [(CaseEvent.Action.EDIT, writer.pk, "")]
        assert not Notification.objects.exists()

    def test_later_save_on_an_old_version_is_refused_and_earlier_save_stays(self):
        writer, case = self.make_case()
        colleague = member(Membership.Role.SECRETARY, branch=case.branch)
        case_update(
            case=case,
            acting_user=writer,
            expected_version=1,
            content=content(title="先保存"),
        )
        with pytest.raises(EditConflict) as caught:
            case_update(
                case=case,
                acting_user=colleague,
                expected_version=1,
                content=content(title="后保存"),
            )
        assert caught.value.current.title == "先保存"
        case.refresh_from_db()
        assert (case.title, case.version) == ("先保存", 2)

    def test_case_in_review_cannot_be_edited(self):
        writer, case = self.make_case()
        secretary = member(Membership.Role.SECRETARY, branch=case.branch)
        case_submit(case=case, acting_user=secretary)
        with pytest.raises(WrongState):
            case_update(
                case=case, acting_user=writer, expected_version=1, content=content()
            )

    def test_member_of_another_branch_cannot_edit(self):
        _writer, case = self.make_case()
        with pytest.raises(NotPermitted):
            case_update(
                case=case, acting_user=member(), expected_version=1, content=content()
            )

    def test_removing_the_cover(self):
        writer = member()
        cover = image_clean(upload(image_bytes("PNG")))
        case = case_create(
            branch=writer.memberships.get().branch,
            acting_user=writer,
            content=content(cover=cover),
        )
        case = case_update(
            case=case,
            acting_user=writer,
            expected_version=1,
            content=content(remove_cover=True),
        )
        assert not case.cover_image
        assert not case.cover_thumbnail


class CaseDeleteDraftTests:
    def test_never_submitted_draft_can_be_deleted(self):
        writer = member()
        case = case_create(
            branch=writer.memberships.get().branch,
            acting_user=writer,
            content=content(),
        )
        case_delete_draft(case=case, acting_user=writer)
        assert not Case.objects.exists()

    def test_submitted_case_is_never_deleted(self):
        secretary = member()
        case = case_create(
            branch=secretary.memberships.get().branch,
            acting_user=secretary,
            content=content(),
        )
        case_submit(case=case, acting_user=secretary)
        with pytest.raises(WrongState):
            case_delete_draft(case=case, acting_user=secretary)
        assert Case.objects.filter(pk=case.pk).exists()


class EditorImageStoreTests:
    def test_member_upload_is_stored_re_encoded(self):
        writer = member(Membership.Role.CORRESPONDENT)
        image = editor_image_store(
            upload=upload(image_bytes("PNG")), acting_user=writer
        )
        assert image.image.name.startswith("uploads/")
        assert (image.width, image.height) == (64, 48)

    def test_user_without_organisation_cannot_upload(self):
        with pytest.raises(NotPermitted):
            editor_image_store(
                upload=upload(image_bytes("PNG")), acting_user=UserFactory()
            )
        assert not EditorImage.objects.exists()

    def test_bad_file_stores_nothing(self):
        with pytest.raises(ValidationError):
            editor_image_store(upload=upload(b"<svg/>", "x.svg"), acting_user=member())
        assert not EditorImage.objects.exists()
