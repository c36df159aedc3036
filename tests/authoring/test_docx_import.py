"""导入 Word: .docx files made here with python-docx, as branches write them,
and hostile ones, through the reader, the management command and the form."""

import fcntl
import http.server
import io
import logging
import os
import re
import shutil
import stat
import subprocess
import threading
import urllib.request
import zipfile
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import mammoth.docx
import mammoth.zips
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from docx import Document

from authoring import docx_import as reader
from authoring.docx_import import docx_import, docx_read
from authoring.forms import DocxImportForm
from authoring.services import CaseContent, case_update
from review.workflow import case_submit
from submissions.models import Case, EditorImage, Membership
from tests.authoring.docx_files import (
    INDENT,
    ORGANISATION,
    bold,
    docx_bytes,
    list_define,
    numbered,
    official_case,
)
from tests.conftest import service_missing
from tests.images import image_bytes
from tests.submissions.factories import BranchFactory, CaseFactory, member, signed_in

pytestmark = pytest.mark.django_db

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REAL_WHICH = shutil.which


# Documents -------------------------------------------------------------------


def docx_upload(data, name="案例.docx"):
    return SimpleUploadedFile(name, data, content_type=DOCX_TYPE)


def rezip(data, *, replace=None, add=None, drop=()):
    """`data` with some parts replaced, added or dropped, packed again."""
    replace, add = replace or {}, add or {}
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            content = source.read(info.filename)
            if info.filename in replace:
                content = replace[info.filename](content)
            target.writestr(info.filename, content)
        for name, content in add.items():
            target.writestr(name, content)
    return out.getvalue()


class TextOf(HTMLParser):
    def __init__(self):
        super().__init__()
        self.pieces = []

    def handle_data(self, data):
        self.pieces.append(data)


def visible(html: str) -> str:
    parser = TextOf()
    parser.feed(html)
    return "".join(parser.pieces)


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def tags(html: str, name: str) -> list[str]:
    return [visible(inner) for inner in re.findall(rf"<{name}>(.*?)</{name}>", html)]


@pytest.fixture
def secretary():
    return member(
        Membership.Role.SECRETARY,
        branch=BranchFactory(name=ORGANISATION),
        username="shuji",
    )


@pytest.fixture(scope="module")
def official_docx():
    return docx_bytes(official_case)


@pytest.fixture(scope="module")
def official_reading(django_db_setup, django_db_blocker, official_docx):
    """The branch's document read once for the tests that only look at it."""
    with django_db_blocker.unblock(), transaction.atomic():
        BranchFactory(name=ORGANISATION)
        reading = docx_read(docx_upload(official_docx))
        transaction.set_rollback(True)
    return reading


def nothing_stored(settings):
    media = Path(settings.MEDIA_ROOT)
    files = (
        [path for path in media.rglob("*") if path.is_file()] if media.exists() else []
    )
    return EditorImage.objects.count() == 0 and files == []


# Reading a branch's document ---------------------------------------------------


class RecogniseTests:
    def test_title_tagline_organisation_and_lead(self, secretary, official_docx):
        reading = docx_read(docx_upload(official_docx))
        assert reading.title == "党建引领新篇章"
        assert reading.tagline == "筑基·创新·暖心"
        assert reading.organisation == ORGANISATION
        assert reading.branch == secretary.memberships.get().branch
        assert (
            reading.lead == "中心党总支坚持以党建引领科研攻关，推动党建与业务深度融合。"
        )
        # They are the case's own fields now, not paragraphs of the body.
        assert ORGANISATION not in reading.body
        assert "推动党建与业务深度融合" not in reading.body

    def test_headings_from_bold_paragraphs_and_from_word_styles(self, official_reading):
        body = official_reading.body
        assert tags(body, "h2") == [
            "一、把支部建在课题组上",
            "二、创新组织生活方式",
            "三、暖心服务",
        ]
        assert tags(body, "h3") == ["（一）“三会一课”进实验室"]

    def test_a_sentence_opening_with_a_numeral_stays_a_paragraph(
        self, official_reading
    ):
        body = official_reading.body
        assert "<p>一、二两个课题组率先试点" in body

    def test_indents_and_blank_paragraphs_are_gone(self, official_reading):
        body = official_reading.body
        assert INDENT not in body
        assert "\u3000" not in body
        assert re.search(r"<p>(\s|&nbsp;|<br>)*</p>", body) is None
        assert "<p>一是调整党小组设置。二是落实“双培养”机制。</p>" in body

    def test_table_and_image_are_kept_in_place(self, official_reading):
        reading = official_reading
        body = reading.body
        assert body.index("支部把主题党日开到实验室") < body.index("<img")
        assert body.index("<img") < body.index("<table")
        assert body.index("<table") < body.index("三、暖心服务")
        assert re.findall(r"<td>(?:<p>)?([^<]*)", body) == [
            "指标",
            "数量",
            "党员先锋岗",
            "12",
        ]
        # Not stored yet: the image's address is a placeholder under MEDIA_URL.
        assert len(reading.images) == 1
        assert reading.images[0].placeholder in body
        assert EditorImage.objects.count() == 0

    def test_no_visible_character_is_lost(self, official_reading, official_docx):
        reading = official_reading
        kept = compact(
            reading.title
            + "："
            + reading.tagline
            + reading.organisation
            + reading.lead
            + visible(reading.body)
        )
        document = Document(io.BytesIO(official_docx))
        position = 0
        for paragraph in document.paragraphs:  # in order, tables aside
            text = compact(paragraph.text)
            found = kept.find(text, position)
            assert found >= 0, text
            position = found + len(text)
        for cell in document.tables[0]._cells:
            assert compact(cell.text) in kept

    def test_summary_counts_what_was_recognised(self, official_reading):
        reading = official_reading
        assert (reading.sections, reading.subsections) == (3, 1)
        assert reading.tables == 1 and len(reading.images) == 1
        # 一是…。二是…。 in one paragraph are two points, 三是 a third.
        assert reading.points == 3
        with translation.override("en"):
            assert reading.summary == (
                "title, subtitle, organisation, lead, 3 section headings, "
                "1 sub-heading, 3 points, 4 paragraphs, 1 table, 1 image"
            )

    @pytest.mark.parametrize(
        ("body", "points"),
        [
            ("<p>一是抓学习。二是抓落实。</p>", 2),
            ("<p>一是抓学习；二是抓落实；三是抓队伍。</p><p>四是抓作风。</p>", 4),
            ("<p>主要做法：一是抓学习。二是抓落实！十一是抓总结。</p>", 3),
            ("<p>支部说：“要抓学习。”二是抓落实。</p>", 1),
            # Inside a sentence a 一是 is no point of its own.
            ("<p>一是抓学习，二是抓落实。</p>", 1),
            ("<p>统一是前提，唯一是目标。</p>", 0),
            ("<table><tr><td><p>一是表格里的。</p></td></tr></table>", 0),
        ],
    )
    def test_every_point_that_opens_a_sentence_is_counted(self, body, points):
        reading = reader.DocxImport(body=body)
        reader._count(reading)
        assert reading.points == points

    def test_title_style_and_dash_subtitle(self, db):
        def build(document):
            document.add_paragraph("党建引领 科研攻关见实效", style="Title")
            document.add_paragraph("——记精密测量第一党支部")
            document.add_paragraph("支部把党小组建在课题组上。")
            document.add_heading("一、主要做法", level=1)
            document.add_paragraph("做法一段。")
            document.add_paragraph("精密测量第一党支部")

        reading = docx_read(docx_upload(docx_bytes(build)))
        assert reading.title == "党建引领 科研攻关见实效"
        assert reading.tagline == "记精密测量第一党支部"
        assert reading.lead == "支部把党小组建在课题组上。"
        # The signature at the end names the organisation: it is not text.
        assert reading.organisation == "精密测量第一党支部"
        assert reading.branch is None  # no such organisation here
        assert "精密测量第一党支部" not in reading.body
        assert tags(reading.body, "h2") == ["一、主要做法"]

    def test_a_document_that_opens_with_a_section_has_no_title(self, db):
        def build(document):
            bold(document, "一、基本情况")
            document.add_paragraph("支部现有党员二十名。")

        reading = docx_read(docx_upload(docx_bytes(build)))
        assert reading.title == "" and reading.lead == ""
        assert tags(reading.body, "h2") == ["一、基本情况"]

    def test_an_empty_document_is_refused(self, db):
        with pytest.raises(ValidationError) as raised:
            docx_read(docx_upload(docx_bytes(lambda document: None)))
        assert raised.value.code == "no_text"


