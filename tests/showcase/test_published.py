"""The published copy of the public pages (showcase.published) on a real
Redis: which pages become files, that a case's file carries the beacon and
no count, that every retirement leaves nginx nothing stale to serve, and the
headers file nginx serves them with."""

import io
import os
import re
from pathlib import Path

import pytest
import redis
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client, override_settings

from showcase import cache as cache_module
from showcase import services
from showcase.cache import (
    GENERATION_KEY,
    PAGES_KEY,
    page_field,
    page_lookup,
    page_set,
    public_cache_bump,
    redis_client,
)
from showcase.views import VIEWS_PLACEHOLDER, views_beacon
from tests.showcase import test_front
from tests.showcase.factories import planned_issue
from tests.showcase.test_front import UNREACHABLE_CACHE, case_path, front, get

pytestmark = pytest.mark.django_db(transaction=True)

# The same Redis database and site as the fast path's tests.
front_redis = test_front.front_redis
site = test_front.site

EDITOR_NAME = "Zhang Bianji"


@pytest.fixture
def copy(settings, front_redis, tmp_path) -> Path:
    settings.FRONT_ROOT = str(tmp_path / "front")
    public_cache_bump()
    return Path(settings.FRONT_ROOT)


def reader(address="203.0.113.20", **headers) -> Client:
    return Client(REMOTE_ADDR=address, HTTP_USER_AGENT="Reader/1.0", **headers)


def served(copy: Path) -> set[str]:
    """The files nginx would serve now."""
    current = copy / "current"
    if not current.is_dir():
        return set()
    return {
        str(path.relative_to(current))
        for path in current.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }


def every_file(copy: Path) -> list[Path]:
    return [path for path in copy.rglob("*") if path.is_file()]


class CopyWriteTests:
    def test_a_case_is_written_with_the_beacon_and_no_count(self, copy, site):
        case = site["case"]
        page = reader().get(case_path(case))
        assert page.status_code == 200
        assert "浏览量：1" in page.content.decode()
        written = copy / "current" / "zh-hans" / "cases" / str(case.pk) / "index.html"
        text = written.read_text(encoding="utf-8")
        assert f'data-views-beacon="/cases/{case.pk}/views/"' in text
        assert not re.search(r"浏览量：\d", text)
        assert VIEWS_PLACEHOLDER not in text
        # Apart from the count, the file is the page the reader was given.
        assert written.read_bytes() == page.content.replace(
            "浏览量：1".encode(), "浏览量：".encode() + views_beacon(case.pk)
        )

    def test_home_series_and_issue_are_written_at_their_addresses(self, copy, site):
        slug, number = site["series"].slug, site["issue"].number
        pages = {
            "/": "zh-hans/index.html",
            f"/series/{slug}/": f"zh-hans/series/{slug}/index.html",
            f"/series/{slug}/{number}/": f"zh-hans/series/{slug}/{number}/index.html",
        }
        for address, place in pages.items():
            page = reader().get(address)
            assert page.status_code == 200, address
            assert (copy / "current" / place).read_bytes() == page.content, address
        english = reader(HTTP_ACCEPT_LANGUAGE="en").get("/")
        assert (copy / "current" / "en" / "index.html").read_bytes() == (
            english.content
        )
        assert served(copy) == {*pages.values(), "en/index.html"}

    def test_searches_later_pages_gone_issues_and_private_pages_are_not_written(
        self, copy, site
    ):
        editor = site["who"].editor
        editor.first_name, editor.last_name = "Zhang", "Bianji"
        editor.save()
        slug, case = site["series"].slug, site["case"]
        addresses = [
            "/",
            f"/series/{slug}/",
            site["issue"].get_absolute_url(),
            case_path(case),
        ]
        signed_in = Client()
        signed_in.force_login(editor)
        for address in addresses:
            page = signed_in.get(address)
            assert page.status_code == 200 and EDITOR_NAME in page.content.decode()
        assert served(copy) == set()
        anonymous = reader()
        assert anonymous.get("/search/", {"q": "党建引领"}).status_code == 200
        assert anonymous.get(f"/series/{slug}/", {"page": "2"}).status_code == 200
        assert anonymous.get(site["gone"].get_absolute_url()).status_code == 410
        assert served(copy) == set()
        for address in addresses:
            assert anonymous.get(address).status_code == 200
        # Signed-in again, now that the anonymous pages are cached and written.
        for address in addresses:
            assert EDITOR_NAME in signed_in.get(address).content.decode()
        assert served(copy) == {
            "zh-hans/index.html",
            f"zh-hans/series/{slug}/index.html",
            f"zh-hans/series/{slug}/{site['issue'].number}/index.html",
            f"zh-hans/cases/{case.pk}/index.html",
        }
        for path in every_file(copy):
            assert EDITOR_NAME.encode() not in path.read_bytes(), path


def change_unpublish(site):
    services.issue_unpublish(
        issue=site["issue"], acting_user=site["who"].editor, reason="内容有误"
    )


def change_publish(site):
    services.issue_publish(issue=site["planned"], acting_user=site["who"].editor)


def change_update(site):
    services.issue_update(
        issue=site["issue"], acting_user=site["who"].editor, note="<p>新的编者按</p>"
    )


