"""QR codes of our own addresses, drawn here: no outside service sees who
reads what, and the code prints as sharply as the text around it.

The code is an SVG in an <img> (a data: address, which the Content-Security-
Policy allows for images), not inline SVG: a published page holds no <svg>
element at all, so the stored-XSS tests can keep treating any as an injection,
and an image's SVG runs nothing."""

import segno
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

# A case address is well under this; anything longer is not one of ours, and
# would only make a code too dense for an older phone's camera to read.
QR_TEXT_MAX_CHARS = 300


def qr_svg_uri(text: str) -> str:
    """`text` as a QR code, an SVG data: address with a white quiet zone."""
    code = segno.make(text, error="m", micro=False)
    return code.svg_data_uri(scale=4, border=4, light="#fff")


def qr_img(*, text: str, label: str, css_class: str = "share-qr__code") -> SafeString:
    """`text` as a QR code in an <img> that screen readers announce as `label`.

    Empty when the text is empty or too long to make a code worth scanning.
    """
    if not text or len(text) > QR_TEXT_MAX_CHARS:
        return mark_safe("")
    return format_html(
        '<img class="{}" src="{}" alt="{}" width="132" height="132">',
        css_class,
        qr_svg_uri(text),
        label,
    )