# Word's automatic numbering --------------------------------------------------


def numbered_document(paragraphs, lists):
    """A document of (text, numId, level, bold) paragraphs; `lists` maps
    each numId to list_define's levels (or to (levels, options))."""

    def build(document):
        document.add_paragraph("党建引领新篇章")
        document.add_paragraph(INDENT + "近年来，支部坚持党建引领，取得成效。")
        for num_id, definition in lists.items():
            levels, options = (
                definition if isinstance(definition, tuple) else (definition, {})
            )
            list_define(document, num_id, levels, **options)
        for text, num_id, level, strong in paragraphs:
            paragraph = document.add_paragraph()
            paragraph.add_run(text).bold = strong
            if num_id is not None:
                numbered(paragraph, num_id, level)

    return docx_bytes(build)


OFFICIAL_LEVELS = [
    ("chineseCounting", "%1、", 1),
    ("chineseCounting", "（%2）", 1),
    ("decimal", "%3.", 1),
]


class NumberingTests:
    def test_word_numbered_bold_headings_become_headings(self, db):
        """The reviewer's document: 一、 numbering, headings only bold."""
        data = numbered_document(
            [
                ("总体情况", 90, 0, True),
                ("正文一。", None, 0, False),
                ("主要做法", 90, 0, True),
                ("正文二。", None, 0, False),
            ],
            {90: [("chineseCounting", "%1、", 1)]},
        )
        reading = docx_read(docx_upload(data))
        assert reading.body == (
            "<h2>一、总体情况</h2><p>正文一。</p><h2>二、主要做法</h2><p>正文二。</p>"
        )
        assert reading.lead == "近年来，支部坚持党建引领，取得成效。"
        assert reading.sections == 2

    def test_levels_count_on_and_deeper_ones_start_again(self, db):
        data = numbered_document(
            [
                ("总体情况", 71, 0, True),
                ("基本情况", 71, 1, False),
                ("主要特点", 71, 1, False),
                ("主要做法", 71, 0, True),
                ("抓学习", 71, 1, False),
                ("正文。", None, 0, False),
                # Another list of the same definition counts on with it.
                ("工作成效", 72, 0, True),
            ],
            {71: OFFICIAL_LEVELS, 72: (OFFICIAL_LEVELS, {"abstract_id": 71})},
        )
        body = docx_read(docx_upload(data)).body
        assert tags(body, "h2") == ["一、总体情况", "二、主要做法", "三、工作成效"]
        assert tags(body, "h3") == ["（一）基本情况", "（二）主要特点", "（一）抓学习"]

    def test_start_values_and_a_restarted_list(self, db):
        restarted = (
            '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride>'
        )
        data = numbered_document(
            [
                ("第三部分", 31, 0, True),
                ("第四部分", 31, 0, True),
                ("重新开始", 32, 0, True),
                ("接着数", 32, 0, True),
            ],
            {
                31: [("chineseCounting", "%1、", 3)],
                32: (
                    [("chineseCounting", "%1、", 3)],
                    {"abstract_id": 31, "overrides": restarted},
                ),
            },
        )
        body = docx_read(docx_upload(data)).body
        assert tags(body, "h2") == [
            "三、第三部分",
            "四、第四部分",
            "一、重新开始",
            "二、接着数",
        ]

    @pytest.mark.parametrize(
        ("number_format", "label", "expected"),
        [
            ("chineseCountingThousand", "%1、", "<h2>一、标题</h2>"),
            ("ideographTraditional", "%1、", "<p>甲、标题</p>"),
            ("chineseLegalSimplified", "第%1章", "<p>第壹章 标题</p>"),
            ("decimal", "（%1）", "<p>（1）标题</p>"),
            ("decimal", "%1、", "<p>1、标题</p>"),
            ("decimalFullWidth", "%1．", "<p>１．标题</p>"),
            ("none", "", "<p>标题</p>"),
        ],
    )
    def test_numbers_in_chinese_are_written_out(
        self, number_format, label, expected, db
    ):
        data = numbered_document(
            [("标题", 51, 0, False), ("正文。", None, 0, False)],
            {51: [(number_format, label, 1)]},
        )
        assert docx_read(docx_upload(data)).body == expected + "<p>正文。</p>"

    @pytest.mark.parametrize(
        ("number_format", "label", "tag"),
        [("decimal", "%1.", "ol"), ("lowerLetter", "%1)", "ol"), ("bullet", "●", "ul")],
    )
    def test_other_lists_stay_lists(self, number_format, label, tag, db):
        data = numbered_document(
            [
                ("第一项", 61, 0, False),
                ("第二项", 61, 0, False),
                ("正文。", None, 0, False),
            ],
            {61: [(number_format, label, 1)]},
        )
        body = docx_read(docx_upload(data)).body
        assert body == f"<{tag}><li>第一项</li><li>第二项</li></{tag}><p>正文。</p>"

    def test_numbering_is_read_as_mammoth_reads_it(self, db):
        """mc:Fallback rather than mc:Choice; levels and starts no Word writes
        are passed over, not trusted."""
        data = numbered_document(
            [
                ("总体情况", 81, 0, True),
                ("基本情况", 81, 1, False),
                ("正文。", None, 0, False),
            ],
            {81: [("decimal", "%1、", 1), ("decimal", "（%2）", 1)]},
        )
        choice = (
            b'<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/'
            b'markup-compatibility/2006"><mc:Choice Requires="w14">'
            b'<w:numFmt w:val="decimal"/></mc:Choice><mc:Fallback>'
            b'<w:numFmt w:val="chineseCounting"/></mc:Fallback></mc:AlternateContent>'
        )

        def unusual(content):
            first, second = content.split(b'<w:abstractNum w:abstractNumId="81">')
            second = second.replace(b'<w:numFmt w:val="decimal"/>', choice, 1)
            second = second.replace(b'w:ilvl="1"', 'w:ilvl="²"'.encode(), 1)
            second = second.replace(
                b'<w:start w:val="1"/>', '<w:start w:val="１"/>'.encode(), 1
            )
            return first + b'<w:abstractNum w:abstractNumId="81">' + second

        data = rezip(data, replace={"word/numbering.xml": unusual})
        body = docx_read(docx_upload(data)).body
        assert body == "<h2>一、总体情况</h2><p>基本情况</p><p>正文。</p>"

    def test_a_heading_style_keeps_its_number(self, db):
        def build(document):
            document.add_paragraph("报告标题")
            document.add_paragraph("导语一段。")
            list_define(document, 91, [("decimal", "%1.", 1)])
            numbered(document.add_heading("概述", level=1), 91)
            document.add_paragraph("正文。")

        body = docx_read(docx_upload(docx_bytes(build))).body
        assert tags(body, "h2") == ["1. 概述"]

    @pytest.mark.parametrize(
        ("number_format", "value", "text"),
        [
            ("chineseCounting", 1, "一"),
            ("chineseCounting", 10, "十"),
            ("chineseCounting", 11, "十一"),
            ("chineseCounting", 20, "二十"),
            ("chineseCounting", 21, "二十一"),
            ("chineseCounting", 100, "一百"),
            ("chineseCounting", 101, "一百零一"),
            ("chineseCounting", 110, "一百一十"),
            ("chineseCounting", 1001, "一千零一"),
            ("chineseCounting", 10010, "一万零一十"),
            ("chineseCounting", 150000, "十五万"),
            ("taiwanCounting", 10000, "一萬"),
            ("taiwanCounting", 15, "十五"),
            ("chineseLegalSimplified", 1, "壹"),
            ("chineseLegalSimplified", 10, "壹拾"),
            ("chineseLegalSimplified", 12, "壹拾贰"),
            ("chineseLegalSimplified", 105, "壹佰零伍"),
            ("ideographLegalTraditional", 3, "參"),
            ("ideographLegalTraditional", 10, "壹拾"),
            ("ideographDigital", 10, "一〇"),
            ("ideographDigital", 102, "一〇二"),
            ("ideographTraditional", 1, "甲"),
            ("ideographTraditional", 10, "癸"),
            ("ideographTraditional", 11, "甲"),
            ("ideographZodiac", 1, "子"),
            ("ideographZodiac", 12, "亥"),
            ("decimalFullWidth", 12, "１２"),
            ("upperRoman", 4, "IV"),
            ("upperRoman", 1994, "MCMXCIV"),
            ("lowerLetter", 1, "a"),
            ("lowerLetter", 26, "z"),
            ("lowerLetter", 27, "aa"),
            ("decimal", 0, "0"),
            ("decimal", 32767, "32767"),
        ],
    )
    def test_number_formats(self, number_format, value, text):
        assert reader._number_text(value, number_format) == text


