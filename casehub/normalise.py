"""Rich text as branches write it, brought to one structure before it is cleaned.

Branches write in Word or WPS by the official-document conventions (GB/T 9704)
and then paste, import or type what they wrote. Every path ends here first
(casehub.richtext.richtext_clean: bounds, this, then nh3), so a body pasted from
Word, an imported .docx and a note typed into a textarea are stored alike:

- a short line numbered 一、 is a section heading (h2), one numbered （一） or
  (一) a sub-heading (h3), however it was marked up: plain, bold, in a Word
  heading style; but 一、二季度… counts numbers and is no heading;
- a paragraph with nothing to read goes, and formatting around nothing but
  such paragraphs with it; a paragraph broken by <br>, at any depth, or text
  without markup broken by line ends, becomes one paragraph per line, a
  heading one heading per line; spaces typed at a paragraph's start as its
  indent go (the stylesheet indents);
- nothing else. No other character a reader sees changes, 一是… points and a
  bold run-in phrase stay as they were, and tables, lists and figures are
  left as they came.

Normalising what this module made changes nothing, so stored text can be saved
again and again.

The parser is our own rather than html.parser or lxml: Python 3.11's
html.parser scans the rest of the text again at every unclosed comment or
declaration (quadratic; CVE-2025-6069) and reads some tags differently from
the HTML standard, and lxml's libxml2 builds a pre-HTML5 tree and gives up
past 256 levels. This one reads text as the standard's tokenizer does (tags,
quoted attributes, comments, Word's conditional comments, raw text elements,
SVG and MathML), every step consuming input, and builds the tree the
standard's way for what editors write (paragraphs, list items, headings,
table cells, links, where SVG ends): linear in the text times its depth,
which is bounded here as well as by richtext_bounds_check. Where hostile
markup makes a browser's tree differ (misnested formatting, foster-parented
table text) the text is still all there, and the result is only ever the
sanitiser's input: the sanitiser has the last word.
"""

import re
from html import unescape

# A heading is a line of at most this many characters, its number included:
# a section heading in an official document seldom passes 30, a sentence does.
HEADING_MAX_CHARS = 40
# A line with one of these is a sentence, whatever number it starts with.
SENTENCE_PUNCTUATION = frozenset("。！？；!?;")
NUMERALS = "一二三四五六七八九十"
SECTION_NUMBER = re.compile(rf"[{NUMERALS}]{{1,3}}、")
SUBSECTION_NUMBER = re.compile(rf"[（(][{NUMERALS}]{{1,3}}[）)]")
NUMBER_STARTS = frozenset(NUMERALS + "（(")
# What follows a section number and starts with the next number is a list of
# numbers, not a title: 一、二季度… (the first and second quarters), 三、四季度….
NUMERAL_RUN = re.compile(rf"[{NUMERALS}]+")
DIGIT_VALUES = {numeral: value for value, numeral in enumerate(NUMERALS[:9], 1)}
# What an indent is typed with: ASCII spaces, no-break and ideographic spaces.
INDENT = " \t\n\f\r\u00a0\u3000"

# The normaliser's own bounds, for callers that did not check the text first:
# beyond them the text is handed on unchanged, for the sanitiser to refuse.
MAX_CHARS = 1024 * 1024
MAX_DEPTH = 300
# Splitting a line inside formatting copies the formatting around the break;
# the copies may add at most this much markup per character of input.
SPLIT_COST_PER_CHAR = 2

