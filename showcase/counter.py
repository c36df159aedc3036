"""浏览量: reads counted without a database write per read.

A read counts once per visitor per hour: the visitor is a salted hash of the
client address and browser, kept only as a cache key that expires. Counted
reads collect in Redis when the cache is Redis (shared by every web process
and kept across restarts), otherwise in this process's memory, as they also do
while Redis is unreachable; a periodic fold adds them to the database.

The fold is safe to run twice or in two places at once: the pending counts are
renamed away atomically under a fresh token, and the token is stored in the
same transaction that adds the counts, so a batch is added exactly once.
"""

import atexit
import hashlib
import logging
import threading
import time
import uuid
from collections import Counter, OrderedDict
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F

from .cache import (
    PAGES_KEY,
    case_pages_drop,
    page_get,
    redis_client,
    redis_down,
    redis_failed,
)

logger = logging.getLogger(__name__)

PENDING_KEY = "casehub:views:pending"
FOLDING_PREFIX = "casehub:views:folding:"
SEEN_SECONDS = 60 * 60
LOCAL_FLUSH_SECONDS = 30


@lru_cache(maxsize=1)
def _salt() -> str:
    return hashlib.sha256(f"views:{settings.SECRET_KEY}".encode()).hexdigest()


def visitor_hash(request) -> str:
    address = _client_address(request)
    agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    return hashlib.sha256(f"{_salt()}|{address}|{agent}".encode()).hexdigest()[:32]


def _client_address(request) -> str:
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0) or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


class _LocalPending:
    """Counts of this process, when there is no Redis to share them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = Counter()
        self.timer = None

    def add(self, case_id: int) -> None:
        with self.lock:
            self.counts[case_id] += 1
            if self.timer is None:
                self.timer = threading.Timer(LOCAL_FLUSH_SECONDS, self._flush_later)
                self.timer.daemon = True
                self.timer.start()

    def get(self, case_id: int) -> int:
        with self.lock:
            return self.counts.get(case_id, 0)

    def take(self) -> Counter:
        with self.lock:
            taken, self.counts = self.counts, Counter()
            return taken

    def _flush_later(self) -> None:
        with self.lock:
            self.timer = None
        try:
            views_fold()
        except Exception:  # the next read starts a new timer and tries again
            logger.exception("folding view counts failed")


class _LocalSeen:
    """Visitors this process counted lately, for when Redis is unreachable."""

    def __init__(self, size: int = 100_000):
        self.size = size
        self.expiry = OrderedDict()
        self.lock = threading.Lock()

    def add(self, key: str) -> bool:
        """Remember `key` for an hour; False if it was already remembered."""
        now = time.monotonic()
        with self.lock:
            # Entries share one lifetime, so the oldest expire first.
            while self.expiry and next(iter(self.expiry.values())) <= now:
                self.expiry.popitem(last=False)
            if key in self.expiry:
                return False
            self.expiry[key] = now + SEEN_SECONDS
            while len(self.expiry) > self.size:
                self.expiry.popitem(last=False)
            return True


_local = _LocalPending()
_local_seen = _LocalSeen()
atexit.register(lambda: views_fold() if _local.counts else None)


def _seen_key(case_id: int, request) -> str:
    return f"casehub:views:seen:{case_id}:{visitor_hash(request)}"


def view_register(*, case_id: int, request) -> bool:
    """Count a read of a case unless this visitor was counted in the last hour."""
    key = _seen_key(case_id, request)
    client = redis_client()
    if client is not None and not redis_down():
        try:
            if not client.set(key, 1, nx=True, ex=SEEN_SECONDS):
                return False
            client.hincrby(PENDING_KEY, case_id, 1)
            return True
        except redis.RedisError as error:
            redis_failed(error)
    if client is None:
        first = cache.add(key, 1, timeout=SEEN_SECONDS)
    else:
        first = _local_seen.add(key)
    if first:
        _local.add(case_id)
    return first


def views_pending(case_id: int) -> int:
    """Reads counted but not yet folded into the database."""
    here = _local.get(case_id)
    client = redis_client()
    if client is None or redis_down():
        return here
    try:
        value = client.hget(PENDING_KEY, case_id)
    except redis.RedisError as error:
        redis_failed(error)
        return here
    return here + (int(value) if value else 0)


# One round trip for a cached case page: check it is there (the case is
# published), count the reader, and send the page only if the caller's copy
# is out of date.
_READ_SCRIPT = """
local stamp = redis.call('HGET', KEYS[1], 'stamp:' .. ARGV[1])
if not stamp then
  return {false, false, 0}
