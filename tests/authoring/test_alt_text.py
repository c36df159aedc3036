"""Images in cases carry a text alternative: the sanitiser keeps it, Word
import brings the picture's description along, and the preview asks the
writer for the ones still missing."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from authoring.docx_import import docx_read
from casehub.richtext import images_without_alt, sanitize_html
from review.workflow import case_submit
from submissions.models import Membership
from tests.authoring.docx_files import ORGANISATION, docx_bytes, official_case
from tests.images import image_bytes
from tests.submissions.factories import BranchFactory, CaseFactory, member, signed_in

SRC = "/media/uploads/2026/11/a.png"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def figure(img: str) -> str:
    return f'<figure class="image">{img}</figure>'


@pytest.mark.parametrize(
    "alt",
    ["支部党员在实验室开展现场教学", "A &quot;quoted&quot; &amp; named one"],
)
def test_the_sanitiser_keeps_the_text_alternative(alt):
    html = figure(f'<img src="{SRC}" alt="{alt}">')
    assert sanitize_html(html) == html
    assert sanitize_html(figure(f'<img src="{SRC}" alt="{alt}" onerror="x">')) == html


@pytest.mark.parametrize(
    "html, missing",
    [
        ("", []),
        ("<p>没有图片</p>", []),
        (figure(f'<img src="{SRC}" alt="合影">'), []),
        (figure(f'<img src="{SRC}">'), [(1, SRC)]),
        (figure(f'<img src="{SRC}" alt="">'), [(1, SRC)]),
        (figure(f'<img src="{SRC}" alt="  ">'), [(1, SRC)]),
        (
            figure('<img src="/media/1.png" alt="一">')
            + figure('<img src="/media/2.png">')
            + "<p><img src='/media/3.png' alt=''/></p>",
            [(2, "/media/2.png"), (3, "/media/3.png")],
        ),
    ],
)
def test_images_without_alt(html, missing):
    assert images_without_alt(html) == missing


@pytest.mark.django_db
def test_word_import_keeps_the_pictures_description_as_alt():
    def build(document):
        official_case(document)
        picture = document.add_picture(io.BytesIO(image_bytes("PNG", size=(40, 30))))
        picture._inline.docPr.set("descr", "支部党员在实验室合影")

    with transaction.atomic():
        BranchFactory(name=ORGANISATION)
        upload = SimpleUploadedFile("案例.docx", docx_bytes(build), DOCX_TYPE)
        reading = docx_read(upload)
    assert 'alt="支部党员在实验室合影"' in reading.body
    # The official case's own picture has no description, and stays without.
    assert len(images_without_alt(reading.body)) == 1


@pytest.mark.django_db
class PreviewAsksForAltTests:
    @pytest.fixture
    def secretary(self):
        return member(Membership.Role.SECRETARY)

    def preview(self, user, case):
        url = reverse("submissions:case_preview", args=[case.pk])
        return signed_in(user).get(url).content.decode()

    def test_images_without_alt_are_listed(self, secretary):
        case = CaseFactory(
            branch=secretary.memberships.get().branch,
            created_by=secretary,
            body=figure('<img src="/media/uploads/2026/11/huodong.png">')
            + figure(f'<img src="{SRC}" alt="合影">'),
        )
        page = self.preview(secretary, case)
        assert 'class="panel alt-text-note"' in page
        assert '<img src="/media/uploads/2026/11/huodong.png" alt=""' in page
        assert f'<img src="{SRC}" alt=""' not in page

    def test_no_note_when_every_image_has_alt(self, secretary):
        case = CaseFactory(
            branch=secretary.memberships.get().branch,
            created_by=secretary,
            body=figure(f'<img src="{SRC}" alt="合影">'),
        )
        assert "alt-text-note" not in self.preview(secretary, case)

    def test_no_note_once_submitted(self, secretary):
        case = CaseFactory(
            branch=secretary.memberships.get().branch,
            created_by=secretary,
            body=figure('<img src="/media/uploads/2026/11/huodong.png">'),
        )
        case_submit(case=case, acting_user=secretary)
        assert "alt-text-note" not in self.preview(secretary, case)
