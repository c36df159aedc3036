"""导入 Word: a branch's .docx read into a case, structure recognised.

Branches write their cases in Word or WPS after the official-document
conventions; this turns such a file into the case's fields (title, tagline,
lead) and a body the normaliser and the sanitiser have been through, and says
in one line what it recognised, so the writer can check it before saving.

A .docx is a zip of XML parts read by mammoth (≥ 1.11, which reads no linked
file), so everything the file claims is checked from the zip's central
directory before mammoth or any XML parser sees it: the file's size, the
number of parts and their unpacked sizes and compression ratio (a zip bomb),
macros, links to files outside it, the size of the parts mammoth parses
(which bounds its time: it builds a DOM and walks it in Python), and their XML
itself, read first with expat (no DTD, so no entity expansion, and a bounded
depth, since mammoth's reader recurses). Python's zipfile stops every read at
the size the central directory declares, so those declared sizes bound what
unpacking can cost however the data lies. Embedded
images go through the same checks as uploads (casehub.images), at most
MAX_IMAGES of them and MAX_IMAGE_PIXELS_TOTAL pixels together, counted from
their headers before any is decoded.

Nothing is stored until the whole file has passed: `docx_read` writes nothing,
`docx_import` then stores the images as the editor's uploads are stored.

A .doc or .wps file is converted to .docx by LibreOffice where `soffice` is on
the PATH (in a temporary folder, with a fresh profile and a time limit), then
read like any other; elsewhere the writer is asked for a .docx.
"""

import io
import logging
import os
import posixpath
import re
import shutil
import signal
import subprocess
import tempfile
import uuid
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from xml.parsers import expat

import mammoth
import mammoth.images
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from mammoth import documents
from mammoth.transforms import get_descendants
from PIL import Image, UnidentifiedImageError

from casehub.exceptions import NotPermitted
from casehub.images import FORMATS, CleanImage, image_clean
from casehub.richtext import richtext_clean
from submissions.models import Branch, EditorImage
from submissions.selectors import branches_for_user

logger = logging.getLogger(__name__)

# The zip, read from its central directory before anything is unpacked. The
# largest real case we hold, 20 pages with ten photos, is about 6 MB packed,
# 7 MB unpacked, 40 parts and 400 KB of XML.
MAX_PARTS = 500
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
# Word's XML packs about ten to one; a part that packs far better than any
# real one is a bomb, whatever its size. Small parts may pack as they like.
MAX_RATIO = 200
RATIO_CHECKED_ABOVE = 1024 * 1024
# The XML mammoth parses, all its parts together (the document, its styles,
# numbering, notes and comments). mammoth builds a DOM of each and walks it in
# Python, about 5 s of CPU per MB here, so this bounds the import's time.
# A 20-page case is about 300 KB of document and 350 KB of styles, and more
# than this would not fit CASEHUB_RICHTEXT_MAX_BYTES once converted.
MAX_PARSED_XML_BYTES = 2 * 1024 * 1024
# Word nests a text box in a shape in a table cell about 40 elements deep;
# mammoth's reader recurses two or three frames per element.
MAX_XML_DEPTH = 100
MAX_IMAGES = 30
# Photos straight from a phone are 12 million pixels each; Word compresses
# pictures to a tenth of that when it saves, unless told not to.
MAX_IMAGE_PIXELS_TOTAL = 200_000_000
# LibreOffice converting a .doc or .wps; below gunicorn's 30 s worker timeout.
CONVERT_SECONDS = 20

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
LEGACY_SUFFIXES = {".doc": "Word 97–2003 (.doc)", ".wps": "WPS (.wps)"}
WORD_MAIN_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        ".main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template"
        ".main+xml",
    }
)
MACRO_CONTENT_TYPE = re.compile(r"macroEnabled|vbaProject|activeX", re.IGNORECASE)
MACRO_PART = re.compile(r"(^|/)(vbaProject\.bin|vbaData\.xml)$|(^|/)activeX/", re.I)
# External targets that are never opened: links readers may follow (the
# sanitiser checks their scheme) and the template Word was started from.
HARMLESS_EXTERNAL = frozenset({"hyperlink", "attachedTemplate"})
# The parts mammoth parses besides the main document: those the document's
# relationships name with these types, or else these names (mammoth.docx).
PARSED_RELATIONSHIPS = frozenset(
    {"styles", "numbering", "footnotes", "endnotes", "comments"}
)
PARSED_FALLBACKS = tuple(f"word/{kind}.xml" for kind in sorted(PARSED_RELATIONSHIPS))

