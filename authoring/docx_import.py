"""导入 Word: a branch's .docx read into a case, structure recognised.

Branches write their cases in Word or WPS after the official-document
conventions; this turns such a file into the case's fields (title, tagline,
lead) and a body the normaliser and the sanitiser have been through, and says
in one line what it recognised, so the writer can check it before saving.

A .docx is a zip of XML parts read by mammoth (≥ 1.11, which reads no linked
file), so everything the file claims is checked from the zip's central
directory before mammoth or any XML parser sees it: the file's size, the
number of parts, their names, their unpacked sizes and compression ratio (a
zip bomb), macros, links to files outside it, the size of every part mammoth
parses (which bounds its time: it builds a DOM of each and walks it in
Python), found by the same rules mammoth finds them by, and their XML itself,
read first with expat (no DTD, so no entity expansion, and a bounded depth,
since mammoth's reader recurses). Python's zipfile stops every read at the
size the central directory declares, so those declared sizes bound what
unpacking can cost however the data lies. Embedded images go through the same
checks as uploads (casehub.images), at most MAX_IMAGES of them and
MAX_IMAGE_PIXELS_TOTAL pixels together, counted from their headers before any
is decoded.

Word's automatic numbering of headings (一、 （一） from numbering.xml rather
than typed) is written out as the text Word shows, so the normaliser sees the
headings; numbered and bulleted lists stay lists.

Nothing is stored until the whole file has passed: `docx_read` writes nothing,
`docx_import` then stores the images as the editor's uploads are stored.

A .doc or .wps file is converted to .docx by LibreOffice where `soffice` is on
the PATH, then read like any other; elsewhere the writer is asked for a .docx.
Only a file that is what its name says, an OLE compound file (the container
of Word 97–2003 and WPS documents) named .doc or .wps, is handed to
LibreOffice, which would otherwise sniff and open HTML, RTF or OpenDocument
and fetch what they link to. It runs in a temporary folder with a fresh
profile and a time limit, one conversion at a time on the machine (a lock
file in the temporary folder), and with no network (`unshare -rn`: a user
and network namespace of its own) where the machine allows that; where it
does not, a warning is logged and the conversion still runs with the
machine's network, so only the links an OLE document can hold (pictures it
links to rather than contains) could be fetched — what comes back with such
links is refused, as any .docx with links is.
"""

