"""The Word document of an export, laid out like the public case page.

A heading for the whole export (series and issue, its date, the editor's
note), then every case on pages of its own: title, tagline, organisation, the
meta line, the lead, and the body with its numbered sections, lists, tables
and images. Labels are in the site's language, as on the public page.

The body is the sanitised HTML, which may still say things Word cannot hold (a
list starting at 3000000000, cells spanning over each other): what is passed
on to python-docx is clamped to what Word takes. Should one case's layout fail
all the same, that case alone is written as plain text and reported to the
caller; the others keep theirs.
"""

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from html import unescape as html_unescape
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt, RGBColor
from PIL import Image

from casehub.text import xml_fit
from showcase.counter import views_pending

from .sources import ExportSource

logger = logging.getLogger(__name__)

LATIN_FONT = "Times New Roman"
# 宋体 for reading and 黑体 for headings: the faces Word and WPS have on every
# Chinese system, and which LibreOffice maps to the CJK fonts it has.
BODY_FONT = "SimSun"
HEADING_FONT = "SimHei"

INK = RGBColor(0x1F, 0x1F, 0x1F)
MUTED = RGBColor(0x5C, 0x5C, 0x5C)
ACCENT = RGBColor(0xB3, 0x26, 0x1E)
ACCENT_DARK = RGBColor(0x8C, 0x1D, 0x17)
LINK = RGBColor(0x05, 0x63, 0xC1)

PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGIN = Mm(25)
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
TEXT_HEIGHT = PAGE_HEIGHT - 2 * MARGIN
# Pictures are sized as a browser shows them, 96 pixels to the inch.
EMU_PER_PIXEL = 9525
# Word refuses tables wider than 63 columns.
MAX_COLUMNS = 63
MAX_ROWSPAN = 1000
# Word's numbering dialog goes no higher (the file format stops at 2**31 - 1).
MAX_LIST_START = 32767

# python-docx reads these; anything else is converted to PNG first.
DOCX_IMAGE_FORMATS = frozenset({"PNG", "JPEG", "GIF", "BMP", "TIFF"})

# Children of <w:pPr> that come after <w:pBdr> and <w:shd>, in schema order:
# Word will not open a paragraph whose properties are out of order.
_AFTER_PBDR = (
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)
_AFTER_SHD = _AFTER_PBDR[1:]
_AFTER_LANG = ("w:eastAsianLayout", "w:specVanish", "w:oMath")

ProgressCallback = Callable[[int, int], None]
PlainCallback = Callable[[object], None]


def document_build(
    source: ExportSource,
    *,
    progress: ProgressCallback | None = None,
    exported_plainly: PlainCallback | None = None,
):
    """Return the .docx file of `source` as bytes.

    `progress(done, total)` is called after each case, and
    `exported_plainly(case)` for a case whose layout could not be written and
    which is in the document as plain text instead.
    """
    document = Document(BytesIO(_template()))
    properties = document.core_properties
    properties.title = source.title
    properties.author = str(
        settings.DEPARTMENT_NAME or settings.DEFAULT_DEPARTMENT_NAME
    )
    properties.language = "zh-CN"
    properties.created = timezone.now()
    writer = _HtmlWriter(document)
    _cover_write(writer, source)
    total = len(source.cases)
    for done, case in enumerate(source.cases, start=1):
        if not _case_write_or_plain(writer, case) and exported_plainly is not None:
            exported_plainly(case)
        if progress is not None:
            progress(done, total)
    out = BytesIO()
    document.save(out)
    return out.getvalue()


# The document and its styles