# Word's built-in heading styles (stored under their English names even in a
# Chinese Word; WPS may store them as 标题 N), and the levels the site uses:
# the case's title is the page's h1, so a document's first level is h2, and
# the editor offers h2 and h3 only, so Word's third level and below become
# paragraphs, their text kept.
STYLE_MAP = "\n".join(
    f"p[style-name='{name}'] => {tag}:fresh"
    for level, tag in ((1, "h2"), (2, "h3"), (3, "p"), (4, "p"), (5, "p"), (6, "p"))
    for name in (f"heading {level}", f"Heading {level}", f"标题 {level}")
) + "\n".join(
    [
        "",
        "p.Heading1 => h2:fresh",
        "p.Heading2 => h3:fresh",
        "p[style-name='Title'] => h2:fresh",
        "p[style-name='标题'] => h2:fresh",
        "p[style-name='Subtitle'] => p:fresh",
        "p[style-name='副标题'] => p:fresh",
        "p[style-name='Heading'] => h2:fresh",
    ]
)
TITLE_STYLES = frozenset({"title", "标题"})
HEADING_STYLES = re.compile(r"^(heading|标题)\s*\d$", re.IGNORECASE)
SUBTITLE_STYLES = frozenset({"subtitle", "副标题"})
# Numbering that opens a section (一、 （一） 第一章) or a point (一是).
SECTION_NUMBER = re.compile(
    r"^(?:[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十]+[）)]|第[一二三四五六七八九十百]+[章节部分])"
)
POINT_NUMBER = re.compile(r"^[一二三四五六七八九十]+是")
DASH_LINE = re.compile(r"^(?:——|—|--|－－|─+)\s*")
TITLE_SEPARATOR = re.compile(r"[：:]")
ORGANISATION_ENDING = re.compile(r"(党支部|党总支|党委)$")
SENTENCE_END = ("。", "；", ";", "！", "？", "?", "!")
# The longest title line taken for a title without a title style.
SHORT_LINE = 60
TITLE_LENGTH = 120  # Case.title
TAGLINE_LENGTH = 60  # Case.tagline


class _Refused(Exception):
    """The file cannot be imported; `error` says why, for the writer."""

    def __init__(self, message, code):
        super().__init__(message)
        self.error = ValidationError(message, code=code)


@dataclass
class _Image:
    """An image of the document, checked and re-encoded, not yet stored."""

    clean: CleanImage
    placeholder: str


@dataclass
class DocxImport:
    """What was recognised in one Word document, ready for the case form."""

    title: str = ""
    tagline: str = ""
    # The organisation line as written, and the active organisation it names.
    organisation: str = ""
    branch: Branch | None = None
    lead: str = ""
    # Normalised and sanitised. After docx_read the images' addresses are
    # placeholders; docx_import puts the stored images' addresses in.
    body: str = ""
    sections: int = 0
    subsections: int = 0
    points: int = 0
    paragraphs: int = 0
    tables: int = 0
    images: list[_Image] = field(default_factory=list)
    # What the writer should know: images left out, a conversion made.
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """What was recognised, in a line (标题、副标题、3 个一级标题、13 段)."""
        context = "recognised in a Word document"
        found = [
            (self.title, pgettext(context, "title")),
            (self.tagline, pgettext(context, "subtitle")),
            (self.organisation, pgettext(context, "organisation")),
            (self.lead, pgettext(context, "lead")),
        ]
        images = len(self.images)
        counted = [
            (
                self.sections,
                ngettext(
                    "%(count)d section heading",
                    "%(count)d section headings",
                    self.sections,
                ),
            ),
            (
                self.subsections,
                ngettext(
                    "%(count)d sub-heading", "%(count)d sub-headings", self.subsections
                ),
            ),
            (
                self.points,
                ngettext("%(count)d point", "%(count)d points", self.points),
            ),
            (
                self.paragraphs,
                ngettext(
                    "%(count)d paragraph", "%(count)d paragraphs", self.paragraphs
                ),
            ),
            (
                self.tables,
                ngettext("%(count)d table", "%(count)d tables", self.tables),
            ),
            (images, ngettext("%(count)d image", "%(count)d images", images)),
        ]
        parts = [label for value, label in found if value]
        parts += [text % {"count": count} for count, text in counted if count]
        return pgettext("list separator", ", ").join(parts)

    def form_initial(self) -> dict:
        """The case form's fields this document fills; the others keep theirs."""
        initial = {"body": self.body}
        for name in ("title", "tagline", "lead"):
            if getattr(self, name):
                initial[name] = getattr(self, name)
        return initial


