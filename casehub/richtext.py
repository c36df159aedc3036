"""The one place rich text is cleaned before it is stored.

Everything CKEditor 5 produces with our toolbar survives; everything else is
dropped. Nothing is trusted because it came from our own editor: a request can
carry any HTML.
"""

import posixpath
import re
import unicodedata
from html.parser import HTMLParser
from urllib.parse import quote, unquote

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from casehub.normalise import VOID_TAGS as NORMALISER_VOID_TAGS
from casehub.normalise import normalise_html

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "h2",
        "h3",
        "h4",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "s",
        "sub",
        "sup",
        "a",
        "ul",
        "ol",
        "li",
        "blockquote",
        "figure",
        "figcaption",
        "img",
        "table",
        "caption",
        "colgroup",
        "col",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "hr",
        "span",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "figure": {"class"},
    "ol": {"start", "reversed"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "col": {"span"},
}
# Tags removed together with everything inside them.
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "svg", "math", "iframe", "object", "embed", "template"}
)
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# The layout classes CKEditor puts on figures; any other class is dropped.
FIGURE_CLASSES = frozenset({"image", "table", "image-style-side", "image_resized"})
SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def _hidden_scheme(address: str) -> bool:
    """True when `address` shows a scheme we do not allow once invisible characters go.

    nh3 keeps an address with, say, a line separator before "javascript:" or a
    control character inside it, as a relative one. Today's browsers read it so
    too; older ones skipped such characters, and no writer means such a link.
    """
    visible = "".join(
        char
        for char in address
        if not char.isspace() and unicodedata.category(char) not in ("Cc", "Cf")
    )
    scheme = SCHEME.match(visible)
    return scheme is not None and scheme.group(1).lower() not in URL_SCHEMES


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href" and _hidden_scheme(value):
        return None
    if attribute == "class":
        kept = [name for name in value.split() if name in FIGURE_CLASSES]
        return " ".join(kept) or None
    if tag == "img" and attribute == "src":
        return media_path(value)
    return value


# Characters a browser drops from anywhere in an address before reading it.
URL_DROPPED = str.maketrans("", "", "\t\n\r")
# What a browser strips from both ends of an address.
C0_AND_SPACE = "".join(chr(code) for code in range(0x21))
# What quote() leaves as it is in a path besides letters and digits.
PATH_SAFE = "/-._~!$&'()*+,;=:@"


def media_path(address: str) -> str | None:
    """`address` as a path inside MEDIA_URL, or None when it leads anywhere else.

    Only images we stored ourselves: an outside address would be fetched by
    every reader's browser and could change after review. And the check is on
    the path the browser will ask for, after it has read `%2e%2e`, `\\` and
    `..` its own way: `/media/../inbox/3/` is a page with side effects, not an
    image. The address comes back rebuilt from the checked path, so what the
    browser asks for is exactly what was checked.
    """
    media = settings.MEDIA_URL
    address = address.strip(C0_AND_SPACE)
    path = address.translate(URL_DROPPED).replace("\\", "/")
    path = re.split(r"[?#]", path, maxsplit=1)[0]
    # Decoded until nothing changes, so no spelling of a dot or a slash is
    # left for a server or a browser to read differently.
    for _round in range(4):
        decoded = unquote(path).replace("\\", "/")
        if decoded == path:
            break
        path = decoded
    else:
        return None
    if not path.startswith("/") or path.startswith("//"):
        return None
    if any(unicodedata.category(char) == "Cc" for char in path):
        return None
    resolved = posixpath.normpath(path)
    if not (resolved + "/").startswith(media) or resolved + "/" == media:
        return None
    return quote(resolved, safe=PATH_SAFE)


# Bounds: checked in one pass before the text reaches the parser, because
# html5ever's cost grows with the depth of the tree it is building (every tag
# looks through the open elements) and with the formatting it has to reopen.
# The pass reads tags as the HTML tokenizer does and counts, on the side of
# caution, what the parser will hold open: a tag it cannot tell closed counts
# as open, the way an unclosed <div> still nests for the parser.

