"""Redis goes away under a running site: readers still read, branches still
submit, and the notifications go out once Redis is back.

The site runs in gunicorn and the worker in Celery, both on a Redis server of
this test's own, which the test stops and starts again.
"""

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from celery import Celery
from django.conf import global_settings
from django.conf import settings as django_settings

from inbox.models import Notification
from submissions.models import Case
from tests.integration.conftest import (
    free_port,
    gunicorn_command,
    mails_to,
    wait_for,
)
from tests.review.factories import draft, people
from tests.showcase.factories import published_issue, series
from tests.submissions.factories import PASSWORD

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(own_redis, postgres, tmp_path):
    """gunicorn serving the site and a Celery worker, on the test database."""
    (tmp_path / "mail").mkdir()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{postgres['USER'] or 'postgres'}@"
            f"{postgres['HOST'] or '127.0.0.1'}:{postgres['PORT'] or 5432}"
            f"/{postgres['NAME']}"
        ),
        "CACHE_URL": f"{own_redis.url}/0",
        "CELERY_BROKER_URL": f"{own_redis.url}/1",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "EMAIL_URL": f"filemail:///{tmp_path / 'mail'}",
        "CONN_MAX_AGE": "0",
        "DEBUG": "false",
    }
    common = {"cwd": django_settings.BASE_DIR, "env": env}
    web_log = (tmp_path / "web.log").open("w")
    worker_log = (tmp_path / "worker.log").open("w")
    web = subprocess.Popen(
        gunicorn_command(port),
        stdout=web_log,
        stderr=subprocess.STDOUT,
        **common,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "casehub",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        stdout=worker_log,
        stderr=subprocess.STDOUT,
        **common,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        up = wait_for(lambda: _status(base + "/robots.txt") == 200, timeout=30)
        ready = wait_for(
            lambda: "ready." in (tmp_path / "worker.log").read_text(), timeout=60
        )
        if not (up and ready):
            pytest.fail(
                "site or worker did not start:\n"
                + (tmp_path / "web.log").read_text()
                + (tmp_path / "worker.log").read_text()
            )
        yield Site(base, tmp_path)
    finally:
        for process in (web, worker):
            process.terminate()
        for process in (web, worker):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        web_log.close()
        worker_log.close()


class Site:
    def __init__(self, base, folder):
        self.base = base
        self.folder = folder
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def get(self, path):
        """(status, text) of a GET."""
        try:
            with self.opener.open(self.base + path, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post_form(self, path, fields, *, form_page=None):
        """POST `fields` to `path` with the CSRF token of the page showing the
        form (`path` itself unless `form_page` is given)."""
        _status, page = self.get(form_page or path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token.group(1), **fields}
        ).encode()
        request = urllib.request.Request(self.base + path, data=data)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read().decode()


def _status(url) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def test_redis_outage(site, own_redis, settings):
    # The site checks passwords with the product's own hashers.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    who = people()
    published = published_issue(who, series()).cases.get()
    case = draft(who, title="停机期间提交的案例")
    reviewer_address = who.reviewer1.email

    status, text = site.get("/healthz")
    assert status == 200, text
    assert site.get(f"/cases/{published.pk}/")[0] == 200  # now cached in Redis
    status, _url, _page = site.post_form(
        "/accounts/login/", {"username": "secretary", "password": PASSWORD}
    )
    assert status == 200

    own_redis.stop()

    # The health check says what is down, with a 503.
    status, text = site.get("/healthz")
    assert status == 503
    health = json.loads(text)
    assert health["database"] == "ok"
    assert health["cache"].startswith("down")
    assert health["broker"].startswith("down")

    # Readers still read, from the database.
    site.cookies.clear()
    for path in (
        "/",
        f"/cases/{published.pk}/",
        published.issues.get().get_absolute_url(),
    ):
        status, page = site.get(path)
        assert status == 200, page
    assert published.title in site.get(f"/cases/{published.pk}/")[1]

    # The secretary signs in and submits; the case is saved and in review.
    status, url, page = site.post_form(
        "/accounts/login/", {"username": "secretary", "password": PASSWORD}
    )
    assert status == 200 and url.endswith("/desk/"), page
    status, url, page = site.post_form(
        f"/submissions/{case.pk}/submit/", {}, form_page=f"/submissions/{case.pk}/"
    )
    assert status == 200, page
    case.refresh_from_db()
    assert case.status == Case.Status.IN_REVIEW
    # The reviewer's inbox has it; its email could not be queued.
    notification = Notification.objects.get(recipient=who.reviewer1, case=case)
    assert notification.emailed_at is None
    assert mails_to(site.folder, reviewer_address) == []

    own_redis.start()

    # The beat schedule's sweep queues what the outage held back (run now,
    # rather than after its interval; the age threshold is the sweep's own).
    Notification.objects.filter(pk=notification.pk).update(
        created_at=notification.created_at - timedelta(minutes=5)
    )
    entry = django_settings.CELERY_BEAT_SCHEDULE["review-notification-emails-sweep"]
    # An app of its own for this one message; it must not become the current
    # app, or later tests would queue their tasks on this Redis.
    beat = Celery(broker=f"{own_redis.url}/1", set_as_current=False)
    beat.send_task(entry["task"])
    beat.close()
    assert wait_for(lambda: mails_to(site.folder, reviewer_address), timeout=60)
    assert len(mails_to(site.folder, reviewer_address)) == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    status, text = site.get("/healthz")
    assert status == 200, text