def docx_read(upload, *, name: str = "") -> DocxImport:
    """Check and read the Word file `upload` (a Django File); store nothing.

    `name` is the file's name as the writer had it (the upload's by default),
    used only to tell a .doc or .wps from a .docx. Raises ValidationError with
    a message for the writer when the file cannot be imported.
    """
    name = name or getattr(upload, "name", "") or ""
    try:
        notes = []
        stream = _docx_stream(upload, name=name, notes=notes)
        try:
            archive = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
            _refuse(_damaged(), "damaged")  # it starts as a zip does
        with archive:
            _archive_check(archive)
        stream.seek(0)
        reading = _convert(stream)
        reading.notes[:0] = notes
    except _Refused as refused:
        raise refused.error from None
    return reading


def docx_import(*, upload, acting_user, name: str = "") -> DocxImport:
    """`docx_read`, then keep the document's images as the editor's uploads.

    The case itself is not touched: the writer sees what was recognised in
    the case form and saves it, or not, as any other edit.
    """
    writer_branches = branches_for_user(user=acting_user)
    if not writer_branches.exists():
        raise NotPermitted(_("Only members of a party organisation can write cases."))
    if upload is None:
        raise ValidationError(_("No file was received."), code="missing")
    reading = docx_read(upload, name=name)
    if reading.branch is not None and reading.branch not in writer_branches:
        reading.notes.append(
            _(
                "The document is signed by %(organisation)s, which is not an "
                "organisation you belong to; the case is written for the "
                "organisation chosen in the form."
            )
            % {"organisation": reading.organisation}
        )
    docx_images_store(reading=reading, acting_user=acting_user)
    return reading


@transaction.atomic
def docx_images_store(*, reading: DocxImport, acting_user) -> None:
    """Store the images `docx_read` checked, and point the body at them."""
    for image in reading.images:
        stored = EditorImage(
            width=image.clean.width, height=image.clean.height, uploaded_by=acting_user
        )
        stored.image.save(image.clean.content.name, image.clean.content, save=False)
        stored.save()
        reading.body = reading.body.replace(image.placeholder, stored.image.url)


def legacy_conversion_available() -> bool:
    """True where LibreOffice can turn a .doc or .wps into a .docx."""
    return shutil.which("soffice") is not None


# The file ----------------------------------------------------------------


def _refuse(message, code):
    raise _Refused(message, code)


