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
    docx_form = context.get("docx_form")
    return {
        "owner": unsaved.owner_token(request.user),
        "saved_copies": " ".join(unsaved.saved_copies(request)),
        # Text that is not the saved case: a save sent back (invalid, a
        # conflict), a form kept through an expired session, a Word import.
        "unsaved": bool(form is not None and form.is_bound)
        or getattr(docx_form, "imported", None) is not None,
        "csrf_cookie_name": (
            "" if settings.CSRF_USE_SESSIONS else settings.CSRF_COOKIE_NAME
        ),
    }
