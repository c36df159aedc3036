"""The public site's fast path: cached pages for anonymous readers, without
Django's middleware.

Most requests to the site are anonymous readers asking for a page already in
the cache (showcase.cache). Through Django each of them costs the whole
middleware stack and URL resolution before the view finds the page; here, in
front of Django as the WSGI application, they cost a look at the request and
one round trip to Redis: the page, or for a case page the page and its reader
counted (showcase.counter), by the same scripts the views use.

The answer must be the one Django would give, byte for byte and header for
header. So the request is read with Django's own WSGIRequest (host check,
cookies, query string, scheme) and LocaleMiddleware's own choice of language;
the page's cache field is the one the view computes, by the view's own
functions; and the headers are the ones Django sent last time for a page of
the same kind in the same language and scheme: the first such request in a
process goes through Django, and its headers are kept. Anything else (a
signed-in reader or one with a message waiting, a page not cached, a query
string the view would not cache, Redis unreachable, an unexpected error) goes
to Django, which decides as it always does.
"""

import io
import logging
import re
import sys

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_bytes_from_wsgi
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import QueryDict
from django.http.cookie import parse_cookie
from django.http.request import HttpHeaders
from django.utils import translation

from .cache import (
    RecentPages,
    page_field,
    page_lookup,
    page_split,
    redis_client,
    redis_down,
    trusted_generation,
)
from .counter import beacon_count, case_read
from .views import (
    PIXEL,
    VIEWS_PLACEHOLDER_BYTES,
    search_page_key,
    series_page_key,
)

logger = logging.getLogger(__name__)

ROUTES = [
    ("GET", "home", re.compile(r"/\Z")),
    ("GET", "series", re.compile(r"/series/(?P<slug>[-a-zA-Z0-9_]+)/\Z")),
    (
        "GET",
        "issue",
        re.compile(r"/series/(?P<slug>[-a-zA-Z0-9_]+)/(?P<number>[0-9]+)/\Z"),
    ),
    ("GET", "case", re.compile(r"/cases/(?P<pk>[0-9]+)/\Z")),
    ("GET", "search", re.compile(r"/search/\Z")),
    ("POST", "views", re.compile(r"/cases/(?P<pk>[0-9]+)/views/\Z")),
    ("GET", "pixel", re.compile(r"/cases/(?P<pk>[0-9]+)/views\.gif\Z")),
]
STATUS_LINES = {200: "200 OK", 410: "410 Gone"}
# Kept from Django's answers: everything but the length, which is the page's.
UNKEPT_HEADERS = frozenset({"content-length"})


class FrontPath:
    """The WSGI application: the fast path, and Django for everything else."""

    def __init__(self, django=None):
        self._django = django
        self.headers: dict[tuple, list[tuple[str, str]]] = {}

    @property
    def django(self):
        if self._django is None:
            self._django = WSGIHandler()
        return self._django

    def __call__(self, environ, start_response):
        try:
            found = self._route(environ)
        except Exception:
            logger.exception("the fast path failed to read a request")
            found = None
        if found is None:
            return self.django(environ, start_response)
        key, answer = found
        headers = self.headers.get(key)
        if headers is not None:
            try:
                served = answer()
            except Exception:
                logger.exception("the fast path failed to answer")
                served = None
            if served is not None:
                status, body = served
                start_response(
                    STATUS_LINES[status],
                    [*headers, ("Content-Length", str(len(body)))],
                )
                return [body]
        return self.django(environ, self._learning(key, start_response))

    def _learning(self, key, start_response):
        """start_response for a request the fast path could have answered: a
        plain 200 from Django gives the headers for the next ones."""

        def learn(status, headers, exc_info=None):
            names = {name.lower() for name, _value in headers}
            if status.startswith("200 ") and "set-cookie" not in names:
                self.headers[key] = [
                    (name, value)
                    for name, value in headers
                    if name.lower() not in UNKEPT_HEADERS
                ]
            return start_response(status, headers, exc_info)

        return learn

    def _route(self, environ):
        """(headers key, answer) for a request the fast path may take, else None.

        `answer()` gives (status, body), or None to leave the request to Django.
        """
        if redis_client() is None or redis_down() or environ.get("SCRIPT_NAME"):
            return None
        path = environ.get("PATH_INFO", "")
        if path != "/" and not path.startswith(ROUTED_PREFIXES):
            return None
        routed = _match(environ.get("REQUEST_METHOD"), path)
        if routed is None:
            return None
        kind, match = routed
        request = _Reader(environ)
        if _private(request):
            return None
        secure = _host_and_scheme(environ)
        if secure is None:
            return None
        if (settings.SECURE_SSL_REDIRECT and not secure) or settings.PREPEND_WWW:
            return None
        if environ.get("QUERY_STRING") and any(
            "\x00" in item
            for pair in request.GET.lists()
            for item in (pair[0], *pair[1])
        ):
            return None
        language = _language(request)
        answer = _ANSWERS[kind](request, language, **match.groupdict())
        if answer is None:
            return None
        return (kind, language, secure), answer