def _size_check(size: int) -> None:
    if size == 0:
        _refuse(_("The file is empty."), "empty")
    if size > settings.CASEHUB_MAX_DOCX_BYTES:
        _refuse(
            _(
                "The file is larger than %(limit)d MB. Compress its pictures in "
                "Word (File › Compress Pictures) or split the document, and "
                "import it again."
            )
            % {"limit": settings.CASEHUB_MAX_DOCX_BYTES // (1024 * 1024)},
            "too_large",
        )


def _docx_stream(upload, *, name: str, notes: list[str]):
    """A seekable .docx: `upload` itself, or what LibreOffice made of a .doc."""
    _size_check(upload.size or 0)
    upload.seek(0)
    head = upload.read(len(OLE_SIGNATURE))
    upload.seek(0)
    if head.startswith(b"PK"):
        return upload
    suffix = Path(name).suffix.lower()
    legacy = suffix in LEGACY_SUFFIXES or head == OLE_SIGNATURE
    if not legacy:
        _refuse(_not_a_docx(), "not_docx")
    soffice = shutil.which("soffice")
    if soffice is None:
        if suffix not in LEGACY_SUFFIXES:  # a .docx in a password wrapper
            _refuse(
                _(
                    "The file is protected with a password or saved in the old "
                    "Word (.doc) format. Remove the password, or save it as a "
                    ".docx file in Word or WPS, and import it again."
                ),
                "encrypted_or_legacy",
            )
        _refuse(
            _(
                "Documents in the old Word (.doc) or WPS (.wps) format cannot be "
                "read here. In Word or WPS, save it as a .docx file (File › Save "
                "As › Word Document) and import that."
            ),
            "legacy",
        )
    converted = _libreoffice_convert(upload, soffice=soffice, suffix=suffix)
    notes.append(
        _("Converted from %(format)s with LibreOffice; check the layout.")
        % {"format": LEGACY_SUFFIXES.get(suffix, suffix or ".doc")}
    )
    return converted


def _not_a_docx():
    return _(
        "The file is not a Word document (.docx). In Word or WPS, save it as a "
        ".docx file (File › Save As › Word Document) and import that."
    )


def _damaged():
    return _(
        "The file is damaged or incomplete. Open it in Word, save it again and "
        "import it."
    )


def _libreoffice_convert(upload, *, soffice: str, suffix: str) -> io.BytesIO:
    """The .docx LibreOffice makes of a .doc or .wps, within CONVERT_SECONDS.

    LibreOffice runs in a folder of its own with a profile of its own (two
    conversions at once would otherwise share, and lock, the user's), and the
    whole process group is killed when it runs out of time.
    """
    with tempfile.TemporaryDirectory(prefix="casehub-docx-") as work:
        folder = Path(work)
        source = folder / f"source{suffix if suffix in LEGACY_SUFFIXES else '.doc'}"
        upload.seek(0)
        with source.open("wb") as out:
            shutil.copyfileobj(upload, out)
        command = [
            soffice,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "docx",
            "--outdir",
            str(folder / "out"),
            str(source),
        ]
        environment = {"HOME": work, "PATH": os.environ.get("PATH", "")}
        process = subprocess.Popen(  # noqa: S603 - a fixed command, no shell
            command,
            cwd=work,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            process.wait(timeout=CONVERT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            _refuse(
                _(
                    "Converting the file took too long. Save it as a .docx file "
                    "in Word or WPS and import that."
                ),
                "convert_timeout",
            )
        made = folder / "out" / (source.stem + ".docx")
        if not made.is_file():
            _refuse(
                _(
                    "LibreOffice could not convert the file to .docx. Save it as a "
                    ".docx file in Word or WPS and import that."
                ),
                "convert_failed",
            )
        _size_check(made.stat().st_size)
        return io.BytesIO(made.read_bytes())


# The zip -----------------------------------------------------------------


def _archive_check(archive: zipfile.ZipFile) -> None:
    """Refuse a zip that is not a plain Word document, before anything is parsed.

    Every relationship part and the content types are read with expat first;
    then the parts mammoth will parse, found as it finds them, are bounded in
    size and read with expat too. Other parts are never unpacked.
    """
    parts = archive.infolist()
    if len(parts) > MAX_PARTS:
        _refuse(_bomb(), "too_many_parts")
    sizes = {}
    unpacked = 0
    for part in parts:
        if part.filename in sizes:
            _refuse(_damaged(), "duplicate_part")
        sizes[part.filename] = part.file_size
        if part.flag_bits & 0x1:
            _refuse(
                _(
                    "The document is protected with a password. Remove the "
                    "password in Word and import it again."
                ),
                "encrypted",
            )
        if part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            _refuse(_not_word_made(), "compression")
        unpacked += part.file_size
        if (
            part.file_size > RATIO_CHECKED_ABOVE
            and part.file_size > MAX_RATIO * max(part.compress_size, 1)
        ) or unpacked > MAX_UNPACKED_BYTES:
            _refuse(_bomb(), "bomb")
        if MACRO_PART.search(part.filename):
            _refuse(_macros(), "macros")
    if "[Content_Types].xml" not in sizes:
        _refuse(_not_a_docx(), "not_docx")
    content_types = _xml_part_check(archive, "[Content_Types].xml")
    if any(MACRO_CONTENT_TYPE.search(kind) for kind in content_types):
        _refuse(_macros(), "macros")
    if not WORD_MAIN_TYPES.intersection(content_types):
        _refuse(_not_a_docx(), "not_docx")
    relationships = {
        name: _xml_part_check(archive, name)
        for name in sizes
        if name.lower().endswith(".rels")
    }
    parsed = _parsed_parts(relationships, names=sizes)
    if sum(sizes[name] for name in parsed) > MAX_PARSED_XML_BYTES:
        _refuse(
            _(
                "The document is too long to import as one case. Split it, or "
                "remove what does not belong to the case, and import it again."
            ),
            "too_long",
        )
    for name in parsed:
        _xml_part_check(archive, name)


def _parsed_parts(relationships: dict, *, names) -> list[str]:
    """The parts mammoth will parse, as it finds them: the main document named
    by the package's relationships, and its styles, numbering, notes and
    comments named by the document's, or found under their usual names."""
    main = next(
        (
            _part_name("", target)
            for kind, target in relationships.get("_rels/.rels", [])
            if kind == "officeDocument"
        ),
        "word/document.xml",
    )
    folder, _slash, base = main.rpartition("/")
    named = relationships.get(
        f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels", []
    )
    parsed = [main]
    parsed += [
        _part_name(folder, target)
        for kind, target in named
        if kind in PARSED_RELATIONSHIPS
    ]
    parsed += PARSED_FALLBACKS
    return sorted({name for name in parsed if name in names})


def _part_name(folder: str, target: str) -> str:
    """A relationship's target as the name of a part in the zip."""
    path = target[1:] if target.startswith("/") else f"{folder}/{target}"
    return posixpath.normpath(path).lstrip("/")


def _bomb():
    return _(
        "The file unpacks to far more than a Word document holds and cannot be "
        "imported safely."
    )


def _macros():
    return _(
        "The document contains macros or ActiveX controls (a macro-enabled "
        ".docm file). Save it as a Word document (.docx) without macros and "
        "import that."
    )


def _not_word_made():
    return _(
        "The document is not laid out the way Word lays out its files and cannot "
        "be imported. Open it in Word, save it again and import it."
    )


def _xml_part_check(archive, name: str) -> list:
    """Read one XML part with expat, with no DTD and a bounded depth.

    Returns what the part declares: the (type, target) of every relationship
    of a relationship part, and the content types of [Content_Types].xml.
    A relationship to a file outside the zip (a linked picture or object) is
    refused, so that mammoth is never asked to open anything but the zip's
    own parts.
    """
    parser = expat.ParserCreate(namespace_separator=" ")
    depth = 0
    declared = []
    is_relationships = name.lower().endswith(".rels")
    is_content_types = name == "[Content_Types].xml"

    def start(tag, attributes):
        nonlocal depth
        depth += 1
        if depth > MAX_XML_DEPTH:
            _refuse(_not_word_made(), "too_deep")
        local = tag.rsplit(" ", 1)[-1]
        if is_relationships and local == "Relationship":
            kind = attributes.get("Type", "").rsplit("/", 1)[-1]
            external = attributes.get("TargetMode", "").lower() == "external"
            if external and kind not in HARMLESS_EXTERNAL:
                _refuse(
                    _(
                        "The document links to files outside it (linked pictures "
                        "or objects), which are not fetched. In Word, insert the "
                        "pictures into the document instead of linking them, and "
                        "import it again."
                    ),
                    "external",
                )
            if not external:
                declared.append((kind, attributes.get("Target", "")))
        elif is_content_types and local in ("Override", "Default"):
            declared.append(attributes.get("ContentType", ""))

    def end(tag):
        nonlocal depth
        depth -= 1

    def doctype(*args):
        _refuse(_not_word_made(), "doctype")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    try:
        with archive.open(name) as stream:
            while chunk := stream.read(64 * 1024):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError, OSError):
        _refuse(_damaged(), "damaged")
    return declared


# The document ------------------------------------------------------------


@dataclass
class _Block:
    """A top-level paragraph as the recogniser sees it."""

    element: object
    text: str
    style: str
    has_image: bool

    @property
    def is_heading(self) -> bool:
        return bool(
            HEADING_STYLES.match(self.style)
            or self.style.lower() in TITLE_STYLES
            or SECTION_NUMBER.match(self.text)
        )


def _convert(stream) -> DocxImport:
    """mammoth, the recogniser, then the normaliser and sanitiser on the body."""
    reading = DocxImport()
    branch_names = {
        _compact(name): pk
        for pk, name in Branch.objects.filter(is_active=True).values_list("pk", "name")
    }
    images = _ImageCollector(reading)

    def transform(document):
        return _recognise(document, reading, branch_names)

    try:
        result = mammoth.convert_to_html(
            stream,
            style_map=STYLE_MAP,
            include_embedded_style_map=False,
            external_file_access=False,
            convert_image=mammoth.images.img_element(images.convert),
            transform_document=transform,
        )
    except Exception:
        # mammoth on a file that passed the checks above but that no Word
        # wrote: whatever it trips on, the writer is told the file is damaged.
        logger.warning("mammoth could not read a Word file", exc_info=True)
        _refuse(_damaged(), "damaged")
    html = _dropped_images_remove(_levels_fit(result.value))
    try:
        reading.body = richtext_clean(html)
    except ValidationError as error:
        raise _Refused(error.messages[0], error.code or "richtext") from None
    if reading.organisation in branch_names:
        reading.branch = Branch.objects.get(pk=branch_names[reading.organisation])
    _count(reading)
    if not (reading.title or reading.lead or reading.body):
        _refuse(_("The document has no text to import."), "no_text")
    return reading


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _block_of(element) -> _Block | None:
    if not isinstance(element, documents.Paragraph):
        return None
    pieces, has_image = [], False
    for descendant in get_descendants(element):
        if isinstance(descendant, documents.Text):
            pieces.append(descendant.value)
        elif isinstance(descendant, documents.Tab):
            pieces.append(" ")
        elif isinstance(descendant, documents.Break):
            pieces.append("\n")
        elif isinstance(descendant, documents.Image):
            has_image = True
    # get_descendants lists a child after its own children, and runs hold
    # only text, so the text of a paragraph comes out in order.
    return _Block(
        element=element,
        text="".join(pieces).strip(),
        style=(element.style_name or "").strip(),
        has_image=has_image,
    )


def _recognise(document, reading: DocxImport, branch_names: dict) -> object:
    """Take the title, tagline, organisation line and lead out of `document`.

    They go to the case's own fields; what is left is the body. Only the top
    of the document is read this way (and its last line, where a signature
    stands); a table ends the top.
    """
    children = list(document.children)
    blocks = [_block_of(child) for child in children]
    taken = set()

    def next_text(start):
        """The index of the next paragraph with text, or None past a table."""
        for index in range(start, len(blocks)):
            if blocks[index] is None:
                return None
            if blocks[index].text:
                return index
        return None

    def organisation(block) -> bool:
        dash = DASH_LINE.match(block.text)
        text = _compact(block.text[dash.end() :] if dash else block.text)
        if not text or len(text) > SHORT_LINE or text.endswith(SENTENCE_END):
            return False
        if text not in branch_names and (dash or not ORGANISATION_ENDING.search(text)):
            return False
        reading.organisation = text
        return True

    position = next_text(0)
    if position is not None and _looks_like_title(blocks[position]):
        title, tagline = " ".join(blocks[position].text.split()), ""
        following = next_text(position + 1)
        subtitle = blocks[following] if following is not None else None
        if subtitle is not None and _is_subtitle(subtitle, branch_names):
            tagline = " ".join(DASH_LINE.sub("", subtitle.text).split())
        if tagline and len(tagline) <= TAGLINE_LENGTH:
            taken.add(following)
            following = next_text(following + 1)
        else:
            tagline = ""
            head, tail = _title_split(title)
            if tail and len(tail) <= TAGLINE_LENGTH:
                title, tagline = head, tail
        if len(title) <= TITLE_LENGTH:
            taken.add(position)
            reading.title, reading.tagline = title, tagline
            position = following
        else:
            taken.clear()
    # The organisation line: under the title, or the signature at the end.
    if position is not None and organisation(blocks[position]):
        taken.add(position)
        position = next_text(position + 1)
    if not reading.organisation:
        last = _last_text(blocks)
        if last is not None and last not in taken and organisation(blocks[last]):
            taken.add(last)
    # The lead: the first paragraph of text, when it is not yet a section and
    # something follows it.
    if position is not None:
        block = blocks[position]
        follows = any(
            later is None or later.text or later.has_image
            for index, later in enumerate(blocks[position + 1 :], start=position + 1)
            if index not in taken
        )
        if (
            follows
            and not block.is_heading
            and not block.has_image
            and not POINT_NUMBER.match(block.text)
        ):
            reading.lead = "\n".join(
                line.strip() for line in block.text.splitlines() if line.strip()
            )
            taken.add(position)
    return document.copy(
        children=[child for index, child in enumerate(children) if index not in taken]
    )


def _is_subtitle(block: _Block, branch_names: dict) -> bool:
    """A 副标题-styled line, or one opening with ——, that is not a signature."""
    if block.style.lower() in SUBTITLE_STYLES:
        return True
    dash = DASH_LINE.match(block.text)
    return dash is not None and _compact(block.text[dash.end() :]) not in branch_names


def _looks_like_title(block: _Block) -> bool:
    style = block.style.lower()
    if style in TITLE_STYLES or HEADING_STYLES.match(style):
        return not SECTION_NUMBER.match(block.text) or style in TITLE_STYLES
    return (
        len(block.text) <= SHORT_LINE
        and "\n" not in block.text
        and not block.text.endswith(SENTENCE_END)
        and not SECTION_NUMBER.match(block.text)
        and not POINT_NUMBER.match(block.text)
    )


def _title_split(title: str) -> tuple[str, str]:
    """党建引领新篇章：筑基·创新·暖心 as (title, tagline); no colon, no tagline."""
    found = TITLE_SEPARATOR.search(title)
    if found is None:
        return title, ""
    head, tail = title[: found.start()].strip(), title[found.end() :].strip()
    return (head, tail) if head else (title, "")


def _last_text(blocks) -> int | None:
    """The index of the document's last paragraph with text, unless a table ends it."""
    for index in range(len(blocks) - 1, -1, -1):
        if blocks[index] is None:
            return None
        if blocks[index].text:
            return index
    return None


# Images ------------------------------------------------------------------


class _ImageCollector:
    """mammoth's image converter: each image checked, re-encoded and held back.

    The body gets a placeholder address under MEDIA_URL (so the sanitiser
    keeps it) that docx_import replaces with the stored image's; an image
    left out gets an address that is removed before the body is cleaned.
    """

    DROPPED = "docx-import-dropped"

    def __init__(self, reading: DocxImport):
        self.reading = reading
        self.token = uuid.uuid4().hex
        self.seen = 0
        self.pixels = 0

    def convert(self, image) -> dict:
        self.seen += 1
        number = self.seen
        if number > MAX_IMAGES:
            if number == MAX_IMAGES + 1:
                self.reading.notes.append(
                    _(
                        "Only the first %(limit)d images were imported; the "
                        "document has more."
                    )
                    % {"limit": MAX_IMAGES}
                )
            return self.dropped()
        try:
            data = self.read(image)
            self.pixel_budget_check(data)
            clean = image_clean(ContentFile(data, name=f"image{number}"))
        except ValidationError as error:
            self.reading.notes.append(
                _("Image %(number)d was left out: %(reason)s")
                % {"number": number, "reason": error.messages[0]}
            )
            return self.dropped()
        # Ends in ".img" so that image 1's address is no prefix of image 10's.
        placeholder = f"{settings.MEDIA_URL}docx-import/{self.token}/{number}.img"
        self.reading.images.append(_Image(clean=clean, placeholder=placeholder))
        return {"src": placeholder}

    def read(self, image) -> bytes:
        """The image's bytes, one more than an upload may have at most."""
        try:
            with image.open() as stream:
                return stream.read(settings.CASEHUB_MAX_IMAGE_BYTES + 1)
        except (KeyError, OSError, EOFError, zipfile.BadZipFile, zlib.error):
            # A picture whose part is missing from the file, or damaged.
            raise ValidationError(
                _("The image is damaged or incomplete."), code="damaged"
            ) from None

    def pixel_budget_check(self, data: bytes) -> None:
        """Refuse an image past the document's pixel budget, from its header."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data), formats=list(FORMATS)) as header:
                    pixels = header.width * header.height
        except (
            Image.DecompressionBombError,
            UnidentifiedImageError,
            OSError,
            ValueError,
            SyntaxError,
        ):
            return  # image_clean says what is wrong with it
        if self.pixels + pixels > MAX_IMAGE_PIXELS_TOTAL:
            raise ValidationError(
                _(
                    "the document's images together have more than %(limit)d "
                    "million pixels; compress the pictures in Word (File › "
                    "Compress Pictures)"
                )
                % {"limit": MAX_IMAGE_PIXELS_TOTAL // 1_000_000},
                code="too_many_pixels",
            )
        self.pixels += pixels

    def dropped(self) -> dict:
        return {"src": self.DROPPED}


_DROPPED_IMAGE = re.compile(rf'<img[^>]*\bsrc="{_ImageCollector.DROPPED}"[^>]*/?>')


def _dropped_images_remove(html: str) -> str:
    return _DROPPED_IMAGE.sub("", html)


def _levels_fit(html: str) -> str:
    """The heading levels mammoth may still write, turned into the site's."""
    html = re.sub(r"<(/?)h1>", r"<\1h2>", html)
    return re.sub(r"<(/?)h[4-6]>", r"<\1p>", html)


# Counting ----------------------------------------------------------------


class _StructureCounter(HTMLParser):
    """Headings, points, paragraphs of text (outside tables), tables in clean HTML."""

    def __init__(self):
        super().__init__()
        self.counts = {"h2": 0, "h3": 0, "p": 0, "table": 0, "point": 0}
        self.in_table = 0
        self.paragraph_text = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.counts["table"] += 1
            self.in_table += 1
        elif tag in ("h2", "h3"):
            self.counts[tag] += 1
        elif tag == "p" and not self.in_table:
            self.paragraph_text = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_table = max(self.in_table - 1, 0)
        elif tag == "p" and self.paragraph_text is not None:
            text = "".join(self.paragraph_text).strip()
            # A paragraph holding only a picture is no paragraph of text.
            self.counts["p"] += bool(text)
            self.counts["point"] += bool(POINT_NUMBER.match(text))
            self.paragraph_text = None

    def handle_data(self, data):
        if self.paragraph_text is not None:
            self.paragraph_text.append(data)


def _count(reading: DocxImport) -> None:
    counter = _StructureCounter()
    counter.feed(reading.body)
    counter.close()
    reading.sections = counter.counts["h2"]
    reading.subsections = counter.counts["h3"]
    reading.paragraphs = counter.counts["p"]
    reading.tables = counter.counts["table"]
    reading.points = counter.counts["point"]
