"""字数: how long a case is, counted the way a call for cases means it.

A call asks for "不少于 2,000 字": the characters a writer wrote, not the bytes
of the HTML and not the words a space-separated language would count (CKEditor's
own counter said 单词数：20 for 2,096 Chinese characters). One rule, here, and
the same rule in static/js/zishu.js for the counter under the editor:

- every CJK ideograph counts 1: the Unified Ideographs U+4E00–U+9FFF, extension
  A U+3400–U+4DBF, the Compatibility Ideographs U+F900–U+FAFF, and the
  Supplementary and Tertiary Ideographic Planes U+20000–U+3FFFF (extension B
  and the later ones, and the Compatibility Supplement; they hold nothing
  else); and 〇 U+3007, the ideographic zero of dates like 二〇二四年;
- a Latin word or a number counts 1: a run of ASCII or full-width letters and
  digits, with single ' ’ . , - inside it, so 2,096, 3.5, COVID-19 and it's
  are one each;
- nothing else counts: punctuation (。，、“”《》——… and the ASCII marks),
  spaces, other scripts, and everything that is not text on the page: tags,
  attributes (an image's alt), comments. Entities count as the character they
  stand for (&#20013; is 中, &nbsp; a space).

Inline tags (<strong>, <a>, <span>…) join the text on both sides, as the page
shows it; any other tag (a paragraph, a cell, <br>, an image) separates it, so
two paragraphs never run into one word.

Every function reads at most CASEHUB_RICHTEXT_MAX_BYTES characters (more than
that cannot be saved), in time linear in that: the tag pattern below always
matches where it starts, so the regular-expression engine never backtracks
over the text. On well-formed HTML (what the sanitiser stores and what the
editor produces) it finds the tags a browser finds; on malformed HTML it stays
linear and may disagree with a browser about where a tag ends.
"""

import html
import re

from django.conf import settings

# A comment, a bogus comment or doctype (<!…>, <?…>, </ …>), or a start or end
# tag with its attributes; quoted values may hold ">". Unclosed, each runs to
# the end of the text, so a failed match never makes the engine start again a
# character later.
MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(?:(/)?([A-Za-z][^\t\n\f\r />\"']*+)|[!?/])"
    r"(?:[^\"'>]++|\"[^\"]*+(?:\"|\Z)|'[^']*+(?:'|\Z))*+(?:>|\Z)",
    re.DOTALL,
)
# Tags that do not break the line of text they sit in.
INLINE_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "big",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "ins",
        "kbd",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "time",
        "tt",
        "u",
        "var",
    }
)
IDEOGRAPHS = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
WORD_CHARACTERS = "A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
WORD_JOINERS = "'\u2019.,\\-"
COUNTED = re.compile(
    rf"[{IDEOGRAPHS}]|[{WORD_CHARACTERS}]+(?:[{WORD_JOINERS}][{WORD_CHARACTERS}]+)*"
)


def _bounded(text: str) -> str:
    return text[: settings.CASEHUB_RICHTEXT_MAX_BYTES]


def _tag_replacement(match: re.Match) -> str:
    name = match.group(2)
    if name is None or name.lower() in INLINE_TAGS:
        return ""
    return " "


def visible_text(html_or_text: str) -> str:
    """The text a reader sees, with a space where a block or a line break was."""
    stripped = MARKUP.sub(_tag_replacement, _bounded(html_or_text or ""))
    return html.unescape(stripped)


def zishu(html_or_text: str) -> int:
    """The 字数 of rich text (or plain text): ideographs plus Latin words."""
    return sum(1 for _match in COUNTED.finditer(visible_text(html_or_text)))


def image_count(html_text: str) -> int:
    """How many images rich text shows: its <img> tags."""
    return sum(
        1
        for match in MARKUP.finditer(_bounded(html_text or ""))
        if match.group(2) is not None
        and match.group(1) is None
        and match.group(2).lower() == "img"
    )


def digits_grouped(number: int) -> str:
    """A number as a limit or a refusal shows it: 2,096, in either language
    (Django's zh-hans formats group no digits; the editor's counter does)."""
    return format(number, ",")
