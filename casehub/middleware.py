"""Request and response rules that hold for every URL of the site."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

NUL = "\x00"
# The public API (showcase.api) answers in JSON, its refusals too.
API_PREFIX = "/api/"


def api_request(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


class NullCharacterMiddleware:
    """Answer 400 to a NUL in the path or the query string.

    PostgreSQL refuses NUL in text, so a NUL reaching a query (an admin list
    filter, a search box, a slug) would fail as a 500. No address of the site
    has a use for one, so it is refused before any view sees it. Form fields
    need no rule here: every Django form CharField refuses NUL with a message
    and gives the form back as typed. A cookie carrying a NUL is dropped instead
    of refused, since the reader could not get rid of it by following a link.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path_info or _query_has_nul(request):
            return _null_character_refused(request)
        for name, value in list(request.COOKIES.items()):
            if NUL in name or NUL in value:
                del request.COOKIES[name]
        return self.get_response(request)


def _query_has_nul(request) -> bool:
    for key, values in request.GET.lists():
        if NUL in key or any(NUL in value for value in values):
            return True
    return False


def _null_character_refused(request):
    # LocaleMiddleware has not run yet: answer in the reader's language anyway.
    with translation.override(translation.get_language_from_request(request)):
        message = _(
            "The address contains a null character, which no page of this site "
            "accepts. Please check the link and try again."
        )
        if api_request(request):
            return JsonResponse(
                {"detail": message, "errors": []},
                status=400,
                json_dumps_params={"ensure_ascii": False},
                headers={"Cache-Control": "no-cache"},
            )
        return render(request, "400.html", {"message": message}, status=400)


class ResponseHeadersMiddleware:
    """Permissions-Policy on every answer; private answers kept out of caches.

    Whatever a signed-in user is shown (pages, CSV and Excel tables, Word
    exports) is theirs alone, and so is any answer that sets a cookie: neither
    may be kept by a shared cache nor left on disk by the browser. Anonymous
    readers without a session cookie cost nothing here, so the public pages
    keep their caching as it is.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.permissions_policy = ", ".join(
            f"{feature}=()" for feature in settings.PERMISSIONS_POLICY_DENIED
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        if response.cookies or _signed_in(request):
            patch_cache_control(response, private=True, no_store=True)
        return response


def _signed_in(request) -> bool:
    # Without a session cookie nobody is signed in; checking it first spares
    # anonymous readers the session lookup.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated
