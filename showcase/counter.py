"""浏览量: reads counted without a database write per read.

A read counts once per visitor per hour: the visitor is a salted hash of the
client address and browser, kept only as a cache key that expires. One client
address adds at most ADDRESS_CASE_READS of a case and ADDRESS_READS in all
per hour, whatever browsers it claims to be (see below why). Counted
reads collect in Redis when the cache is Redis (shared by every web process
and kept across restarts), otherwise in this process's memory, as they also do
while Redis is unreachable; a periodic fold adds them to the database.

The fold is safe to run twice or in two places at once: the pending counts are
renamed away atomically under a fresh token, and the token is stored in the
same transaction that adds the counts, so a batch is added exactly once.
"""

import atexit
import hashlib
import ipaddress
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
    GENERATION_KEY,
    PAGES_KEY,
    RecentPages,
    case_pages_drop,
    page_get,
    redis_client,
    redis_down,
    redis_failed,
    script_run,
    trusted_generation,
    views_field,
)
from .models import ViewCount, ViewFold

logger = logging.getLogger(__name__)

PENDING_KEY = "casehub:views:pending"
FOLDING_PREFIX = "casehub:views:folding:"
SEEN_SECONDS = 60 * 60
LOCAL_FLUSH_SECONDS = 30
ADDRESS_CASE_PREFIX = "casehub:views:address-case:"
ADDRESS_PREFIX = "casehub:views:address:"
# What one client address adds per hour (SEEN_SECONDS), however many
# User-Agents it sends. Readers behind one address are real: an institute's
# NAT, where a case shared in a WeChat group is read by colleagues within the
# hour. A branch has a few dozen members at most and seldom do more than a
# score of them read the same case in its first hour, so 20 per case keeps a
# whole office counted and caps a script that varies its User-Agent at 20 an
# hour for a case instead of any number. An issue carries a few cases, so 100
# in all covers an office reading the week's issue and some older cases, and
# stops one address from inflating every case of the site.
ADDRESS_CASE_READS = 20
ADDRESS_READS = 100


@lru_cache(maxsize=1)
def _salt() -> str:
    return hashlib.sha256(f"views:{settings.SECRET_KEY}".encode()).hexdigest()


def visitor_hash(request) -> str:
    address = _client_address(request)
    agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    return hashlib.sha256(f"{_salt()}|{address}|{agent}".encode()).hexdigest()[:32]


def address_hash(request) -> str:
    """The client's address, salted and hashed, as the bounds above count it.

    An IPv6 client usually holds a whole /64 and can pick any address in it,
    so for IPv6 the /64 counts as one address.
    """
    return _address_digest(_client_address(request))


