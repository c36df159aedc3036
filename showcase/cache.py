"""Caching of the public pages, for anonymous readers.

With Redis as the cache, every page lives as one field of a single Redis hash:
a read is one round trip, and a publish, unpublish or edit drops the whole hash
at once (publishing happens a few times a week, so nothing finer is needed).
Without Redis, pages go to Django's cache under a key carrying a site-wide
version, and the version is bumped instead.

A stored page is its status line and body: b"200\n<html…>"; a case page keeps
its stored view count in place of the status.

Every retirement starts a new generation, a fresh token. A page is built from
the database after the generation was read, and stored only while that
generation still holds: a page built from what the database held just before a
publish commits cannot outlive the publish. With FRONT_ROOT set, the pages go
to the published copy for the front server as well (showcase.published).
"""

import contextlib
import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections import OrderedDict
from functools import lru_cache

import hiredis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import translation

from . import published

PAGES_KEY = "casehub:pages"
GENERATION_KEY = "casehub:pages:generation"
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


class _Link(threading.local):
    """A socket of each thread's own to Redis, for the reads of the public pages.

    The client's calls take each command through its connection pool, retry
    and instrumentation layers, which on a small machine cost as much CPU as
    the round trip itself; a reader's page is one command or one script, so
    it goes out on a plain socket the thread keeps, in Redis's own protocol,
    packed and read by hiredis (the parser the client uses). TLS connections
    are left to the client.
    """

    sock = None
    reader = None
    pid = 0
    client = None


_link = _Link()


class NoScript(Exception):
    """Redis does not hold the script asked for by its digest."""


def _link_open(client) -> bool:
    """Connect this thread's socket as the client would: address, password,
    database, timeouts. False for a transport left to the client."""
    import redis

    pool = client.connection_pool
    options = pool.connection_kwargs
    if pool.connection_class is redis.UnixDomainSocketConnection:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(options.get("socket_connect_timeout"))
        sock.connect(options["path"])
    elif pool.connection_class is redis.Connection:
        sock = socket.create_connection(
            (options.get("host", "localhost"), options.get("port", 6379)),
            timeout=options.get("socket_connect_timeout"),
        )
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    else:
        return False
    sock.settimeout(options.get("socket_timeout"))
    _link.sock, _link.reader = sock, hiredis.Reader()
    _link.pid, _link.client = os.getpid(), client
    hello = []
    if options.get("password"):
        hello.append(
            ("AUTH", options["username"], options["password"])
            if options.get("username")
            else ("AUTH", options["password"])
        )
    if options.get("db"):
        hello.append(("SELECT", options["db"]))
    for reply in _exchange(hello) if hello else ():
        if isinstance(reply, hiredis.ReplyError):
            raise redis.ConnectionError(str(reply))
    return True


class _Stale(Exception):
    """A kept socket Redis had closed: nothing was read, nothing was done."""


def _exchange(commands) -> list:
    """Send `commands` at once on this thread's socket; their replies.

    A socket Redis closed while it was kept (a restart, an idle timeout) fails
    before any reply arrives: that raises _Stale, for the caller to connect
    again and send once more, since Redis never read the commands.
    """
    if not commands:
        return []
    sock, reader = _link.sock, _link.reader
    replies = []
    heard = False
    try:
        sock.sendall(b"".join(hiredis.pack_command(command) for command in commands))
        while len(replies) < len(commands):
            reply = reader.gets()
            if reply is not False:
                replies.append(reply)
                continue
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("Redis closed the connection")
            heard = True
            reader.feed(chunk)
    except (BrokenPipeError, ConnectionResetError) as error:
        if not heard:
            raise _Stale from error
        raise
    return replies


def _link_close() -> None:
    if _link.sock is not None:
        with contextlib.suppress(OSError):
            _link.sock.close()
    _link.sock = _link.reader = None


def redis_call(*commands):
    """The replies to `commands` (tuples), sent at once; None if Redis cannot
    be reached or refuses one (it is then left alone a while, as after every
    failed call). A script Redis does not hold yet raises NoScript, for
    script_run to load it."""
    client = redis_client()
    if client is None or redis_down():
        return None
    import redis

    try:
        if _link.sock is None or _link.pid != os.getpid() or _link.client is not client:
            # A process forked from one that had connected starts its own, and
            # a cache set up anew (its settings changed) gets its own.
            _link_close()
            if not _link_open(client):
                return _client_call(client, commands)
        try:
            replies = _exchange(commands)
        except _Stale:
            _link_close()
            _link_open(client)
            replies = _exchange(commands)
    except (_Stale, redis.RedisError, OSError, hiredis.ProtocolError) as error:
        _link_close()
        redis_failed(error)
        return None
    for reply in replies:
        if isinstance(reply, hiredis.ReplyError):
            if str(reply).startswith("NOSCRIPT"):
                raise NoScript(str(reply))
            redis_failed(reply)
            return None
    return replies


