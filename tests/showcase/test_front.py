"""The fast path in front of Django (showcase.front) on a real Redis: the
answer it gives is Django's, byte for byte and header for header, it counts
readers by the same rules, and it leaves to Django every request that is not
an anonymous reader's cached page."""

import re
from dataclasses import dataclass

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import translation

from showcase import cache as cache_module
from showcase import counter, services
from showcase.cache import redis_client
from showcase.front import FrontPath
from tests.conftest import redis_cache
from tests.review.factories import committed
from tests.showcase.factories import people, published_issue, series

pytestmark = pytest.mark.django_db(transaction=True)

# Nothing listens on this port: every call to Redis fails at once.
UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}
HOST = "casehub.example"
SIGN_OUT = "data-sign-out"


@pytest.fixture
def front_redis(settings):
    """Redis as the cache, on a database of its own, empty before and after."""
    settings.ALLOWED_HOSTS = [HOST, "testserver"]
    with redis_cache(7) as client:
        yield client


class CountingDjango:
    """Django's WSGI handler, counting the requests that reach it."""

    def __init__(self):
        self.handler = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.handler(environ, start_response)


def front() -> FrontPath:
    return FrontPath(django=CountingDjango())


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    by_django: bool

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        assert len(values) <= 1, f"{name} given {len(values)} times"
        return values[0] if values else None

    @property
    def text(self) -> str:
        return self.body.decode()


def request_environ(path="/", *, method="GET", data=None, **extra) -> dict:
    """A WSGI environ for a request to the site, as a server would pass it."""
    extra.setdefault("HTTP_HOST", HOST)
    extra.setdefault("REMOTE_ADDR", "203.0.113.5")
    extra.setdefault("HTTP_USER_AGENT", "Reader/1.0")
    factory = RequestFactory()
    if method == "POST":
        return factory.post(path, data=data or {}, **extra).environ
    return factory.generic(method, path, **extra).environ | (
        {"QUERY_STRING": data} if data is not None else {}
    )


def call(app: FrontPath, environ: dict) -> Answer:
    before = app.django.calls
    given = {}

    def start_response(status, headers, exc_info=None):
        given["status"], given["headers"] = status, list(headers)

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return Answer(
        status=int(given["status"].split()[0]),
        headers=given["headers"],
        body=body,
        by_django=app.django.calls > before,
    )


def get(app, path="/", *, query=None, **extra) -> Answer:
    return call(app, request_environ(path, data=query, **extra))


def beacon(app, case_id, **extra) -> Answer:
    return call(
        app, request_environ(f"/cases/{case_id}/views/", method="POST", **extra)
    )


def same_headers(headers) -> list:
    """Headers as a reader's browser reads them: names without case, the
    Content-Security-Policy as its set of directives."""
    normal = []
    for name, value in headers:
        name = name.lower()
        if name == "content-security-policy":
            value = frozenset(part.strip() for part in value.split(";") if part.strip())
        normal.append((name, value))
    return sorted(normal, key=repr)


def assert_same_answer(fast: Answer, django: Answer) -> None:
    assert django.by_django and not fast.by_django
    assert fast.status == django.status
    assert fast.body == django.body
    assert same_headers(fast.headers) == same_headers(django.headers)
    assert fast.header("Content-Length") == str(len(fast.body))


def case_path(case) -> str:
    return reverse("showcase:case", args=[case.pk])


def count_shown(answer: Answer) -> int:
    found = re.findall(r"浏览量：(\d+)", answer.text)
    assert len(found) == 1, found
    return int(found[0])


@pytest.fixture
def site(front_redis):
    """A series with a published issue of one case, and an issue taken down."""
    who = people()
    the_series = series()
    issue = published_issue(who, the_series)
    gone = published_issue(who, the_series)
    with committed():
        services.issue_unpublish(issue=gone, acting_user=who.editor, reason="撤回")
    gone.refresh_from_db()
    return {
        "who": who,
        "series": the_series,
        "issue": issue,
        "case": issue.cases.get(),
        "gone": gone,
        "gone_case": gone.cases.get(),
    }


