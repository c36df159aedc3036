from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def person(user) -> str:
    """How a user is named on pages and in emails; None is the schedule acting."""
    if user is None:
        return _("the publishing schedule")
    return user.get_full_name() or user.get_username()