class RetirementTests:
    @pytest.mark.parametrize(
        "change", [change_unpublish, change_publish, change_update]
    )
    def test_a_change_retires_the_copy_on_commit(self, copy, site, change):
        site["planned"] = planned_issue(site["who"], site["series"])
        case = site["case"]
        anonymous = reader()
        assert anonymous.get(case_path(case)).status_code == 200
        assert anonymous.get("/").status_code == 200
        case_file = f"zh-hans/cases/{case.pk}/index.html"
        assert case_file in served(copy)
        old = os.readlink(copy / "current")
        with transaction.atomic():
            change(site)
            # Not before the change is committed.
            assert os.readlink(copy / "current") == old
            assert case_file in served(copy)
        new = os.readlink(copy / "current")
        assert new != old
        assert not (copy / old).exists()
        assert list((copy / new).iterdir()) == []
        assert served(copy) == set()
        # The next anonymous reader's page goes into the new folder.
        home = anonymous.get("/")
        assert (copy / "current" / "zh-hans" / "index.html").read_bytes() == (
            home.content
        )
        if change is change_unpublish:
            assert anonymous.get(case_path(case)).status_code == 404
            assert served(copy) == {"zh-hans/index.html"}
        else:
            assert anonymous.get(case_path(case)).status_code == 200
            assert served(copy) == {"zh-hans/index.html", case_file}
            assert (copy / new / case_file).is_file()

    def test_the_fast_path_serves_nothing_of_a_retired_generation(self, copy, site):
        app = front()
        issue = site["issue"].get_absolute_url()
        for address in ("/", issue, case_path(site["case"])):
            get(app, address)
            assert not get(app, address).by_django, address
        services.issue_update(
            issue=site["issue"], acting_user=site["who"].editor, note="<p>新的按语</p>"
        )
        for address in ("/", issue, case_path(site["case"])):
            assert get(app, address).by_django, address
        page = get(app, issue)
        assert not page.by_django and "新的按语" in page.text

    def test_a_page_built_in_a_retired_generation_is_not_stored(
        self, copy, front_redis
    ):
        field = page_field("home", language="zh-hans")
        content, generation_old = page_lookup(field)
        assert content is None and generation_old
        public_cache_bump()
        body = b"<html>built before the change</html>"
        assert page_set(field, 200, body, generation_old, copy=body) is False
        assert front_redis.hget(PAGES_KEY, field) is None
        assert served(copy) == set()
        assert not (copy / f"g-{generation_old}").exists()
        # Built in the generation that holds, the same page is stored.
        _content, generation_now = page_lookup(field)
        assert page_set(field, 200, body, generation_now, copy=body) is True
        assert front_redis.hget(PAGES_KEY, field) == b"200\n" + body
        assert (copy / "current" / "zh-hans" / "index.html").read_bytes() == body

    def test_redis_failing_during_a_retirement_drops_the_copy(self, copy, site):
        assert reader().get("/").status_code == 200
        assert served(copy) == {"zh-hans/index.html"}
        redis_client.cache_clear()
        try:
            with (
                override_settings(CACHES=UNREACHABLE_CACHE),
                pytest.raises(redis.RedisError),
            ):
                public_cache_bump()
        finally:
            redis_client.cache_clear()
        assert not os.path.lexists(copy / "current")
        assert not [entry for entry in copy.iterdir() if entry.name.startswith("g-")]

    def test_a_lock_that_cannot_be_had_still_retires_the_cache(
        self, copy, site, front_redis
    ):
        """The copy's folder not writable by the web process (front_setup run
        as another user, say): the cache is retired all the same, and the copy
        taken down as far as it can be."""
        app = front()
        issue = site["issue"].get_absolute_url()
        get(app, issue)
        assert not get(app, issue).by_django
        (copy / ".lock").unlink()
        (copy / ".lock").mkdir()  # open(".lock", "a") now fails
        with transaction.atomic():
            services.issue_unpublish(
                issue=site["issue"], acting_user=site["who"].editor, reason="撤回"
            )
        assert front_redis.hlen(PAGES_KEY) == 0
        assert not os.path.lexists(copy / "current")
        gone = get(app, issue)
        assert gone.by_django and gone.status == 410

    def test_a_link_redis_disagrees_with_is_not_trusted(self, copy, site, front_redis):
        """Pages kept in the process are answered by the copy's link only while
        Redis agrees with it (a link left behind, another machine's copy)."""
        app = front()
        get(app, "/")
        assert not get(app, "/").by_django
        front_redis.set(GENERATION_KEY, "another-machines-retirement")
        front_redis.delete(PAGES_KEY)
        cache_module._trust.at = 0.0  # the second since Redis last agreed is up
        assert get(app, "/").by_django


class FrontSetupTests:
    def test_headers_conf_holds_django_s_headers_for_nginx(self, settings, copy, site):
        django = get(front(), "/")
        assert django.by_django and django.status == 200
        expected = [
            f'add_header {name} "{value}" always;'
            for name, value in django.headers
            if name.lower()
            not in {"content-type", "content-length", "content-language"}
        ]
        names = {line.split()[1] for line in expected}
        assert {"Content-Security-Policy", "X-Frame-Options"} <= names
        reader().get("/")
        assert served(copy) == {"zh-hans/index.html"}
        call_command("front_setup", stdout=io.StringIO())
        lines = (copy / "headers.conf").read_text(encoding="utf-8").splitlines()
        assert [line for line in lines if not line.startswith("#")] == expected
        # A fresh copy: nothing from before is served.
        assert (copy / "current").is_dir() and served(copy) == set()
        # Without a copy to serve, the command refuses.
        settings.FRONT_ROOT = ""
        with pytest.raises(CommandError, match="FRONT_ROOT is not set"):
            call_command("front_setup", stdout=io.StringIO())
