from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from casehub import links
from casehub.text import bidi_strip

register = template.Library()


@register.filter
def absolute_url(path) -> str:
    """A site path as an absolute address at SITE_URL, never the request's host."""
    return links.absolute_url(str(path))


@register.filter(needs_autoescape=True)
def isolate(text, autoescape=True) -> str:
    """User text set inside a sentence of ours, kept from turning the sentence.

    In HTML it goes into <bdi>, so its direction is its own and ends with it;
    in plain text (an email) it loses any bidirectional controls instead.
    """
    text = bidi_strip(str(text))
    if not autoescape:
        return text
    return format_html("<bdi>{}</bdi>", text)


@register.filter
def person(user) -> str:
    """How a user is named on pages and in emails; None is the schedule acting."""
    if user is None:
        return _("the publishing schedule")
    return user.get_full_name() or user.get_username()


@register.filter
def timedelta_days(duration) -> str:
    """A stay in a stage as people say it: hours under a day, else days."""
    hours = duration.total_seconds() / 3600
    if hours < 24:
        return _("%(hours).1f hours") % {"hours": hours}
    return _("%(days).1f days") % {"days": hours / 24}
