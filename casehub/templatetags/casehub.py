from django import template
from django.utils.translation import gettext as _

register = template.Library()


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