class FastPathAnswerTests:
    """The second identical request is the fast path's, and gives what Django gave."""

    @pytest.mark.parametrize(
        ("address", "query"),
        [
            ("home", None),
            ("series", None),
            ("series", "page=2"),
            ("issue", None),
            ("search", "q=%E5%85%9A%E5%BB%BA%E5%BC%95%E9%A2%86"),  # 党建引领
        ],
    )
    def test_pages_are_answered_as_django_answered(self, site, address, query):
        paths = {
            "home": "/",
            "series": f"/series/{site['series'].slug}/",
            "issue": site["issue"].get_absolute_url(),
            "search": "/search/",
        }
        app = front()
        django = get(app, paths[address], query=query)
        fast = get(app, paths[address], query=query)
        assert django.status == 200
        assert_same_answer(fast, django)
        if address == "search":
            assert case_path(site["case"]) in fast.text

    def test_the_case_page_is_django_s_with_the_right_count(self, site):
        app = front()
        path = case_path(site["case"])
        django = get(app, path, REMOTE_ADDR="198.51.100.1")
        assert django.status == 200 and count_shown(django) == 1
        again = get(app, path, REMOTE_ADDR="198.51.100.1")
        assert_same_answer(again, django)  # the same reader: still one
        other = get(app, path, REMOTE_ADDR="198.51.100.2")
        assert not other.by_django
        assert count_shown(other) == 2
        assert other.body == django.body.replace(
            "浏览量：1".encode(), "浏览量：2".encode()
        )
        assert same_headers(other.headers) == same_headers(
            [
                (name, str(len(other.body)) if name == "Content-Length" else value)
                for name, value in django.headers
            ]
        )

    def test_an_unpublished_issue_is_answered_410_as_django_answered(self, site):
        app = front()
        # An issue page's headers are learned from a plain 200 of Django's.
        get(app, site["issue"].get_absolute_url())
        django = get(app, site["gone"].get_absolute_url())
        fast = get(app, site["gone"].get_absolute_url())
        assert django.status == 410
        assert_same_answer(fast, django)


def page_language(answer: Answer) -> str:
    return re.search(r'<html lang="([^"]+)"', answer.text).group(1)


class LanguageTests:
    def test_english_by_accept_language_or_by_the_cookie(self, site):
        app = front()
        django = get(app, "/", HTTP_ACCEPT_LANGUAGE="en")
        fast = get(app, "/", HTTP_ACCEPT_LANGUAGE="en")
        assert_same_answer(fast, django)
        assert fast.header("Content-Language") == "en"
        assert page_language(fast) == "en"
        # The language cookie beats Accept-Language, on both paths.
        cookie = {"HTTP_COOKIE": "django_language=en", "HTTP_ACCEPT_LANGUAGE": "zh"}
        by_cookie = get(app, "/", **cookie)
        assert not by_cookie.by_django
        assert by_cookie.body == django.body
        assert by_cookie.header("Content-Language") == "en"
        assert get(front(), "/", **cookie).header("Content-Language") == "en"

    @pytest.mark.parametrize("path", ["/", "case"])
    def test_a_page_cached_in_one_language_is_not_served_in_the_other(self, site, path):
        path = case_path(site["case"]) if path == "case" else path
        app = front()
        english = get(app, path, HTTP_ACCEPT_LANGUAGE="en")
        assert get(app, path, HTTP_ACCEPT_LANGUAGE="en").by_django is False
        chinese = get(app, path, HTTP_ACCEPT_LANGUAGE="zh-CN")
        assert chinese.by_django  # not cached in Chinese yet
        assert page_language(chinese) == "zh-hans"
        again = get(app, path, HTTP_ACCEPT_LANGUAGE="zh-CN")
        assert not again.by_django
        assert page_language(again) == "zh-hans"
        assert again.header("Content-Language") == "zh-hans"
        assert page_language(get(app, path, HTTP_ACCEPT_LANGUAGE="en")) == "en"
        assert page_language(english) == "en"

    def test_the_language_is_the_one_django_chooses(self, site):
        app = front()
        for language in ("en", "zh-hans"):
            get(app, "/", HTTP_ACCEPT_LANGUAGE=language)
        chosen = {}
        for accept in ACCEPT_LANGUAGES:
            fast = get(app, "/", HTTP_ACCEPT_LANGUAGE=accept)
            assert not fast.by_django, accept
            chosen[accept] = (fast.header("Content-Language"), page_language(fast))
        expected = {}
        for accept in ACCEPT_LANGUAGES:
            language = translation.get_language_from_request(
                RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE=accept)
            )
            expected[accept] = (language, language)
        assert chosen == expected
        # Both languages occur, so the table tells them apart.
        assert {language for language, _page in chosen.values()} == {"en", "zh-hans"}