import contextlib
import fcntl
import functools
import io
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
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
from mammoth import documents, zips
from mammoth.docx.numbering_xml import Numbering
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
# The XML mammoth parses, all its parts together: the content types, the
# relationships, the document, its styles, numbering, notes and comments.
# mammoth builds a DOM of each and walks it in Python, about 5 s of CPU per MB
# here, so this bounds the import's time. A 20-page case is about 300 KB of
# document and 350 KB of styles, and more than this would not fit
# CASEHUB_RICHTEXT_MAX_BYTES once converted.
MAX_PARSED_XML_BYTES = 2 * 1024 * 1024
# Word nests a text box in a shape in a table cell about 40 elements deep;
# mammoth's reader recurses two or three frames per element.
MAX_XML_DEPTH = 100
MAX_IMAGES = 30
# Photos straight from a phone are 12 million pixels each; Word compresses
# pictures to a tenth of that when it saves, unless told not to.
MAX_IMAGE_PIXELS_TOTAL = 200_000_000
# LibreOffice converting a .doc or .wps, after waiting at most
# CONVERT_WAIT_SECONDS for the conversion before it to end: together below
# gunicorn's 30 s worker timeout. It needs a few hundred MB and a core, so the
# machine makes one at a time.
CONVERT_SECONDS = 20
CONVERT_WAIT_SECONDS = 5
CONVERT_LOCK_NAME = "casehub-libreoffice.lock"

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
LEGACY_SUFFIXES = {".doc": "Word 97–2003 (.doc)", ".wps": "WPS (.wps)"}
CONTENT_TYPES = "[Content_Types].xml"
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
# mammoth reads a relationship only in this namespace and matches its type
# whole; the parts it parses besides the main document are those the
# document's relationships name with these types, else word/<type>.xml.
RELATIONSHIPS_NAMESPACE = "http://schemas.openxmlformats.org/package/2006/relationships"
RELATIONSHIP_TYPE = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
)
PARSED_RELATIONSHIPS = ("comments", "endnotes", "footnotes", "numbering", "styles")
MARKUP_COMPATIBILITY = "http://schemas.openxmlformats.org/markup-compatibility/2006"
WORD_NAMESPACES = frozenset(
    {
        "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
        "http://purl.oclc.org/ooxml/wordprocessingml/main",
    }
)

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
# A point opens a sentence: a paragraph, or what follows a sentence's end (一是
# 抓学习。二是抓落实。) or the colon that announces the points.
POINT_OPENING = re.compile(
    r"(?:^|[。！？；：!?;:][”’」』）)]*)\s*[一二三四五六七八九十]+是"
)
DASH_LINE = re.compile(r"^(?:——|—|--|－－|─+)\s*")
TITLE_SEPARATOR = re.compile(r"[：:]")
ORGANISATION_ENDING = re.compile(r"(党支部|党总支|党委)$")
SENTENCE_END = ("。", "；", ";", "！", "？", "?", "!")
# The longest title line taken for a title without a title style.
SHORT_LINE = 60
TITLE_LENGTH = 120  # Case.title
TAGLINE_LENGTH = 60  # Case.tagline
# Word's numbering formats whose numbers are Chinese (or Japanese) numerals or
# full-width digits: a paragraph numbered with one of them, or with any
# format but bullets and a label holding more than ASCII (（%1） %1、 第%1章),
# is written out with its number as text, for the normaliser to read; other
# numbered paragraphs (1. a) i.) stay lists. "none" shows no number in Word.
NUMBERS_WRITTEN_OUT = frozenset(
    {
        "chineseCounting",
        "chineseCountingThousand",
        "chineseLegalSimplified",
        "ideographDigital",
        "ideographLegalTraditional",
        "ideographTraditional",
        "ideographZodiac",
        "japaneseCounting",
        "japaneseDigitalTenThousand",
        "japaneseLegal",
        "taiwanCounting",
        "taiwanCountingThousand",
        "taiwanDigital",
        "decimalFullWidth",
        "decimalFullWidth2",
        "none",
    }
)
# Word's numbering levels, 0 to 8.
LIST_LEVELS = range(9)
# No separator after a label that ends in full-width punctuation (一、 （一）).
LABEL_CLOSED = re.compile(r"[、，．）】〕」』：\u3000]$")


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
        """The case form's fields this document fills; the others keep theirs.

        The lead and the body are one text, cut where the first section
        starts, so both always come from the document (an empty lead when
        the document opens with a section): a draft's old lead never stands
        above a new body. The title and the tagline are the case's name,
        which a document without them leaves as it was.
        """
        initial = {"body": self.body, "lead": self.lead}
        for name in ("title", "tagline"):
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
            numbering = _archive_check(archive)
        stream.seek(0)
        reading = _convert(stream, numbering)
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
    """A seekable .docx: `upload` itself, or what LibreOffice made of a .doc.

    Only an OLE compound file named .doc or .wps reaches LibreOffice: it
    sniffs what it is given, and opens HTML, RTF or OpenDocument named .doc
    as readily, fetching the pictures they link to.
    """
    _size_check(upload.size or 0)
    upload.seek(0)
    head = upload.read(len(OLE_SIGNATURE))
    upload.seek(0)
    if head.startswith(b"PK"):
        return upload
    if head != OLE_SIGNATURE:
        _refuse(_not_a_docx(), "not_docx")
    suffix = Path(name).suffix.lower()
    if suffix not in LEGACY_SUFFIXES:  # a .docx in a password wrapper
        _refuse(
            _(
                "The file is protected with a password or saved in the old "
                "Word (.doc) format. Remove the password, or save it as a "
                ".docx file in Word or WPS, and import it again."
            ),
            "encrypted_or_legacy",
        )
    soffice = shutil.which("soffice")
    if soffice is None:
        _refuse(
            _(
                "Documents in the old Word (.doc) or WPS (.wps) format cannot be "
                "read here. In Word or WPS, save it as a .docx file (File › Save "
                "As › Word Document) and import that."
            ),
            "legacy",
        )
    with _conversion_slot():
        converted = _libreoffice_convert(upload, soffice=soffice, suffix=suffix)
    notes.append(
        _("Converted from %(format)s with LibreOffice; check the layout.")
        % {"format": LEGACY_SUFFIXES[suffix]}
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


@contextlib.contextmanager
def _conversion_slot():
    """The machine's one LibreOffice conversion, waited for a few seconds.

    A lock on a file in the temporary folder, so that the web workers and the
    management command share it.
    """
    path = Path(tempfile.gettempdir()) / CONVERT_LOCK_NAME
    flags = os.O_RDONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags, 0o644)
    try:
        deadline = time.monotonic() + CONVERT_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    _refuse(
                        _(
                            "Another .doc or .wps document is being converted "
                            "just now. Try again in a minute, or save the file "
                            "as a .docx in Word or WPS and import that."
                        ),
                        "convert_busy",
                    )
                time.sleep(0.1)
        yield
    finally:
        os.close(descriptor)  # and with it the lock


