import os
from contextlib import contextmanager

import pytest
import redis
from django.core.cache import cache
from django.test import TransactionTestCase, override_settings

from casehub.celery import app as celery_app
from showcase import cache as page_cache
from showcase import counter as view_counter
from showcase import front as front_path

# The Chromium fixtures, for tests/e2e and the browser checks of tests/security.
pytest_plugins = ["tests.browser"]

REDIS_URL = os.environ.get("CASEHUB_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
# A Redis database of its own, so a test run never touches real queues. Set
# before any test runs: Celery builds its producer pool once, from this URL.
TEST_BROKER_URL = f"{REDIS_URL}/14"
celery_app.conf.broker_url = TEST_BROKER_URL


# What makes a test's outcome depend on the database engine: it opens the
# database (a fixture, the marker, a Django test class), or it needs the
# services or the browser the second CI run requires rather than skips.
DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}
SERVICE_MARKERS = ("django_db", "services", "browser")


def database_run() -> bool:
    """The second CI run, on PostgreSQL: only tests that could come out
    differently there are worth running again."""
    return os.environ.get("CASEHUB_DB_RUN", "") not in ("", "0", "false")


def may_differ_by_database(item) -> bool:
    if any(item.get_closest_marker(name) for name in SERVICE_MARKERS):
        return True
    if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    cls = getattr(item, "cls", None)
    return cls is not None and issubclass(cls, TransactionTestCase)


def pytest_collection_modifyitems(config, items):
    # Deselected, not skipped: pytest reports them as deselected, so the
    # second run's count of passed tests is what it really ran.
    if not database_run():
        return
    kept = [item for item in items if may_differ_by_database(item)]
    if len(kept) < len(items):
        kept_ids = {id(item) for item in kept}
        config.hook.pytest_deselected(
            items=[item for item in items if id(item) not in kept_ids]
        )
        items[:] = kept


def services_required() -> bool:
    return os.environ.get("CASEHUB_REQUIRE_SERVICES", "") not in ("", "0", "false")


def service_missing(reason: str):
    """Skip locally, with the reason shown; fail where services are required (CI)."""
    if services_required():
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_ROOT = tmp_path / "exports"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    cache.clear()
    # Reads counted in this process belong to the test that made them, and
    # a Redis one test found unreachable is tried afresh by the next.
    _local_reads_forget()
    page_cache._redis_down_until = 0.0
    yield
    cache.clear()
    _local_reads_forget()


@contextmanager
def redis_cache(database: int):
    """Redis database `database` as the site's cache, empty before and after;
    yields a client of it. Skips (or fails in CI) when Redis is not there."""
    location = f"{REDIS_URL}/{database}"
    client = redis.Redis.from_url(location, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        service_missing(f"Redis at {REDIS_URL} is not reachable ({error})")
    client.flushdb()
    page_cache.redis_client.cache_clear()
    page_cache._link_close()
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
        }
    }
    try:
        with override_settings(CACHES=caches):
            yield client
    finally:
        page_cache.redis_client.cache_clear()
        page_cache._link_close()
        client.flushdb()


def _local_reads_forget():
    """Drop this process's pending reads and the timer that would fold them:
    a fold left running would move the next test's reads behind its back.
    Also what the process remembers of pages and readers, and its Redis
    socket: each test starts on its own Redis database."""
    local = view_counter._local
    with local.lock:
        timer, local.timer = local.timer, None
    if timer is not None:
        timer.cancel()
    local.take()
    for memory in (
        view_counter._pages_here,
        view_counter._seen_here,
        view_counter._pending_here,
        front_path._held,
    ):
        with memory.lock:
            memory.pages.clear()
    page_cache._link_close()


@pytest.fixture
def who(db):
    """The people of one branch, the reviewers of both stages, an editor."""
    from tests.review.factories import people

    return people()
