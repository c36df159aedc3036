from django.utils.functional import SimpleLazyObject

from casehub import roles


def workspace(request):
    """The links a user's roles open up in the header.

    Lazy, so a page that does not show them costs no query.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "is_reviewer": SimpleLazyObject(lambda: roles.is_reviewer(user)),
        "is_editor": SimpleLazyObject(lambda: roles.is_editor(user)),
    }
