import json

import pytest
from django.urls import reverse

from review.workflow import case_submit
from submissions.models import Case, EditorImage, Membership
from tests.images import image_bytes, png_claiming_size, upload
from tests.submissions.factories import (
    CaseFactory,
    ThemeFactory,
    UserFactory,
    member,
    signed_in,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def secretary():
    return member(Membership.Role.SECRETARY, username="shuji")


@pytest.fixture
def branch(secretary):
    return secretary.memberships.get().branch


@pytest.fixture
def correspondent(branch):
    return member(Membership.Role.CORRESPONDENT, branch=branch, username="tongxun")


def form_data(**fields):
    data = {
        "title": "党建引领新篇章",
        "tagline": "筑基·创新·暖心",
        "author_name": "李晓梅",
        "source": "",
        "lead": "导语一段。",
        "body": "<h2>一、筑基</h2><p>一是……</p>",
    }
    data.update(fields)
    return data


class CaseListViewTests:
    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(reverse("submissions:case_list"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_lists_only_own_branches_cases(self, secretary, branch):
        mine = CaseFactory(branch=branch, title="本支部案例")
        CaseFactory(title="别的支部案例")
        response = signed_in(secretary).get(reverse("submissions:case_list"))
        assert list(response.context["cases"]) == [mine]
        assert "别的支部案例" not in response.content.decode()

    def test_filters_by_status_theme_and_text(self, secretary, branch):
        theme = ThemeFactory(name="科技创新")
        draft = CaseFactory(branch=branch, title="草稿甲")
        draft.themes.add(theme)
        submitted = CaseFactory(branch=branch, title="已提交乙")
        case_submit(case=submitted, acting_user=secretary)
        client = signed_in(secretary)
        url = reverse("submissions:case_list")
        assert list(client.get(url, {"status": "in_review"}).context["cases"]) == [
            submitted
        ]
        assert list(client.get(url, {"theme": theme.pk}).context["cases"]) == [draft]
        assert list(client.get(url, {"q": "草稿"}).context["cases"]) == [draft]

    def test_hostile_filter_values_do_not_break_the_page(self, secretary):
        client = signed_in(secretary)
        url = reverse("submissions:case_list")
        for params in (
            {"status": "<script>"},
            {"theme": "abc"},
            {"page": "999"},
            {"page": "x"},
        ):
            assert client.get(url, params).status_code in (200, 404)

    def test_query_count_does_not_grow_with_cases(
        self, secretary, branch, django_assert_max_num_queries
    ):
        theme = ThemeFactory()
        for _ in range(60):
            CaseFactory(branch=branch).themes.add(theme)
        client = signed_in(secretary)
        with django_assert_max_num_queries(12):
            response = client.get(reverse("submissions:case_list"))
        assert len(response.context["cases"]) == 20


class CaseCreateViewTests:
    def test_correspondent_writes_a_draft_with_a_cover(self, correspondent, branch):
        client = signed_in(correspondent)
        theme = ThemeFactory(name="学习教育")
        data = form_data(themes=[theme.pk], branch=branch.pk)
        data["cover_image"] = upload(image_bytes("JPEG"), "封面.jpg", "image/jpeg")
        response = client.post(reverse("submissions:case_create"), data)
        case = Case.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "submissions:case_update", args=[case.pk]
        )
        assert (case.branch, case.created_by, case.status) == (
            branch,
            correspondent,
            "draft",
        )
        assert case.cover_image.name.endswith(".jpg")
        assert "封面" not in case.cover_image.name

    def test_save_and_preview(self, secretary, branch):
        response = signed_in(secretary).post(
            reverse("submissions:case_create"), form_data(branch=branch.pk, preview="1")
        )
        case = Case.objects.get()
        assert response["Location"] == reverse(
            "submissions:case_preview", args=[case.pk]
        )

    def test_script_in_body_is_removed(self, secretary, branch):
        signed_in(secretary).post(
            reverse("submissions:case_create"),
            form_data(
                branch=branch.pk,
                body="<p>正文</p><script>alert(1)</script><img src=x onerror=alert(1)>",
            ),
        )
        assert Case.objects.get().body == "<p>正文</p><img>"

    def test_bad_cover_keeps_the_typed_text_and_explains(self, secretary, branch):
        data = form_data(branch=branch.pk, title="不会丢的标题")
        data["cover_image"] = upload(b"<svg onload=alert(1)>", "x.svg", "image/svg+xml")
        response = signed_in(secretary).post(reverse("submissions:case_create"), data)
        assert response.status_code == 200
        assert not Case.objects.exists()
        page = response.content.decode()
        assert "不会丢的标题" in page
        assert response.context["form"].errors["cover_image"]

    def test_cannot_create_for_another_branch(self, secretary):
        other = member().memberships.get().branch
        response = signed_in(secretary).post(
            reverse("submissions:case_create"), form_data(branch=other.pk)
        )
        assert response.status_code == 200
        assert "branch" in response.context["form"].errors
        assert not Case.objects.exists()

    def test_user_without_organisation_is_refused(self):
        response = signed_in(UserFactory()).get(reverse("submissions:case_create"))
        assert response.status_code == 403

    def test_missing_title_is_reported_next_to_the_field(self, secretary, branch):
        response = signed_in(secretary).post(
            reverse("submissions:case_create"), form_data(branch=branch.pk, title="")
        )
        assert response.status_code == 200
        assert response.context["form"].errors["title"]


class CaseAccessTests:
    @pytest.mark.parametrize("name", ["case_detail", "case_update", "case_preview"])
    def test_other_branch_and_missing_case_answer_the_same_404(self, secretary, name):
        others = CaseFactory()
        client = signed_in(secretary)
        assert (
            client.get(reverse(f"submissions:{name}", args=[others.pk])).status_code
            == 404
        )
        assert (
            client.get(reverse(f"submissions:{name}", args=[999999])).status_code == 404
        )

    @pytest.mark.parametrize("name", ["case_submit", "case_withdraw", "case_delete"])
    def test_actions_on_another_branch_case_answer_404(self, secretary, name):
        others = CaseFactory()
        response = signed_in(secretary).post(
            reverse(f"submissions:{name}", args=[others.pk])
        )
        assert response.status_code == 404
        others.refresh_from_db()
        assert others.status == Case.Status.DRAFT

    def test_actions_refuse_get(self, secretary, branch):
        case = CaseFactory(branch=branch)
        response = signed_in(secretary).get(
            reverse("submissions:case_submit", args=[case.pk])
        )
        assert response.status_code == 405

    def test_revision_of_another_branch_answers_404(self, secretary):
        other_secretary = member()
        case = CaseFactory(branch=other_secretary.memberships.get().branch)
        case_submit(case=case, acting_user=other_secretary)
        url = reverse("submissions:revision_detail", args=[case.pk, 1])
        assert signed_in(secretary).get(url).status_code == 404
        assert signed_in(other_secretary).get(url).status_code == 200


class CaseSubmitViewTests:
    def test_secretary_submits(self, secretary, branch):
        case = CaseFactory(branch=branch)
        response = signed_in(secretary).post(
            reverse("submissions:case_submit", args=[case.pk])
        )
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.status == Case.Status.IN_REVIEW

    def test_correspondent_gets_403_and_nothing_changes(self, correspondent, branch):
        case = CaseFactory(branch=branch)
        response = signed_in(correspondent).post(
            reverse("submissions:case_submit", args=[case.pk])
        )
        assert response.status_code == 403
        assert "书记" in response.content.decode()
        case.refresh_from_db()
        assert case.status == Case.Status.DRAFT

    def test_detail_page_offers_submit_only_to_the_secretary(
        self, secretary, correspondent, branch
    ):
        case = CaseFactory(branch=branch)
        url = reverse("submissions:case_detail", args=[case.pk])
        submit_url = reverse("submissions:case_submit", args=[case.pk])
        assert submit_url in signed_in(secretary).get(url).content.decode()
        assert submit_url not in signed_in(correspondent).get(url).content.decode()

    def test_double_submit_is_a_no_op_with_a_message(self, secretary, branch):
        case = CaseFactory(branch=branch)
        client = signed_in(secretary)
        url = reverse("submissions:case_submit", args=[case.pk])
        client.post(url, follow=True)
        response = client.post(url, follow=True)
        assert response.status_code == 200
        assert case.revisions.count() == 1
        assert len(list(response.context["messages"])) == 1

    def test_withdraw(self, secretary, branch):
        case = CaseFactory(branch=branch)
        case_submit(case=case, acting_user=secretary)
        signed_in(secretary).post(
            reverse("submissions:case_withdraw", args=[case.pk]),
            {"comment": "补充照片"},
        )
        case.refresh_from_db()
        assert case.status == Case.Status.WITHDRAWN
        assert case.events.last().comment == "补充照片"


class CaseUpdateViewTests:
    def test_edit_conflict_keeps_both_texts(self, secretary, correspondent, branch):
        case = CaseFactory(branch=branch, title="原标题")
        first, second = signed_in(correspondent), signed_in(secretary)
        url = reverse("submissions:case_update", args=[case.pk])
        assert first.get(url).status_code == 200
        assert second.get(url).status_code == 200
        first.post(url, form_data(title="先保存的标题", version=1))
        response = second.post(
            url, form_data(title="我辛苦写的标题", lead="我写的导语", version=1)
        )
        assert response.status_code == 409
        page = response.content.decode()
        assert "我辛苦写的标题" in page and "我写的导语" in page  # the typed text, back
        assert "先保存的标题" in page  # what the other editor saved, to compare
        case.refresh_from_db()
        assert (case.title, case.version) == ("先保存的标题", 2)
        # Having seen the other text, saving again is a deliberate choice.
        response = second.post(url, form_data(title="我辛苦写的标题", version=2))
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.title == "我辛苦写的标题"

    def test_missing_version_is_refused(self, secretary, branch):
        case = CaseFactory(branch=branch)
        response = signed_in(secretary).post(
            reverse("submissions:case_update", args=[case.pk]), form_data(title="新")
        )
        assert response.status_code == 200
        case.refresh_from_db()
        assert case.title != "新"

    def test_case_in_review_is_not_editable(self, secretary, branch):
        case = CaseFactory(branch=branch)
        case_submit(case=case, acting_user=secretary)
        client = signed_in(secretary)
        url = reverse("submissions:case_update", args=[case.pk])
        assert client.get(url).status_code == 302
        client.post(url, form_data(title="偷偷改", version=1))
        case.refresh_from_db()
        assert case.title != "偷偷改"


class CasePreviewViewTests:
    def test_preview_shows_the_public_layout(self, secretary, branch):
        case = CaseFactory(branch=branch, source="", author_name="李晓梅")
        page = (
            signed_in(secretary)
            .get(reverse("submissions:case_preview", args=[case.pk]))
            .content.decode()
        )
        for text in (
            case.title,
            case.tagline,
            branch.name,
            "李晓梅",
            case.lead,
            "<h2>一、筑基</h2>",
        ):
            assert text in page
        assert 'class="case-article"' in page


class ImageUploadViewTests:
    url = "/submissions/images/"

    def post(self, client, data, name="a.png", content_type="image/png"):
        return client.post(self.url, {"upload": upload(data, name, content_type)})

    def test_member_uploads_and_gets_the_url(self, correspondent):
        response = self.post(signed_in(correspondent), image_bytes("PNG"))
        assert response.status_code == 200
        url = response.json()["url"]
        assert url.startswith("/media/uploads/") and url.endswith(".png")
        assert EditorImage.objects.count() == 1

    @pytest.mark.parametrize(
        ("data", "name"),
        [
            (
                b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                "a.svg",
            ),
            (b"<html><script>alert(1)</script></html>", "a.png"),
            (b"", "a.png"),
            (png_claiming_size(30_000, 30_000), "bomb.png"),
            (image_bytes("JPEG", size=(300, 200))[:300], "cut.jpg"),
        ],
        ids=["svg-with-script", "html-named-png", "empty", "bomb", "truncated"],
    )
    def test_hostile_files_get_a_clear_error_and_store_nothing(
        self, correspondent, data, name
    ):
        response = self.post(signed_in(correspondent), data, name)
        assert response.status_code == 400
        message = response.json()["error"]["message"]
        assert message and any("\u4e00" <= char <= "\u9fff" for char in message)
        assert not EditorImage.objects.exists()

    def test_oversized_file(self, correspondent, settings):
        settings.CASEHUB_MAX_IMAGE_BYTES = 1024
        response = self.post(
            signed_in(correspondent), image_bytes("PNG", size=(400, 400))
        )
        assert response.status_code == 400
        assert not EditorImage.objects.exists()

    def test_anonymous_is_refused(self, client):
        response = self.post(client, image_bytes("PNG"))
        assert response.status_code == 403
        assert "error" in json.loads(response.content)

    def test_user_without_organisation_is_refused(self):
        response = self.post(signed_in(UserFactory()), image_bytes("PNG"))
        assert response.status_code == 403

    def test_csrf_is_enforced(self, correspondent):
        client = signed_in(correspondent, enforce_csrf_checks=True)
        response = self.post(client, image_bytes("PNG"))
        assert response.status_code == 403
        assert not EditorImage.objects.exists()

    def test_missing_file(self, correspondent):
        response = signed_in(correspondent).post(self.url, {})
        assert response.status_code == 400