VOID_TAGS = frozenset(
    {
        "area",
        "base",
        "basefont",
        "bgsound",
        "br",
        "col",
        "embed",
        "frame",
        "hr",
        "image",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
# Raw text elements: the tokenizer reads them up to their own end tag. These
# never show their text here: the sanitiser drops the first three with it,
# and a <title> is dropped by our choice (it names the document Word copied
# the text from, it is not body text; the sanitiser alone would keep its
# text in the paragraph) ...
DROPPED_RAW_TAGS = frozenset({"script", "style", "iframe", "title"})
# ... and these show it as text once the sanitiser removes the tag.
TEXT_RAW_TAGS = frozenset(
    {"textarea", "xmp", "noscript", "noembed", "noframes", "plaintext"}
)
ESCAPABLE_RAW_TAGS = frozenset({"textarea"})
# Elements whose content is not text a reader sees (the sanitiser drops them
# with everything inside); never split, never searched for headings.
OPAQUE_TAGS = frozenset({"svg", "math", "template", "object"})
TABLE_PARTS = frozenset(
    {"caption", "colgroup", "tbody", "thead", "tfoot", "tr", "td", "th"}
)
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Elements that start a block and end an open paragraph (the standard's list
# for a start tag "in body").
BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dd",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "header",
        "hgroup",
        "hr",
        "li",
        "listing",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "search",
        "section",
        "summary",
        "table",
        "ul",
        "xmp",
        "plaintext",
        *HEADING_TAGS,
    }
)
# Blocks left as they came: our editor's tables, lists and figures. Every
# other block (a division, a quotation, formatting with blocks in it, a block
# the sanitiser unwraps) holds text normalised like the text around it.
LEFT_ALONE_TAGS = (
    frozenset({"table", "ul", "ol", "li", "figure", "figcaption", "hr"}) | TABLE_PARTS
)
# Blocks whose line ends are line breaks.
LINE_BLOCK_TAGS = frozenset({"pre", "listing"})
# Inside a quotation a numbered line is quoted text, not this case's heading.
NO_HEADINGS_INSIDE = frozenset({"blockquote"})
# Where a search for the element an end tag closes stops (the standard's
# "scope"; SVG's and MathML's HTML integration points stop it too) ...
END_TAG_SCOPE = frozenset(
    {"#root", "applet", "caption", "marquee", "object", "table", "td", "th"}
    | {"template"}
)
# ... and a search for an open <p> ("button scope"), and for an open table.
P_SCOPE = END_TAG_SCOPE | {"button"}
TABLE_SCOPE = frozenset({"#root", "template"})
# Start tags that end the SVG or MathML they appear in.
BREAKOUT_TAGS = frozenset(
    {"b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl"}
    | {"dt", "em", "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i"}
    | {"img", "li", "listing", "menu", "meta", "nobr", "ol", "p", "pre", "ruby"}
    | {"s", "small", "span", "strong", "strike", "sub", "sup", "table", "tt", "u"}
    | {"ul", "var"}
)
# Where a new <li>, <dd> or <dt> stops looking for an open one to close.
LIST_ITEM_SCOPE = frozenset(
    {"#root", "ul", "ol", "dl", "menu", "dir", "table", "td", "th", "caption"}
    | {"template", "blockquote", "figure", "section", "article", "aside", "nav"}
)
# Formatting a heading does not need: the stylesheet sets headings in bold,
# and Word wraps every run of text in spans and fonts. Tags with a colon are
# Word's own (o:p, st1:chsdate).
HEADING_UNWRAPPED = frozenset({"b", "strong", "span", "font", "big", "small"})
# Heading elements and Word's heading styles by level; our editor offers h2
# and h3, the sanitiser also keeps h4.
HEADING_LEVEL_OF_TAG = {"h1": 2, "h2": 2, "h3": 3, "h4": 4, "h5": 4, "h6": 4}
WORD_HEADING_CLASS = re.compile(r"(?:^|\s)MsoHeading([1-9])(?:\s|$)", re.IGNORECASE)
WORD_OUTLINE_LEVEL = re.compile(r"mso-outline-level\s*:\s*([1-9])", re.IGNORECASE)

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# Most tags are plain (simple names, values quoted or plain, spaces between
# attributes): read at once. Any other tag is read step by step below.
_PLAIN_TAG = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9:-]*+)"
    r"((?:[\t\n\f\r ]++[A-Za-z_:][-A-Za-z0-9_:.]*+"
    r"(?:=(?:\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >\"'=<`]++))?+)*+)"
    r"[\t\n\f\r ]*+(/?)>"
)
# Applied only to what _PLAIN_TAG matched, so it cannot fail to match; not
# possessive, which Python's re runs faster.
_PLAIN_ATTRIBUTE = re.compile(
    r"[\t\n\f\r ]+([A-Za-z_:][-A-Za-z0-9_:.]*)"
    r"(?:=(?:\"([^\"]*)\"|'([^']*)'|([^\t\n\f\r >\"'=<`]+)))?"
)
_TAG_NAME = re.compile(r"[A-Za-z][^\t\n\f\r />]*+")
_SPACE_OR_SLASH = re.compile(r"[\t\n\f\r /]*+")
_SPACE = re.compile(r"[\t\n\f\r ]*+")
_ATTRIBUTE_NAME = re.compile(r"[^\t\n\f\r />][^\t\n\f\r /=>]*+")
_EQUALS = re.compile(r"[\t\n\f\r ]*+=")
_UNQUOTED_VALUE = re.compile(r"[^\t\n\f\r >]*+")
# Names worth handing on: the sanitiser keeps a few plain ones and drops the rest.
_KEPT_ATTRIBUTE_NAME = re.compile(r"[a-z_:][-a-z0-9_:.]*+")
_COMMENT_END = re.compile(r"--!?>")
_RAW_END = {
    name: re.compile(rf"</{name}[\t\n\f\r />]", re.ASCII | re.IGNORECASE)
    for name in DROPPED_RAW_TAGS | TEXT_RAW_TAGS
}


