"""Hostile files sent through every way an image reaches the site.

Images arrive by the editor's upload endpoint (the body text) and by the cover
field of the case forms. Each hostile file is either refused with a message
the writer can act on, in Chinese, with nothing stored; or, where it decodes
as an allowed image, re-encoded under a random name so that nothing the
sender added survives. Nobody outside a branch can upload at all.
"""

import io
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import include, path, re_path, reverse
from django.views.static import serve
from PIL import Image

from authoring.services import CaseContent, case_create
from casehub.images import image_clean
from submissions.models import Case, EditorImage, Membership
from tests.images import (
    APPENDED_SCRIPT,
    HTML_PAGE,
    PDF_BYTES,
    SVG_WITH_SCRIPT,
    animated_gif,
    bilevel_png,
    gif_canvas_bomb,
    gif_script_polyglot,
    image_bytes,
    png_claiming_size,
    upload,
)
from tests.submissions.factories import (
    ThemeFactory,
    UserFactory,
    member,
    signed_in,
)

pytestmark = pytest.mark.django_db

NOT_AN_IMAGE = "文件不是 JPEG、PNG、WebP 或 GIF 图片。"
DAMAGED = "图片已损坏或不完整。"
TOO_BIG_TO_OPEN = "图片尺寸过大，无法安全打开。"
GIF_BOMB = (
    "动图每帧为 6300 × 6300 像素，所有帧合计最多 20 百万像素。"
    "请缩小尺寸、减少帧数或改传静态图片。"
)
MAX_BYTES = 10 * 1024 * 1024


@cache
def _hundred_megapixels():
    return bilevel_png(10_000, 10_000)


@cache
def _oversized():
    # A valid image, refused only for its size.
    data = image_bytes("PNG")
    return data + b"\0" * (MAX_BYTES + 1 - len(data))


def _truncated_jpeg():
    data = image_bytes("JPEG", size=(400, 300))
    return data[: len(data) // 2]


@dataclass(frozen=True)
class Hostile:
    """A file that must be refused, and what the writer is told."""

    label: str
    make: Callable[[], bytes]
    name: str
    content_type: str
    message: str
    # The cover field is a Django file field, which answers for an empty file.
    cover_message: str | None = None

    def upload(self):
        return upload(self.make(), self.name, self.content_type)


HOSTILE = [
    Hostile(
        "svg-with-script", lambda: SVG_WITH_SCRIPT, "logo.svg", "image/svg+xml",
        NOT_AN_IMAGE,
    ),
    Hostile(
        "html-renamed-png", lambda: HTML_PAGE, "photo.png", "image/png", NOT_AN_IMAGE
    ),
    Hostile(
        "truncated-jpeg", _truncated_jpeg, "photo.jpg", "image/jpeg", DAMAGED
    ),
    Hostile(
        "decompression-bomb-900-megapixels",
        lambda: png_claiming_size(30_000, 30_000),
        "bomb.png",
        "image/png",
        TOO_BIG_TO_OPEN,
    ),
    Hostile(
        "100-megapixel-image", _hundred_megapixels, "scan.png", "image/png",
        TOO_BIG_TO_OPEN,
    ),
    Hostile(
        "zero-bytes", lambda: b"", "photo.png", "image/png", "文件是空的。",
        cover_message="所提交的是空文件。",
    ),
    Hostile(
        "oversized-file-10-mb-plus-1", _oversized, "photo.png", "image/png",
        "图片超过 10 MB。",
    ),
    Hostile(
        "wrong-content-type-pdf-sent-as-jpeg", lambda: PDF_BYTES, "photo.jpg",
        "image/jpeg", NOT_AN_IMAGE,
    ),
    Hostile(
        "bmp-sent-as-png", lambda: image_bytes("BMP"), "photo.png", "image/png",
        NOT_AN_IMAGE,
    ),
    Hostile(
        "php-script-named-jpg", lambda: b"<?php system($_GET['c']); ?>",
        "photo.jpg", "image/jpeg", NOT_AN_IMAGE,
    ),
    Hostile(
        "48-megapixel-image", lambda: bilevel_png(8_000, 6_000), "scan.png",
        "image/png", "图片为 8000 × 6000 像素，最多只接受 40 百万像素。",
    ),
    Hostile(
        "gif-with-301-frames", lambda: animated_gif(301), "moving.gif", "image/gif",
        "动图帧数过多。",
    ),
    Hostile(
        "gif-canvas-bomb-10-frames", lambda: gif_canvas_bomb(6300, 6300, 10),
        "moving.gif", "image/gif", GIF_BOMB,
    ),
    Hostile(
        "gif-canvas-bomb-30-frames", lambda: gif_canvas_bomb(6300, 6300, 30),
        "moving.gif", "image/gif", GIF_BOMB,
    ),
]  # fmt: skip


# Pillow format -> the extension it is stored under, the type it is served as
STORED_AS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "GIF": ("gif", "image/gif"),
}


