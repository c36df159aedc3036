from django.utils.functional import SimpleLazyObject

from .selectors import is_editor, stages_for_reviewer, unread_count


def workspace(request):
    """The header's inbox badge and the links a user's roles open up.

    Lazy, so a page that does not show them costs no query.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "inbox_unread": SimpleLazyObject(lambda: unread_count(user=user)),
        "is_reviewer": SimpleLazyObject(
            lambda: stages_for_reviewer(user=user).exists()
        ),
        "is_editor": SimpleLazyObject(lambda: is_editor(user)),
    }