@functools.cache
def _without_network() -> tuple[str, ...]:
    """The prefix that runs a command with no network, or none.

    `unshare -rn` gives the command a user and a network namespace of its
    own, with no interface but a loopback that is down; it needs the kernel
    to allow unprivileged user namespaces, so it is tried once per process.
    """
    unshare = shutil.which("unshare")
    if unshare is not None:
        try:
            probe = subprocess.run(  # noqa: S603 - a fixed command, no shell
                [unshare, "-rn", "true"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            probe = None
        if probe is not None and probe.returncode == 0:
            return (unshare, "-rn")
    logger.warning(
        "unshare -rn does not work here: LibreOffice converts .doc and .wps "
        "files with the machine's network"
    )
    return ()


def _libreoffice_convert(upload, *, soffice: str, suffix: str) -> io.BytesIO:
    """The .docx LibreOffice makes of a .doc or .wps, within CONVERT_SECONDS.

    LibreOffice runs in a folder of its own with a profile of its own (two
    conversions would otherwise share, and lock, the user's), without network
    where `_without_network` can have that, and the whole process group is
    killed when it runs out of time.
    """
    with tempfile.TemporaryDirectory(prefix="casehub-docx-") as work:
        folder = Path(work)
        source = folder / f"source{suffix}"
        upload.seek(0)
        with source.open("wb") as out:
            shutil.copyfileobj(upload, out)
        command = [
            *_without_network(),
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


def _archive_check(archive: zipfile.ZipFile) -> "_Numbering":
    """Refuse a zip that is not a plain Word document, before anything is parsed.

    Every part mammoth parses counts against MAX_PARSED_XML_BYTES: the content
    types and the relationships (all of them, since each is read here first)
    before any is read, then the document and the parts it names, found by
    mammoth's own rules, before those are read. Everything is read with expat
    first; other parts are never unpacked. Returns the document's list
    numbering, read on the way.
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
        # Word names its parts plainly; a name with . or .. in it, or a
        # backslash, is one that readers resolve differently.
        if "\\" in part.filename or {".", ".."} & set(part.filename.split("/")):
            _refuse(_not_word_made(), "part_name")
        unpacked += part.file_size
        if (
            part.file_size > RATIO_CHECKED_ABOVE
            and part.file_size > MAX_RATIO * max(part.compress_size, 1)
        ) or unpacked > MAX_UNPACKED_BYTES:
            _refuse(_bomb(), "bomb")
        if MACRO_PART.search(part.filename):
            _refuse(_macros(), "macros")
    if CONTENT_TYPES not in sizes:
        _refuse(_not_a_docx(), "not_docx")
    package = [CONTENT_TYPES] + [
        name for name in sizes if name.lower().endswith(".rels")
    ]
    if sum(sizes[name] for name in package) > MAX_PARSED_XML_BYTES:
        _refuse(_too_long(), "too_long")
    content_types = _xml_part_check(archive, CONTENT_TYPES, _ContentTypesReader())
    if any(MACRO_CONTENT_TYPE.search(kind) for kind in content_types):
        _refuse(_macros(), "macros")
    if not WORD_MAIN_TYPES.intersection(content_types):
        _refuse(_not_a_docx(), "not_docx")
    relationships = {
        name: _xml_part_check(archive, name, _RelationshipsReader())
        for name in package[1:]
    }
    found = _parsed_parts(relationships, names=sizes)
    if found["main"] not in sizes:
        _refuse(_not_a_docx(), "not_docx")
    reads = _mammoth_reads(found)
    read_here_only = [name for name in package if name not in reads]
    cost = sum(sizes.get(name, 0) for name in [*reads, *read_here_only])
    if cost > MAX_PARSED_XML_BYTES:
        _refuse(_too_long(), "too_long")
    numbering = _Numbering()
    for name in sorted(set(found.values()) - set(package)):
        if name in sizes:
            reader = _NumberingReader(numbering) if name == found["numbering"] else None
            _xml_part_check(archive, name, reader)
    return numbering


def _parsed_parts(relationships: dict, *, names) -> dict[str, str]:
    """The names of the parts mammoth parses, found as mammoth.docx finds them.

    The main document is the first target of the package's officeDocument
    relationships that is a part of the zip, else word/document.xml; its
    styles, numbering, notes and comments likewise from the document's own
    relationships, else word/<type>.xml. Targets are joined to the folder and
    stripped of a leading slash, and nothing else: mammoth does not tidy them.
    """

    def first_part(relationships_name, kind, folder, fallback):
        targets = (
            zips.join_path(folder, target).lstrip("/")
            for relation, target in relationships.get(relationships_name, [])
            if relation == RELATIONSHIP_TYPE + kind
        )
        return next((target for target in targets if target in names), fallback)

    main = first_part("_rels/.rels", "officeDocument", "", "word/document.xml")
    folder = zips.split_path(main)[0]
    found = {"main": main}
    for kind in PARSED_RELATIONSHIPS:
        found[kind] = first_part(
            _relationships_name(main), kind, folder, f"word/{kind}.xml"
        )
    return found


def _mammoth_reads(found: dict[str, str]) -> list[str]:
    """Every part mammoth.docx.read parses, as often as it parses it.

    It reads the document's relationships once to find the parts and once
    with the document, and each note or comment part with its own; a name
    that is no part is skipped. One part named for several kinds is parsed
    once for each.
    """
    main_relationships = _relationships_name(found["main"])
    reads = [CONTENT_TYPES, "_rels/.rels", main_relationships, main_relationships]
    reads += [found["main"], found["styles"], found["numbering"]]
    for kind in ("footnotes", "endnotes", "comments"):
        reads += [found[kind], _relationships_name(found[kind])]
    return reads


def _relationships_name(name: str) -> str:
    """The relationship part of the part `name`, as mammoth names it."""
    folder, base = zips.split_path(name)
    return zips.join_path(folder, "_rels", base + ".rels")


def _too_long():
    return _(
        "The document is too long to import as one case. Split it, or remove "
        "what does not belong to the case, and import it again."
    )


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


def _xml_part_check(archive, name: str, reader=None) -> list:
    """Read one XML part with expat, with no DTD and a bounded depth.

    `reader`, when given, is told of every element (its namespace, local
    name, attributes and depth) and what it collects is returned. A
    relationship to a file outside the zip (a linked picture or object) is
    refused, so that mammoth is never asked to open anything but the zip's
    own parts. The package's own parts (content types, relationships) may
    hold no markup-compatibility elements, which mammoth would read into
    what a part declares and expat would not.
    """
    parser = expat.ParserCreate(namespace_separator=" ")
    depth = 0
    is_relationships = name.lower().endswith(".rels")
    is_package = is_relationships or name == CONTENT_TYPES

    def start(tag, attributes):
        nonlocal depth
        depth += 1
        if depth > MAX_XML_DEPTH:
            _refuse(_not_word_made(), "too_deep")
        namespace, _space, local = tag.rpartition(" ")
        if is_package and namespace == MARKUP_COMPATIBILITY:
            _refuse(_not_word_made(), "alternate_content")
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
        if reader is not None:
            reader.start(namespace, local, attributes, depth)

    def end(tag):
        nonlocal depth
        if reader is not None:
            reader.end(depth)
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
    return reader.declared if reader is not None else []


class _RelationshipsReader:
    """The (type, target) of each relationship, as mammoth reads them: the
    Relationship elements in the package namespace right under the root."""

    def __init__(self):
        self.declared = []

    def start(self, namespace, local, attributes, depth):
        if (depth, namespace, local) == (2, RELATIONSHIPS_NAMESPACE, "Relationship"):
            self.declared.append(
                (attributes.get("Type", ""), attributes.get("Target", ""))
            )

    def end(self, depth):
        pass


class _ContentTypesReader:
    """Every content type [Content_Types].xml declares."""

    def __init__(self):
        self.declared = []

    def start(self, namespace, local, attributes, depth):
        if local in ("Override", "Default"):
            self.declared.append(attributes.get("ContentType", ""))

    def end(self, depth):
        pass


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


def _convert(stream, numbering: "_Numbering") -> DocxImport:
    """mammoth, the recogniser, then the normaliser and sanitiser on the body."""
    reading = DocxImport()
    branch_names = {
        _compact(name): pk
        for pk, name in Branch.objects.filter(is_active=True).values_list("pk", "name")
    }
    images = _ImageCollector(reading)

    def transform(document):
        document = _ListLabels(numbering).document(document)
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


# Numbering ---------------------------------------------------------------


@dataclass
class _Level:
    """One level of a Word list (w:lvl): where it starts and how it reads."""

    start: int = 1
    format: str = "decimal"
    text: str = ""
    # w:lvlRestart: restart after a level up to this one (one-based) is used;
    # 0 never. None: after any shallower level, as Word does by default.
    restart_after: int | None = None
    suffix: str = "tab"
    legal: bool = False  # w:isLgl: every number in the label in digits
    style: str | None = None  # the paragraph style this level is linked to

    @property
    def written_out(self) -> bool:
        if self.format == "bullet":
            return False
        return self.format in NUMBERS_WRITTEN_OUT or not self.text.isascii()


@dataclass
class _AbstractList:
    """A list definition (w:abstractNum), which lists may share."""

    levels: dict[int, _Level] = field(default_factory=dict)
    style_link: str | None = None
    num_style_link: str | None = None


@dataclass
class _List:
    """A list (w:num): its definition and what it overrides of it."""

    abstract: str | None = None
    starts: dict[int, int] = field(default_factory=dict)
    levels: dict[int, _Level] = field(default_factory=dict)


@dataclass
class _Numbering:
    """What numbering.xml defines, as far as counting needs it."""

    abstracts: dict[str, _AbstractList] = field(default_factory=dict)
    lists: dict[str, _List] = field(default_factory=dict)

    def definitions_by_style_link(self) -> dict[str, str]:
        """The definition of each list style, which others name to use it."""
        linked = {}
        for key, abstract in self.abstracts.items():
            if abstract.style_link is not None:
                linked.setdefault(abstract.style_link, key)
        return linked

    def levels_by_style(self) -> dict[str, tuple[str, int]]:
        """Each linked paragraph style's (definition, level), the last
        one winning as in mammoth."""
        return {
            level.style: (key, index)
            for key, abstract in self.abstracts.items()
            for index, level in abstract.levels.items()
            if level.style is not None
        }


class _NumberingReader:
    """Reads numbering.xml into a _Numbering as mammoth sees it: the
    definitions and lists right under the root, mc:Choice left out and
    mc:AlternateContent read through its mc:Fallback."""

    def __init__(self, numbering: _Numbering):
        self.numbering = numbering
        self.declared = []
        # Per open element, its name in Word's namespace ("" for another's),
        # or None for markup compatibility, which mammoth reads through.
        self.open: list[str | None] = []
        self.named: list[str] = []
        self.choice_depth = None
        self.abstract = self.list = self.level = None
        self.override = None
        self.format_read = False

    def start(self, namespace, local, attributes, depth):
        if self.choice_depth is not None:
            return
        if namespace == MARKUP_COMPATIBILITY:
            if local == "Choice":
                self.choice_depth = depth
            self.open.append(None)
            return
        name = local if namespace in WORD_NAMESPACES else ""
        parent = self.named[-1] if self.named else None
        at_top = len(self.named) == 1
        self.open.append(name)
        self.named.append(name)

        def value(attribute="val"):
            return attributes.get(f"{namespace} {attribute}")

        if at_top and name == "abstractNum":
            self.abstract, self.list = _AbstractList(), None
            self.numbering.abstracts[value("abstractNumId")] = self.abstract
        elif at_top and name == "num":
            self.abstract, self.list = None, _List()
            self.numbering.lists[value("numId")] = self.list
        elif parent == "abstractNum" and self.abstract is not None:
            if name == "lvl":
                index = _list_level(value("ilvl"), default=0)
                self.level = self._new_level(self.abstract.levels, index)
            elif name == "styleLink":
                self.abstract.style_link = value()
            elif name == "numStyleLink":
                self.abstract.num_style_link = value()
        elif parent == "num" and self.list is not None:
            if name == "abstractNumId" and self.list.abstract is None:
                self.list.abstract = value()
            elif name == "lvlOverride":
                self.override = _list_level(value("ilvl"), default=None)
        elif parent == "lvlOverride" and self.list is not None:
            if self.override is not None and name == "startOverride":
                self.list.starts[self.override] = _list_number(value(), 1)
            elif self.override is not None and name == "lvl":
                self.level = self._new_level(self.list.levels, self.override)
        elif parent == "lvl" and self.level is not None:
            self._level_property(self.level, name, value())

    def end(self, depth):
        if self.choice_depth is not None:
            if depth != self.choice_depth:
                return
            self.choice_depth = None
        if self.open.pop() is None:
            return
        name = self.named.pop()
        if name == "lvl":
            self.level = None
        elif name == "lvlOverride":
            self.override = None
        elif len(self.named) == 1 and name in ("abstractNum", "num"):
            self.abstract = self.list = None

    def _new_level(self, levels: dict, index: int | None) -> _Level | None:
        self.format_read = False
        if index is None:
            return None
        levels[index] = _Level()
        return levels[index]

    def _level_property(self, level: _Level, name: str, value: str | None) -> None:
        if name == "start":
            level.start = _list_number(value, 1)
        elif name == "numFmt" and not self.format_read:
            level.format = value or "decimal"
            self.format_read = True  # mammoth reads the first
        elif name == "lvlText":
            level.text = value or ""
        elif name == "lvlRestart":
            level.restart_after = _list_number(value, None)
        elif name == "suff":
            level.suffix = value or "tab"
        elif name == "isLgl":
            level.legal = value not in ("0", "false", "off")
        elif name == "pStyle":
            level.style = value


def _list_level(text: str | None, *, default: int | None) -> int | None:
    if text is None:
        return default
    return int(text) if re.fullmatch(r"[0-8]", text) else None


def _list_number(text: str | None, default: int | None) -> int | None:
    """A start value or level number as Word allows it, 0 to 32767."""
    if text is None or not re.fullmatch(r"[0-9]{1,5}", text.strip()):
        return default
    return min(int(text), 32767)


def _list_noted(find_level):
    """mammoth's Numbering.find_level, noting on the level it finds the list
    (w:numId) it was found for.

    mammoth keeps of a paragraph's numbering only its level and whether it is
    ordered, and Word counts per list; this is the one thing changed in
    mammoth, and it changes nothing mammoth does.
    """

    @functools.wraps(find_level)
    def find_level_of_list(numbering, num_id, level):
        found = find_level(numbering, num_id, level)
        if found is not None:
            found.num_id = num_id
        return found

    find_level_of_list.notes_the_list = True
    return find_level_of_list


if not getattr(Numbering.find_level, "notes_the_list", False):
    Numbering.find_level = _list_noted(Numbering.find_level)


class _ListLabels:
    """Word's list numbers counted through the document in order, and the
    paragraphs whose numbers are written out given them as text.

    Counters are kept per list definition and level: a level counts on from
    its last number or starts at w:start (or the list's w:startOverride, the
    first time that list is used), and the deeper levels start again when a
    shallower one counts on, unless their w:lvlRestart says otherwise. A
    paragraph styled as a heading keeps its number too, which mammoth would
    drop.
    """

    def __init__(self, numbering: _Numbering):
        self.numbering = numbering
        self.by_style = numbering.levels_by_style()
        self.by_style_link = numbering.definitions_by_style_link()
        self.values: dict[str | None, dict[int, int]] = {}
        self.restarted: set[tuple[str, int]] = set()

    def document(self, element):
        if isinstance(element, documents.Paragraph):
            element = self.paragraph(element)
        if isinstance(element, (documents.HasChildren, documents.TableCellUnmerged)):
            element = element.copy(
                children=[self.document(child) for child in element.children]
            )
        return element

    def paragraph(self, paragraph):
        located = self.locate(paragraph)
        if located is None:
            return paragraph
        abstract, found_list, num_id, index = located
        level = self.level(abstract, found_list, index)
        if level is None:
            return paragraph
        self.count(abstract, found_list, num_id, index)
        style = (paragraph.style_name or "").strip().lower()
        heading = bool(HEADING_STYLES.match(style)) or style in TITLE_STYLES
        if not (level.written_out or (heading and level.format != "bullet")):
            return paragraph
        label = self.label(abstract, found_list, index, level)
        children = list(paragraph.children)
        if label:
            children.insert(0, documents.run([documents.text(label)]))
        return paragraph.copy(numbering=None, children=children)

    def locate(self, paragraph):
        """(definition, list, numId, level) of a numbered paragraph, or None."""
        numbering = paragraph.numbering
        if numbering is None:
            return None
        num_id = getattr(numbering, "num_id", None)
        if num_id is None:  # numbered through its paragraph style
            linked = self.by_style.get(paragraph.style_id)
            return None if linked is None else (linked[0], None, None, linked[1])
        index = _list_level(numbering.level_index, default=None)
        if index is None:
            return None
        found_list = self.numbering.lists.get(num_id)
        return self.definition_of(found_list), found_list, num_id, index

    def definition_of(self, found_list: _List | None) -> str | None:
        """The definition whose levels a list counts in; Word shares the
        counters of all lists of one definition."""
        if found_list is None:
            return None
        abstract = self.numbering.abstracts.get(found_list.abstract)
        if abstract is not None and abstract.num_style_link is not None:
            # A list style: its levels are in the definition that links it.
            return self.by_style_link.get(abstract.num_style_link)
        return found_list.abstract

    def level(self, abstract, found_list, index) -> _Level | None:
        if found_list is not None and index in found_list.levels:
            return found_list.levels[index]
        definition = self.numbering.abstracts.get(abstract)
        return None if definition is None else definition.levels.get(index)

    def count(self, abstract, found_list, num_id, index) -> None:
        values = self.values.setdefault(abstract, {})
        if (
            found_list is not None
            and index in found_list.starts
            and (num_id, index) not in self.restarted
        ):
            self.restarted.add((num_id, index))
            values[index] = found_list.starts[index]
        elif index in values:
            values[index] += 1
        else:
            values[index] = self.level(abstract, found_list, index).start
        for deeper in [deeper for deeper in values if deeper > index]:
            level = self.level(abstract, found_list, deeper)
            restart = level.restart_after if level is not None else None
            if restart is None or restart > deeper:
                restart = deeper
            if index < restart:
                del values[deeper]

    def label(self, abstract, found_list, index, level: _Level) -> str:
        """The label Word shows (lvlText with its numbers), and a space after
        it unless it closes with full-width punctuation or Word puts nothing."""
        values = self.values[abstract]

        def number(match):
            referenced = int(match.group(1)) - 1
            shown = self.level(abstract, found_list, referenced)
            if shown is None:
                return ""
            value = values.get(referenced, shown.start)
            return _number_text(value, "decimal" if level.legal else shown.format)

        label = re.sub(r"%([1-9])", number, level.text)
        if not label.strip() or level.suffix == "nothing" or LABEL_CLOSED.search(label):
            return label.strip()
        return label + " "


def _chinese_number(
    value: int, digits: str, units: str, groups: str, *, ten_alone: bool = True
) -> str:
    """`value` in Chinese numerals: 十一, 一百零五, 二万零三十.

    `digits` from 零 to 九, `units` 十百千, `groups` 万亿; `ten_alone` writes
    a leading 一十 as 十 (十五, 十万), as everyday (not financial) numerals do.
    """
    if value == 0:
        return "〇" if ten_alone else digits[0]
    quads = []
    while value:
        quads.append(value % 10000)
        value //= 10000
    text, skipped = "", False
    for position in range(len(quads) - 1, -1, -1):
        quad = quads[position]
        if quad == 0:
            skipped = bool(text)
            continue
        if text and (skipped or quad < 1000):
            text += digits[0]
        skipped = False
        written, zero = "", False
        for place in (3, 2, 1, 0):
            digit = quad // 10**place % 10
            if digit == 0:
                zero = bool(written)
                continue
            unit = units[place - 1] if place else ""
            written += (digits[0] if zero else "") + digits[digit] + unit
            zero = False
        text += written + (groups[position - 1] if position else "")
    return text[1:] if ten_alone and text.startswith(digits[1] + units[0]) else text


def _roman(value: int) -> str:
    if not 0 < value < 4000:
        return str(value)
    numerals = (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    )  # fmt: skip
    text = ""
    for amount, numeral in numerals:
        count, value = divmod(value, amount)
        text += numeral * count
    return text


def _digit_by_digit(value: int) -> str:
    return "".join("〇一二三四五六七八九"[int(digit)] for digit in str(value))


def _letters(value: int) -> str:
    """a … z, then aa … zz, as Word counts letters."""
    if value < 1:
        return str(value)
    return chr(ord("a") + (value - 1) % 26) * ((value - 1) // 26 + 1)


SIMPLIFIED = ("零一二三四五六七八九", "十百千", "万亿")
TRADITIONAL = ("零一二三四五六七八九", "十百千", "萬億")
SIMPLIFIED_FORMAL = ("零壹贰叁肆伍陆柒捌玖", "拾佰仟", "万亿")
TRADITIONAL_FORMAL = ("零壹貳參肆伍陸柒捌玖", "拾佰仟", "萬億")
JAPANESE_FORMAL = ("〇壱弐参四伍六七八九", "拾百千", "萬億")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
NUMBER_WRITERS = {
    "decimal": str,
    "decimalZero": lambda value: f"{value:02d}",
    "decimalFullWidth": lambda value: str(value).translate(FULL_WIDTH),
    "decimalFullWidth2": lambda value: str(value).translate(FULL_WIDTH),
    "none": lambda value: "",
    "bullet": lambda value: "",
    "chineseCounting": lambda value: _chinese_number(value, *SIMPLIFIED),
    "chineseCountingThousand": lambda value: _chinese_number(value, *SIMPLIFIED),
    "japaneseCounting": lambda value: _chinese_number(value, *SIMPLIFIED),
    "taiwanCounting": lambda value: _chinese_number(value, *TRADITIONAL),
    "taiwanCountingThousand": lambda value: _chinese_number(value, *TRADITIONAL),
    "chineseLegalSimplified": lambda value: _chinese_number(
        value, *SIMPLIFIED_FORMAL, ten_alone=False
    ),
    "ideographLegalTraditional": lambda value: _chinese_number(
        value, *TRADITIONAL_FORMAL, ten_alone=False
    ),
    "japaneseLegal": lambda value: _chinese_number(
        value, *JAPANESE_FORMAL, ten_alone=False
    ),
    "ideographDigital": _digit_by_digit,
    "taiwanDigital": _digit_by_digit,
    "japaneseDigitalTenThousand": _digit_by_digit,
    "ideographTraditional": lambda value: "甲乙丙丁戊己庚辛壬癸"[(value - 1) % 10],
    "ideographZodiac": lambda value: "子丑寅卯辰巳午未申酉戌亥"[(value - 1) % 12],
    "lowerLetter": _letters,
    "upperLetter": lambda value: _letters(value).upper(),
    "lowerRoman": lambda value: _roman(value).lower(),
    "upperRoman": _roman,
}


def _number_text(value: int, number_format: str) -> str:
    """`value` as Word writes it in `number_format`; digits for the others."""
    return NUMBER_WRITERS.get(number_format, str)(value)


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
            self.counts["point"] += len(POINT_OPENING.findall(text))
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