# Elements the parser closes as soon as it opens them: the normaliser's list,
# but for <image> (the parser's alias of <img>), which is counted here as
# staying open, on the side of caution.
VOID_TAGS = NORMALISER_VOID_TAGS - {"image"}
# Elements whose content the tokenizer reads as text up to their own end tag.
RAW_TEXT_TAGS = frozenset(
    {
        "iframe",
        "noembed",
        "noframes",
        "noscript",
        "plaintext",
        "script",
        "style",
        "textarea",
        "title",
        "xmp",
    }
)
# Elements the parser reopens, at every later text or tag, when a block closed
# them without their own end tag: "<div><b></div>" then "<p>x</p>" a thousand
# times builds a thousand <b>.
FORMATTING_TAGS = frozenset(
    {
        "a",
        "b",
        "big",
        "code",
        "em",
        "font",
        "i",
        "nobr",
        "s",
        "small",
        "strike",
        "strong",
        "tt",
        "u",
    }
)
# A table can hold two elements the parser adds by itself (tbody and tr, or
# colgroup), so a table counts for three levels.
TABLE_WEIGHT = 3
# One tag, attributes included. The editor's longest are links (a few hundred
# characters); the parser compares every attribute name with the ones before it.
MAX_TAG_CHARS = 4096

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# What is not text, as the tokenizer reads it: a comment, a CDATA section, a
# bogus comment or doctype (up to where it may end, found separately), or a
# start or end tag with its attributes. A value is quoted only right after
# "=", so a ">" or "</div>" inside one ends nothing. Possessive, so it never
# backtracks.
_MARKUP = re.compile(
    r"<(?:(!--)|(!\[CDATA\[)|([!?]|/(?![A-Za-z]))"
    r"|(/?)([A-Za-z][^\t\n\f\r />]*+)"
    r"(?:[\t\n\f\r /]"
    r"|[^\t\n\f\r />][^\t\n\f\r /=>]*+"
    r"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >]*+))?+"
    r")*+"
    r"(?:>|\Z))"
)
_TAG_OPEN = re.compile(r"<[A-Za-z]")
_RAW_TEXT_END = {
    name: re.compile(rf"</{name}[\t\n\f\r />]", re.ASCII | re.IGNORECASE)
    for name in RAW_TEXT_TAGS
}


# What is stored may be longer than what was sent, by this factor: the
# normaliser writes out the structure the text means, and the most it adds is
# to plain text of one-character lines, "x\n" (2 bytes) becoming "<p>x</p>"
# (8). A heading's <h2> adds 2 bytes to a paragraph of at least 14, a <br>
# made a paragraph break 3 to its line of at least 5, the formatting copied
# around it at most normalise.SPLIT_COST_PER_CHAR per character: less. Only
# escaping on top of that ("&" written "&amp;") grows text more, and such text
# is refused with both sizes.
STORED_GROWTH = 4


def _limit(name: str) -> int:
    return getattr(settings, name)


def _size(html: str) -> int:
    """The size of `html` in bytes, as it is sent and stored (UTF-8)."""
    return len(html.encode("utf-8", "surrogatepass"))