ACCEPT_LANGUAGES = [
    "",
    "zh-CN,zh;q=0.9",
    "en-US,en;q=0.8",
    "fr,en;q=0.5",
    "en;q=0.1,zh;q=0.2",
    "*",
    "garbage!!",
    "zh-TW",
    "de",
    "EN",
]


class CountingTests:
    def test_a_reader_counts_once_and_another_counts(self, site):
        case = site["case"]
        app = front()
        path = case_path(case)
        get(app, path, REMOTE_ADDR="198.51.100.10")
        assert counter.views_pending(case.pk) == 1
        again = get(app, path, REMOTE_ADDR="198.51.100.10")
        assert not again.by_django
        assert counter.views_pending(case.pk) == 1
        assert count_shown(again) == 1
        other_agent = get(
            app, path, REMOTE_ADDR="198.51.100.10", HTTP_USER_AGENT="Other/2.0"
        )
        other_address = get(app, path, REMOTE_ADDR="198.51.100.11")
        assert not other_agent.by_django and not other_address.by_django
        assert (count_shown(other_agent), count_shown(other_address)) == (2, 3)
        assert counter.views_pending(case.pk) == 3

    def test_one_address_with_many_browsers_adds_at_most_the_bound(self, site):
        case = site["case"]
        app = front()
        path = case_path(case)
        get(app, path, REMOTE_ADDR="198.51.100.20")
        before = counter.views_pending(case.pk)
        for n in range(30):
            answer = get(
                app, path, REMOTE_ADDR="198.51.100.21", HTTP_USER_AGENT=f"A/{n}"
            )
            assert answer.status == 200 and not answer.by_django
        added = counter.views_pending(case.pk) - before
        assert added == counter.ADDRESS_CASE_READS
        assert count_shown(answer) == before + counter.ADDRESS_CASE_READS

    def test_beacons_from_one_address_add_at_most_the_bound(self, site):
        case = site["case"]
        app = front()
        same_origin = {"HTTP_SEC_FETCH_SITE": "same-origin"}
        first = beacon(app, case.pk, REMOTE_ADDR="198.51.100.30", **same_origin)
        assert first.by_django and first.status == 200
        assert first.body == b'{"views": 1}'
        answers = [
            beacon(
                app,
                case.pk,
                REMOTE_ADDR="198.51.100.31",
                HTTP_USER_AGENT=f"B/{n}",
                **same_origin,
            )
            for n in range(30)
        ]
        assert not any(answer.by_django for answer in answers)
        assert counter.views_pending(case.pk) == 1 + counter.ADDRESS_CASE_READS
        assert answers[-1].body == b'{"views": %d}' % (1 + counter.ADDRESS_CASE_READS)
        assert same_headers(answers[-1].headers) == same_headers(
            [
                (
                    name,
                    str(len(answers[-1].body)) if name == "Content-Length" else value,
                )
                for name, value in first.headers
            ]
        )

    def test_beacons_of_unpublished_cases_or_from_elsewhere_count_nothing(self, site):
        case, gone = site["case"], site["gone_case"]
        app = front()
        same_origin = {"HTTP_SEC_FETCH_SITE": "same-origin"}
        beacon(app, case.pk, **same_origin)  # the beacon's headers known
        before = counter.views_pending(case.pk)
        for _ in range(2):
            answer = beacon(app, gone.pk, REMOTE_ADDR="198.51.100.40", **same_origin)
            assert answer.by_django and answer.status == 404
        assert counter.views_pending(gone.pk) == 0
        for n, headers in enumerate(
            [{}, {"HTTP_SEC_FETCH_SITE": "cross-site"}, {"HTTP_SEC_FETCH_SITE": "none"}]
        ):
            answer = beacon(app, case.pk, REMOTE_ADDR=f"198.51.100.{50 + n}", **headers)
            assert answer.by_django and answer.status == 403, headers
        assert counter.views_pending(case.pk) == before


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


