"""nginx with the shipped site file (deploy/nginx.conf) in front of gunicorn.

The site runs in gunicorn on the test database and a Redis server of this
test's own, with a published copy in a folder of the test's; nginx serves that
copy and passes everything else on. What a reader gets through nginx must be
what the site gives: the same page, the same headers, the same language, gone
the moment an issue is taken down, and never the copy for a signed-in reader.
"""

import http.client
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import uuid
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import redis
from django.conf import global_settings
from django.conf import settings as django_settings
from django.test import override_settings

from bench import front_server
from bench.front_server import served_from_copy
from showcase import cache as page_cache
from showcase import services
from tests.conftest import service_missing
from tests.integration.conftest import (
    RedisServer,
    database_url,
    free_port,
    gunicorn_command,
    wait_for,
)
from tests.showcase.factories import people, published_issue, series
from tests.submissions.factories import PASSWORD

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

COUNT = re.compile(r"浏览量：[0-9]")
READER = "Mozilla/5.0 (front server test; first reader)"
# What differs between two answers of the same page by nature, not by choice.
UNCOMPARED_HEADERS = frozenset(
    {
        "date",
        "server",
        "connection",
        "content-length",
        "etag",
        "last-modified",
        "accept-ranges",
        "keep-alive",
    }
)
# The headers a public page must carry through nginx as from Django.
REQUIRED_HEADERS = (
    "content-type",
    "content-language",
    "vary",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "cross-origin-opener-policy",
    "permissions-policy",
    "content-security-policy",
)


class Answer:
    def __init__(self, status, headers, body, *, front=None, probe=""):
        self.status = status
        self.headers = headers
        self.body = body
        self.front = front
        self.probe = probe

    def header(self, name):
        return next(
            (value for key, value in self.headers if key.lower() == name.lower()),
            None,
        )

    def headers_all(self, name):
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def from_copy(self) -> bool:
        """nginx answered from the copy itself, as its probe log says (an
        answer of gunicorn's, directly, never is)."""
        if self.front is None:
            return False
        return served_from_copy(self.front, self.probe)

    def __repr__(self):
        return f"<Answer {self.status} {self.headers}>"


class Server:
    """One address (nginx, or gunicorn itself) and a reader's cookies there."""

    def __init__(self, port, *, work=None):
        self.port = port
        self.cookies = {}
        # nginx's work folder, with its probe log; None for gunicorn itself.
        self.work = work

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def request(self, path, *, method="GET", headers=None, body=None) -> Answer:
        sent = {"User-Agent": READER, **(headers or {})}
        probe = uuid.uuid4().hex
        if self.work is not None:
            sent["X-Front-Probe"] = probe
        if self.cookies and "Cookie" not in sent:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            answer = Answer(
                response.status,
                response.getheaders(),
                response.read().decode("utf-8", errors="replace"),
                front=self.work,
                probe=probe,
            )
        finally:
            connection.close()
        for line in answer.headers_all("Set-Cookie"):
            for name, morsel in SimpleCookie(line).items():
                self.cookies[name] = morsel.value
        return answer

    def get(self, path, **headers) -> Answer:
        return self.request(path, headers=headers)

    def sign_in(self, username, password):
        page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, page.body
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token.group(1),
                "username": username,
                "password": password,
            }
        )
        return self.request(
            "/accounts/login/",
            method="POST",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )


class Front:
    def __init__(self, *, nginx_port, direct_port, root, redis, work):
        self.nginx_port = nginx_port
        self.direct_port = direct_port
        self.root = root
        self.redis = redis
        self.work = work
        self.nginx = Server(nginx_port, work=work)
        self.direct = Server(direct_port)

    def fresh(self) -> "Front":
        """The same servers, for a reader with no cookies yet."""
        return Front(
            nginx_port=self.nginx_port,
            direct_port=self.direct_port,
            root=self.root,
            redis=self.redis,
            work=self.work,
        )

    def current(self) -> Path:
        """The folder the copy serves now."""
        return (self.root / "current").resolve()