class _Reader:
    """What the fast path reads of a request, parsed as WSGIRequest parses it,
    and only when it is needed: the cookies, the query string, the headers."""

    def __init__(self, environ):
        self.environ = self.META = environ
        cookie = environ.get("HTTP_COOKIE")
        self.COOKIES = parse_cookie(cookie) if cookie else {}
        self._query = None

    @property
    def GET(self):
        if self._query is None:
            raw = get_bytes_from_wsgi(self.environ, "QUERY_STRING", "")
            self._query = QueryDict(raw, encoding=settings.DEFAULT_CHARSET)
        return self._query

    @property
    def headers(self):
        return HttpHeaders(self.environ)


# What a few request headers decide, kept once decided by Django's own code:
# whether the host is allowed and the scheme is HTTPS, and the language. A
# hostile client can send any number of different values: only the latest
# MEMO_SIZE answers are kept, each costing what its headers cost.
MEMO_SIZE = 256
_hosts = RecentPages(size=MEMO_SIZE)
_languages = RecentPages(size=MEMO_SIZE)


@receiver(setting_changed)
def _memos_forget(**kwargs):
    for memo in (_hosts, _languages):
        with memo.lock:
            memo.pages.clear()


def _host_and_scheme(environ) -> bool | None:
    """Whether the request came over HTTPS; None when Django refuses its host."""
    key = (
        environ.get("HTTP_HOST"),
        environ.get("HTTP_X_FORWARDED_HOST") if settings.USE_X_FORWARDED_HOST else None,
        environ.get("SERVER_NAME"),
        environ.get("SERVER_PORT"),
        environ.get("HTTP_X_FORWARDED_PORT") if settings.USE_X_FORWARDED_PORT else None,
        environ.get("wsgi.url_scheme"),
        environ.get(_proxy_ssl_header()),
    )
    known = _hosts.get(key, _hosts)
    if known is not _hosts:
        return known
    request = WSGIRequest(dict(environ))
    try:
        request.get_host()
    except DisallowedHost:
        secure = None
    else:
        secure = request.is_secure()
    _hosts.put(key, secure)
    return secure


def _proxy_ssl_header() -> str:
    header = settings.SECURE_PROXY_SSL_HEADER
    return header[0] if header else "HTTP_X_FORWARDED_PROTO"


def _language(request) -> str:
    """The language LocaleMiddleware would choose (the site has no language in
    its addresses): from the language cookie and Accept-Language only."""
    key = (
        request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME),
        request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
    )
    language = _languages.get(key)
    if language is None:
        language = translation.get_language_from_request(request)
        _languages.put(key, language)
    return language


def _match(method, path):
    for route_method, kind, pattern in ROUTES:
        if method == route_method and (match := pattern.match(path)):
            return kind, match
    return None


# Most requests are for none of these addresses: one look at the start of the
# path sends them straight on to Django.
ROUTED_PREFIXES = ("/cases/", "/series/", "/search/")