class PrivateReaderTests:
    def test_a_signed_in_reader_gets_their_own_page_from_django(self, site):
        user = site["who"].editor
        name = user.get_full_name() or user.get_username()
        cookie = f"sessionid={session_cookie(user)}"
        app = front()
        for path in ("/", case_path(site["case"])):
            get(app, path)
            assert not get(app, path).by_django  # cached for anonymous readers
            mine = get(app, path, HTTP_COOKIE=cookie)
            assert mine.by_django and mine.status == 200
            assert SIGN_OUT in mine.text and name in mine.text
            anonymous = get(app, path)
            assert not anonymous.by_django
            assert SIGN_OUT not in anonymous.text and name not in anonymous.text

    def test_a_message_waiting_or_a_stale_session_goes_to_django(self, site):
        app = front()
        anonymous = get(app, "/")
        assert not get(app, "/").by_django
        assert get(app, "/", HTTP_COOKIE="messages=anything").by_django
        stale = get(app, "/", HTTP_COOKIE="sessionid=nosuchsession0000000000000000000")
        assert stale.by_django and stale.status == 200
        assert stale.body == anonymous.body
        assert SIGN_OUT not in stale.text


class LeftToDjangoTests:
    def test_requests_the_fast_path_must_not_answer_go_to_django(self, site):
        app = front()
        for query in (None, "q="):
            path = "/" if query is None else "/search/"
            get(app, path, query=query)
            assert not get(app, path, query=query).by_django, path
        foreign = get(app, "/", HTTP_HOST="evil.example")
        assert foreign.by_django and foreign.status == 400
        head = call(app, request_environ("/", method="HEAD"))
        assert head.by_django
        nul = get(app, "/search/", query="q=%00")
        assert nul.by_django and nul.status == 400

    def test_with_redis_unreachable_django_answers_the_right_page(self, site):
        case = site["case"]
        redis_client.cache_clear()
        cache_module._link_close()
        with override_settings(CACHES=UNREACHABLE_CACHE):
            app = front()
            for address in ("198.51.100.60", "198.51.100.60", "198.51.100.61"):
                answer = get(app, case_path(case), REMOTE_ADDR=address)
                assert answer.by_django and answer.status == 200
                assert case.title in answer.text
            assert count_shown(answer) == 2
            home = get(app, "/")
            assert home.by_django and home.status == 200
            assert site["issue"].get_absolute_url() in home.text
        redis_client.cache_clear()
        cache_module._link_close()
        counter._local.take()


class RedisSocketTests:
    def test_a_socket_redis_closed_is_opened_again(self, front_redis):
        """A Redis restart or idle timeout closes the socket a thread keeps: the
        next call connects again and is answered; Redis is not taken for down."""
        assert cache_module.redis_call(("SET", "probe", "1")) == [b"OK"]
        front_redis.client_kill_filter(_type="normal", skipme=True)
        assert cache_module.redis_call(("GET", "probe")) == [b"1"]
        assert not cache_module.redis_down()

    def test_a_script_redis_lost_is_loaded_again(self, front_redis):
        script = "return 'kept'"
        assert cache_module.script_run(script, keys=[], args=[]) == b"kept"
        front_redis.script_flush()
        assert cache_module.script_run(script, keys=[], args=[]) == b"kept"