@pytest.fixture(scope="module")
def servers(postgres, tmp_path_factory):
    """A Redis server, gunicorn serving the site on it and nginx in front, with
    the copy: started once for the module, since nothing in them depends on
    what a test puts in the database (each test starts a fresh copy)."""
    if front_server.nginx_binary() is None:
        service_missing("nginx is not installed")
    if shutil.which("redis-server") is None:
        service_missing("redis-server is not installed")
    folder = tmp_path_factory.mktemp("front-server")
    root = folder / "front"
    redis_server = RedisServer(free_port())
    redis_server.start()
    port, nginx_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(postgres),
        "CACHE_URL": f"{redis_server.url}/0",
        "CELERY_BROKER_URL": f"{redis_server.url}/1",
        "FRONT_ROOT": str(root),
        "PROXY_COUNT": "1",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MEDIA_ROOT": str(folder / "media"),
        "CONN_MAX_AGE": "0",
    }
    common = {"cwd": django_settings.BASE_DIR, "env": env}
    web_log_path = folder / "web.log"
    with web_log_path.open("w") as web_log:
        web = subprocess.Popen(
            gunicorn_command(port),
            stdout=web_log,
            stderr=subprocess.STDOUT,
            **common,
        )
    work = folder / "nginx"
    try:
        direct = Server(port)
        if not wait_for(
            lambda: _answers(direct, "/robots.txt"), timeout=30, interval=0.1
        ):
            pytest.fail("gunicorn did not start:\n" + web_log_path.read_text())
        setup = subprocess.run(
            [sys.executable, "manage.py", "front_setup"],
            capture_output=True,
            text=True,
            check=False,
            **common,
        )
        assert setup.returncode == 0, setup.stdout + setup.stderr
        assert (root / "headers.conf").exists()
        front_server.start(
            work,
            port=nginx_port,
            upstream=f"127.0.0.1:{port}",
            front_root=root,
            static_root=Path(django_settings.BASE_DIR) / "static",
            hosts=["127.0.0.1", "localhost"],
        )
        nginx = Server(nginx_port, work=work)
        assert wait_for(
            lambda: _answers(nginx, "/robots.txt"), timeout=10, interval=0.05
        ), (work / "error.log").read_text()
        yield Front(
            nginx_port=nginx_port,
            direct_port=port,
            root=root,
            redis=redis_server,
            work=work,
        )
    finally:
        front_server.stop(work)
        web.terminate()
        try:
            web.wait(timeout=20)
        except subprocess.TimeoutExpired:
            web.kill()
        redis_server.stop()


@pytest.fixture
def front(servers):
    """The servers, with an empty cache and a fresh copy; this test's process
    writes to the same Redis and copy folder, so a publish, unpublish or edit
    it makes retires the copy as the site's own would."""
    cache_here = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"{servers.redis.url}/0",
        }
    }
    redis.Redis.from_url(f"{servers.redis.url}/0").flushdb()
    with override_settings(CACHES=cache_here, FRONT_ROOT=str(servers.root)):
        page_cache.redis_client.cache_clear()
        page_cache._link_close()
        page_cache.public_cache_bump()
        yield servers.fresh()
    page_cache.redis_client.cache_clear()
    page_cache._link_close()


def _answers(server, path) -> bool:
    try:
        return server.get(path).status == 200
    except OSError:
        return False


def _comparable(answer: Answer) -> dict:
    """The headers of an answer that must agree, by name; the policy as a set
    of its directives, since their order means nothing."""
    kept = {}
    for name, value in answer.headers:
        name = name.lower()
        if name in UNCOMPARED_HEADERS:
            continue
        if name == "content-security-policy":
            value = frozenset(
                " ".join(part.split()) for part in value.split(";") if part.strip()
            )
        kept.setdefault(name, []).append(value)
    return kept


@pytest.fixture
def published(front):
    """Two issues of a series, each with a case, published."""
    who = people()
    the_series = series()
    first = published_issue(who, the_series)
    second = published_issue(who, the_series)
    return who, first, second


def _read_twice(server, path, **headers) -> tuple[Answer, Answer]:
    return server.get(path, **headers), server.get(path, **headers)