# Start tags that close an element, open SVG or MathML, open raw text, or are
# ignored; any other start tag only opens an element.
_START_TAGS_THAT_CLOSE = (
    BLOCK_TAGS
    | TABLE_PARTS
    | HEADING_TAGS
    | frozenset(_RAW_END)
    | {"a", "col", "dd", "dt", "li", "svg", "math", "html", "head", "body"}
)


class _TooComplex(Exception):
    """Beyond the normaliser's own bounds: the text is handed on unchanged."""


class _Element:
    __slots__ = ("attrs", "children", "has_block", "has_break", "namespace", "tag")

    def __init__(self, tag: str, attrs=(), children=None, namespace=None):
        self.tag = tag
        self.attrs = attrs
        self.children = [] if children is None else children
        self.namespace = namespace  # None for HTML, else "svg" or "math"
        self.has_block = self.has_break = False

    def copy_empty(self) -> "_Element":
        return _Element(self.tag, self.attrs)

    def markup_cost(self) -> int:
        return 5 + 2 * len(self.tag) + sum(4 + len(n) + len(v) for n, v in self.attrs)


class _TokenizerState:
    """What the tree builder tells the tokenizer, as in the standard: whether
    the current element is SVG or MathML (a CDATA section is text there), and
    that the start tag just read opened a raw text element."""

    __slots__ = ("foreign", "raw")

    def __init__(self):
        self.foreign = False
        self.raw: str | None = None


# Tokens: (kind, name or text, attributes, self-closing)
_TEXT, _START, _END = 0, 1, 2


def _read_attributes(html: str, position: int):
    """The attributes of the tag whose name ends at `position`, as the standard
    reads them, where the tag ends and whether it closes itself; None when the
    text ends inside it."""
    length = len(html)
    attributes: list[tuple[str, str]] = []
    seen: set[str] = set()
    while True:
        skipped = _SPACE_OR_SLASH.match(html, position)
        position = skipped.end()
        if position >= length:
            return None
        if html[position] == ">":
            return attributes, position + 1, skipped.group().endswith("/")
        name_match = _ATTRIBUTE_NAME.match(html, position)
        name = name_match.group().translate(_ASCII_LOWER)
        position = name_match.end()
        value = ""
        equals = _EQUALS.match(html, position)
        if equals:
            position = _SPACE.match(html, equals.end()).end()
            if position >= length:
                return None
            quote = html[position]
            if quote in "\"'":
                closing = html.find(quote, position + 1)
                if closing < 0:
                    return None
                value = html[position + 1 : closing]
                position = closing + 1
            elif quote != ">":
                unquoted = _UNQUOTED_VALUE.match(html, position)
                value = unquoted.group()
                position = unquoted.end()
        # The first of two attributes with one name counts, as in a browser.
        if name not in seen and _KEPT_ATTRIBUTE_NAME.fullmatch(name):
            seen.add(name)
            attributes.append((name, value))


def _plain_attributes(text: str):
    if not text:
        return ()
    attributes = {}
    for name, double_quoted, single_quoted, unquoted in _PLAIN_ATTRIBUTE.findall(text):
        name = name.translate(_ASCII_LOWER)
        if name not in attributes:  # the first of two with one name counts
            attributes[name] = double_quoted or single_quoted or unquoted
    return list(attributes.items())