def _too_large(size: int, limit: int) -> ValidationError:
    return ValidationError(
        _(
            "The text is too long: %(size)s KB with its formatting, and at most "
            "%(limit)s KB can be saved. Shorten it, or remove formatting pasted "
            "from other documents."
        ),
        code="richtext_too_large",
        params={"size": -(-size // 1024), "limit": limit // 1024},
    )


def _grows_too_large(size: int, stored: int, limit: int) -> ValidationError:
    return ValidationError(
        _(
            "The text is too long once it is laid out: the %(size)s KB sent "
            "become %(stored)s KB, with a paragraph for every line and special "
            "characters written out, and at most %(limit)s KB can be stored. "
            "Join short lines or shorten the text."
        ),
        code="richtext_too_large",
        params={
            "size": -(-size // 1024),
            "stored": -(-stored // 1024),
            "limit": limit // 1024,
        },
    )


def _too_deep(limit: int) -> ValidationError:
    return ValidationError(
        _(
            "The text's formatting is nested more than %(limit)s levels deep "
            "(lists, tables or styles inside one another). Remove formatting "
            "pasted from other documents and try again."
        ),
        code="richtext_too_deep",
        params={"limit": limit},
    )


def _too_complex() -> ValidationError:
    return ValidationError(
        _(
            "The text's formatting is too complex to check: tags are left open "
            "or are very long. Remove formatting pasted from other documents "
            "and try again."
        ),
        code="richtext_too_complex",
    )


class _Finder:
    """The next match of a pattern at or after a position that only moves on.

    Remembers the last match, so a thousand unclosed comments cost one scan
    to the end of the text, not a thousand.
    """

    def __init__(self, html: str, pattern: re.Pattern):
        self.html, self.pattern = html, pattern
        self.found: re.Match | None = None
        self.searched_from = -1

    def end_after(self, start: int) -> int:
        """Where the next match at or after `start` ends (the text's end if none)."""
        if self.searched_from < 0 or (
            self.found is not None and self.found.start() < start
        ):
            self.found = self.pattern.search(self.html, start)
            self.searched_from = start
        return len(self.html) if self.found is None else self.found.end()

    def start_after(self, start: int) -> int:
        self.end_after(start)
        return len(self.html) if self.found is None else self.found.start()


_COMMENT_END = re.compile(r"--!?>")
_GT = re.compile(r">")
_CDATA_END = re.compile(r"\]\]>")


def richtext_bounds_check(html: str) -> None:
    """Raise ValidationError unless `html` is within the bounds rich text may have.

    In time linear in the length of `html`, and before any parser sees it:
    at most CASEHUB_RICHTEXT_MAX_BYTES bytes (UTF-8), at most
    CASEHUB_RICHTEXT_MAX_DEPTH elements open inside one another, no tag longer
    than MAX_TAG_CHARS, and a bounded amount of formatting for the parser to
    reopen.
    """
    _check_bounds(html, _limit("CASEHUB_RICHTEXT_MAX_BYTES"))


def _check_bounds(html: str, max_bytes: int) -> None:
    """richtext_bounds_check, with at most `max_bytes` bytes."""
    if not html:
        return
    if len(html) > max_bytes or _size(html) > max_bytes:
        raise _too_large(_size(html), max_bytes)
    max_depth = _limit("CASEHUB_RICHTEXT_MAX_DEPTH")
    # Each time the parser may reopen formatting it reopens at most what is
    # open; the sum over the text bounds the elements it can add. Well-formed
    # editor output reopens nothing and stays far below a quarter of its size.
    reopen_budget = max_bytes // 4
    stack: list[tuple[str | None, int]] = []  # (tag name or None, levels)
    depth = formatting = reopened = 0

    def open_unknown(count: int) -> None:
        # Tags inside a comment or raw text: the parser may yet read them as
        # tags (a comment inside a script is not one), so they count as open
        # for good, and as formatting.
        nonlocal depth, formatting
        if count:
            stack.extend([(None, 1)] * count)
            depth += count
            formatting += count

    finders = {
        "comment": _Finder(html, _COMMENT_END),
        ">": _Finder(html, _GT),
        "]]>": _Finder(html, _CDATA_END),
        **{name: _Finder(html, pattern) for name, pattern in _RAW_TEXT_END.items()},
    }
    length = len(html)
    position = 0
    while position < length:
        found = _MARKUP.search(html, position)
        start = length if found is None else found.start()
        if start > position:
            reopened += formatting  # a run of text
        if found is None:
            break
        comment, cdata, closing, name = found.group(1, 2, 4, 5)
        if name is None:
            # Where the tokenizer ends it, or later: what follows is markup.
            end = found.end()
            if comment and html.startswith(">", end):
                end += 1
            elif comment and html.startswith("->", end):
                end += 2
            elif comment:
                end = finders["comment"].end_after(end)
            elif cdata:
                # In SVG or MathML a CDATA section runs to "]]>", elsewhere to ">".
                end = max(finders[">"].end_after(end), finders["]]>"].end_after(end))
            else:
                end = finders[">"].end_after(end)
            open_unknown(len(_TAG_OPEN.findall(html, found.end(), end)))
            reopened += formatting
            position = end
        else:
            if found.end() - start > MAX_TAG_CHARS:
                raise _too_complex()
            position = found.end()
            name = name.translate(_ASCII_LOWER)
            if closing:
                # Only the innermost open element is closed for certain; any
                # other end tag may be ignored or may leave formatting to reopen.
                if stack and stack[-1][0] == name:
                    depth -= stack.pop()[1]
                    formatting -= name in FORMATTING_TAGS
            else:
                reopened += formatting
                if name not in VOID_TAGS:
                    levels = TABLE_WEIGHT if name == "table" else 1
                    stack.append((name, levels))
                    depth += levels
                    formatting += name in FORMATTING_TAGS
                if name in RAW_TEXT_TAGS:
                    end = (
                        length
                        if name == "plaintext"
                        else finders[name].start_after(position)
                    )
                    open_unknown(len(_TAG_OPEN.findall(html, position, end)))
                    position = end
        if depth > max_depth:
            raise _too_deep(max_depth)
        if reopened > reopen_budget:
            raise _too_complex()


def _clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_filter_attribute,
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


def sanitize_html(html: str) -> str:
    """Return `html` reduced to the allow-list above.

    Raises ValidationError, before any parsing, for text beyond the bounds of
    richtext_bounds_check; and for text whose cleaned form is beyond them
    (escaping can make it longer), so whatever is stored can be cleaned again.
    """
    if not html:
        return ""
    richtext_bounds_check(html)
    cleaned = _clean(html)
    if cleaned != html:  # already checked when it is unchanged, as stored text is
        richtext_bounds_check(cleaned)
    return cleaned


# The last text cleaned, with the settings the cleaning reads, and what it
# became: a form's validator cleans the text and the model cleans it again
# when it is saved, so the second time costs nothing.
_last_cleaned: tuple = ()


def richtext_clean(html: str) -> str:
    """Return incoming rich text normalised, then reduced to the allow-list.

    Every path that brings rich text in (forms, paste, import, admin) calls
    this, so they all store the same thing. The bounds are checked before the
    normaliser parses anything, and again on what is to be stored.

    The size limit is on what was sent, and the refusal says that size; what
    is stored may be up to STORED_GROWTH times the limit, the normaliser's
    own growth. Stored text comes back here at every save of its row (a case
    is saved at every step of its review), so text beyond the limit but
    within that growth passes when cleaning leaves it as it is: it is what
    was stored. What a form receives is held to the limit by
    validate_richtext.
    """
    global _last_cleaned
    if not html:
        return ""
    max_bytes = _limit("CASEHUB_RICHTEXT_MAX_BYTES")
    key = (html, settings.MEDIA_URL, max_bytes, _limit("CASEHUB_RICHTEXT_MAX_DEPTH"))
    last = _last_cleaned  # one read: another thread may replace it
    if last and last[0] == key:
        return last[1]
    stored_max = STORED_GROWTH * max_bytes
    size = _size(html)
    if len(html) > stored_max or size > stored_max:
        raise _too_large(size, max_bytes)
    _check_bounds(html, max_bytes if size <= max_bytes else stored_max)
    cleaned = _clean(normalise_html(html))
    if cleaned != html:
        if size > max_bytes:
            raise _too_large(size, max_bytes)
        stored = _size(cleaned)
        if stored > stored_max:
            raise _grows_too_large(size, stored, stored_max)
        _check_bounds(cleaned, stored_max)
    _last_cleaned = (key, cleaned)
    return cleaned


def validate_richtext(value: str) -> None:
    """Form and model field validator: the text can be cleaned and stored.

    What is sent is at most CASEHUB_RICHTEXT_MAX_BYTES, checked before any
    parsing, even when it is already as it would be stored: only stored text
    may be larger, and stored text sent again is sent. What the normaliser
    makes of it (a paragraph per line, say) has to be within the bounds of
    stored text.
    """
    max_bytes = _limit("CASEHUB_RICHTEXT_MAX_BYTES")
    if value and (len(value) > max_bytes or _size(value) > max_bytes):
        raise _too_large(_size(value), max_bytes)
    richtext_clean(value)


class _ImagesWithoutAlt(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.images = 0
        self.found: list[tuple[int, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images += 1
            attributes = dict(attrs)
            if not (attributes.get("alt") or "").strip():
                self.found.append((self.images, attributes.get("src") or ""))


def images_without_alt(html: str) -> list[tuple[int, str]]:
    """(number, address) of each image in `html` with no text alternative,
    numbered among all the images of the text from 1.

    A screen reader has nothing to say for such an image but, at best, its file
    name, so the writer is shown these before submitting. `html` is stored
    text, already within the bounds above: one linear pass.
    """
    parser = _ImagesWithoutAlt()
    parser.feed(html or "")
    parser.close()
    return parser.found