def _client_call(client, commands):
    """redis_call through the client, for a transport the link leaves to it."""
    import redis

    pipe = client.pipeline(transaction=False)
    for command in commands:
        pipe.execute_command(*command)
    try:
        replies = pipe.execute(raise_on_error=False)
    except redis.RedisError as error:
        redis_failed(error)
        return None
    for reply in replies:
        if isinstance(reply, redis.exceptions.NoScriptError):
            raise NoScript(str(reply))
        if isinstance(reply, redis.ResponseError):
            redis_failed(reply)
            return None
    return replies


def script_run(script: str, keys, args):
    """Run a Lua script by its digest (loading it on first use); None if
    Redis cannot be reached."""
    digest = _digest(script)
    command = ("EVALSHA", digest, len(keys), *keys, *args)
    try:
        replies = redis_call(command)
    except NoScript:
        replies = redis_call(("SCRIPT", "LOAD", script), command)
        replies = replies and replies[1:]
    return None if replies is None else replies[0]


@lru_cache(maxsize=16)
def _digest(script: str) -> str:
    return hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis's script name


def redis_down() -> bool:
    """True for a short while after a call to Redis failed."""
    return time.monotonic() < _redis_down_until


def redis_failed(error: Exception) -> None:
    global _redis_down_until
    if not redis_down():
        logger.warning("Redis is unreachable (%s); pages go uncached for now", error)
    _redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS


class RecentPages:
    """The pages a process served lately, most recent last, at most `size`."""

    def __init__(self, size: int = 256):
        self.size = size
        self.pages = OrderedDict()
        self.lock = threading.Lock()

    def get(self, field, default=None):
        with self.lock:
            return self.pages.get(field, default)

    def put(self, field, value) -> None:
        with self.lock:
            self.pages[field] = value
            self.pages.move_to_end(field)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)


def page_field(kind: str, *parts, language: str | None = None) -> str:
    """The name of a page in the cache: its language, kind and address parts."""
    joined = ":".join(str(part) for part in parts)
    return f"{language or translation.get_language()}:{kind}:{joined}"


def views_field(case_id) -> str:
    """Where a cached case's stored count of reads lives, for the beacon."""
    return f"views:{case_id}"


def _version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, "0", timeout=None)
        version = cache.get(VERSION_KEY, "0")
    return str(version)


def _versioned(field: str, version: str) -> str:
    return f"showcase:page:{version}:{field}"


def page_generation() -> str | None:
    """The generation now; None when the cache cannot be reached."""
    client = redis_client()
    if client is None:
        return _version()
    if redis_down():
        return None
    import redis

    try:
        return (client.get(GENERATION_KEY) or b"").decode()
    except redis.RedisError as error:
        redis_failed(error)
        return None


class _Trust:
    """The copy's link as last found to agree with Redis, and when."""

    link = None
    at = 0.0


_trust = _Trust()
# How long the copy's link is taken for the generation without asking Redis:
# on one machine the link moves with every retirement, so this only bounds
# how long a link left behind (a folder not writable, another machine's copy)
# could be believed.
TRUST_SECONDS = 1.0


def trusted_generation() -> str | None:
    """The generation now, read off the published copy's link without a round
    trip to Redis, if Redis agreed with the link less than TRUST_SECONDS ago;
    None without a copy, or when they disagree."""
    link = published.current_generation()
    if link is None:
        return None
    now = time.monotonic()
    if _trust.link == link and now - _trust.at < TRUST_SECONDS:
        return link
    replies = redis_call(("GET", GENERATION_KEY))
    if replies is None or (replies[0] or b"").decode() != link:
        return None
    _trust.link, _trust.at = link, now
    return link


def page_lookup(field: str) -> tuple[bytes | None, str | None]:
    """A cached page, or None, with the generation it was looked up in: what
    page_set needs if the page is built now. One round trip."""
    client = redis_client()
    if client is None:
        version = _version()
        return cache.get(_versioned(field, version)), version
    replies = redis_call(("HGET", PAGES_KEY, field), ("GET", GENERATION_KEY))
    if replies is None:
        return None, None
    content, generation = replies
    return content, (generation or b"").decode()


