"""Word documents for the import tests, made with python-docx as branches write."""

import io
from xml.sax.saxutils import quoteattr

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.shared import Cm

from tests.images import image_bytes

ORGANISATION = "先进制造计量研究中心党总支"
INDENT = "\u3000\u3000"
WORD = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_bytes(build) -> bytes:
    document = Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def bold(document, text):
    document.add_paragraph().add_run(text).bold = True


def official_case(document):
    """A case as a branch writes it after GB/T 9704: headings as bold
    paragraphs and as Word's heading styles, full-width indents, blank
    paragraphs between, a photo and a table."""
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run("党建引领新篇章：筑基·创新·暖心").bold = True
    document.add_paragraph(ORGANISATION).alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("")
    document.add_paragraph(
        INDENT + "中心党总支坚持以党建引领科研攻关，推动党建与业务深度融合。"
    )
    document.add_paragraph("")
    bold(document, "一、把支部建在课题组上")
    document.add_paragraph(INDENT + "一是调整党小组设置。二是落实“双培养”机制。")
    document.add_paragraph("   ")
    document.add_paragraph(
        INDENT + "一、二两个课题组率先试点，形成了可复制的经验，得到了上级党委的肯定。"
    )
    document.add_heading("二、创新组织生活方式", level=1)
    document.add_heading("（一）“三会一课”进实验室", level=2)
    document.add_paragraph(INDENT + "支部把主题党日开到实验室。")
    document.add_picture(io.BytesIO(image_bytes("PNG", size=(320, 200))), width=Cm(8))
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "指标"
    table.cell(0, 1).text = "数量"
    table.cell(1, 0).text = "党员先锋岗"
    table.cell(1, 1).text = "12"
    bold(document, "三、暖心服务")
    document.add_paragraph(INDENT + "三是建立党员联系群众制度。")


def list_define(document, num_id, levels, *, abstract_id=None, overrides=""):
    """A list `num_id` in the document's numbering part, as Word writes one.

    `levels` holds (number format, label, start) per level, the label in
    Word's lvlText form (%1、 for the first level's number); lists given the
    same `abstract_id` share one definition, and with it their counters.
    `overrides` is the w:lvlOverride markup of the list.
    """
    numbering = document.part.numbering_part.element
    abstract_id = num_id if abstract_id is None else abstract_id
    if not numbering.xpath(f"w:abstractNum[@w:abstractNumId='{abstract_id}']"):
        definition = "".join(
            f'<w:lvl w:ilvl="{index}"><w:start w:val="{start}"/>'
            f'<w:numFmt w:val="{number_format}"/>'
            f"<w:lvlText w:val={quoteattr(label)}/></w:lvl>"
            for index, (number_format, label, start) in enumerate(levels)
        )
        numbering.insert(
            0,
            parse_xml(
                f'<w:abstractNum xmlns:w="{WORD}" w:abstractNumId="{abstract_id}">'
                f"{definition}</w:abstractNum>"
            ),
        )
    numbering.append(
        parse_xml(
            f'<w:num xmlns:w="{WORD}" w:numId="{num_id}">'
            f'<w:abstractNumId w:val="{abstract_id}"/>{overrides}</w:num>'
        )
    )


def numbered(paragraph, num_id, level=0):
    """`paragraph` numbered by list `num_id` at `level`."""
    numbers = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    numbers.get_or_add_ilvl().val = level
    numbers.get_or_add_numId().val = num_id
    return paragraph