def _tokens(html: str, state: _TokenizerState):
    """Text (with its character references read), start and end tags, in order.

    Comments, doctypes, processing instructions and Word's conditional
    comments (<!--[if …]>…<![endif]--> and <![if …]>) are dropped, as the
    sanitiser drops them; what lies between <![if …]> and <![endif]> is text a
    browser shows, so it stays. Attribute values are kept as written, for the
    browser to read their references exactly as before.
    """
    length = len(html)
    position = 0
    while position < length:
        less_than = html.find("<", position)
        if less_than < 0:
            less_than = length
        if less_than > position:
            yield _TEXT, unescape(html[position:less_than]), None, False
        if less_than >= length:
            return
        position = less_than
        plain = _PLAIN_TAG.match(html, position)
        following = "" if plain else html[position + 1 : position + 2]
        if plain:
            position = plain.end()
            closing, name, attributes, self_closing = plain.groups()
            name = name.translate(_ASCII_LOWER)
            if closing:
                yield _END, name, (), False
            else:
                yield _START, name, _plain_attributes(attributes), bool(self_closing)
        elif html.startswith("<!--", position):
            if html.startswith("<!-->", position):
                position += 5
            elif html.startswith("<!--->", position):
                position += 6
            else:
                end = _COMMENT_END.search(html, position + 4)
                position = length if end is None else end.end()
            continue
        elif state.foreign and html.startswith("<![CDATA[", position):
            end = html.find("]]>", position + 9)
            end = length if end < 0 else end
            if end > position + 9:
                yield _TEXT, html[position + 9 : end], None, False
            position = min(end + 3, length)
            continue
        elif following in ("!", "?"):
            closing = html.find(">", position + 2)
            position = length if closing < 0 else closing + 1
            continue
        elif following == "/":
            after = html[position + 2 : position + 3]
            if not after:
                yield _TEXT, "</", None, False
                return
            if after.isascii() and after.isalpha():
                name = _TAG_NAME.match(html, position + 2)
                read = _read_attributes(html, name.end())
                if read is None:
                    return
                position = read[1]
                yield _END, name.group().translate(_ASCII_LOWER), (), False
            else:  # "</>" is dropped, "</ …>" is a comment
                closing = html.find(">", position + 2)
                position = length if closing < 0 else closing + 1
            continue
        elif following.isascii() and following.isalpha():
            name_match = _TAG_NAME.match(html, position + 1)
            read = _read_attributes(html, name_match.end())
            if read is None:
                return
            attributes, position, self_closing = read
            name = name_match.group().translate(_ASCII_LOWER)
            yield _START, name, attributes, self_closing
        else:
            yield _TEXT, "<", None, False
            position += 1
            continue
        if state.raw:
            # The builder opened a raw text element: its text runs to its end tag.
            name, state.raw = state.raw, None
            if name == "plaintext":
                end = length
            else:
                found = _RAW_END[name].search(html, position)
                end = length if found is None else found.start()
            raw = html[position:end]
            position = end
            if raw and name not in DROPPED_RAW_TAGS:
                yield (
                    _TEXT,
                    unescape(raw) if name in ESCAPABLE_RAW_TAGS else raw,
                    None,
                    False,
                )


def _integration_point(element: _Element) -> bool:
    """An SVG or MathML element whose content is read as HTML."""
    if element.namespace == "svg":
        return element.tag in ("foreignobject", "desc", "title")
    if element.namespace == "math":
        if element.tag == "annotation-xml":
            encoding = dict(element.attrs).get("encoding", "").lower()
            return encoding in ("text/html", "application/xhtml+xml")
        return element.tag in ("mi", "mo", "mn", "ms", "mtext")
    return False


class _OpenElements:
    """The stack of open elements, with what a search of it needs at hand.

    A search for an open element stops at the first element of its scope (or
    an integration point): every entry notes where the nearest of those is
    below it, and every name where its innermost open elements are, so each
    search costs the same at any depth.
    """

    SCOPES = (END_TAG_SCOPE, P_SCOPE, LIST_ITEM_SCOPE, TABLE_SCOPE)

    def __init__(self, root: _Element):
        self.stack = [root]
        self.limits = [(0, 0, 0, 0)]  # per entry: nearest boundary, per scope
        self.html_below = [0]  # per entry: the nearest HTML element
        self.html_open: dict[str, list[int]] = {}
        self.foreign_open: dict[str, list[int]] = {}

    def __len__(self):
        return len(self.stack)

    @property
    def top(self) -> _Element:
        return self.stack[-1]

    def push(self, element: _Element) -> None:
        index = len(self.stack)
        if element.namespace is None:
            below = self.limits[-1]
            if element.tag in _SCOPE_TAGS:
                below = tuple(
                    index if element.tag in scope else below[kind]
                    for kind, scope in enumerate(self.SCOPES)
                )
            self.limits.append(below)
            self.html_below.append(index)
            self.html_open.setdefault(element.tag, []).append(index)
        else:
            integration = _integration_point(element)
            self.limits.append((index,) * 4 if integration else self.limits[-1])
            self.html_below.append(self.html_below[-1])
            self.foreign_open.setdefault(element.tag, []).append(index)
        self.stack.append(element)

    def pop(self) -> None:
        element = self.stack.pop()
        self.limits.pop()
        self.html_below.pop()
        named = self.html_open if element.namespace is None else self.foreign_open
        named[element.tag].pop()

    def truncate(self, index: int) -> None:
        """Close the element at `index` and everything inside it."""
        while len(self.stack) > index:
            self.pop()

    def find(self, names, scope: int) -> int:
        """Where the innermost open HTML element named in `names` is, unless an
        element of the scope numbered `scope` is open inside it; else 0."""
        limit = self.limits[-1][scope]
        found = 0
        for name in names:
            indices = self.html_open.get(name)
            if indices and indices[-1] >= limit:
                found = max(found, indices[-1])
        return found

    def find_foreign(self, name: str) -> int:
        """Where the innermost SVG or MathML element `name` is, if no HTML
        element is open inside it; else 0."""
        indices = self.foreign_open.get(name)
        if indices and indices[-1] > self.html_below[-1]:
            return indices[-1]
        return 0


