from django.utils.functional import SimpleLazyObject

from .selectors import unread_count


def inbox(request):
    """The header's inbox badge.

    Lazy, so a page that does not show it costs no query.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_unread": SimpleLazyObject(lambda: unread_count(user=user))}
