"""CORS for the public API: its answers readable by the embedding sites' pages.

Only under /api/, only for the origins allowed to embed the showcase
(showcase.models.EmbedOrigin, read through the cached selector), and only for
reading: GET and HEAD, with the few request headers a plain read sends. No
credentials are ever allowed, so a reader's cookies on this site never make an
answer another site can read, and no answer names "*". Every answer under
/api/ varies by Origin, so no cache hands one site's answer to another.
"""

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

from . import selectors

API_PREFIX = "/api/"
READ_METHODS = frozenset({"GET", "HEAD"})
ALLOWED_METHODS = "GET, HEAD, OPTIONS"
# What a browser may add to a cross-origin read besides its own headers; any
# other asked for in a preflight is refused.
ALLOWED_REQUEST_HEADERS = frozenset({"accept", "accept-language", "content-language"})
REQUEST_HEADERS_MAX_LENGTH = 200
PREFLIGHT_MAX_AGE = 600


class ApiCorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        origin = request.headers.get("Origin")
        allowed = origin is not None and origin in selectors.embed_origins()
        if request.method == "OPTIONS" and (
            "Access-Control-Request-Method" in request.headers
        ):
            response = _preflight(request, origin if allowed else None)
        else:
            response = self.get_response(request)
            if allowed and request.method in READ_METHODS:
                response["Access-Control-Allow-Origin"] = origin
        patch_vary_headers(response, ("Origin",))
        return response


def _preflight(request, origin: str | None) -> HttpResponse:
    """The answer to a browser asking whether it may send a request: yes, for
    a read from an allowed origin with no headers beyond the plain ones; 403
    without any CORS header otherwise, which the browser takes as no."""
    method = request.headers.get("Access-Control-Request-Method", "")
    listed = request.headers.get("Access-Control-Request-Headers", "")
    asked = {name.strip().lower() for name in listed.split(",") if name.strip()}
    if (
        origin is None
        or method not in READ_METHODS
        or len(listed) > REQUEST_HEADERS_MAX_LENGTH
        or not asked <= ALLOWED_REQUEST_HEADERS
    ):
        return HttpResponse(status=403)
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    if asked:
        response["Access-Control-Allow-Headers"] = ", ".join(sorted(asked))
    response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    return response