def _private(request) -> bool:
    """A reader whose page is their own: signed in, or with a message waiting."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME in cookies or "messages" in cookies


# Pages other than cases, kept in the process with their generation. Where
# the site keeps a published copy, the copy's link says which generation holds
# now, so a page kept here is answered without asking Redis at all.
_held = RecentPages(size=512)


def _cached(field):
    def answer():
        generation = trusted_generation()
        if generation is not None:
            held = _held.get(field)
            if held is not None and held[0] == generation:
                return held[1]
        content, cached_in = page_lookup(field)
        if content is None:
            return None
        status, body = page_split(content)
        if status not in STATUS_LINES:
            return None
        if generation is not None and cached_in == generation:
            _held.put(field, (generation, (status, body)))
        return status, body

    return answer


def _home(request, language):
    return _cached(page_field("home", language=language))


def _series(request, language, slug):
    key = series_page_key(request.GET)
    if key is None:
        return None
    return _cached(page_field("series", slug, *key, language=language))


def _issue(request, language, slug, number):
    return _cached(page_field("issue", slug, int(number), language=language))


def _search(request, language):
    key = search_page_key(request.GET)
    if key is None:
        return None
    return _cached(page_field("search", *key, language=language))


def _case(request, language, pk):
    case_id = int(pk)
    field = page_field("case", case_id, language=language)

    def answer():
        content, pending = case_read(case_id=case_id, request=request, field=field)
        if content is None:
            return None
        stored_count, body = page_split(content)
        count = str(stored_count + pending).encode()
        return 200, body.replace(VIEWS_PLACEHOLDER_BYTES, count)

    return answer


def _beacon(body_of):
    def route(request, language, pk):
        # Only a request the browser says comes from our own pages; anything
        # else is for the view to judge (it also reads Origin and Referer).
        if request.headers.get("Sec-Fetch-Site") != "same-origin":
            return None
        case_id = int(pk)

        def answer():
            total = beacon_count(case_id=case_id, request=request)
            if total is None:
                return None
            return 200, body_of(total)

        return answer

    return route


_ANSWERS = {
    "home": _home,
    "series": _series,
    "issue": _issue,
    "case": _case,
    "search": _search,
    "views": _beacon(lambda total: b'{"views": %d}' % total),
    "pixel": _beacon(lambda total: PIXEL),
}

# What nginx gives a file of the published copy itself.
FRONT_OWN_HEADERS = frozenset({"content-type", "content-length", "content-language"})
HEADER_NAME = re.compile(r"[A-Za-z0-9-]+\Z")


def django_headers() -> list[tuple[str, str]]:
    """The headers Django gives an anonymous reader's page, asked for the home
    page through the whole stack, over HTTPS where the site redirects to it."""
    host = next(
        (name.lstrip(".") for name in settings.ALLOWED_HOSTS if name != "*"),
        "localhost",
    )
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": host,
        "SERVER_PORT": "443" if settings.SECURE_SSL_REDIRECT else "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "https" if settings.SECURE_SSL_REDIRECT else "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
    }
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, headers

    b"".join(WSGIHandler()(environ, start_response))
    if not answer["status"].startswith("200 "):
        raise ValueError(f"the home page answered {answer['status']}, not 200 OK")
    if any(name.lower() == "set-cookie" for name, _value in answer["headers"]):
        raise ValueError("the home page sets a cookie for an anonymous reader")
    return answer["headers"]


def nginx_headers(headers) -> str:
    """nginx's add_header lines for `headers`, but those nginx sets itself."""
    lines = ["# Written by `manage.py front_setup` from Django's answer; do not edit."]
    for name, value in headers:
        if name.lower() in FRONT_OWN_HEADERS:
            continue
        if not HEADER_NAME.match(name) or any(mark in value for mark in '$\r\n"\\'):
            raise ValueError(f"the header {name!r} cannot be written for nginx")
        lines.append(f'add_header {name} "{value}" always;')
    return "\n".join(lines) + "\n"


application = FrontPath()