_END_SCOPE, _P_SCOPE, _LIST_SCOPE, _TABLE_SCOPE = range(4)
_SCOPE_TAGS = frozenset().union(*_OpenElements.SCOPES)


def _tree(html: str) -> _Element:
    """The element tree of `html`, closing elements the standard's way for
    what editors write."""
    root = _Element("#root")
    open_elements = _OpenElements(root)
    state = _TokenizerState()
    # Text is joined once, when something else comes, so a long run of text
    # broken by tags that change nothing is not copied again at every piece.
    pending_text: list[str] = []

    def flush_text():
        if pending_text:
            open_elements.top.children.append("".join(pending_text))
            pending_text.clear()

    def close_to(index: int):
        if index:
            flush_text()
            open_elements.truncate(index)

    def close_p():
        close_to(open_elements.find(("p",), _P_SCOPE))

    def insert(name, attributes, self_closing, namespace=None):
        flush_text()
        element = _Element(name, attributes, namespace=namespace)
        open_elements.top.children.append(element)
        if not (name in VOID_TAGS or (namespace and self_closing)):
            open_elements.push(element)
            if len(open_elements) > MAX_DEPTH:
                raise _TooComplex

    def foreign(kind, name, attributes, self_closing) -> bool:
        """A token inside SVG or MathML; False when it is to be read as HTML."""
        if kind == _START:
            breaks_out = name in BREAKOUT_TAGS or (
                name == "font"
                and any(key in ("color", "face", "size") for key, _ in attributes)
            )
            if not breaks_out:
                insert(name, attributes, self_closing, open_elements.top.namespace)
                return True
        elif name not in ("p", "br"):
            index = open_elements.find_foreign(name)
            if index:
                close_to(index)
                return True
            return False  # read by the HTML rules
        # HTML that ends the SVG or MathML around it.
        flush_text()
        top = open_elements.top
        while top.namespace is not None and not _integration_point(top):
            open_elements.pop()
            top = open_elements.top
        return False

    def process(kind, name, attributes, self_closing):
        current = open_elements.top
        # Inside SVG or MathML only a start tag at an integration point is HTML.
        if (
            current.namespace is not None
            and (
                kind == _END
                or not _integration_point(current)
                or name in ("mglyph", "malignmark")
            )
            and foreign(kind, name, attributes, self_closing)
        ):
            return
        if name in ("html", "head", "body"):
            return
        if kind == _END:
            if name == "br":  # </br> is read as <br>
                insert("br", (), False)
            elif name in TABLE_PARTS or name == "table":
                close_to(open_elements.find((name,), _TABLE_SCOPE))
            elif name == "p":
                close_p()
            else:
                close_to(open_elements.find((name,), _END_SCOPE))
            return
        if name in ("svg", "math"):
            insert(name, attributes, self_closing, name)
            return
        if name in TABLE_PARTS or name == "col":
            if not open_elements.find(("table",), _TABLE_SCOPE):
                return  # a browser ignores a cell outside a table
            stops = {
                "td": ("tr", "tbody", "thead", "tfoot", "table"),
                "th": ("tr", "tbody", "thead", "tfoot", "table"),
                "tr": ("tbody", "thead", "tfoot", "table"),
            }.get(name, ("table",))
            flush_text()
            while open_elements.top.tag not in stops:
                open_elements.pop()
        elif name in ("li", "dd", "dt"):
            siblings = ("li",) if name == "li" else ("dd", "dt")
            close_to(open_elements.find(siblings, _LIST_SCOPE))
        if name in BLOCK_TAGS:
            close_p()
        if name in _RAW_END:
            flush_text()
            state.raw = name
            return
        if name == "a":  # a link inside a link ends the first one
            close_to(open_elements.find(("a",), _END_SCOPE))
        if name in HEADING_TAGS and open_elements.top.tag in HEADING_TAGS:
            flush_text()
            open_elements.pop()
        insert(name, attributes, self_closing)

    for kind, name, attributes, self_closing in _tokens(html, state):
        if kind == _TEXT:
            pending_text.append(name)
            continue
        current = open_elements.top
        if current.namespace is None:
            # The common cases first: the end tag of the element just opened,
            # and a start tag that closes nothing.
            if kind == _END and current.tag == name:
                flush_text()
                open_elements.pop()
                state.foreign = open_elements.top.namespace is not None
                continue
            if kind == _START and (
                name not in _START_TAGS_THAT_CLOSE
                or (name == "p" and not open_elements.find(("p",), _P_SCOPE))
            ):
                insert(name, attributes, self_closing)
                continue
        process(kind, name, attributes, self_closing)
        state.foreign = open_elements.top.namespace is not None
    flush_text()
    return root