def test_case_and_issue_from_the_copy(front, published):
    _who, issue, _second = published
    case = issue.cases.get()
    case_path = f"/cases/{case.pk}/"
    nginx, direct = front.nginx, front.direct

    # The first reader gets Django's page, counted; the next, the copy.
    first, second = _read_twice(nginx, case_path)
    assert first.status == 200, first.body
    assert not first.from_copy
    assert "浏览量：1" in first.body
    assert "data-views-beacon" not in first.body
    assert second.status == 200
    assert second.from_copy, second
    # No validators: no browser keeps the copy's page past its retirement.
    assert second.header("Last-Modified") is None
    assert second.header("ETag") is None
    assert "data-views-beacon" in second.body
    assert not COUNT.search(second.body)
    assert case.title in second.body
    assert (
        (front.root / "current" / "zh-hans" / "cases" / str(case.pk))
        .joinpath("index.html")
        .is_file()
    )

    # The beacon counts a new reader once, and its answer is kept nowhere.
    beacon = f"/cases/{case.pk}/views/"
    other = {"Sec-Fetch-Site": "same-origin", "User-Agent": "another reader"}
    for _ in range(2):
        counted = nginx.request(beacon, method="POST", body=b"", headers=other)
        assert counted.status == 200, counted.body
        assert counted.body.replace(" ", "") == '{"views":2}'
        assert counted.header("Cache-Control") == "no-store"

    # The copy's headers are Django's for that page.
    from_django = direct.get(case_path)
    assert from_django.status == 200
    assert not from_django.from_copy
    assert "浏览量：2" in from_django.body
    for name in REQUIRED_HEADERS:
        assert from_django.header(name), name
    assert from_django.header("Content-Language") == "zh-hans"
    assert _comparable(second) == _comparable(from_django)

    # An issue the same way, and the English copy for an English reader.
    issue_path = issue.get_absolute_url()
    first, second = _read_twice(nginx, issue_path)
    assert first.status == 200 and not first.from_copy
    assert second.status == 200 and second.from_copy
    assert issue.series.title in second.body
    assert _comparable(second) == _comparable(direct.get(issue_path))
    english = "en-US,en;q=0.9"
    first, second = _read_twice(nginx, issue_path, **{"Accept-Language": english})
    assert first.status == 200 and not first.from_copy
    assert first.header("Content-Language") == "en"
    assert second.from_copy
    assert second.header("Content-Language") == "en"
    assert '<html lang="en">' in second.body
    assert (
        (front.root / "current" / "en" / issue_path.strip("/"))
        .joinpath("index.html")
        .is_file()
    )
    assert _comparable(second) == _comparable(
        direct.get(issue_path, **{"Accept-Language": english})
    )