@lru_cache(maxsize=4096)
def _address_digest(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        network = address[:64]
    else:
        if parsed.version == 6 and parsed.ipv4_mapped is not None:
            network = str(parsed.ipv4_mapped)
        elif parsed.version == 6:
            network = str(ipaddress.ip_network(f"{parsed}/64", strict=False))
        else:
            network = str(parsed)
    return hashlib.sha256(f"{_salt()}|address|{network}".encode()).hexdigest()[:32]


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


class _LocalBudget:
    """Hour-long counts of this process, for when Redis is unreachable: which
    visitors were counted, and how many reads each address added."""

    def __init__(self, size: int = 100_000):
        self.size = size
        self.entries = OrderedDict()  # key -> [count, expires]
        self.lock = threading.Lock()

    def take(self, limits: list[tuple[str, int]]) -> bool:
        """Add one to every key if none is at its limit; False if one is."""
        now = time.monotonic()
        with self.lock:
            # Entries share one lifetime, so the oldest expire first.
            while self.entries and next(iter(self.entries.values()))[1] <= now:
                self.entries.popitem(last=False)
            if any(self._count(key) >= limit for key, limit in limits):
                return False
            for key, _limit in limits:
                entry = self.entries.get(key)
                if entry is None:
                    self.entries[key] = [1, now + SEEN_SECONDS]
                else:
                    entry[0] += 1
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
            return True

    def _count(self, key: str) -> int:
        entry = self.entries.get(key)
        return 0 if entry is None else entry[0]

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


_local = _LocalPending()
_local_budget = _LocalBudget()
# Check-then-add on Django's cache, without Redis: exact within a process.
_cache_lock = threading.Lock()
atexit.register(lambda: views_fold() if _local.counts else None)


def _seen_key(case_id: int, request) -> str:
    return f"casehub:views:seen:{case_id}:{visitor_hash(request)}"


def _address_keys(case_id: int, request) -> tuple[str, str]:
    address = address_hash(request)
    return f"{ADDRESS_CASE_PREFIX}{case_id}:{address}", f"{ADDRESS_PREFIX}{address}"


def view_register(*, case_id: int, request) -> bool:
    """Count a read of a case unless this visitor was counted in the last hour,
    or the visitor's address has added all it may this hour."""
    seen = _seen_key(case_id, request)
    case_key, address_key = _address_keys(case_id, request)
    client = redis_client()
    if client is not None and not redis_down():
        try:
            return bool(
                _count_script(client)(
                    keys=[seen, case_key, address_key, PENDING_KEY],
                    args=[case_id, SEEN_SECONDS, ADDRESS_CASE_READS, ADDRESS_READS],
                )
            )
        except redis.RedisError as error:
            redis_failed(error)
    limits = [(case_key, ADDRESS_CASE_READS), (address_key, ADDRESS_READS)]
    if client is None:
        counted = _cache_take(seen, limits)
    else:
        counted = _local_budget.take([(seen, 1), *limits])
    if counted:
        _local.add(case_id)
    return counted


def _cache_take(seen: str, limits: list[tuple[str, int]]) -> bool:
    """view_register on Django's cache: the visitor is new and no bound is met."""
    now = time.time()
    with _cache_lock:
        held = cache.get_many([key for key, _limit in limits])
        if any(held.get(key, (0, 0))[0] >= limit for key, limit in limits):
            return False
        # add() is atomic on every backend: one visitor, counted once.
        if not cache.add(seen, 1, timeout=SEEN_SECONDS):
            return False
        for key, _limit in limits:
            # The hour starts at the address's first counted read; a set()
            # keeps it, where incr() on some backends would restart it.
            count, until = held.get(key, (0, now + SEEN_SECONDS))
            cache.set(key, (count + 1, until), timeout=max(1, int(until - now)))
        return True


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


# Count a read in Redis, atomically: nothing if the address has added all it
# may this hour, or the visitor was counted within the hour; else one read,
# on the case and on both of the address's counts. Shared by both scripts.
_COUNT_LUA = """
local function count(seen, per_case, per_address, pending, case_id, seconds,
                     case_limit, address_limit)
  if tonumber(redis.call('GET', per_case) or '0') >= tonumber(case_limit)
      or tonumber(redis.call('GET', per_address) or '0')
        >= tonumber(address_limit) then
    return false
  end
  if not redis.call('SET', seen, 1, 'NX', 'EX', seconds) then
    return false
  end
  for _, key in ipairs({per_case, per_address}) do
    if redis.call('INCR', key) == 1 then
      redis.call('EXPIRE', key, seconds)
    end
  end
  return redis.call('HINCRBY', pending, case_id, 1)
end
-- The case's pending reads after counting this one (if it counts).
local function count_pending(seen, per_case, per_address, pending, case_id,
                             seconds, case_limit, address_limit)
  return count(seen, per_case, per_address, pending, case_id, seconds,
               case_limit, address_limit)
    or tonumber(redis.call('HGET', pending, case_id) or '0')
end
"""

_COUNT_SCRIPT = (
    _COUNT_LUA
    + """
if count(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], ARGV[4]) then
  return 1
end
return 0
"""
)

# One round trip for a cached case page: check it is there (the case is
# published), count the reader, and send the page only if the caller's copy
# is out of date; with the time left on the reader's mark (how long a read of
# theirs counts for nothing more) and the cache's generation.
_READ_SCRIPT = (
    _COUNT_LUA
    + """
local stamp = redis.call('HGET', KEYS[1], 'stamp:' .. ARGV[1])
if not stamp then
  return {false, false, 0, 0, false}
end
local page = false
if stamp ~= ARGV[4] then
  page = redis.call('HGET', KEYS[1], ARGV[1])
end
local pending = count_pending(KEYS[2], KEYS[4], KEYS[5], KEYS[3], ARGV[3],
                              ARGV[2], ARGV[5], ARGV[6])
return {stamp, page, pending, redis.call('PTTL', KEYS[2]), redis.call('GET', KEYS[6])}
"""
)


def case_read(*, case_id: int, request, field: str) -> tuple[bytes | None, int]:
    """Fetch a case's cached page and, if it was there, count the reader.

    Returns the page and the case's pending reads, this one included; or
    (None, 0) when the page is not cached, and nothing was counted.

    A reader this process saw counted for this case within the hour counts for
    nothing more, so where the published copy's link tells the generation
    without Redis (showcase.published), their read is answered from this
    process: the page it holds for that generation, and the case's pending
    count as Redis gave it less than PENDING_FRESH_SECONDS ago.
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
    seen = _seen_key(case_id, request)
    now = time.monotonic()
    generation = trusted_generation()
    known_stamp, known_page, known_generation = _pages_here.get(field, ("", None, None))
    if generation is not None and known_generation == generation:
        until = _seen_here.get(seen)
        fresh = _pending_here.get(case_id)
        if (
            until is not None
            and until > now
            and fresh
            and now - fresh[0] < PENDING_FRESH_SECONDS
        ):
            return known_page, fresh[1] + _local.get(case_id)
    case_key, address_key = _address_keys(case_id, request)
    reply = script_run(
        _READ_SCRIPT,
        keys=[PAGES_KEY, seen, PENDING_KEY, case_key, address_key, GENERATION_KEY],
        args=[
            field,
            SEEN_SECONDS,
            case_id,
            known_stamp,
            ADDRESS_CASE_READS,
            ADDRESS_READS,
        ],
    )
    if reply is None:
        return None, 0
    stamp, page, pending, mark_ms, cached_in = reply
    if stamp is None:
        return None, 0
    if page is None:
        page = known_page
    else:
        _pages_here.put(field, (stamp.decode(), page, (cached_in or b"").decode()))
    if mark_ms > 0:
        _seen_here.put(seen, now + mark_ms / 1000)
    _pending_here.put(case_id, (now, int(pending)))
    return page, int(pending) + _local.get(case_id)


# One round trip for a beacon of a case page from the published copy: the
# stored count is in the cache (the case is published), count the reader, and
# answer the stored count with the pending reads.
_BEACON_SCRIPT = (
    _COUNT_LUA
    + """
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if not stored then
  return false
end
return tonumber(stored) + count_pending(KEYS[2], KEYS[4], KEYS[5], KEYS[3],
                                       ARGV[3], ARGV[2], ARGV[4], ARGV[5])
"""
)


def beacon_count(*, case_id: int, request) -> int | None:
    """Count a beacon's reader of a case whose stored count is cached, and
    answer the case's count; None when it is not cached (nothing counted)."""
    if redis_client() is None or redis_down():
        return None
    case_key, address_key = _address_keys(case_id, request)
    total = script_run(
        _BEACON_SCRIPT,
        keys=[
            PAGES_KEY,
            _seen_key(case_id, request),
            PENDING_KEY,
            case_key,
            address_key,
        ],
        args=[
            views_field(case_id),
            SEEN_SECONDS,
            case_id,
            ADDRESS_CASE_READS,
            ADDRESS_READS,
        ],
    )
    if total is None:
        return None
    return int(total) + _local.get(case_id)


# The case pages this process served lately, with their stamps and the
# generation they were cached in; the readers it saw counted, with when their
# mark in Redis runs out; and each case's pending count, with when Redis said it.
_pages_here = RecentPages()
_seen_here = RecentPages(size=20_000)
_pending_here = RecentPages(size=4096)
PENDING_FRESH_SECONDS = 1.0


@lru_cache(maxsize=4)
def _count_script(client):
    return client.register_script(_COUNT_SCRIPT)


def _apply(token: str, counts: dict[int, int]) -> bool:
    """Add `counts` to the database once; False if `token` was applied before."""
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