@dataclass(frozen=True)
class Disguised:
    """A file that decodes as an allowed image: kept, but only as a clean image."""

    label: str
    make: Callable[[], bytes]
    name: str
    content_type: str
    image_format: str
    # Bytes the sender added that must not survive re-encoding.
    added: bytes | None = None

    def upload(self):
        return upload(self.make(), self.name, self.content_type)


def _png():
    return image_bytes("PNG")


DISGUISED = [
    Disguised(
        "png-with-appended-script", lambda: _png() + APPENDED_SCRIPT, "photo.png",
        "image/png", "PNG", added=APPENDED_SCRIPT,
    ),
    Disguised(
        "gif-javascript-polyglot", gif_script_polyglot, "photo.gif", "image/gif",
        "GIF", added=b"=alert(",
    ),
    Disguised(
        "jpeg-named-svg", lambda: image_bytes("JPEG"), "logo.svg", "image/svg+xml",
        "JPEG",
    ),
    Disguised("png-named-php", _png, "shell.php", "application/x-php", "PNG"),
    Disguised("png-named-html", _png, "index.html", "text/html", "PNG"),
    Disguised(
        "wrong-content-type-png-sent-as-html", _png, "photo.png", "text/html", "PNG"
    ),
    Disguised("path-traversal-name", _png, "../../../etc/x.png", "image/png", "PNG"),
    Disguised(
        "windows-path-traversal-name", _png, "..\\..\\windows\\x.png",
        "image/png", "PNG",
    ),
    Disguised("very-long-name", _png, "照片" * 200 + ".png", "image/png", "PNG"),
]  # fmt: skip

hostile_files = pytest.mark.parametrize(
    "hostile", HOSTILE, ids=[item.label for item in HOSTILE]
)
disguised_files = pytest.mark.parametrize(
    "disguised", DISGUISED, ids=[item.label for item in DISGUISED]
)


def _serve_media(request, path):
    # The site's /media/ route took MEDIA_ROOT when its URLconf was loaded;
    # every test here keeps its uploads in a folder of its own.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [
    re_path(r"^media/(?P<path>.*)$", _serve_media),
    path("", include("casehub.urls")),
]


@pytest.fixture(autouse=True)
def upload_tmp(settings, tmp_path):
    """Large uploads are spooled here while the request runs."""
    folder = tmp_path / "upload-tmp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


@pytest.fixture
def writer():
    """A correspondent: the least a branch member can be, and enough to upload."""
    return member(Membership.Role.CORRESPONDENT, username="tongxun")


@pytest.fixture
def branch(writer):
    return writer.memberships.get().branch


@pytest.fixture
def theme():
    return ThemeFactory(name="科技创新")


def files_under(root: Path) -> list[str]:
    """Every file the requests left below `root`, relative to it."""
    return sorted(
        path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()
    )


def assert_nothing_stored(tmp_path, before=()):
    assert files_under(tmp_path) == sorted(before)


def assert_stored_clean_image(tmp_path, stored_name, folder, disguised):
    """The one new file: random name in `folder`, a clean image, served as one."""
    user_stem = re.escape(Path(disguised.name.replace("\\", "/")).stem)
    extension, served_as = STORED_AS[disguised.image_format]
    assert re.fullmatch(
        rf"{folder}/\d{{4}}/\d{{2}}/[0-9a-f]{{32}}\.{extension}", stored_name
    ), stored_name
    assert not re.search(user_stem, stored_name)
    stored = (tmp_path / "media" / stored_name).read_bytes()
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == disguised.image_format
        image.load()
    if disguised.added is not None:
        assert disguised.added not in stored
    with override_settings(ROOT_URLCONF=__name__):
        response = Client().get(f"/media/{stored_name}")
    assert response.status_code == 200
    assert response["Content-Type"] == served_as
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == stored