end
local page = false
if stamp ~= ARGV[4] then
  page = redis.call('HGET', KEYS[1], ARGV[1])
end
local pending
if redis.call('SET', KEYS[2], 1, 'NX', 'EX', ARGV[2]) then
  pending = redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
else
  pending = tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0')
end
return {stamp, page, pending}
"""


def case_read(*, case_id: int, request, field: str) -> tuple[bytes | None, int]:
    """Fetch a case's cached page and, if it was there, count the reader.

    Returns the page and the case's pending reads, this one included; or
    (None, 0) when the page is not cached, and nothing was counted.
    """
    client = redis_client()
    if client is None:
        page = page_get(field)
        if page is None:
            return None, 0
        view_register(case_id=case_id, request=request)
        return page, views_pending(case_id)
    if redis_down():
        return None, 0
    known_stamp, known_page = _pages_here.get(field, ("", None))
    try:
        stamp, page, pending = _read_script(client)(
            keys=[PAGES_KEY, _seen_key(case_id, request), PENDING_KEY],
            args=[field, SEEN_SECONDS, case_id, known_stamp],
        )
    except redis.RedisError as error:
        redis_failed(error)
        return None, 0
    if stamp is None:
        return None, 0
    if page is None:
        page = known_page
    else:
        _pages_here.put(field, (stamp.decode(), page))
    return page, int(pending) + _local.get(case_id)


class _RecentPages:
    """The case pages this process served lately, with their stamps."""

    def __init__(self, size: int = 256):
        self.size = size
        self.pages = OrderedDict()
        self.lock = threading.Lock()

    def get(self, field, default):
        with self.lock:
            return self.pages.get(field, default)

    def put(self, field, value) -> None:
        with self.lock:
            self.pages[field] = value
            self.pages.move_to_end(field)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)


_pages_here = _RecentPages()


@lru_cache(maxsize=4)
def _read_script(client):
    # Registered once: later calls send the script's hash, not its text.
    return client.register_script(_READ_SCRIPT)


def _apply(token: str, counts: dict[int, int]) -> bool:
    """Add `counts` to the database once; False if `token` was applied before."""
    from .models import ViewCount, ViewFold

    with transaction.atomic():
        try:
            with transaction.atomic():
                ViewFold.objects.create(token=token)
        except IntegrityError:
            return False
        # Rows first (a concurrent fold may be making the same ones), then
        # increments, which the row locks put one after the other.
        ViewCount.objects.bulk_create(
            [ViewCount(case_id=case_id, count=0) for case_id in counts],
            ignore_conflicts=True,
        )
        for case_id, count in counts.items():
            ViewCount.objects.filter(case_id=case_id).update(count=F("count") + count)
    return True


def views_fold() -> int:
    """Move counted reads into the database; returns how many reads moved."""
    batches = []
    taken = _local.take()
    if taken:
        batches.append((uuid.uuid4().hex, dict(taken), None))
    client = redis_client()
    if client is not None:
        try:
            batches.extend(_redis_batches(client))
        except redis.RedisError as error:
            # The reads stay in Redis for a later fold; this process's go now.
            redis_failed(error)
            client = None
    moved = 0
    for token, counts, key in batches:
        try:
            applied = _apply(token, counts)
        except Exception:
            if key is None:  # this process's counts: keep them for the next fold
                for case_id, count in counts.items():
                    for _ in range(count):
                        _local.add(case_id)
            raise
        if applied:
            moved += sum(counts.values())
            case_pages_drop(counts)
        if key is not None:
            client.delete(key)
    return moved


def _redis_batches(client) -> list[tuple[str, dict[int, int], bytes]]:
    """Take the shared pending reads, with any batch a crashed fold left behind."""
    token = uuid.uuid4().hex
    try:
        client.rename(PENDING_KEY, FOLDING_PREFIX + token)
    except redis.ResponseError as error:
        if "no such key" not in str(error).lower():
            raise
    batches = []
    for key in client.scan_iter(match=FOLDING_PREFIX + "*"):
        raw = client.hgetall(key)
        counts = {int(case_id): int(count) for case_id, count in raw.items()}
        batches.append((key.decode().removeprefix(FOLDING_PREFIX), counts, key))
    return batches