@functools.cache
def _template() -> bytes:
    """An empty document with our page and styles, made once per process."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, MARGIN)
    _styles_set(document)
    _page_numbers_add(section)
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def _styles_set(document) -> None:
    styles = document.styles
    _defaults_set(styles)

    normal = styles["Normal"]
    _fonts_set(normal, BODY_FONT)
    normal.font.size = Pt(12)
    normal.font.color.rgb = INK
    _spacing(normal, after=6, line=1.5)

    body = _style_add(styles, "Case Body")
    body.paragraph_format.first_line_indent = Pt(24)

    title = styles["Title"]
    _fonts_set(title, HEADING_FONT)
    title.font.size = Pt(22)
    title.font.color.rgb = ACCENT_DARK
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _spacing(title, before=36, after=12, line=1.2)
    for bottom in title.element.xpath(".//w:pBdr/w:bottom"):
        bottom.set(qn("w:color"), str(ACCENT))
        bottom.attrib.pop(qn("w:themeColor"), None)

    for level, size, color in ((1, 18, INK), (2, 14, ACCENT_DARK), (3, 13, INK)):
        heading = styles[f"Heading {level}"]
        _fonts_set(heading, HEADING_FONT)
        heading.font.size = Pt(size)
        heading.font.color.rgb = color
        heading.font.bold = True
        _spacing(heading, before=18 if level > 1 else 0, after=8, line=1.3)
    styles["Heading 1"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    heading4 = styles["Heading 4"]
    _fonts_set(heading4, HEADING_FONT)
    heading4.font.color.rgb = INK
    heading4.font.italic = False

    cover_line = _style_add(styles, "Cover Line")
    cover_line.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    cover_line.font.color.rgb = MUTED

    note = _style_add(styles, "Editors Note")
    note.paragraph_format.left_indent = Pt(12)
    note.paragraph_format.right_indent = Pt(12)
    note.paragraph_format.first_line_indent = Pt(24)
    _border_set(note, "E6B422", size=24)

    tagline = _style_add(styles, "Tagline")
    tagline.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    tagline.font.size = Pt(14)
    tagline.font.color.rgb = ACCENT_DARK
    _spacing(tagline, after=4, line=1.3)

    branch = _style_add(styles, "Organisation")
    branch.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    branch.font.bold = True
    _spacing(branch, after=4, line=1.3)

    meta = _style_add(styles, "Meta Line")
    meta.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    meta.font.size = Pt(10.5)
    meta.font.color.rgb = MUTED
    _spacing(meta, after=18, line=1.3)

    lead = _style_add(styles, "Lead")
    lead.paragraph_format.left_indent = Pt(12)
    lead.paragraph_format.first_line_indent = Pt(24)
    _border_set(lead, str(ACCENT), size=32, fill="FAF7F2")

    quote = styles["Quote"]
    quote.font.italic = False
    quote.font.color.rgb = RGBColor(0x33, 0x33, 0x33)
    quote.paragraph_format.left_indent = Pt(18)
    _border_set(quote, "DEDBD6", size=24)

    picture = _style_add(styles, "Picture")
    picture.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.paragraph_format.keep_with_next = True
    _spacing(picture, before=6, after=2, line=1.0)

    caption = styles["Caption"]
    caption.font.bold = False
    caption.font.size = Pt(10.5)
    caption.font.color.rgb = MUTED
    caption.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER

    cell = _style_add(styles, "Table Text")
    cell.font.size = Pt(10.5)
    _spacing(cell, after=0, line=1.2)

    for name in ("List Bullet", "List Bullet 2", "List Bullet 3"):
        _spacing(styles[name], after=3)
    for name in ("List Number", "List Number 2", "List Number 3"):
        _spacing(styles[name], after=3)


def _defaults_set(styles) -> None:
    """Name the fonts in the document defaults too, in place of theme fonts."""
    defaults = styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _rfonts_set(run_defaults.get_or_add_rFonts(), BODY_FONT)
    lang = run_defaults.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        run_defaults.insert_element_before(lang, *_AFTER_LANG)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _rfonts_set(rfonts, east_asian: str) -> None:
    # A theme attribute outranks a named font on the same element.
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(theme), None)
    for attribute in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attribute), LATIN_FONT)
    rfonts.set(qn("w:eastAsia"), east_asian)


def _fonts_set(style, east_asian: str) -> None:
    _rfonts_set(style.element.get_or_add_rPr().get_or_add_rFonts(), east_asian)


def _style_add(styles, name: str, base: str = "Normal"):
    style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = styles[base]
    style.quick_style = True
    return style


def _spacing(style, *, before=None, after=None, line=None) -> None:
    paragraph_format = style.paragraph_format
    if before is not None:
        paragraph_format.space_before = Pt(before)
    if after is not None:
        paragraph_format.space_after = Pt(after)
    if line is not None:
        paragraph_format.line_spacing_rule = WD_LINE_SPACING.MULTIPLE
        paragraph_format.line_spacing = line


def _border_set(style, color: str, *, size: int, fill: str = "") -> None:
    """A rule down the left of the paragraph, and a background if `fill`."""
    properties = style.element.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    left = OxmlElement("w:left")
    left.set(qn("w:val"), "single")
    left.set(qn("w:sz"), str(size))
    left.set(qn("w:space"), "8")
    left.set(qn("w:color"), color)
    borders.append(left)
    properties.insert_element_before(borders, *_AFTER_PBDR)
    if fill:
        shading = OxmlElement("w:shd")
        shading.set(qn("w:val"), "clear")
        shading.set(qn("w:color"), "auto")
        shading.set(qn("w:fill"), fill)
        properties.insert_element_before(shading, *_AFTER_SHD)


def _page_numbers_add(section) -> None:
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


# The heading of the export and the cases


def _cover_write(writer: "_HtmlWriter", source: ExportSource) -> None:
    body = writer.document
    writer.add(body, "Title", source.title)
    for line in source.heading_lines:
        writer.add(body, "Cover Line", line)
    if source.note_html:
        label = writer.add(body, "Cover Line")
        label.paragraph_format.space_before = Pt(18)
        label.add_run(source.note_label).bold = True
        writer.write(body, source.note_html, style="Editors Note", width=TEXT_WIDTH)


def _case_write_or_plain(writer: "_HtmlWriter", case) -> bool:
    """Write `case` with its layout, or as plain text if that fails: True if
    the layout was kept."""
    body = writer.document.element.body
    mark = _content_end(body)
    try:
        _case_write(writer, case)
    except DatabaseError:
        raise  # not the case's fault: the task tries again later
    except Exception:
        logger.exception("export: case %s written as plain text", case.pk)
    else:
        return True
    # Take out what the failed attempt left, then write the text alone.
    for element in list(body)[mark : _content_end(body)]:
        body.remove(element)
    _case_write_plain(writer, case)
    return False


def _content_end(body) -> int:
    """Where the next paragraph goes: before the section properties, if any."""
    if len(body) and body[-1].tag == qn("w:sectPr"):
        return len(body) - 1
    return len(body)


def _case_write_plain(writer: "_HtmlWriter", case) -> None:
    body = writer.document
    title = writer.add(body, "Heading 1", case.title)
    title.paragraph_format.page_break_before = True
    for text in [*_lead_paragraphs(case.lead), *_plain_paragraphs(case.body)]:
        writer.add(body, "Case Body", text)


# Where a browser would start a new line: the text between them is a paragraph.
_BLOCK_TAG = re.compile(
    r"</?(?:p|h[1-6]|li|ul|ol|dl|dt|dd|blockquote|figure|figcaption|caption"
    r"|table|thead|tbody|tfoot|tr|td|th|hr|br|div|section|pre)\b[^>]*>",
    re.IGNORECASE,
)
_ANY_TAG = re.compile(r"<[^>]*>")


def _plain_paragraphs(body_html: str) -> list[str]:
    """The text of sanitised HTML, a paragraph per block, found in one pass
    each (no tree, so nothing that failed in the layout can fail here)."""
    paragraphs = []
    for part in _BLOCK_TAG.split(body_html or ""):
        text = HTML_SPACES.sub(" ", html_unescape(_ANY_TAG.sub("", part))).strip()
        if text:
            paragraphs.append(text)
    return paragraphs


def _case_write(writer: "_HtmlWriter", case) -> None:
    body = writer.document
    title = writer.add(body, "Heading 1", case.title)
    title.paragraph_format.page_break_before = True
    if case.tagline:
        writer.add(body, "Tagline", case.tagline)
    writer.add(body, "Organisation", case.branch_name)
    writer.add(body, "Meta Line", _meta_line(case))
    for paragraph_text in _lead_paragraphs(case.lead):
        paragraph = writer.add(body, "Lead")
        for number, line in enumerate(paragraph_text.split("\n")):
            if number:
                paragraph.add_run().add_break()
            paragraph.add_run(xml_fit(line))
    writer.write(body, case.body, style="Case Body", width=TEXT_WIDTH)


def _meta_line(case) -> str:
    if case.published_at:
        published = _("Published: %(time)s") % {
            "time": date_format(timezone.localtime(case.published_at), "Y-m-d H:i")
        }
    else:
        published = _("Published: not yet")
    parts = [
        _("Author: %(name)s") % {"name": case.author_name or "—"},
        _("Source: %(source)s") % {"source": case.source_display},
        published,
        _("Views: %(count)s") % {"count": _view_count(case)},
    ]
    return "\u3000\u3000".join(parts)


def _view_count(case) -> int:
    stored = case.views.count if hasattr(case, "views") else 0
    return stored + views_pending(case.pk)


def _lead_paragraphs(lead: str) -> list[str]:
    """The lead's paragraphs as the page's `linebreaks` filter makes them."""
    text = lead.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return []
    return [part.strip("\n") for part in re.split(r"\n{2,}", text)]


# Sanitised HTML to Word


@dataclass
class _Node:
    tag: str
    attrs: dict
    children: list


MAX_DEPTH = 40
VOID_TAGS = frozenset({"br", "img", "hr", "col", "wbr"})
INLINE_TAGS = frozenset(
    {"strong", "b", "em", "i", "u", "s", "sub", "sup", "a", "span", "br", "img"}
)
HEADING_STYLES = {"h1": "Heading 2", "h2": "Heading 2", "h3": "Heading 3"}
HEADING_STYLES.update({f"h{level}": "Heading 4" for level in range(4, 7)})
LIST_STYLES = {
    True: ("List Number", "List Number 2", "List Number 3"),
    False: ("List Bullet", "List Bullet 2", "List Bullet 3"),
}
CONTINUE_STYLES = ("List Continue", "List Continue 2", "List Continue 3")
INDENTED_STYLES = frozenset({"Case Body", "Editors Note", "Quote"})
# Collapsed as a browser collapses them; a full-width space (U+3000) is kept.
HTML_SPACES = re.compile(r"[ \t\n\r\f]+")


class _TreeBuilder(HTMLParser):
    """A tree of the (already sanitised) body; end tags close what they match."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Node("root", {}, [])
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = _Node(tag, _attributes(attrs), [])
        self.stack[-1].children.append(node)
        # Deeper nesting than any editor makes is flattened, not followed.
        if tag not in VOID_TAGS and len(self.stack) < MAX_DEPTH:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(_Node(tag, _attributes(attrs), []))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(xml_fit(data))