# Images ----------------------------------------------------------------------


class ImageTests:
    def test_import_stores_the_images_as_editor_uploads(self, secretary, official_docx):
        reading = docx_import(upload=docx_upload(official_docx), acting_user=secretary)
        stored = EditorImage.objects.get()
        assert stored.uploaded_by == secretary
        assert (stored.width, stored.height) == (320, 200)
        assert f'src="{stored.image.url}"' in reading.body
        assert stored.image.url.startswith("/media/uploads/")
        assert "docx-import" not in reading.body

    def test_an_image_the_upload_checks_refuse_is_left_out_with_a_note(self, secretary):
        def build(document):
            document.add_paragraph("标题一行")
            document.add_paragraph("正文一段。")
            document.add_picture(io.BytesIO(image_bytes("BMP", size=(40, 30))))
            document.add_picture(io.BytesIO(image_bytes("PNG", size=(40, 30))))

        with translation.override("en"):
            reading = docx_import(
                upload=docx_upload(docx_bytes(build)), acting_user=secretary
            )
        assert reading.body.count("<img") == 1
        assert EditorImage.objects.count() == 1
        assert reading.notes == [
            "Image 1 was left out: The file is not a JPEG, PNG, WebP or GIF image."
        ]

    def test_a_picture_missing_from_the_file_is_left_out(
        self, secretary, official_docx
    ):
        media = [
            name
            for name in zipfile.ZipFile(io.BytesIO(official_docx)).namelist()
            if name.startswith("word/media/")
        ]
        data = rezip(official_docx, drop=media)
        with translation.override("en"):
            reading = docx_import(upload=docx_upload(data), acting_user=secretary)
        assert "<img" not in reading.body
        assert reading.notes == [
            "Image 1 was left out: The image is damaged or incomplete."
        ]
        assert reading.title == "党建引领新篇章"

    def test_images_past_the_cap_are_left_out(self, secretary, monkeypatch):
        monkeypatch.setattr(reader, "MAX_IMAGES", 2)

        def build(document):
            document.add_paragraph("正文一段。")
            for _ in range(3):
                document.add_picture(io.BytesIO(image_bytes("PNG", size=(8, 8))))

        reading = docx_import(
            upload=docx_upload(docx_bytes(build)), acting_user=secretary
        )
        assert reading.body.count("<img") == 2
        assert EditorImage.objects.count() == 2
        assert len(reading.notes) == 1

    def test_images_past_the_pixel_budget_are_left_out_before_decoding(
        self, secretary, monkeypatch
    ):
        monkeypatch.setattr(reader, "MAX_IMAGE_PIXELS_TOTAL", 100 * 100)
        cleaned, clean = [], reader.image_clean
        monkeypatch.setattr(
            reader,
            "image_clean",
            lambda upload: cleaned.append(upload) or clean(upload),
        )

        def build(document):
            document.add_paragraph("正文一段。")
            document.add_picture(io.BytesIO(image_bytes("PNG", size=(90, 90))))
            document.add_picture(io.BytesIO(image_bytes("PNG", size=(90, 90))))

        reading = docx_import(
            upload=docx_upload(docx_bytes(build)), acting_user=secretary
        )
        assert reading.body.count("<img") == 1
        assert len(cleaned) == 1