def page_get(field: str) -> bytes | None:
    return page_lookup(field)[0]


# Store a page only while the generation it was built in holds.
_SET_SCRIPT = """
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""


@lru_cache(maxsize=4)
def _set_script(client):
    return client.register_script(_SET_SCRIPT)


def page_set(
    field: str,
    head: int,
    body: bytes,
    generation: str | None,
    *,
    extra: dict | None = None,
    copy: bytes | None = None,
) -> bool:
    """Store a page built in `generation`, with `extra` fields beside it, and
    `copy` as its file in the published copy when there is one (pages that are
    not in the copy give none). False if the page was not stored."""
    content = f"{head}\n".encode() + body
    fields = {field: content, stamp_field(field): uuid.uuid4().hex, **(extra or {})}
    stored = page_fields_set(fields, generation)
    if stored and copy is not None:
        published.page_write(field, copy, generation)
    return stored


def page_fields_set(fields: dict, generation: str | None) -> bool:
    """Store fields of the cache built in `generation`, all or none, while it
    holds. False if they were not stored."""
    if generation is None:
        return False
    client = redis_client()
    if client is None:
        if _version() != generation:
            return False
        cache.set_many(
            {_versioned(name, generation): value for name, value in fields.items()},
            PAGE_TIMEOUT,
        )
        return True
    if redis_down():
        return False
    import redis

    pairs = [item for pair in fields.items() for item in pair]
    try:
        return bool(
            _set_script(client)(
                keys=[PAGES_KEY, GENERATION_KEY],
                args=[generation, PAGE_TIMEOUT, *pairs],
            )
        )
    except redis.RedisError as error:
        redis_failed(error)
        return False


def page_slot_take(kind: str, limit: int) -> bool:
    """Take one of `limit` places for cached pages of this kind, until the next
    bump: pages a reader can name freely (searches) stay bounded in number."""
    field = f"slots:{kind}"
    client = redis_client()
    if client is None:
        key = _versioned(field, _version())
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
    """Retire every cached public page, and the published copy with them.

    The new generation is set and the copy's folder changed under one lock, so
    two retirements at once leave the cache and the copy on the same one. If the
    cache cannot be reached, the copy goes all the same: readers are then served
    by Django until the next retirement starts a copy again. If the copy's lock
    cannot be had (its folder not writable, say), the cache is retired anyway
    and the copy taken down as far as it can be.
    """
    generation = uuid.uuid4().hex
    try:
        lock = published.locked()
        lock.__enter__()
    except OSError:
        logger.exception("the published copy's lock could not be taken")
        lock = None
    try:
        try:
            _generation_start(generation)
        except Exception:
            published.copy_drop()
            raise
        if lock is None:
            published.copy_drop()
        else:
            published.copy_start(generation)
    finally:
        if lock is not None:
            lock.__exit__(None, None, None)


def _generation_start(generation: str) -> None:
    client = redis_client()
    if client is None:
        cache.set(VERSION_KEY, generation, timeout=None)
        return
    pipe = client.pipeline(transaction=True)
    pipe.set(GENERATION_KEY, generation)
    pipe.delete(PAGES_KEY)
    pipe.execute()


def public_cache_bump_on_commit() -> None:
    """Retire every cached public page once the current transaction commits;
    a cache that cannot be reached then must not undo the saved change."""
    transaction.on_commit(public_cache_bump, robust=True)


# The cached answers that show a case's count of reads: its page, and its
# answer in the API (showcase.api).
CASE_KINDS = ("case", "api-case")


def case_pages_drop(case_ids) -> None:
    """Drop the cached pages of these cases in every language."""
    fields = [
        page_field(kind, case_id, language=code)
        for code, _name in settings.LANGUAGES
        for case_id in case_ids
        for kind in CASE_KINDS
    ]
    if not fields:
        return
    client = redis_client()
    if client is None:
        version = _version()
        cache.delete_many([_versioned(field, version) for field in fields])
        return
    import redis

    try:
        client.hdel(
            PAGES_KEY,
            *fields,
            *(stamp_field(field) for field in fields),
            *(views_field(case_id) for case_id in case_ids),
        )
    except redis.RedisError as error:
        # Only the view counts on those pages go stale until the next change.
        redis_failed(error)
