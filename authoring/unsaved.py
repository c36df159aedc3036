"""Text typed into the case form that is not saved yet.

Two nets keep it. The browser keeps a copy while the person types
(static/js/autosave.js, in localStorage). The server keeps what a save sent
after the session had expired: that POST comes from an anonymous user, so
instead of following it to the sign-in page, its fields go into the new
anonymous session, which Django keeps through the sign-in; the form then
shows them again, with the version they were based on, for the person to
check and save. Nothing is saved without them pressing save, and a save based
on an older version still meets the edit-conflict rule.

The form carries its owner, signed: an expired session no longer says whose
it was, and a shared computer must not show one person's text to the next
one who signs in. The signature is honoured for a week after the form was
opened, and for a few kept forms an hour per owner: each one opens a session
for someone not signed in, and nobody needs more.
"""

import re

from django import forms
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import QueryDict

from .forms import CaseForm

KEPT_FORM = "authoring.kept_case_form"
SAVED_COPIES = "authoring.saved_autosave_copies"
OWNER_FIELD = "autosave_owner"
COPY_FIELD = "autosave_copy"
OWNER_SALT = "authoring.unsaved.owner"
OWNER_TOKEN_MAX_AGE = 7 * 24 * 3600
KEPT_PER_OWNER_HOURLY = 20
# The copy's name as autosave.js makes it: 16 random bytes in hex.
COPY_ID = re.compile(r"[0-9a-f]{32}")
# The browser is told about the last few saves only; older copies are out of
# date by their time anyway (see autosave.js).
SAVED_COPIES_REMEMBERED = 10
# Beside the rich text (its own limit): title, tagline, author, source and
# lead together.
PLAIN_FIELDS_BYTES = 64 * 1024
# Themes are the only list, a few dozen at most.
MAX_VALUES = 200

# What the person typed or chose. A chosen file cannot be kept: the browser
# sends it once, and it is not the session's to hold.
KEPT_FIELDS = tuple(
    name
    for name, field in CaseForm.base_fields.items()
    if not isinstance(field, forms.FileField)
)


class TooLargeToKeep(Exception):
    def __init__(self, *, size: int, limit: int):
        super().__init__(size, limit)
        self.size = size
        self.limit = limit


def kept_limit() -> int:
    """The most a kept form may hold, in bytes: a body as large as may be
    saved, and the plain fields."""
    return settings.CASEHUB_RICHTEXT_MAX_BYTES + PLAIN_FIELDS_BYTES


def owner_token(user) -> str:
    return signing.dumps(user.pk, salt=OWNER_SALT)


def form_owner(request) -> int | None:
    """The user the posted form was shown to, or None if it does not say."""
    token = request.POST.get(OWNER_FIELD, "")
    if not token:
        return None
    try:
        owner = signing.loads(token, salt=OWNER_SALT, max_age=OWNER_TOKEN_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired included
        return None
    return owner if isinstance(owner, int) else None


def keeping_allowed(owner: int) -> bool:
    """Whether another form may be kept for `owner` this hour."""
    key = f"authoring.unsaved.kept:{owner}"
    cache.add(key, 0, timeout=3600)
    try:
        kept = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=3600)
        kept = 1
    return kept <= KEPT_PER_OWNER_HOURLY


def posted_form_keep(request, *, owner: int) -> None:
    """Keep the posted case form in the session for `owner`, replacing any
    form kept before; raise TooLargeToKeep past kept_limit()."""
    fields = {
        name: request.POST.getlist(name) for name in KEPT_FIELDS if name in request.POST
    }
    values = [value for field_values in fields.values() for value in field_values]
    size = sum(len(value.encode()) for value in values)
    if size > kept_limit() or len(values) > MAX_VALUES:
        raise TooLargeToKeep(size=size, limit=kept_limit())
    request.session[KEPT_FORM] = {
        "path": request.path,
        "owner": owner,
        "fields": fields,
    }


def kept_form_take(request) -> QueryDict | None:
    """The form kept for this page and this user, taken out of the session.

    A form kept for someone else is dropped unseen.
    """
    kept = request.session.get(KEPT_FORM)
    if not kept or kept.get("path") != request.path:
        return None
    del request.session[KEPT_FORM]
    if kept.get("owner") != request.user.pk:
        return None
    data = QueryDict(mutable=True)
    for name, values in kept["fields"].items():
        data.setlist(name, values)
    return data


def autosave_copy_saved(request) -> None:
    """Remember that the browser's copy sent with this save is saved now, so
    the next form page tells autosave.js to forget it."""
    copy_id = request.POST.get(COPY_FIELD, "")
    if not COPY_ID.fullmatch(copy_id):
        return
    saved = [known for known in saved_copies(request) if known != copy_id]
    request.session[SAVED_COPIES] = [*saved, copy_id][-SAVED_COPIES_REMEMBERED:]


def saved_copies(request) -> list[str]:
    return list(request.session.get(SAVED_COPIES, []))
