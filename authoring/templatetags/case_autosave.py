from django import template
from django.conf import settings

from authoring import unsaved

register = template.Library()


@register.simple_tag(takes_context=True)
def case_autosave(context) -> dict:
    """What static/js/autosave.js is told about the case form on this page.

    Worked out here rather than in each view, so that every view showing the
    case form (new, edit, a Word import) gets the same nets.
    """
    request = context["request"]
    form = context.get("form")
    return {
        "owner": unsaved.owner_token(request.user),
        "saved_copies": " ".join(unsaved.saved_copies(request)),
        # A bound form shows text that is not the saved case: a save sent back
        # (invalid, a conflict) or a form kept through an expired session.
        "unsaved": bool(form is not None and form.is_bound),
        "csrf_cookie_name": (
            "" if settings.CSRF_USE_SESSIONS else settings.CSRF_COOKIE_NAME
        ),
    }
