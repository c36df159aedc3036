"""The Word document itself, opened with python-docx as Word would read it."""

import os

import pytest
from django.conf import settings
from django.utils import translation
from docx.oxml.ns import qn
from docx.shared import Mm

from exports.docx import MAX_DEPTH, document_build
from exports.sources import issue_source
from tests.showcase.factories import published_issue, series

from .factories import (
    IMAGE_SIZE,
    approved,
    issue_with_cases,
    media_image,
    opened,
    styled,
    two_case_issue,
)

pytestmark = pytest.mark.django_db


def build(issue):
    with translation.override("zh-hans"):
        return opened(document_build(issue_source(issue.pk)))


def image_blobs(document) -> list[bytes]:
    return [
        part.blob
        for part in document.part.related_parts.values()
        if part.partname.startswith("/word/media/")
    ]


class IssueDocumentTests:
    def test_heading_cases_and_sections_as_on_the_page(self, who):
        document = build(two_case_issue(who))

        assert styled(document, "Title") == ["「党建引领」系列案例展播 · 第 1 期"]
        cover = styled(document, "Cover Line")
        assert "基层党建 › 党建引领" in cover
        assert any(line.startswith("发布时间：") for line in cover)
        assert "编者按" in cover
        assert styled(document, "Editors Note") == ["编者按：展示基层党建的生动实践。"]
        assert styled(document, "Heading 1") == ["党建引领新篇章", "把支部建在攻关一线"]
        assert styled(document, "Heading 2") == [
            "一、筑基：把支部建在攻关一线",
            "二、创新：项目化推进",
        ]
        assert styled(document, "Heading 3") == ["（一）党员先锋岗"]
        assert styled(document, "Tagline") == ["筑基·创新·暖心"]
        assert styled(document, "Organisation") == [who.branch.name] * 2
        meta = styled(document, "Meta Line")[0]
        for label in (
            "作者：王宁",
            f"来源：{who.branch.name}",
            "发布时间：",
            "浏览量：0",
        ):
            assert label in meta
        assert styled(document, "Lead")[:2] == [
            "先进制造计量研究中心党总支坚持党建引领。",
            "第二段导语。",
        ]

    def test_each_case_starts_a_page(self, who):
        document = build(two_case_issue(who))
        titles = [p for p in document.paragraphs if p.style.name == "Heading 1"]
        assert [p.paragraph_format.page_break_before for p in titles] == [True, True]

    def test_lists_bold_and_quote(self, who):
        document = build(two_case_issue(who))

        numbered = [p for p in document.paragraphs if p.style.name == "List Number"]
        assert [p.text for p in numbered] == [
            "建强组织体系",
            "完善议事规则",
            "第一项",
            "第二项",
            "第三项",
        ]
        # Each list counts from 1 on its own: a numbering per list.
        num_ids = [p._p.pPr.numPr.numId.val for p in numbered]
        assert num_ids[0] == num_ids[1] != num_ids[2] == num_ids[3] == num_ids[4]
        assert styled(document, "List Bullet") == ["设立先锋岗", "亮身份、作表率"]
        bold = [run.text for p in document.paragraphs for run in p.runs if run.bold]
        assert "强化政治引领" in bold
        italic = [run.text for p in document.paragraphs for run in p.runs if run.italic]
        assert "“第一议题”" in italic
        assert styled(document, "Quote") == ["把支部建在攻关一线。"]

    def test_the_body_image_is_embedded_at_page_width(self, who):
        document = build(two_case_issue(who))

        assert len(document.inline_shapes) == 1
        assert len(image_blobs(document)) == 1
        shape = document.inline_shapes[0]
        section = document.sections[0]
        text_width = section.page_width - section.left_margin - section.right_margin
        # The page's measures are stored in twentieths of a point.
        assert abs(shape.width - text_width) < Mm(0.1)
        ratio = IMAGE_SIZE[1] / IMAGE_SIZE[0]
        assert abs(shape.height - shape.width * ratio) < 2
        assert styled(document, "Caption") == ["攻关现场"]

    def test_chinese_font_is_named_for_east_asian_text(self, who):
        document = build(two_case_issue(who))
        fonts = document.styles["Normal"].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == "SimSun"
        assert fonts.get(qn("w:ascii")) == "Times New Roman"
        heading = document.styles["Heading 1"].element.rPr.rFonts
        assert heading.get(qn("w:eastAsia")) == "SimHei"
        assert heading.get(qn("w:eastAsiaTheme")) is None

    def test_labels_follow_the_site_language_not_the_request(self, who, settings):
        issue = two_case_issue(who)
        settings.LANGUAGE_CODE = "en"
        with translation.override("en"):
            document = opened(document_build(issue_source(issue.pk)))
        assert "Author: 王宁" in styled(document, "Meta Line")[0]


