"""Caching of the public pages, for anonymous readers.

With Redis as the cache, every page lives as one field of a single Redis hash:
a read is one round trip, and a publish, unpublish or edit drops the whole hash
at once (publishing happens a few times a week, so nothing finer is needed).
Without Redis, pages go to Django's cache under a key carrying a site-wide
version, and the version is bumped instead.

A stored page is its status line and body: b"200\n<html…>"; a case page keeps
its stored view count in place of the status.
"""

import logging
import time
import uuid
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import translation

PAGES_KEY = "casehub:pages"
VERSION_KEY = "showcase:public-version"
PAGE_TIMEOUT = 60 * 60 * 24
# After a failed call, Redis is left alone this long: readers get pages built
# from the database and reads are counted in the process meanwhile.
REDIS_RETRY_SECONDS = 10

logger = logging.getLogger(__name__)
_redis_down_until = 0.0


@lru_cache(maxsize=1)
def redis_client():
    """The Redis behind the cache, or None when the cache is not Redis."""
    config = settings.CACHES["default"]
    if not config["BACKEND"].endswith("RedisCache"):
        return None
    import redis

    location = config["LOCATION"]
    if isinstance(location, list | tuple):
        location = location[0]
    return redis.Redis.from_url(location, socket_connect_timeout=1, socket_timeout=2)


def redis_down() -> bool:
    """True for a short while after a call to Redis failed."""
    return time.monotonic() < _redis_down_until


def redis_failed(error: Exception) -> None:
    global _redis_down_until
    if not redis_down():
        logger.warning("Redis is unreachable (%s); pages go uncached for now", error)
    _redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS


def page_field(kind: str, *parts) -> str:
    joined = ":".join(str(part) for part in parts)
    return f"{translation.get_language()}:{kind}:{joined}"


def _versioned(field: str) -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return f"showcase:page:{version}:{field}"


def page_get(field: str) -> bytes | None:
    client = redis_client()
    if client is None:
        return cache.get(_versioned(field))
    if redis_down():
        return None
    import redis

    try:
        return client.hget(PAGES_KEY, field)
    except redis.RedisError as error:
        redis_failed(error)
        return None


def page_set(field: str, head: int, body: bytes) -> None:
    content = f"{head}\n".encode() + body
    client = redis_client()
    if client is None:
        cache.set(_versioned(field), content, PAGE_TIMEOUT)
        return
    if redis_down():
        return
    import redis

    pipe = client.pipeline(transaction=False)
    pipe.hset(PAGES_KEY, mapping={field: content, stamp_field(field): uuid.uuid4().hex})
    pipe.expire(PAGES_KEY, PAGE_TIMEOUT)
    try:
        pipe.execute()
    except redis.RedisError as error:
        redis_failed(error)


def page_slot_take(kind: str, limit: int) -> bool:
    """Take one of `limit` places for cached pages of this kind, until the next
    bump: pages a reader can name freely (searches) stay bounded in number."""
    field = f"slots:{kind}"
    client = redis_client()
    if client is None:
        key = _versioned(field)
        cache.add(key, 0, PAGE_TIMEOUT)
        try:
            return cache.incr(key) <= limit
        except ValueError:
            return False
    if redis_down():
        return False
    import redis

    try:
        return client.hincrby(PAGES_KEY, field, 1) <= limit
    except redis.RedisError as error:
        redis_failed(error)
        return False


def stamp_field(field: str) -> str:
    """Where a page's stamp lives: a token that changes whenever the page does,
    so a process holding a copy can check it without fetching the page."""
    return f"stamp:{field}"


def page_split(content: bytes) -> tuple[int, bytes]:
    head, _, body = content.partition(b"\n")
    return int(head), body


def public_cache_bump() -> None:
    """Retire every cached public page."""
    client = redis_client()
    if client is not None:
        client.delete(PAGES_KEY)
        return
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def public_cache_bump_on_commit() -> None:
    """Retire every cached public page once the current transaction commits;
    a cache that cannot be reached then must not undo the saved change."""
    transaction.on_commit(public_cache_bump, robust=True)


def case_pages_drop(case_ids) -> None:
    """Drop the cached pages of these cases in every language."""
    fields = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            fields.extend(page_field("case", case_id) for case_id in case_ids)
    if not fields:
        return
    client = redis_client()
    if client is None:
        cache.delete_many([_versioned(field) for field in fields])
        return
    import redis

    try:
        client.hdel(PAGES_KEY, *fields, *(stamp_field(field) for field in fields))
    except redis.RedisError as error:
        # Only the view counts on those pages go stale until the next change.
        redis_failed(error)