# Accept-Language and the language cookie, as readers send them.
LANGUAGE_REQUESTS = [
    {},
    {"Accept-Language": "en"},
    {"Accept-Language": "en-US,en;q=0.9"},
    {"Accept-Language": "EN-gb"},
    {"Accept-Language": "en,"},
    {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"},
    {"Accept-Language": "zh-TW"},
    {"Accept-Language": "*"},
    {"Accept-Language": "*, en"},
    {"Accept-Language": "fr-FR,fr;q=0.9"},
    {"Accept-Language": "fr, en;q=0.5"},
    {"Accept-Language": "en;q=0.5, zh;q=0.9"},
    {"Accept-Language": "en;q=0"},
    {"Accept-Language": "en_US"},
    {"Accept-Language": " en"},
    {"Accept-Language": "de-DE,en"},
    {"Accept-Language": "en-" + "x" * 10},
    {"Accept-Language": "en," + ",".join(["fr"] * 200)},
    {"Cookie": "django_language=en"},
    {"Cookie": "django_language=zh-hans", "Accept-Language": "en"},
    {"Cookie": "django_language=fr", "Accept-Language": "en"},
    {"Cookie": "django_language=EN"},
    {"Cookie": "django_language="},
    {"Cookie": 'django_language="en"'},
    {"Cookie": "django_language=en; django_language=zh-hans"},
    {"Cookie": "other=1; django_language=en"},
    # Where nginx's own cookie parser and Django's part ways.
    {"Cookie": "a=1;\tdjango_language=en"},
    {"Cookie": "a=1,django_language=en"},
    {"Cookie": "django_language=en, x=1"},
    {"Cookie": "django_language=en ;x=1"},
    {"Cookie": "Django_Language=en"},
]


def _languages_compared(front, path, requests) -> list[tuple]:
    """(request headers, Content-Language through nginx, from gunicorn) of
    each request, after both languages' copies of `path` are written."""
    for language in ("zh-hans", "en"):
        for _ in range(2):
            warm = front.nginx.get(path, **{"Accept-Language": language})
        assert warm.from_copy, language
    chosen = []
    for headers in requests:
        through = front.nginx.get(path, **headers)
        plain = front.direct.get(path, **headers)
        assert through.status == plain.status == 200
        chosen.append(
            (
                headers,
                through.header("Content-Language"),
                plain.header("Content-Language"),
            )
        )
    return chosen


@pytest.mark.parametrize(
    "path_of",
    [lambda issue: issue.get_absolute_url(), lambda issue: "/"],
    ids=["issue", "home"],
)
def test_language_through_nginx_is_djangos(front, published, path_of):
    _who, issue, _second = published
    chosen = _languages_compared(front, path_of(issue), LANGUAGE_REQUESTS)
    differing = [row for row in chosen if row[1] != row[2]]
    assert differing == [], differing
    assert {row[2] for row in chosen} == {"zh-hans", "en"}


def test_language_cookie_named_in_another_case(front, published):
    """nginx finds a cookie whatever the case of its name, and the first of
    two; Django only the name in small letters, and the last."""
    _who, issue, _second = published
    requests = [
        {"Cookie": "Django_Language=en"},
        {"Cookie": "DJANGO_LANGUAGE=en; django_language=zh-hans"},
        {"Cookie": "django_language=en; django_language=zh-hans"},
        {"Cookie": "xdjango_language=en"},
    ]
    chosen = _languages_compared(front, issue.get_absolute_url(), requests)
    assert [(row[1], row[2]) for row in chosen] == [("zh-hans", "zh-hans")] * 4, chosen


def test_retirement_reaches_nginx_at_once(front, published):
    who, issue, second = published
    case = issue.cases.get()
    nginx = front.nginx
    paths = [issue.get_absolute_url(), f"/cases/{case.pk}/"]
    for path in paths:
        _first, again = _read_twice(nginx, path)
        assert again.from_copy, path
    old_folder = front.current()

    services.issue_unpublish(
        issue=issue, acting_user=who.editor, reason="来源材料有误，暂时撤下"
    )
    started = time.monotonic()

    def retired():
        return nginx.get(paths[0]).status == 410 and nginx.get(paths[1]).status == 404

    assert wait_for(retired, timeout=1.0, interval=0.05)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, elapsed
    assert not old_folder.exists()
    gone = nginx.get(paths[0])
    assert not gone.from_copy
    assert "来源材料有误" in gone.body
    assert not nginx.get(paths[0]).from_copy  # a 410 is never written to the copy

    # An edit shows at once, where the copy held the page before.
    second_path = second.get_absolute_url()
    _first, again = _read_twice(nginx, second_path)
    assert again.from_copy
    services.issue_update(
        issue=second, acting_user=who.editor, note="<p>本期编者按：新写的一段话。</p>"
    )
    edited = nginx.get(second_path)
    assert edited.status == 200
    assert "本期编者按：新写的一段话。" in edited.body
    assert not edited.from_copy
    assert nginx.get(second_path).from_copy


def test_private_requests_skip_the_copy(front, published, settings):
    who, issue, _second = published
    case = issue.cases.get()
    case_path = f"/cases/{case.pk}/"
    nginx = front.nginx
    for path in (case_path, issue.get_absolute_url()):
        _first, again = _read_twice(nginx, path)
        assert again.from_copy, path

    # A query string, or a host the site does not serve, goes to Django.
    asked = nginx.get(case_path + "?from=wechat")
    assert asked.status == 200
    assert not asked.from_copy
    assert "data-views-beacon" not in asked.body
    assert "浏览量：" in asked.body
    foreign = nginx.get(case_path, Host="evil.example")
    assert foreign.status == 400
    assert not foreign.from_copy
    assert "data-views-beacon" not in foreign.body

    # What Django would answer otherwise than with the page: HEAD (405), an
    # address nginx tidies (404); a range is the whole page, as from Django.
    head = nginx.request(case_path, method="HEAD")
    assert (head.status, head.from_copy) == (405, False)
    tidied = nginx.get("/" + case_path)
    assert (tidied.status, tidied.from_copy) == (404, False)
    ranged = nginx.get(case_path, Range="bytes=0-1")
    assert ranged.status == 200 and ranged.from_copy
    assert "data-views-beacon" in ranged.body

    # A session cookie anywhere in the header, even after an empty one of the
    # same name (Django reads the last), is a reader of their own.
    twice = nginx.get(case_path, Cookie="sessionid=; sessionid=not-a-session")
    assert twice.status == 200 and not twice.from_copy

    # A signed-in reader gets their own page, with their menu.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    who.secretary.set_password(PASSWORD)
    who.secretary.save()
    signed_in = nginx.sign_in("secretary", PASSWORD)
    assert signed_in.status == 302, signed_in.body
    assert signed_in.header("Location").endswith("/desk/")
    assert "sessionid" in nginx.cookies
    for path in (case_path, issue.get_absolute_url(), "/"):
        page = nginx.get(path)
        assert page.status == 200, path
        assert not page.from_copy, path
        assert "user-menu__name" in page.body, path
        assert "data-views-beacon" not in page.body, path
    assert "浏览量：" in nginx.get(case_path).body


@pytest.mark.browser
def test_browser_fills_the_count_from_the_beacon(front, published, browser):
    _who, issue, _second = published
    case = issue.cases.get()
    path = f"/cases/{case.pk}/"
    assert "浏览量：1" in front.nginx.get(path).body
    context = browser.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        response = page.goto(front.nginx.base + path)
        assert response.status == 200
        assert "data-views-beacon" in page.content(), "the page is not the copy's"
        count = page.locator("[data-views-beacon]")
        page.wait_for_function(
            "() => /^[0-9]+$/.test("
            "document.querySelector('[data-views-beacon]').textContent)",
            timeout=10_000,
        )
        assert count.text_content() == "2"
    finally:
        context.close()