class BodyConversionTests:
    def one_case(self, who, body, **content):
        return build(issue_with_cases(who, {"title": "案例", "body": body, **content}))

    def test_images_from_outside_media_are_left_out(self, who, tmp_path):
        secret = tmp_path / "secret.png"
        secret.write_bytes(media_image("kept.png", size=(20, 10)))
        outside = tmp_path / "outside"
        outside.mkdir()
        media = settings.MEDIA_ROOT
        os.symlink(secret, os.path.join(media, "link.png"))
        body = (
            "<p>图：</p>"
            '<p><img src="/media/../secret.png"></p>'
            '<p><img src="/media/%2e%2e/secret.png"></p>'
            '<p><img src="/media/link.png"></p>'
            '<p><img src="/media/missing.png"></p>'
            '<p><img src="/media/not-an-image.png"></p>'
            '<p><img src="https://example.org/x.png"></p>'
        )
        (tmp_path / "media" / "not-an-image.png").write_bytes(b"%PDF-1.4")
        document = self.one_case(who, body)
        assert len(document.inline_shapes) == 0
        assert image_blobs(document) == []
        # Paragraphs left with nothing in them are not kept either.
        assert styled(document, "Case Body") == ["图："]

    def test_webp_image_is_embedded_as_png(self, who):
        media_image("uploads/photo.webp", size=(40, 20), fmt="WEBP")
        document = self.one_case(
            who, '<p>前文</p><p><img src="/media/uploads/photo.webp" alt=""></p>'
        )
        assert len(document.inline_shapes) == 1
        assert image_blobs(document)[0].startswith(b"\x89PNG")
        # A small picture keeps its size, 96 pixels to the inch.
        assert document.inline_shapes[0].width == 40 * 9525

    def test_a_picture_with_an_encoded_name(self, who):
        media_image("uploads/现场 照片.png", size=(30, 30))
        document = self.one_case(
            who,
            '<p><img src="/media/uploads/'
            '%E7%8E%B0%E5%9C%BA%20%E7%85%A7%E7%89%87.png"></p>',
        )
        assert len(document.inline_shapes) == 1
        assert styled(document, "Picture") == [""]

    def test_tables_with_spans(self, who):
        body = (
            '<figure class="table"><table><caption>表 1</caption>'
            '<thead><tr><th>项目</th><th colspan="2">数量</th></tr></thead>'
            '<tbody><tr><td rowspan="2">甲</td><td>1</td><td>2</td></tr>'
            "<tr><td>3</td><td>4</td></tr></tbody></table></figure>"
        )
        document = self.one_case(who, body)
        assert styled(document, "Caption") == ["表 1"]
        (table,) = document.tables
        assert len(table.rows) == 3 and len(table.columns) == 3
        assert [cell.text for cell in table.rows[0].cells] == ["项目", "数量", "数量"]
        assert [cell.text for cell in table.rows[2].cells] == ["甲", "3", "4"]
        assert table.rows[0].cells[0].paragraphs[0].runs[0].bold

    def test_links_nested_lists_and_line_breaks(self, who):
        body = (
            '<p>见<a href="https://example.org/a">通知</a>和'
            '<a href="/cases/1/">案例</a>。</p>'
            "<ol><li>一<ol><li>子项</li></ol></li><li>二<br>续行</li></ol>"
            "<p>第一行<br>第二行</p>"
            "<p>H<sub>2</sub>O</p>"
        )
        document = self.one_case(who, body)
        targets = sorted(
            rel.target_ref
            for rel in document.part.rels.values()
            if rel.reltype.endswith("/hyperlink")
        )
        assert targets == [
            "http://127.0.0.1:8000/cases/1/",
            "https://example.org/a",
        ]
        assert styled(document, "List Number") == ["一", "二\n续行"]
        assert styled(document, "List Number 2") == ["子项"]
        # Outside lists and tables a line break is stored as two paragraphs.
        body_paragraphs = styled(document, "Case Body")
        assert "第一行" in body_paragraphs and "第二行" in body_paragraphs
        water = next(p for p in document.paragraphs if p.text == "H2O")
        assert [run.font.subscript for run in water.runs] == [None, True, None]

    def test_deep_nesting_is_flattened_not_followed(self, who):
        # Deeper than the exporter follows, within what the sanitiser lets in.
        levels = MAX_DEPTH + 20
        body = "<p>" + "<strong>" * levels + "深处" + "</strong>" * levels + "</p>"
        document = self.one_case(who, body)
        assert styled(document, "Case Body") == ["深处"]

    @pytest.mark.parametrize(
        ("body", "start"),
        [
            ('<ol start="3000000000"><li>甲</li><li>乙</li></ol>', 32767),
            ('<ol start="-3000000000"><li>甲</li><li>乙</li></ol>', 0),
            ('<ol start="12"><li>甲</li><li>乙</li></ol>', 12),
        ],
    )
    def test_a_list_starts_where_word_can_count(self, who, body, start):
        document = self.one_case(who, body)
        assert styled(document, "List Number") == ["甲", "乙"]
        num_id = document.paragraphs[-1]._p.pPr.numPr.numId.val
        numbering = document.part.numbering_part.element
        starts = numbering.num_having_numId(num_id).xpath(".//w:startOverride/@w:val")
        assert starts == [str(start)]

    def test_spans_that_run_into_each_other_become_rectangles(self, who):
        body = (
            '<table><tr><td>甲</td><td rowspan="3000000000">乙</td></tr>'
            '<tr><td colspan="3000000000">丙</td></tr>'
            '<tr><td colspan="-5" rowspan="-1">丁</td><td>戊</td></tr></table>'
        )
        document = self.one_case(who, body)
        (table,) = document.tables
        # As a browser lays it out: 戊 moves past the column 乙 covers.
        assert [[cell.text for cell in row.cells] for row in table.rows] == [
            ["甲", "乙", ""],
            ["丙", "乙", ""],
            ["丁", "乙", "戊"],
        ]

    def test_a_picture_never_runs_off_the_page(self, who):
        media_image("uploads/tall.png", size=(20, 40000))
        document = self.one_case(
            who,
            '<p><img src="/media/uploads/tall.png" width="99999999999" '
            'height="-1"></p>',
        )
        (shape,) = document.inline_shapes
        assert shape.height == Mm(297 - 50)
        assert 0 < shape.width < Mm(1)

    def test_absurd_nesting_exports(self, who):
        body = "<ul><li>" * 30 + "<table><tr><td>" + "<blockquote>" * 30 + "深处"
        document = self.one_case(who, body)
        assert "深处" in document.element.body.xpath("string(.)")

    def test_control_characters_pasted_into_a_case_are_left_out(self, who):
        # XML cannot carry them; one of them must not fail the whole export.
        issue = issue_with_cases(
            who,
            {
                "title": "党建\x0b引领",
                "tagline": "\x08筑基",
                "author_name": "王\x01宁",
                "lead": "导\x0c语。",
                "body": '<p>正\x0b文<a href="https://example.org/\x0b">链接</a></p>',
            },
        )
        document = build(issue)
        assert styled(document, "Heading 1") == ["党建引领"]
        assert styled(document, "Tagline") == ["筑基"]
        assert styled(document, "Lead") == ["导语。"]
        assert "正文链接" in styled(document, "Case Body")
        assert "作者：王宁" in styled(document, "Meta Line")[0]

    def test_progress_is_reported_after_each_case(self, who):
        issue = issue_with_cases(who, {"title": "甲"}, {"title": "乙"}, {"title": "丙"})
        seen = []
        document_build(
            issue_source(issue.pk),
            progress=lambda done, total: seen.append((done, total)),
        )
        assert seen == [(1, 3), (2, 3), (3, 3)]


def test_cases_are_in_issue_order(who):
    first, second = approved(who, title="第一篇"), approved(who, title="第二篇")
    issue = published_issue(who, series(), cases=[second, first])
    assert styled(build(issue), "Heading 1") == ["第二篇", "第一篇"]