# Hostile files -----------------------------------------------------------------


def linked_image(data: bytes, target: str) -> bytes:
    """The document's picture turned into a link to `target` outside the file."""

    def relationships(content):
        return re.sub(
            rb'(<Relationship [^>]*Target=")media/[^"]+("[^>]*)/>',
            rb"\1" + target.encode() + rb'\2 TargetMode="External"/>',
            content,
        )

    return rezip(
        data,
        replace={
            "word/_rels/document.xml.rels": relationships,
            "word/document.xml": lambda content: content.replace(
                b"r:embed=", b"r:link="
            ),
        },
    )


def with_macros(data: bytes) -> bytes:
    def content_types(content):
        return content.replace(
            b"</Types>",
            b'<Default Extension="bin" '
            b'ContentType="application/vnd.ms-office.vbaProject"/></Types>',
        )

    return rezip(
        data,
        replace={"[Content_Types].xml": content_types},
        add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"macro" * 100},
    )


def zip_bomb(data: bytes) -> bytes:
    """Five megabytes of zeros in a part packed a thousand to one."""
    return rezip(data, add={"word/media/zeros.bin": b"\0" * (5 * 1024 * 1024)})


def many_parts(data: bytes) -> bytes:
    return rezip(data, add={f"word/parts/{index}.xml": b"<a/>" for index in range(600)})


def entity_expansion(data: bytes) -> bytes:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    return rezip(
        data,
        replace={
            "word/document.xml": lambda content: (
                laughs + content.split(b"?>", 1)[1].replace(b"<w:t>", b"<w:t>&lol2;", 1)
            )
        },
    )


def too_deep(data: bytes) -> bytes:
    nested = b"<w:sdt><w:sdtContent>" * 80 + b"</w:sdtContent></w:sdt>" * 80
    return rezip(
        data,
        replace={
            "word/document.xml": lambda content: content.replace(
                b"<w:body>", b"<w:body>" + nested, 1
            )
        },
    )


def corrupted(data: bytes) -> bytes:
    """The document part's packed bytes overwritten, the directory intact."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    middle = start + info.compress_size // 2
    return data[:middle] + b"\xff" * 64 + data[middle + 64 :]


def encrypted_or_legacy(data: bytes) -> bytes:
    return reader.OLE_SIGNATURE + b"\0" * 2048


# Parts mammoth parses, made longer than MAX_PARSED_XML_BYTES (2 MB) where
# the checks once did not count them. Numbered, so they pack as Word's XML
# does (about 20 to 1), not as a bomb.
PADDING = 3 * 1024 * 1024


def padding(template: str) -> bytes:
    item = template.format(index=0).encode()
    return "".join(
        template.format(index=index) for index in range(PADDING // len(item) + 1)
    ).encode()


def styles_moved(data: bytes, *, target: str, part: str) -> bytes:
    """The styles part padded and moved to `part`, which the document's
    relationship names as `target`."""
    styles = zipfile.ZipFile(io.BytesIO(data)).read("word/styles.xml")
    extra = padding(
        '<w:style w:type="paragraph" w:styleId="Pad{index}">'
        '<w:name w:val="pad {index}"/></w:style>'
    )
    return rezip(
        data,
        replace={
            "word/_rels/document.xml.rels": lambda content: content.replace(
                b'Target="styles.xml"', f'Target="{target}"'.encode()
            )
        },
        add={part: styles.replace(b"</w:styles>", extra + b"</w:styles>")},
        drop={"word/styles.xml"},
    )


def document_behind_a_missing_target(data: bytes) -> bytes:
    """A long document, which the package names after a target that is no
    part: mammoth takes the first target that is one."""
    missing = (
        b'<Relationship Id="rMissing" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/officeDocument" Target="word/gone.xml"/>'
    )
    paragraphs = padding("<w:p><w:r><w:t>段落{index}</w:t></w:r></w:p>")
    return rezip(
        data,
        replace={
            "_rels/.rels": lambda content: content.replace(
                b"<Relationship ", missing + b"<Relationship ", 1
            ),
            "word/document.xml": lambda content: content.replace(
                b"<w:body>", b"<w:body>" + paragraphs, 1
            ),
        },
    )


def relationships_padded(data: bytes) -> bytes:
    """The reviewer's second file: 0.4 MB holding 9 MB of relationships."""
    extra = padding(
        '<Relationship Id="pad{index}" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/image" Target="media/pad{index}.png"/>'
    )
    return rezip(
        data,
        replace={
            "word/_rels/document.xml.rels": lambda content: content.replace(
                b"</Relationships>", extra + b"</Relationships>"
            )
        },
    )


def content_types_padded(data: bytes) -> bytes:
    extra = padding('<Default Extension="pad{index}" ContentType="image/png"/>')
    return rezip(
        data,
        replace={
            "[Content_Types].xml": lambda content: content.replace(
                b"</Types>", extra + b"</Types>"
            )
        },
    )


def relationships_in_alternate_content(data: bytes) -> bytes:
    """A relationship mammoth reads out of mc:Fallback, and expat would not."""

    def wrapped(content):
        return content.replace(
            b"<Relationship ",
            b'<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/'
            b'markup-compatibility/2006"><mc:Fallback><Relationship ',
            1,
        ).replace(b"/>", b"/></mc:Fallback></mc:AlternateContent>", 1)

    return rezip(data, replace={"word/_rels/document.xml.rels": wrapped})