class FormPage(HTMLParser):
    """What a browser shows of a form page: the fields' values and errors.

    `boxes` holds each `<div class="field">` as (names of its inputs, the
    error messages shown in it).
    """

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.values = defaultdict(list)
        self.boxes = []
        self.form_errors = []
        self.described_by = {}  # input name -> its aria-describedby ids
        self.text_of_id = {}  # element id -> its text
        self._open = []  # [tag, id, text parts] of elements with an id
        self._divs = []  # per open div: its box, or None
        self._capture = None  # list that collects the text being read
        self._textarea = None
        self._select = None
        self.feed(html)
        self.close()

    def errors_of(self, name):
        return next(errors for names, errors in self.boxes if name in names)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        name = attrs.get("name")
        if attrs.get("id"):
            self._open.append([tag, attrs["id"], []])
        if tag == "div":
            box = ([], []) if "field" in classes else None
            if box is not None:
                self.boxes.append(box)
            self._divs.append(box)
            if "form-errors" in classes:
                self._capture = self.form_errors
        current = next((box for box in reversed(self._divs) if box), None)
        if name and tag in ("input", "textarea", "select"):
            if current is not None:
                current[0].append(name)
            if attrs.get("aria-describedby"):
                self.described_by[name] = attrs["aria-describedby"].split()
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.values[name].append(attrs.get("value", "on"))
            elif kind not in ("file", "submit"):
                self.values[name].append(attrs.get("value") or "")
        elif tag == "textarea":
            self._textarea = (name, [])
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select].append(attrs.get("value", ""))
        elif tag == "p" and "field__error" in classes and current is not None:
            self._capture = current[1]
        if self._capture is not None and tag == "p":
            self._capture.append("")

    def handle_data(self, data):
        for _tag, _id, parts in self._open:
            parts.append(data)
        if self._textarea:
            self._textarea[1].append(data)
        if self._capture:
            self._capture[-1] += data

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            _tag, element_id, parts = self._open.pop()
            self.text_of_id[element_id] = "".join(parts).strip()
        if tag == "textarea" and self._textarea:
            name, parts = self._textarea
            text = "".join(parts)
            # Browsers drop the newline that follows <textarea>.
            self.values[name].append(text.removeprefix("\n"))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "p" and self._capture:
            self._capture[-1] = self._capture[-1].strip()
            if self._capture is not self.form_errors:
                self._capture = None
        elif tag == "div" and self._divs:
            self._divs.pop()
            if self._capture is self.form_errors:
                self._capture = None


def assert_only_cover_refused(page: FormPage, message):
    """The message sits in the cover field's box, and the field points to it."""
    assert page.errors_of("cover_image") == [message]
    refused = [names for names, errors in page.boxes if errors]
    assert len(refused) == 1 and "cover_image" in refused[0]
    assert page.form_errors == []
    described = [page.text_of_id.get(id_) for id_ in page.described_by["cover_image"]]
    assert message in described


TYPED = {
    "title": "党建引领 科研攻关见实效",
    "tagline": "聚力·攻坚·育人",
    "author_name": "王建国",
    "source": "精密测量第一党支部",
    "lead": "支部把党小组建在课题组上。",
    "body": "<h2>一、把支部建在课题组上</h2><p>一是调整党小组设置。</p>",
}


def assert_typed_text_shown(page: FormPage, typed):
    for name, value in typed.items():
        expected = [
            str(item) for item in (value if isinstance(value, list) else [value])
        ]
        assert page.values[name] == expected, name