def _mark(element: _Element) -> None:
    """Note on every element whether a block or a line break is inside it."""
    for child in element.children:
        if isinstance(child, str):
            continue
        if child.tag in OPAQUE_TAGS:
            continue
        if child.children:
            _mark(child)
        if child.tag in BLOCK_TAGS or child.tag in TABLE_PARTS or child.has_block:
            element.has_block = True
        if child.tag == "br" or child.has_break:
            element.has_break = True


def _remark(element: _Element) -> None:
    """`element`'s notes again, from its children's, once they changed."""
    element.has_block = any(_is_block(child) for child in element.children)
    element.has_break = any(
        not isinstance(child, str) and (child.tag == "br" or child.has_break)
        for child in element.children
    )


def _is_block(node) -> bool:
    return not isinstance(node, str) and (
        node.tag in BLOCK_TAGS or node.tag in TABLE_PARTS or node.has_block
    )


def _line_ends_to_breaks(element: _Element) -> None:
    """Text without markup: every line end is a line break."""
    children = []
    for child in element.children:
        if isinstance(child, str):
            for index, line in enumerate(child.split("\n")):
                if index:
                    children.append(_Element("br"))
                if line:
                    children.append(line)
        else:
            if child.tag not in OPAQUE_TAGS:
                _line_ends_to_breaks(child)
            children.append(child)
    element.children = children


class _Budget:
    def __init__(self, total: int):
        self.left = total

    def spend(self, cost: int) -> None:
        self.left -= cost
        if self.left < 0:
            raise _TooComplex


def _split_lines(nodes: list, budget: _Budget) -> list[list]:
    """`nodes` cut at every <br>, the formatting around a break copied to
    both sides of it."""
    if not any(
        not isinstance(node, str) and (node.tag == "br" or node.has_break)
        for node in nodes
    ):
        return [list(nodes)]
    lines: list[list] = [[]]
    for node in nodes:
        if isinstance(node, str):
            lines[-1].append(node)
        elif node.tag == "br":
            lines.append([])
        elif node.has_break and node.tag not in OPAQUE_TAGS:
            for index, part in enumerate(_split_lines(node.children, budget)):
                if index:
                    lines.append([])
                # A side of the break with nothing of this element's gets no
                # copy: an empty <strong> would be left after 一、标题<br>.
                if part:
                    budget.spend(node.markup_cost())
                    copy = node.copy_empty()
                    copy.children = part
                    lines[-1].append(copy)
        else:
            lines[-1].append(node)
    return lines


def _strip_indent(nodes: list) -> bool:
    """Remove the spaces `nodes` start with; True once a visible thing is reached.

    Formatting that held nothing but those spaces goes with them; what shows
    nothing and was there before (an empty anchor, a <meta>) stays for the
    sanitiser to judge.
    """
    kept = []
    index = 0
    while index < len(nodes):
        node = nodes[index]
        if isinstance(node, str):
            stripped = node.lstrip(INDENT)
            if stripped:
                nodes[index] = stripped
                break
        elif node.tag in ("img", "image", "br"):
            break
        elif node.tag in OPAQUE_TAGS or node.tag in VOID_TAGS or not node.children:
            kept.append(node)
        elif _strip_indent(node.children):
            break
        index += 1
    else:
        nodes[:] = kept
        return False
    nodes[:index] = kept
    return True