HOSTILE = {
    "zip bomb": (zip_bomb, "bomb"),
    "too many parts": (many_parts, "too_many_parts"),
    "external image (web)": (
        lambda data: linked_image(data, "http://attacker.example/track.png"),
        "external",
    ),
    "external image (local file)": (
        lambda data: linked_image(data, "file:///etc/passwd"),
        "external",
    ),
    "macro part": (with_macros, "macros"),
    "macro part alone": (
        lambda data: rezip(data, add={"word/vbaProject.bin": b"x"}),
        "macros",
    ),
    "not a zip": (lambda data: image_bytes("PNG"), "not_docx"),
    "plain text": (lambda data: "一、标题\n正文".encode(), "not_docx"),
    "a zip but no Word document": (
        lambda data: rezip(b"PK\x05\x06" + b"\0" * 18, add={"a.txt": b"x"}),
        "not_docx",
    ),
    "truncated zip": (lambda data: data[: len(data) // 2], "damaged"),
    "corrupted part": (corrupted, "damaged"),
    "entity expansion": (entity_expansion, "doctype"),
    "nesting too deep": (too_deep, "too_deep"),
    "password or .doc": (encrypted_or_legacy, "encrypted_or_legacy"),
    "empty": (lambda data: b"", "empty"),
    "50 MB": (lambda data: data + b"\0" * (50 * 1024 * 1024), "too_large"),
    # The reviewer's first file: 8 MB of styles at word/./styles.xml, named
    # ./styles.xml, which mammoth reads and a tidied name missed.
    "styles at a name with a . in it": (
        lambda data: styles_moved(
            data, target="./styles.xml", part="word/./styles.xml"
        ),
        "part_name",
    ),
    "a part named with ..": (
        lambda data: rezip(data, add={"word/../styles.xml": b"<a/>"}),
        "part_name",
    ),
    "a part named with a backslash": (
        lambda data: rezip(data, add={"word\\styles.xml": b"<a/>"}),
        "part_name",
    ),
    "styles too long behind an absolute target": (
        lambda data: styles_moved(data, target="/word/long.xml", part="word/long.xml"),
        "too_long",
    ),
    "document too long behind a missing target": (
        document_behind_a_missing_target,
        "too_long",
    ),
    "relationships too long": (relationships_padded, "too_long"),
    "content types too long": (content_types_padded, "too_long"),
    "relationships in markup compatibility": (
        relationships_in_alternate_content,
        "alternate_content",
    ),
}


class HostileFileTests:
    @pytest.fixture(autouse=True)
    def no_network(self, monkeypatch):
        def refuse(*args, **kwargs):
            raise AssertionError("the import tried to fetch something")

        monkeypatch.setattr(urllib.request, "urlopen", refuse)
        monkeypatch.setattr(reader.shutil, "which", lambda name: None)

    @pytest.mark.parametrize("name", sorted(HOSTILE))
    def test_refused_with_a_message_and_nothing_stored(
        self, name, secretary, official_docx, settings
    ):
        make, code = HOSTILE[name]
        cases_before = Case.objects.count()
        with pytest.raises(ValidationError) as raised:
            docx_import(upload=docx_upload(make(official_docx)), acting_user=secretary)
        assert getattr(raised.value, "code", None) == code, raised.value
        assert raised.value.messages[0]
        assert nothing_stored(settings)
        assert Case.objects.count() == cases_before

    def test_a_document_longer_than_mammoth_may_parse(
        self, secretary, official_docx, monkeypatch, settings
    ):
        parsed = []
        monkeypatch.setattr(reader, "MAX_PARSED_XML_BYTES", 64 * 1024)
        monkeypatch.setattr(reader.mammoth, "convert_to_html", parsed.append)
        with pytest.raises(ValidationError) as raised:
            docx_import(upload=docx_upload(official_docx), acting_user=secretary)
        assert raised.value.code == "too_long"
        assert parsed == []
        assert nothing_stored(settings)

    @pytest.mark.parametrize(
        "make",
        [
            lambda data: data,
            lambda data: styles_moved(data, target="/word/s.xml", part="word/s.xml"),
            lambda data: styles_moved(data, target="sub/s.xml", part="word/sub/s.xml"),
            # A relationship in another namespace, which mammoth does not read.
            lambda data: rezip(
                data,
                replace={
                    "word/_rels/document.xml.rels": lambda content: content.replace(
                        b"<Relationship ",
                        b'<x:Relationship xmlns:x="urn:other" Id="x" Type="http://'
                        b"schemas.openxmlformats.org/officeDocument/2006/"
                        b'relationships/styles" Target="fontTable.xml"/>'
                        b"<Relationship ",
                        1,
                    )
                },
            ),
            # The first target is no part; the document moved to doc/main.xml.
            lambda data: rezip(
                document_behind_a_missing_target(data),
                replace={
                    "_rels/.rels": lambda content: content.replace(
                        b'Target="word/document.xml"', b'Target="/doc/main.xml"'
                    )
                },
                add={
                    "doc/main.xml": zipfile.ZipFile(io.BytesIO(data)).read(
                        "word/document.xml"
                    )
                },
                drop={"word/document.xml"},
            ),
        ],
        ids=["as made", "absolute", "relative folder", "namespace", "moved"],
    )
    def test_the_parts_counted_are_those_mammoth_parses(self, make, official_docx):
        data = make(official_docx)
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        relationships = {
            name: reader._xml_part_check(archive, name, reader._RelationshipsReader())
            for name in names
            if name.endswith(".rels")
        }
        found = reader._parsed_parts(relationships, names=names)
        mammoths = mammoth.docx._find_part_paths(
            mammoth.zips.open_zip(io.BytesIO(data), "r")
        )
        assert found == {
            "main": mammoths.main_document,
            "comments": mammoths.comments,
            "endnotes": mammoths.endnotes,
            "footnotes": mammoths.footnotes,
            "numbering": mammoths.numbering,
            "styles": mammoths.styles,
        }

    def test_the_default_limit_refuses_50_mb_before_reading_it(self, secretary):
        class Claims50MB:
            name = "大文件.docx"
            size = 50 * 1024 * 1024

            def read(self, *args):
                raise AssertionError("read before its size was checked")

            seek = read

        with pytest.raises(ValidationError) as raised:
            docx_read(Claims50MB())
        assert raised.value.code == "too_large"

    def test_messages_are_in_the_writers_language(self, secretary, official_docx):
        with translation.override("zh-hans"), pytest.raises(ValidationError) as raised:
            docx_read(docx_upload(b""))
        assert raised.value.messages == ["文件是空的。"]


# .doc and .wps -------------------------------------------------------------------


OLE_DOC = reader.OLE_SIGNATURE + b"\0" * 512


def fake_program(folder: Path, script: str, name: str = "soffice") -> str:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def fake_soffice(folder: Path, script: str) -> str:
    return fake_program(folder, script)


def converting_soffice(folder: Path, docx: bytes) -> str:
    """What soffice does with --convert-to docx --outdir OUT SOURCE."""
    converted = folder / "converted.docx"
    converted.write_bytes(docx)
    return fake_soffice(
        folder,
        f'echo "$@" >> {folder / "soffice-calls"}\n'
        'while [ "$1" != "--outdir" ]; do shift; done\n'
        f'mkdir -p "$2" && cp {converted} "$2/$(basename "${{3%.*}}").docx"\n',
    )


def found(**programs):
    """shutil.which finding these programs where given, the others as it does."""
    return lambda name: programs[name] if name in programs else REAL_WHICH(name)


FLAT_ODT = (
    b'<?xml version="1.0"?><office:document xmlns:office="urn:oasis:names:tc:'
    b'opendocument:xmlns:office:1.0" office:mimetype="application/vnd.oasis.'
    b'opendocument.text"><office:body><office:text/></office:body></office:document>'
)


class LegacyFormatTests:
    @pytest.fixture(autouse=True)
    def own_temporary_folder(self, tmp_path, monkeypatch):
        """The conversion lock of these tests their own, not the machine's."""
        monkeypatch.setattr(reader.tempfile, "tempdir", str(tmp_path))

    def test_without_libreoffice_the_writer_is_asked_for_a_docx(
        self, secretary, monkeypatch
    ):
        monkeypatch.setattr(reader.shutil, "which", lambda name: None)
        with pytest.raises(ValidationError) as raised:
            docx_read(docx_upload(OLE_DOC, name="案例.doc"))
        assert raised.value.code == "legacy"
        assert ".docx" in raised.value.messages[0]

    def test_converted_by_libreoffice_where_it_is_installed(
        self, secretary, official_docx, tmp_path, monkeypatch
    ):
        soffice = converting_soffice(tmp_path, official_docx)
        monkeypatch.setattr(reader.shutil, "which", found(soffice=soffice))
        reading = docx_read(docx_upload(OLE_DOC, name="案例.wps"))
        assert reading.title == "党建引领新篇章"
        assert len(reading.notes) == 1

    @pytest.mark.parametrize(
        ("content", "name"),
        [
            (
                b'<html><body><img src="http://127.0.0.1:9/x.png"></body></html>',
                "案例.doc",
            ),
            (
                b"{\\rtf1 {\\field{\\*\\fldinst INCLUDEPICTURE http://127.0.0.1:9/}}}",
                "案例.doc",
            ),
            (FLAT_ODT, "案例.wps"),
            (b"MIME-Version: 1.0\r\nContent-Type: multipart/related", "案例.doc"),
        ],
        ids=["HTML", "RTF", "flat ODT", "MHTML"],
    )
    def test_only_an_ole_file_named_doc_reaches_libreoffice(
        self, content, name, secretary, official_docx, tmp_path, monkeypatch
    ):
        """LibreOffice would sniff these and fetch what they link to."""
        soffice = converting_soffice(tmp_path, official_docx)
        monkeypatch.setattr(reader.shutil, "which", found(soffice=soffice))
        with pytest.raises(ValidationError) as raised:
            docx_read(docx_upload(content, name=name))
        assert raised.value.code == "not_docx"
        # An OLE file under another name is not converted either.
        with pytest.raises(ValidationError) as raised:
            docx_read(docx_upload(OLE_DOC, name="案例.docx"))
        assert raised.value.code == "encrypted_or_legacy"
        assert not (tmp_path / "soffice-calls").exists()

    @pytest.mark.parametrize("unshare_works", [True, False])
    def test_libreoffice_runs_without_network_where_unshare_works(
        self, unshare_works, secretary, official_docx, tmp_path, monkeypatch, caplog
    ):
        soffice = converting_soffice(tmp_path, official_docx)
        calls = tmp_path / "unshare-calls"
        # unshare -rn COMMAND...: runs COMMAND, or fails as where the kernel
        # allows no user namespaces.
        unshare = fake_program(
            tmp_path,
            f'echo "$@" >> {calls}\n'
            + ('shift\nexec "$@"\n' if unshare_works else "exit 1\n"),
            name="unshare",
        )
        monkeypatch.setattr(
            reader.shutil, "which", found(soffice=soffice, unshare=unshare)
        )
        reader._without_network.cache_clear()
        try:
            with caplog.at_level(logging.WARNING, logger=reader.logger.name):
                for _ in range(2):
                    reading = docx_read(docx_upload(OLE_DOC, name="案例.doc"))
        finally:
            reader._without_network.cache_clear()
        assert reading.title == "党建引领新篇章"
        unshared = calls.read_text().splitlines()
        soffice_calls = (tmp_path / "soffice-calls").read_text().splitlines()
        assert len(soffice_calls) == 2
        # Tried once per process.
        assert unshared[0] == "-rn true"
        if unshare_works:
            assert unshared[1:] == [f"-rn {soffice} {call}" for call in soffice_calls]
            assert "unshare" not in caplog.text
        else:
            assert unshared == ["-rn true"]
            assert "unshare -rn does not work here" in caplog.text

    def test_a_real_conversion_fetches_nothing(self, secretary, tmp_path, monkeypatch):
        """A .doc linking a picture on a server, converted by LibreOffice: with
        the network the picture is fetched; here it is not."""
        soffice = REAL_WHICH("soffice")
        if soffice is None:
            service_missing("LibreOffice (soffice) is not installed")
        if not reader._without_network():
            pytest.skip("unshare -rn does not work on this machine")
        fetched = []

        class Listener(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                fetched.append(self.path)
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Listener)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            legacy = real_doc_linking(
                soffice, tmp_path, f"http://127.0.0.1:{server.server_port}/linked.png"
            )
            fetched.clear()  # LibreOffice fetched it while making the .doc
            with pytest.raises(ValidationError) as raised:
                docx_read(docx_upload(legacy, name="案例.doc"))
            # LibreOffice keeps the picture a link, which the checks refuse.
            assert raised.value.code == "external"
            assert fetched == []
            monkeypatch.setattr(reader, "_without_network", lambda: ())
            with pytest.raises(ValidationError):
                docx_read(docx_upload(legacy, name="案例.doc"))
            assert fetched == ["/linked.png"]
        finally:
            server.shutdown()
            server.server_close()

    def test_one_conversion_at_a_time(
        self, secretary, official_docx, tmp_path, monkeypatch
    ):
        soffice = converting_soffice(tmp_path, official_docx)
        monkeypatch.setattr(reader.shutil, "which", found(soffice=soffice))
        monkeypatch.setattr(reader, "CONVERT_WAIT_SECONDS", 0.3)
        with (tmp_path / reader.CONVERT_LOCK_NAME).open("w") as running:
            fcntl.flock(running, fcntl.LOCK_EX)  # another worker converting
            with pytest.raises(ValidationError) as raised:
                docx_read(docx_upload(OLE_DOC, name="案例.doc"))
        assert raised.value.code == "convert_busy"
        assert not (tmp_path / "soffice-calls").exists()
        reading = docx_read(docx_upload(OLE_DOC, name="案例.doc"))
        assert reading.title == "党建引领新篇章"

    def test_a_real_doc_file_through_libreoffice(
        self, secretary, official_docx, tmp_path
    ):
        """The same article saved as .doc by LibreOffice itself, then imported."""
        soffice = REAL_WHICH("soffice")
        if soffice is None:
            service_missing("LibreOffice (soffice) is not installed")
        (tmp_path / "案例.docx").write_bytes(official_docx)
        subprocess.run(  # noqa: S603 - LibreOffice on a file the test wrote
            [
                soffice,
                f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                "--headless",
                "--convert-to",
                "doc",
                "--outdir",
                str(tmp_path / "doc"),
                str(tmp_path / "案例.docx"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
            env={"HOME": str(tmp_path), "PATH": os.environ["PATH"]},
        )
        legacy = (tmp_path / "doc" / "案例.doc").read_bytes()
        assert legacy.startswith(reader.OLE_SIGNATURE)
        reading = docx_read(docx_upload(legacy, name="案例.doc"))
        assert reading.title == "党建引领新篇章"
        assert re.findall(r"<h2>(.*?)</h2>", reading.body) == [
            "一、把支部建在课题组上",
            "二、创新组织生活方式",
            "三、暖心服务",
        ]
        assert any("LibreOffice" in note for note in reading.notes)

    def test_a_conversion_that_hangs_is_stopped(self, secretary, tmp_path, monkeypatch):
        soffice = fake_soffice(tmp_path, "exec sleep 30\n")
        monkeypatch.setattr(reader.shutil, "which", found(soffice=soffice))
        monkeypatch.setattr(reader, "CONVERT_SECONDS", 0.3)
        with pytest.raises(ValidationError) as raised:
            docx_read(docx_upload(OLE_DOC, name="案例.doc"))
        assert raised.value.code == "convert_timeout"

    def test_a_conversion_that_makes_nothing_is_refused(
        self, secretary, tmp_path, monkeypatch
    ):
        soffice = fake_soffice(tmp_path, "exit 1\n")
        monkeypatch.setattr(reader.shutil, "which", found(soffice=soffice))
        with pytest.raises(ValidationError) as raised:
            docx_read(docx_upload(OLE_DOC, name="案例.doc"))
        assert raised.value.code == "convert_failed"


def real_doc_linking(soffice: str, folder: Path, address: str) -> bytes:
    """A Word 97–2003 file, made by LibreOffice, whose picture is a link to
    `address` (an INCLUDEPICTURE field), as a .doc can hold one."""
    (folder / "linked.fodt").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
        'office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:svg="urn:oasis:names:'
        'tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2" '
        'office:mimetype="application/vnd.oasis.opendocument.text"><office:body>'
        "<office:text><text:p>一、总体情况</text:p><text:p>"
        '<draw:frame draw:name="picture" svg:width="2cm" svg:height="2cm">'
        f'<draw:image xlink:href="{address}" xlink:type="simple" '
        'xlink:show="embed" xlink:actuate="onLoad"/></draw:frame></text:p>'
        "<text:p>正文。</text:p></office:text></office:body></office:document>",
        encoding="utf-8",
    )
    subprocess.run(  # noqa: S603 - LibreOffice on a file the test wrote
        [
            soffice,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "doc",
            "--outdir",
            str(folder / "doc"),
            str(folder / "linked.fodt"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env={"HOME": str(folder), "PATH": os.environ["PATH"]},
    )
    legacy = (folder / "doc" / "linked.doc").read_bytes()
    assert legacy.startswith(reader.OLE_SIGNATURE)
    return legacy


# The management command ----------------------------------------------------------


class ImportCommandTests:
    def run(self, *args, **options):
        out = io.StringIO()
        call_command("case_import_docx", *args, stdout=out, **options)
        return out.getvalue().splitlines()

    def test_creates_a_draft_and_prints_its_id_last(
        self, secretary, official_docx, tmp_path
    ):
        path = tmp_path / "案例.docx"
        path.write_bytes(official_docx)
        lines = self.run(str(path), user="shuji")
        case = Case.objects.get()
        assert lines[-1] == f"case_id={case.pk}"
        assert case.status == Case.Status.DRAFT
        assert case.branch == secretary.memberships.get().branch
        assert (case.title, case.tagline) == ("党建引领新篇章", "筑基·创新·暖心")
        assert case.body.count("<h2>") == 3
        assert f'src="{EditorImage.objects.get().image.url}"' in case.body

    def test_the_branch_named_in_the_document_settles_which(
        self, secretary, official_docx, tmp_path
    ):
        other = BranchFactory(name="另一个党支部")
        Membership.objects.create(user=secretary, branch=other, role="secretary")
        path = tmp_path / "案例.docx"
        path.write_bytes(official_docx)
        self.run(str(path), user="shuji")
        assert Case.objects.get().branch.name == ORGANISATION
        self.run(str(path), user="shuji", branch="另一个党支部")
        assert Case.objects.filter(branch=other).count() == 1

    @pytest.mark.parametrize(
        "problem", ["unknown user", "not a member", "ambiguous", "bad file", "no file"]
    )
    def test_clear_errors_and_nothing_stored(
        self, problem, secretary, tmp_path, settings
    ):
        def unsigned(document):
            document.add_paragraph("标题")
            document.add_paragraph("正文一段。")
            document.add_picture(io.BytesIO(image_bytes("PNG")))

        path = tmp_path / "案例.docx"
        path.write_bytes(docx_bytes(unsigned))
        options = {"user": "shuji"}
        if problem == "unknown user":
            options["user"] = "nobody"
        elif problem == "not a member":
            options["branch"] = BranchFactory(name="别的党支部").name
        elif problem == "ambiguous":
            Membership.objects.create(
                user=secretary, branch=BranchFactory(), role="secretary"
            )
        elif problem == "bad file":
            path.write_bytes(b"not a word file")
        elif problem == "no file":
            path = tmp_path / "missing.docx"
        with pytest.raises(CommandError) as raised:
            self.run(str(path), **options)
        assert str(raised.value)
        assert Case.objects.count() == 0
        assert nothing_stored(settings)


# The case form ----------------------------------------------------------------------


def import_post(client, url, data, name="案例.docx"):
    return client.post(
        url,
        {
            DocxImportForm.button_name: "",
            "docx_file": docx_upload(data, name=name),
        },
    )


def form_values(form) -> dict:
    """What the browser would send back from the rendered form."""
    values = {name: form[name].value() for name in form.fields}
    values = {name: value for name, value in values.items() if value is not None}
    values.pop("cover_image", None)
    values["themes"] = [str(pk) for pk in values.get("themes", [])]
    return values


class ImportViewTests:
    def test_the_new_case_page_offers_the_import(self, secretary):
        response = signed_in(secretary).get(reverse("submissions:case_create"))
        assert f'name="{DocxImportForm.button_name}"' in response.content.decode()
        assert 'accept=".docx' in response.content.decode()

    def test_upload_shows_what_was_recognised_then_saving_makes_the_draft(
        self, secretary, official_docx
    ):
        client = signed_in(secretary)
        url = reverse("submissions:case_create")
        response = import_post(client, url, official_docx)
        assert response.status_code == 200
        page = response.content.decode()
        summary = response.context["docx_form"].imported.summary
        assert summary in page
        assert Case.objects.count() == 0  # shown, not saved
        # Not saved, so leaving the page asks and the browser keeps a copy.
        assert 'data-unsaved="1"' in page
        form = response.context["form"]
        assert form["title"].value() == "党建引领新篇章"
        assert form["tagline"].value() == "筑基·创新·暖心"
        assert form["branch"].value() == secretary.memberships.get().branch.pk

        response = client.post(url, {**form_values(form), "save": ""})
        case = Case.objects.get()
        assert response.status_code == 302
        assert case.title == "党建引领新篇章"
        assert case.lead.startswith("中心党总支坚持以党建引领科研攻关")
        assert re.findall(r"<h2>(.*?)</h2>", case.body) == [
            "一、把支部建在课题组上",
            "二、创新组织生活方式",
            "三、暖心服务",
        ]
        assert f'src="{EditorImage.objects.get().image.url}"' in case.body

    def test_on_a_draft_nothing_changes_until_the_writer_saves(
        self, secretary, official_docx
    ):
        draft = CaseFactory(
            branch=secretary.memberships.get().branch,
            title="原来的标题",
            body="<p>原文</p>",
        )
        client = signed_in(secretary)
        url = reverse("submissions:case_update", args=[draft.pk])
        response = import_post(client, url, official_docx)
        assert response.status_code == 200
        draft.refresh_from_db()
        assert (draft.title, draft.body, draft.version) == (
            "原来的标题",
            "<p>原文</p>",
            1,
        )
        form = response.context["form"]
        assert form["title"].value() == "党建引领新篇章"
        assert form["version"].value() == 1
        assert "<h2>" in form["body"].value()

        response = client.post(url, {**form_values(form), "save": ""})
        assert response.status_code == 302
        draft.refresh_from_db()
        assert draft.title == "党建引领新篇章" and draft.version == 2

    def test_on_a_draft_lead_and_body_always_come_from_the_document(self, secretary):
        """The title and the tagline only where it has them, as the form says."""
        draft = CaseFactory(
            branch=secretary.memberships.get().branch,
            title="原来的标题",
            tagline="原来的副标题",
            lead="原来的导语。",
            body="<p>原来的正文。</p>",
        )

        def sections_only(document):
            bold(document, "一、基本情况")
            document.add_paragraph("支部现有党员二十名。")

        client = signed_in(secretary)
        url = reverse("submissions:case_update", args=[draft.pk])
        response = import_post(client, url, docx_bytes(sections_only))
        with translation.override(response.headers["Content-Language"]):
            says = translation.gettext(
                "The lead and the body in the form are always replaced by the "
                "document's: they are one text, the lead being what comes before "
                "the first section. The title and the tagline are replaced only "
                "where the document has them."
            )
        assert says in unescape(response.content.decode())
        form = response.context["form"]
        assert (form["title"].value(), form["tagline"].value()) == (
            "原来的标题",
            "原来的副标题",
        )
        # No old lead above the new body.
        assert form["lead"].value() == ""
        assert tags(form["body"].value(), "h2") == ["一、基本情况"]

        client.post(url, {**form_values(form), "save": ""})
        draft.refresh_from_db()
        assert (draft.title, draft.tagline, draft.lead) == (
            "原来的标题",
            "原来的副标题",
            "",
        )
        assert "原来的正文" not in draft.body

    def test_the_edit_conflict_rule_still_holds(self, secretary, official_docx):
        branch = secretary.memberships.get().branch
        draft = CaseFactory(branch=branch, title="原来的标题")
        client = signed_in(secretary)
        url = reverse("submissions:case_update", args=[draft.pk])
        form = import_post(client, url, official_docx).context["form"]
        colleague = member(Membership.Role.CORRESPONDENT, branch=branch)
        case_update(
            case=draft,
            acting_user=colleague,
            expected_version=1,
            content=CaseContent(title="同事改的标题"),
        )
        response = client.post(url, {**form_values(form), "save": ""})
        assert response.status_code == 409
        draft.refresh_from_db()
        assert draft.title == "同事改的标题"

    @pytest.mark.parametrize("name", ["zip bomb", "external image (web)", "macro part"])
    def test_a_hostile_file_gets_a_message_on_the_form_and_the_draft_is_kept(
        self, name, secretary, official_docx, settings
    ):
        draft = CaseFactory(
            branch=secretary.memberships.get().branch, title="原来的标题"
        )
        url = reverse("submissions:case_update", args=[draft.pk])
        response = import_post(
            signed_in(secretary), url, HOSTILE[name][0](official_docx)
        )
        assert response.status_code == 200
        errors = response.context["docx_form"].errors["docx_file"]
        assert errors and errors[0] in response.content.decode()
        assert response.context["form"]["title"].value() == "原来的标题"
        # Nothing was read into the form: it still holds the saved draft.
        assert 'data-unsaved=""' in response.content.decode()
        draft.refresh_from_db()
        assert (draft.title, draft.version) == ("原来的标题", 1)
        assert nothing_stored(settings)

    def test_no_file_chosen(self, secretary):
        response = signed_in(secretary).post(
            reverse("submissions:case_create"), {DocxImportForm.button_name: ""}
        )
        assert response.context["docx_form"].errors["docx_file"]
        assert Case.objects.count() == 0

    def test_another_branchs_draft_answers_404(self, secretary, official_docx):
        elsewhere = CaseFactory()
        url = reverse("submissions:case_update", args=[elsewhere.pk])
        response = import_post(signed_in(secretary), url, official_docx)
        assert response.status_code == 404
        assert EditorImage.objects.count() == 0

    def test_a_case_no_longer_editable_is_not_imported_into(
        self, secretary, official_docx
    ):
        draft = CaseFactory(branch=secretary.memberships.get().branch)
        case_submit(case=draft, acting_user=secretary)
        url = reverse("submissions:case_update", args=[draft.pk])
        response = import_post(signed_in(secretary), url, official_docx)
        assert response.status_code == 302
        assert EditorImage.objects.count() == 0


def test_reading_writes_nothing(secretary, official_docx, django_assert_num_queries):
    # The organisations' names, then the one the document names.
    with django_assert_num_queries(2):
        docx_read(ContentFile(official_docx, name="案例.docx"))
    assert EditorImage.objects.count() == 0