class EditorUploadTests:
    url = reverse("submissions:image_upload")

    def post(self, client, file):
        return client.post(self.url, {"upload": file})

    @hostile_files
    def test_hostile_file_is_refused_with_a_message_the_editor_shows(
        self, writer, hostile, tmp_path
    ):
        response = self.post(signed_in(writer), hostile.upload())
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        # CKEditor's upload adapter shows error.message to the writer.
        assert response.json() == {"error": {"message": hostile.message}}
        assert not EditorImage.objects.exists()
        assert_nothing_stored(tmp_path)

    @disguised_files
    def test_disguised_image_is_kept_only_as_a_re_encoded_image(
        self, writer, disguised, tmp_path
    ):
        response = self.post(signed_in(writer), disguised.upload())
        assert response.status_code == 200
        stored = EditorImage.objects.get()
        assert stored.uploaded_by == writer
        assert response.json() == {"url": stored.image.url}
        assert_stored_clean_image(tmp_path, stored.image.name, "uploads", disguised)
        assert files_under(tmp_path) == [f"media/{stored.image.name}"]

    @pytest.mark.parametrize(
        ("who", "message"),
        [
            ("anonymous", "请重新登录后再上传图片。"),
            ("not-a-member", "只有党组织成员才能上传图片。"),
        ],
    )
    def test_only_branch_members_can_upload(self, who, message, tmp_path):
        client = Client() if who == "anonymous" else signed_in(UserFactory())
        response = self.post(client, upload(image_bytes("PNG")))
        assert response.status_code == 403
        assert response.json() == {"error": {"message": message}}
        assert not EditorImage.objects.exists()
        assert_nothing_stored(tmp_path)


class CoverOnNewCaseTests:
    url = reverse("submissions:case_create")

    def typed(self, branch, theme):
        return {**TYPED, "branch": branch.pk, "themes": [theme.pk]}

    @hostile_files
    def test_hostile_cover_is_refused_next_to_the_field_and_the_text_kept(
        self, writer, branch, theme, hostile, tmp_path
    ):
        typed = self.typed(branch, theme)
        response = signed_in(writer).post(
            self.url, {**typed, "cover_image": hostile.upload()}
        )
        assert response.status_code == 200
        page = FormPage(response.content.decode())
        assert_only_cover_refused(page, hostile.cover_message or hostile.message)
        assert_typed_text_shown(page, typed)
        assert not Case.objects.exists()
        assert_nothing_stored(tmp_path)

    @disguised_files
    def test_disguised_cover_is_kept_only_as_a_re_encoded_image(
        self, writer, branch, theme, disguised, tmp_path
    ):
        response = signed_in(writer).post(
            self.url, {**self.typed(branch, theme), "cover_image": disguised.upload()}
        )
        assert response.status_code == 302
        case = Case.objects.get()
        assert case.title == TYPED["title"]
        cover = case.cover_image.name
        assert_stored_clean_image(tmp_path, cover, "covers", disguised)
        assert files_under(tmp_path) == [f"media/{cover}"]

    def test_anonymous_is_sent_to_sign_in(self, branch, theme, tmp_path):
        response = Client().post(
            self.url,
            {**self.typed(branch, theme), "cover_image": upload(image_bytes("PNG"))},
        )
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert not Case.objects.exists()
        assert_nothing_stored(tmp_path)

    def test_user_outside_any_branch_is_refused(self, branch, theme, tmp_path):
        response = signed_in(UserFactory()).post(
            self.url,
            {**self.typed(branch, theme), "cover_image": upload(image_bytes("PNG"))},
        )
        assert response.status_code == 403
        assert not Case.objects.exists()
        assert_nothing_stored(tmp_path)