def _visible(nodes: list) -> tuple[str, bool]:
    """The text a reader sees in `nodes`, and whether an image is among them."""
    if len(nodes) == 1 and isinstance(nodes[0], str):
        return nodes[0], False
    parts: list[str] = []
    has_image = False
    stack = [iter(nodes)]
    while stack:
        node = next(stack[-1], None)
        if node is None:
            stack.pop()
        elif isinstance(node, str):
            parts.append(node)
        elif node.tag in ("img", "image"):
            has_image = True
        elif node.tag not in OPAQUE_TAGS:
            stack.append(iter(node.children))
    return "".join(parts), has_image


def _numeral_value(numeral: str) -> int | None:
    """What 一 … 九十九 count to; None for anything else (十十, 二三)."""
    if len(numeral) == 1:
        return DIGIT_VALUES.get(numeral, 10 if numeral == "十" else None)
    tens, ten, units = numeral.partition("十")
    if not ten or "十" in units or len(tens) > 1 or len(units) > 1:
        return None
    if (tens and tens not in DIGIT_VALUES) or (units and units not in DIGIT_VALUES):
        return None
    return DIGIT_VALUES.get(tens, 1) * 10 + DIGIT_VALUES.get(units, 0)


def _counts_on(number: str, rest: str) -> bool:
    """Whether `rest` starts with the number after `number`: 一、二季度 is the
    first and second quarters, while 一、三措并举 is a heading."""
    value = _numeral_value(number)
    following = NUMERAL_RUN.match(rest)
    return (
        value is not None
        and following is not None
        and _numeral_value(following.group()) == value + 1
    )


def _numbered_level(text: str) -> int | None:
    """2 or 3 when `text` is a heading by the official numbering, else None."""
    text = text.strip(INDENT)
    if (
        text[:1] not in NUMBER_STARTS
        or len(text) > HEADING_MAX_CHARS
        or not SENTENCE_PUNCTUATION.isdisjoint(text)
    ):
        return None
    section = SECTION_NUMBER.match(text)
    if section:
        rest = text[section.end() :].lstrip(INDENT)
        if rest and not _counts_on(section.group()[:-1], rest):
            return 2
        return None
    subsection = SUBSECTION_NUMBER.match(text)
    if subsection and text[subsection.end() :].strip(INDENT):
        return 3
    return None


def _word_heading_level(element: _Element) -> int | None:
    """The heading level a Word or WPS paragraph style gives `element`."""
    for name, value in element.attrs:
        if name == "class":
            found = WORD_HEADING_CLASS.search(value)
        elif name == "style":
            found = WORD_OUTLINE_LEVEL.search(value)
        else:
            continue
        if found:
            return min(int(found.group(1)) + 1, 4)
    return None


def _unwrap_formatting(nodes: list) -> list:
    """`nodes` without the bold, spans and fonts a heading does not need."""
    unwrapped = []
    for node in nodes:
        if isinstance(node, str) or node.tag in OPAQUE_TAGS or node.tag in VOID_TAGS:
            unwrapped.append(node)
        elif node.tag in HEADING_UNWRAPPED or ":" in node.tag:
            unwrapped.extend(_unwrap_formatting(node.children))
        else:
            node.children = _unwrap_formatting(node.children)
            unwrapped.append(node)
    return unwrapped


def _heading(nodes: list, level: int) -> _Element:
    return _Element(f"h{level}", children=_unwrap_formatting(nodes))


def _paragraph(nodes: list, *, headings: bool):
    """One line as a paragraph, or a heading when it is one, or None when it
    has nothing to read."""
    _strip_indent(nodes)
    text, has_image = _visible(nodes)
    if not text.strip(INDENT) and not has_image:
        return None
    level = _numbered_level(text) if headings else None
    if level:
        return _heading(nodes, level)
    return _Element("p", children=nodes)


def _heading_lines(nodes: list, default_level: int, budget: _Budget) -> list:
    """Text the writer marked as a heading, a heading per line, each at its
    number's level if it has one: Word's 一、总体情况<br>（一）基本情况 in one
    heading style is a heading and its sub-heading."""
    made = []
    for line in _split_lines(nodes, budget):
        _strip_indent(line)
        text, has_image = _visible(line)
        if text.strip(INDENT) or has_image:
            made.append(_heading(line, _numbered_level(text) or default_level))
    return made