def _attributes(attrs) -> dict[str, str]:
    return {name: xml_fit(value or "") for name, value in attrs}


def html_tree(html: str) -> _Node:
    builder = _TreeBuilder()
    builder.feed(html or "")
    builder.close()
    return builder.root


@dataclass(frozen=True)
class _Format:
    bold: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False
    subscript: bool = False
    superscript: bool = False
    link: object = None


@dataclass(frozen=True)
class _Context:
    style: str
    width: int
    list_level: int = 0
    format: _Format = _Format()


class _Line:
    """A paragraph being filled with runs, and whether a space may start next."""

    def __init__(self, paragraph, style: str):
        self.paragraph = paragraph
        self.style = style
        self.after_space = True


class _HtmlWriter:
    def __init__(self, document):
        self.document = document
        self.images = _ImageFiles()
        # Looking a style up by name walks all of them; paragraphs are many.
        self.style_ids = {style.name: style.style_id for style in document.styles}

    def add(self, container, style: str, text: str = ""):
        """A new paragraph of `style` at the end of `container`."""
        paragraph = container.add_paragraph(xml_fit(text))
        self.restyle(paragraph, style)
        return paragraph

    def restyle(self, paragraph, style: str) -> None:
        paragraph._p.style = None if style == "Normal" else self.style_ids[style]

    def line(self, container, style: str) -> _Line:
        return _Line(self.add(container, style), style)

    def finish(self, line: _Line) -> None:
        texts = line.paragraph._p.xpath(".//w:t")
        for text in reversed(texts):
            text.text = (text.text or "").rstrip(" ")
            if text.text:
                break
        if (
            line.style in INDENTED_STYLES
            and not any(text.text for text in texts)
            and line.paragraph._p.xpath(".//w:drawing")
        ):
            # A paragraph of pictures only stands centred, like a figure.
            self.restyle(line.paragraph, "Picture")

    def write(self, container, html: str, *, style: str, width: int) -> None:
        self._blocks(container, html_tree(html).children, _Context(style, width))

    # Blocks

    def _blocks(self, container, nodes, context: _Context) -> None:
        line = None
        for node in nodes:
            if isinstance(node, str) or node.tag in INLINE_TAGS:
                if line is None:
                    if isinstance(node, str) and not HTML_SPACES.sub("", node):
                        continue
                    line = self.line(container, context.style)
                self._inline(line, node, context.format, context)
                continue
            if line is not None:
                self.finish(line)
                line = None
            self._block(container, node, context)
        if line is not None:
            self.finish(line)

    def _block(self, container, node: _Node, context: _Context) -> None:
        tag = node.tag
        if tag == "p":
            self._paragraph(container, node, context.style, context)
        elif tag in HEADING_STYLES:
            self._paragraph(container, node, HEADING_STYLES[tag], context)
        elif tag in ("ul", "ol"):
            self._list(container, node, context, level=context.list_level + 1)
        elif tag == "li":
            self._list_item(
                container, node, context, LIST_STYLES[False][0], None, level=1
            )
        elif tag == "blockquote":
            self._blocks(container, node.children, replace(context, style="Quote"))
        elif tag == "figure":
            self._blocks(container, node.children, replace(context, style="Picture"))
        elif tag in ("figcaption", "caption"):
            self._paragraph(container, node, "Caption", context)
        elif tag == "table":
            self._table(container, node, context)
        elif tag == "hr":
            paragraph = self.add(container, "Picture")
            paragraph.add_run("＊\u3000＊\u3000＊").font.color.rgb = MUTED
        else:
            self._blocks(container, node.children, context)

    def _paragraph(self, container, node: _Node, style: str, context: _Context):
        line = self.line(container, style)
        for child in node.children:
            self._inline(line, child, context.format, context)
        self.finish(line)
        element = line.paragraph._p
        if not element.xpath("./w:r | ./w:hyperlink"):
            # Nothing in it, or only pictures that were left out: a browser
            # shows an empty paragraph as no line at all.
            element.getparent().remove(element)

    # Lists

    def _list(self, container, node: _Node, context: _Context, *, level: int):
        ordered = node.tag == "ol"
        depth = min(level, 3)
        style = LIST_STYLES[ordered][depth - 1]
        numbering = None
        if ordered:
            start = _int(node.attrs.get("start"), 1)
            numbering = self._numbering_restart(
                style, min(max(start, 0), MAX_LIST_START)
            )
        inner = replace(context, list_level=level)
        for child in node.children:
            if isinstance(child, str):
                if HTML_SPACES.sub("", child):
                    self._blocks(container, [child], replace(inner, style=style))
            elif child.tag == "li":
                self._list_item(container, child, inner, style, numbering, level=level)
            elif child.tag in ("ul", "ol"):
                self._list(container, child, inner, level=level + 1)
            else:
                self._blocks(container, [child], inner)

    def _list_item(self, container, node, context, style, numbering, *, level):
        continued = CONTINUE_STYLES[min(level, 3) - 1]
        line = None
        started = False

        def new_line(paragraph_style):
            line = self.line(container, paragraph_style)
            if paragraph_style == style and numbering is not None:
                _numbering_set(line.paragraph, numbering)
            return line

        for child in node.children:
            if isinstance(child, str) or child.tag in INLINE_TAGS:
                if line is None:
                    if isinstance(child, str) and not HTML_SPACES.sub("", child):
                        continue
                    line = new_line(continued if started else style)
                    started = True
                self._inline(line, child, context.format, context)
                continue
            if child.tag == "p":
                if line is None:
                    line = new_line(continued if started else style)
                    started = True
                for grandchild in child.children:
                    self._inline(line, grandchild, context.format, context)
                self.finish(line)
                line = None
                continue
            if line is not None:
                self.finish(line)
                line = None
            if not started and child.tag not in ("ul", "ol"):
                self.finish(new_line(style))
                started = True
            self._block(container, child, context)
        if line is not None:
            self.finish(line)
        elif not started:
            self.finish(new_line(style))

    def _numbering_restart(self, style_name: str, start: int) -> int:
        """A numbering of its own for one list, so each list counts from `start`."""
        style = self.document.styles[style_name]
        style_num_id = style.element.pPr.numPr.numId.val
        numbering = self.document.part.numbering_part.element
        abstract_id = numbering.num_having_numId(style_num_id).abstractNumId.val
        num = numbering.add_num(abstract_id)
        num.add_lvlOverride(ilvl=0).add_startOverride(start)
        return num.numId

    # Tables

    def _table(self, container, node: _Node, context: _Context) -> None:
        rows = list(_table_rows(node))
        placements, columns = _table_grid(rows)
        for child in node.children:
            if isinstance(child, _Node) and child.tag == "caption":
                self._paragraph(container, child, "Caption", context)
        if not placements:
            return
        table = container.add_table(len(rows), columns)
        table._tbl.tblPr.style = self.style_ids["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        column_width = context.width // columns
        for row, column, rowspan, colspan, cell_node in placements:
            cell = table.cell(row, column)
            if rowspan > 1 or colspan > 1:
                cell = cell.merge(table.cell(row + rowspan - 1, column + colspan - 1))
            cell_format = context.format
            if cell_node.tag == "th":
                cell_format = replace(cell_format, bold=True)
            self._cell(
                cell,
                cell_node,
                _Context("Table Text", column_width * colspan, format=cell_format),
            )

    def _cell(self, cell, node: _Node, context: _Context) -> None:
        placeholder = cell.paragraphs[0]
        self.restyle(placeholder, context.style)
        self._blocks(cell, node.children, context)
        if len(cell.paragraphs) > 1 and not placeholder._p.xpath(".//w:r"):
            placeholder._p.getparent().remove(placeholder._p)

    # Inline content

    def _inline(self, line: _Line, node, fmt: _Format, context: _Context) -> None:
        if isinstance(node, str):
            self._text(line, node, fmt)
            return
        tag = node.tag
        if tag == "br":
            line.paragraph.add_run().add_break()
            line.after_space = True
            return
        if tag == "img":
            self._picture(line, node, context)
            return
        if tag in ("strong", "b", "th"):
            fmt = replace(fmt, bold=True)
        elif tag in ("em", "i"):
            fmt = replace(fmt, italic=True)
        elif tag == "u":
            fmt = replace(fmt, underline=True)
        elif tag == "s":
            fmt = replace(fmt, strike=True)
        elif tag == "sub":
            fmt = replace(fmt, subscript=True)
        elif tag == "sup":
            fmt = replace(fmt, superscript=True)
        elif tag == "a" and fmt.link is None:
            link = self._hyperlink(line, node.attrs.get("href", ""))
            if link is not None:
                fmt = replace(fmt, link=link, underline=True)
        for child in node.children:
            self._inline(line, child, fmt, context)

    def _text(self, line: _Line, text: str, fmt: _Format) -> None:
        text = HTML_SPACES.sub(" ", text)
        if line.after_space:
            text = text.lstrip(" ")
        if not text:
            return
        run = line.paragraph.add_run(text)
        line.after_space = text.endswith(" ")
        font = run.font
        for name in (
            "bold",
            "italic",
            "underline",
            "strike",
            "subscript",
            "superscript",
        ):
            if getattr(fmt, name):
                setattr(font, name, True)
        if fmt.link is not None:
            font.color.rgb = LINK
            fmt.link.append(run._r)

    def _hyperlink(self, line: _Line, href: str):
        href = href.strip()
        if href.startswith("/") and not href.startswith("//"):
            href = settings.SITE_URL + href
        if not href.lower().startswith(("http://", "https://", "mailto:")):
            return None
        relation = line.paragraph.part.relate_to(
            href, RELATIONSHIP_TYPE.HYPERLINK, is_external=True
        )
        link = OxmlElement("w:hyperlink")
        link.set(qn("r:id"), relation)
        line.paragraph._p.append(link)
        return link

    def _picture(self, line: _Line, node: _Node, context: _Context) -> None:
        image = self.images.open(node.attrs.get("src", ""))
        if image is None:
            return
        data, (width_px, height_px) = image
        # As a browser shows it, but never wider than the column or taller
        # than the page.
        scale = min(
            1.0,
            context.width / (width_px * EMU_PER_PIXEL),
            TEXT_HEIGHT / (height_px * EMU_PER_PIXEL),
        )
        width = max(1, int(width_px * EMU_PER_PIXEL * scale))
        height = max(1, int(height_px * EMU_PER_PIXEL * scale))
        run = line.paragraph.add_run()
        try:
            run.add_picture(data, width=Emu(width), height=Emu(height))
        except Exception:  # a file python-docx cannot read is left out
            logger.warning("export: image %s left out", node.attrs.get("src"))
            run._r.getparent().remove(run._r)
            return
        line.after_space = False


class _ImageFiles:
    """Pictures from MEDIA_ROOT, found by their /media/ address, and nothing else."""

    def __init__(self):
        self.root = Path(settings.MEDIA_ROOT).resolve()
        self.media_url = settings.MEDIA_URL

    def path(self, src: str) -> Path | None:
        if not src.startswith(self.media_url) or src.startswith("//"):
            return None
        relative = src[len(self.media_url) :].split("?", 1)[0].split("#", 1)[0]
        relative = unquote(relative)
        if not relative or "\x00" in relative or relative.startswith("/"):
            return None
        try:
            candidate = (self.root / relative).resolve()
        except (OSError, RuntimeError, ValueError):
            return None
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    def open(self, src: str) -> tuple[BytesIO, tuple[int, int]] | None:
        path = self.path(src)
        if path is None:
            if src:
                logger.info("export: image %s is not one of ours, left out", src)
            return None
        try:
            with Image.open(path) as image:
                size = image.size
                if image.format in DOCX_IMAGE_FORMATS:
                    data = BytesIO(path.read_bytes())
                else:
                    data = BytesIO()
                    has_alpha = "A" in image.getbands()
                    image.convert("RGBA" if has_alpha else "RGB").save(data, "PNG")
                    data.seek(0)
        except Exception:  # not an image, or one Pillow refuses: left out
            logger.warning("export: image %s could not be read", src)
            return None
        if not size[0] or not size[1]:
            return None
        return data, size


def _table_rows(table: _Node):
    for child in table.children:
        if not isinstance(child, _Node):
            continue
        if child.tag == "tr":
            yield child
        elif child.tag in ("thead", "tbody", "tfoot"):
            yield from _table_rows(child)


def _table_grid(rows: list[_Node]):
    """Where each cell sits, with its spans: [(row, column, rowspan, colspan, cell)]."""
    taken = set()
    placements = []
    for row_index, row in enumerate(rows):
        column = 0
        for cell in row.children:
            if not isinstance(cell, _Node) or cell.tag not in ("td", "th"):
                continue
            while (row_index, column) in taken:
                column += 1
            if column >= MAX_COLUMNS:
                break
            wanted_columns = min(
                _int(cell.attrs.get("colspan"), 1), MAX_COLUMNS - column
            )
            wanted_rows = min(
                _int(cell.attrs.get("rowspan"), 1), len(rows) - row_index, MAX_ROWSPAN
            )
            # Word merges rectangles only: a span stops where it would run
            # into a cell an earlier span already covers.
            colspan = 1
            while (
                colspan < wanted_columns and (row_index, column + colspan) not in taken
            ):
                colspan += 1
            rowspan = 1
            while rowspan < wanted_rows and not any(
                (row_index + rowspan, spanned) in taken
                for spanned in range(column, column + colspan)
            ):
                rowspan += 1
            for spanned_row in range(row_index, row_index + rowspan):
                for spanned_column in range(column, column + colspan):
                    taken.add((spanned_row, spanned_column))
            placements.append((row_index, column, rowspan, colspan, cell))
            column += colspan
    return placements, max((column for _, column in taken), default=-1) + 1


def _numbering_set(paragraph, num_id: int) -> None:
    numbering = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    numbering.get_or_add_ilvl().val = 0
    numbering.get_or_add_numId().val = num_id


def _int(value, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default