class CoverOnSavedCaseTests:
    @pytest.fixture
    def saved(self, writer, branch):
        """A draft with a cover, saved through the service as the form would."""
        old_cover = image_clean(upload(image_bytes("JPEG"), "旧封面.jpg", "image/jpeg"))
        return case_create(
            branch=branch,
            acting_user=writer,
            content=CaseContent(
                title="已保存的标题",
                lead="已保存的导语。",
                body="<p>已保存的正文。</p>",
                cover=old_cover,
            ),
        )

    def url(self, case):
        return reverse("submissions:case_update", args=[case.pk])

    def typed(self, case, theme):
        return {**TYPED, "themes": [theme.pk], "version": case.version}

    @hostile_files
    def test_hostile_cover_keeps_the_saved_case_and_the_typed_text(
        self, writer, saved, theme, hostile, tmp_path
    ):
        before = files_under(tmp_path)
        old_cover, old_version = saved.cover_image.name, saved.version
        typed = self.typed(saved, theme)
        response = signed_in(writer).post(
            self.url(saved), {**typed, "cover_image": hostile.upload()}
        )
        assert response.status_code == 200
        page = FormPage(response.content.decode())
        assert_only_cover_refused(page, hostile.cover_message or hostile.message)
        assert_typed_text_shown(page, typed)
        saved.refresh_from_db()
        assert (saved.title, saved.lead, saved.body, saved.version) == (
            "已保存的标题",
            "已保存的导语。",
            "<p>已保存的正文。</p>",
            old_version,
        )
        assert saved.cover_image.name == old_cover
        # The form still shows the cover that is kept.
        assert f'href="{saved.cover_image.url}"' in response.content.decode()
        assert_nothing_stored(tmp_path, before)

    @disguised_files
    def test_disguised_cover_replaces_the_old_one_only_as_a_re_encoded_image(
        self, writer, saved, theme, disguised, tmp_path
    ):
        before = files_under(tmp_path)
        response = signed_in(writer).post(
            self.url(saved),
            {**self.typed(saved, theme), "cover_image": disguised.upload()},
        )
        assert response.status_code == 302
        saved.refresh_from_db()
        assert saved.title == TYPED["title"]
        cover = saved.cover_image.name
        assert_stored_clean_image(tmp_path, cover, "covers", disguised)
        assert files_under(tmp_path) == sorted([*before, f"media/{cover}"])

    @pytest.mark.parametrize(
        ("who", "status"), [("anonymous", 302), ("member-of-another-branch", 404)]
    )
    def test_outsiders_cannot_change_the_cover(
        self, saved, theme, who, status, tmp_path
    ):
        before = files_under(tmp_path)
        old_cover = saved.cover_image.name
        client = Client() if who == "anonymous" else signed_in(member())
        response = client.post(
            self.url(saved),
            {**self.typed(saved, theme), "cover_image": upload(image_bytes("PNG"))},
        )
        assert response.status_code == status
        if status == 302:
            assert response["Location"].startswith(reverse("login"))
        saved.refresh_from_db()
        assert (saved.title, saved.cover_image.name) == ("已保存的标题", old_cover)
        assert_nothing_stored(tmp_path, before)


class GifBombTests:
    """The 269-byte GIF that once held a worker for 12 s and 1.35 GB."""

    @pytest.fixture
    def bomb(self):
        return upload(gif_canvas_bomb(6300, 6300, 30), "moving.gif", "image/gif")

    def test_the_editor_upload_refuses_it_at_once(self, writer, bomb, tmp_path):
        started = time.monotonic()
        response = signed_in(writer).post(
            reverse("submissions:image_upload"), {"upload": bomb}
        )
        assert time.monotonic() - started < 3
        assert response.status_code == 400
        assert response.json() == {"error": {"message": GIF_BOMB}}
        assert_nothing_stored(tmp_path)

    def test_the_cover_field_refuses_it_at_once_and_keeps_the_text(
        self, writer, branch, theme, bomb, tmp_path
    ):
        typed = {**TYPED, "branch": branch.pk, "themes": [theme.pk]}
        started = time.monotonic()
        response = signed_in(writer).post(
            reverse("submissions:case_create"), {**typed, "cover_image": bomb}
        )
        assert time.monotonic() - started < 3
        page = FormPage(response.content.decode())
        assert_only_cover_refused(page, GIF_BOMB)
        assert_typed_text_shown(page, typed)
        assert not Case.objects.exists()
        assert_nothing_stored(tmp_path)

    def test_a_small_animation_is_still_kept(self, writer, tmp_path):
        response = signed_in(writer).post(
            reverse("submissions:image_upload"),
            {"upload": upload(animated_gif(12), "moving.gif", "image/gif")},
        )
        assert response.status_code == 200
        stored = EditorImage.objects.get()
        with Image.open(tmp_path / "media" / stored.image.name) as image:
            assert (image.format, image.n_frames) == ("GIF", 12)