def _heading_block(
    element: _Element, default_level: int, *, headings: bool, budget: _Budget
):
    """A heading element or Word heading paragraph, normalised.

    Only unclosed or odd markup puts blocks inside a heading (<h1><o:p><h1>,
    <h2><div>); written out, a heading inside a heading does not read back
    the same, so such blocks come out after the heading's text, normalised
    as blocks.
    """
    if not element.has_block:
        return _heading_lines(element.children, default_level, budget)
    made: list = []
    text: list = []
    for node in [*element.children, None]:
        if node is not None and not _is_block(node):
            text.append(node)
            continue
        made.extend(_heading_lines(text, default_level, budget))
        text = []
        if node is not None:
            holder = _Element("#root", children=[node])
            made.extend(_normalise_children(holder, headings=headings, budget=budget))
    return made


def _normalise_children(element: _Element, *, headings: bool, budget: _Budget):
    """Normalise what `element` holds, block by block."""
    children: list = []
    run: list = []

    def end_run():
        if not run:
            return
        text, has_image = _visible(run)
        if text.strip(INDENT):
            for line in _split_lines(run, budget):
                made = _paragraph(line, headings=headings)
                if made is not None:
                    children.append(made)
        elif has_image:
            children.extend(run)  # an image on its own stays as it came
        run.clear()

    for child in element.children:
        if not _is_block(child):
            run.append(child)
            continue
        end_run()
        tag = child.tag
        if tag == "p":
            word_level = _word_heading_level(child)
            if word_level:
                children.extend(
                    _heading_block(child, word_level, headings=headings, budget=budget)
                )
                continue
            for line in _split_lines(child.children, budget):
                made = _paragraph(line, headings=headings)
                if made is not None:
                    children.append(made)
        elif tag in HEADING_TAGS:
            children.extend(
                _heading_block(
                    child,
                    HEADING_LEVEL_OF_TAG[tag],
                    headings=headings,
                    budget=budget,
                )
            )
        elif tag not in LEFT_ALONE_TAGS:
            # A division, a quotation, formatting with blocks inside, or a
            # block the sanitiser unwraps: what is inside is text like any other.
            if tag in LINE_BLOCK_TAGS:
                _line_ends_to_breaks(child)
                _mark(child)
            child.children = _normalise_children(
                child,
                headings=headings and tag not in NO_HEADINGS_INSIDE,
                budget=budget,
            )
            _remark(child)
            if not child.has_block:
                # Every block left inside shows something; with none left,
                # and no text or image either, it goes as an empty paragraph
                # does (<span><p>&nbsp;</p></span>, <div><p><br></p></div>).
                text, has_image = _visible(child.children)
                if not text.strip(INDENT) and not has_image:
                    continue
            if _is_block(child):
                children.append(child)
            else:
                # Formatting whose blocks all went is inline now: it joins the
                # text around it, as the next normalising would read it.
                run.append(child)
        else:
            children.append(child)  # tables, lists, figures: as they came
    end_run()
    return children


def _escape_text(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", "&#13;")
    )


def _serialise(nodes: list) -> str:
    out: list[str] = []
    stack: list[tuple] = [(iter(nodes), None)]
    while stack:
        iterator, tag = stack[-1]
        node = next(iterator, None)
        if node is None:
            stack.pop()
            if tag is not None:
                out.append(f"</{tag}>")
        elif isinstance(node, str):
            out.append(_escape_text(node))
        else:
            if node.attrs:
                attributes = "".join(
                    f' {name}="{value.replace(chr(34), "&quot;")}"'
                    for name, value in node.attrs
                )
                out.append(f"<{node.tag}{attributes}>")
            else:
                out.append(f"<{node.tag}>")
            if node.tag not in VOID_TAGS:
                stack.append((iter(node.children), node.tag))
    return "".join(out)


def normalise_html(html: str) -> str:
    """`html` with the structure its numbering, line breaks and indents mean.

    Pure and linear; the result still has to be sanitised. Text beyond this
    module's own bounds comes back unchanged.
    """
    if not html or len(html) > MAX_CHARS:
        return html or ""
    # As a browser reads it: line ends are \n, and NUL is dropped from text.
    html = html.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "")
    try:
        root = _tree(html)
        _mark(root)
        if not root.has_block and not root.has_break:
            _line_ends_to_breaks(root)
            _mark(root)
        budget = _Budget(SPLIT_COST_PER_CHAR * len(html) + 4096)
        children = _normalise_children(root, headings=True, budget=budget)
    except _TooComplex:
        return html
    return _serialise(children)
