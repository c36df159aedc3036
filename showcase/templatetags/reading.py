from django import template
from django.utils.translation import gettext as _

from showcase.qr import qr_img

register = template.Library()


@register.simple_tag
def qr_code(url) -> str:
    """The QR code of `url` (a page's canonical address) for phones to scan."""
    return qr_img(text=str(url), label=_("QR code of this page's address"))
