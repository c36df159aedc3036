"""The one place rich text is cleaned before it is stored.

Everything CKEditor 5 produces with our toolbar survives; everything else is
dropped. Nothing is trusted because it came from our own editor: a request can
carry any HTML.
"""

import re
import unicodedata

import nh3
from django.conf import settings

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
        # Only images we stored ourselves: an outside address would be fetched
        # by every reader's browser and could change after review.
        if value.startswith(settings.MEDIA_URL) and not value.startswith("//"):
            return value
        return None
    return value


def sanitize_html(html: str) -> str:
    """Return `html` reduced to the allow-list above."""
    if not html:
        return ""
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
