"""QR codes of our own addresses, drawn here as inline SVG: no outside service
sees who reads what, and the code prints as sharply as the text around it."""

import segno
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# A case address is well under this; anything longer is not one of ours, and
# would only make a code too dense for an older phone's camera to read.
QR_TEXT_MAX_CHARS = 300


def qr_svg(*, text: str, label: str, css_class: str = "share-qr__code") -> SafeString:
    """`text` as a QR code in an <svg> that screen readers announce as `label`.

    Empty when the text is empty or too long to make a code worth scanning.
    segno escapes the title it writes; the attributes added here are escaped too.
    """
    if not text or len(text) > QR_TEXT_MAX_CHARS:
        return mark_safe("")
    code = segno.make(text, error="m", micro=False)
    svg = code.svg_inline(
        scale=4,
        border=4,
        light="#fff",
        omitsize=True,
        title=label,
        svgclass=css_class,
    )
    attributes = f'<svg role="img" aria-label="{escape(label)}" '
    return mark_safe(svg.replace("<svg ", attributes, 1))  # noqa: S308
