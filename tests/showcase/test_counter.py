"""The view counter on a real Redis: no read lost, none counted twice."""

import threading

import pytest
from django.test import RequestFactory, override_settings

from showcase import cache as cache_module
from showcase import counter
from showcase.cache import redis_client
from showcase.models import ViewCount, ViewFold
from tests.conftest import redis_cache, service_missing
from tests.showcase.factories import people, published_issue, series

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_counter():
    with redis_cache(13) as client:
        yield client


def visit(case_id, visitor):
    request = RequestFactory().get(
        "/", REMOTE_ADDR=f"10.0.{visitor // 250}.{visitor % 250}"
    )
    return counter.view_register(case_id=case_id, request=request)


@pytest.fixture
def case():
    who = people()
    return published_issue(who, series()).cases.get()


class RedisCounterTests:
    def test_reads_collect_in_redis_not_the_database(self, redis_counter, case):
        assert visit(case.pk, 1) is True
        assert visit(case.pk, 1) is False  # within the hour
        assert visit(case.pk, 2) is True
        assert int(redis_counter.hget(counter.PENDING_KEY, case.pk)) == 2
        assert not ViewCount.objects.exists()
        assert counter.views_pending(case.pk) == 2

    def test_counts_survive_a_web_process_restart(self, redis_counter, case):
        for visitor in range(5):
            visit(case.pk, visitor)
        redis_client.cache_clear()  # a new process connects afresh
        assert counter.views_pending(case.pk) == 5
        assert counter.views_fold() == 5
        assert ViewCount.objects.get(case=case).count == 5

    def test_a_batch_left_by_a_crashed_fold_is_folded_once(self, redis_counter, case):
        for visitor in range(3):
            visit(case.pk, visitor)
        # A fold that renamed its batch and died before adding it.
        redis_counter.rename(counter.PENDING_KEY, counter.FOLDING_PREFIX + "crashed")
        assert counter.views_fold() == 3
        # One that added it and died before deleting it.
        redis_counter.hset(counter.FOLDING_PREFIX + "crashed", case.pk, 3)
        assert counter.views_fold() == 0
        assert ViewCount.objects.get(case=case).count == 3
        assert ViewFold.objects.filter(token="crashed").count() == 1

    def test_concurrent_reads_and_folds_lose_and_double_nothing(
        self, redis_counter, case
    ):
        from django.db import connection

        if connection.vendor != "postgresql":
            service_missing(
                "concurrent folds need a database with concurrent writers; "
                "set DATABASE_URL"
            )
        reads = 400
        barrier = threading.Barrier(4)
        errors = []

        def reader(offset):
            barrier.wait()
            for visitor in range(offset, reads, 2):
                visit(case.pk, visitor)

        def folder():
            from django.db import connection

            barrier.wait()
            try:
                for _ in range(20):
                    counter.views_fold()
            except Exception as error:  # the test reports what went wrong
                errors.append(error)
            finally:
                connection.close()

        threads = [
            threading.Thread(target=reader, args=(0,)),
            threading.Thread(target=reader, args=(1,)),
            threading.Thread(target=folder),
            threading.Thread(target=folder),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        counter.views_fold()
        assert errors == []
        assert ViewCount.objects.get(case=case).count == reads
        assert counter.views_pending(case.pk) == 0

    def test_case_page_from_the_redis_cache_counts_each_reader_once(
        self, redis_counter, case
    ):
        from django.test import Client
        from django.urls import reverse

        from showcase.cache import PAGES_KEY

        url = reverse("showcase:case", args=[case.pk])
        first = Client(REMOTE_ADDR="192.0.2.1")
        second = Client(REMOTE_ADDR="192.0.2.2")
        assert "浏览量：1" in first.get(url).content.decode()
        # Now cached: the page, its stamp and its stored count (for the beacon).
        assert redis_counter.hlen(PAGES_KEY) == 3
        assert "浏览量：2" in second.get(url).content.decode()
        assert "浏览量：2" in first.get(url).content.decode()
        assert counter.views_fold() == 2
        assert redis_counter.hlen(PAGES_KEY) == 0  # the fold dropped the page
        assert "浏览量：2" in first.get(url).content.decode()
        assert ViewCount.objects.get(case=case).count == 2

    def test_unknown_case_ids_count_nothing(self, redis_counter):
        from django.test import Client

        assert Client().get("/cases/424242/").status_code == 404
        assert not redis_counter.exists(counter.PENDING_KEY)


# Nothing listens on this port: every call to Redis fails at once.
UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
    }
}


@pytest.fixture
def redis_unreachable():
    redis_client.cache_clear()
    with override_settings(CACHES=UNREACHABLE_CACHE):
        yield
    redis_client.cache_clear()


class RedisUnreachableTests:
    def test_readers_get_the_page_and_are_counted_in_the_process(
        self, redis_unreachable, client, case
    ):
        url = f"/cases/{case.pk}/"
        for address in ("10.1.0.1", "10.1.0.1", "10.1.0.2"):
            response = client.get(url, REMOTE_ADDR=address)
            assert response.status_code == 200
            assert case.title in response.content.decode()
        assert counter.views_pending(case.pk) == 2
        assert counter.views_fold() == 2
        assert ViewCount.objects.get(case=case).count == 2

    def test_the_home_and_issue_pages_are_built_uncached(
        self, redis_unreachable, client, case
    ):
        issue = case.issues.get()
        for url in ("/", issue.get_absolute_url(), "/robots.txt"):
            assert client.get(url).status_code == 200

    def test_reads_counted_while_redis_was_away_are_kept_when_it_is_back(
        self, redis_counter, case
    ):
        with override_settings(CACHES=UNREACHABLE_CACHE):
            redis_client.cache_clear()
            assert visit(case.pk, 1) is True
            assert visit(case.pk, 1) is False
        redis_client.cache_clear()
        cache_module._redis_down_until = 0.0  # Redis is back
        assert visit(case.pk, 2) is True
        assert counter.views_pending(case.pk) == 2
        assert counter.views_fold() == 2
        assert ViewCount.objects.get(case=case).count == 2


def read(case_id, address, agent="Mozilla/5.0"):
    request = RequestFactory().get("/", REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    return counter.view_register(case_id=case_id, request=request)


@pytest.fixture(params=["redis", "redis unreachable", "no redis"])
def counting(request):
    """Each place reads are counted in: Redis, this process while Redis is
    away, and Django's own cache when the cache is not Redis."""
    counter._local_budget.clear()
    if request.param == "redis":
        request.getfixturevalue("redis_counter")
    elif request.param == "redis unreachable":
        request.getfixturevalue("redis_unreachable")
    yield request.param
    counter._local_budget.clear()


class AddressBoundTests:
    def test_one_address_with_200_browsers_adds_at_most_the_bound(self, counting, case):
        counted = sum(read(case.pk, "198.51.100.7", f"Agent/{n}") for n in range(200))
        assert counted == counter.ADDRESS_CASE_READS
        assert counter.views_pending(case.pk) == counter.ADDRESS_CASE_READS
        # Another address is counted on its own, as before.
        assert read(case.pk, "198.51.100.8", "Agent/0") is True
        assert read(case.pk, "198.51.100.8", "Agent/0") is False  # same visitor
        assert counter.views_pending(case.pk) == counter.ADDRESS_CASE_READS + 1
        assert counter.views_fold() == counter.ADDRESS_CASE_READS + 1
        assert ViewCount.objects.get(case=case).count == counter.ADDRESS_CASE_READS + 1

    def test_one_address_adds_at_most_the_total_across_cases(self, counting):
        case_ids = range(900001, 900011)  # only pending counts: no rows needed
        for case_id in case_ids:
            for n in range(counter.ADDRESS_CASE_READS):
                read(case_id, "203.0.113.9", f"Agent/{n}")
        pending = sum(counter.views_pending(case_id) for case_id in case_ids)
        assert pending == counter.ADDRESS_READS
        assert read(900001, "203.0.113.10") is True
        counter._local.take()  # the ids have no cases: never folded

    def test_an_ipv6_client_counts_as_its_whole_64(self, counting):
        counted = sum(
            read(900042, f"2001:db8:1:2::{n:x}", "Agent/0") for n in range(1, 60)
        )
        assert counted == counter.ADDRESS_CASE_READS
        assert read(900042, "2001:db8:1:3::1", "Agent/0") is True
        counter._local.take()


class AddressBoundRedisTests:
    def test_cached_case_page_from_one_address_adds_at_most_the_bound(
        self, redis_counter, case
    ):
        from django.test import Client
        from django.urls import reverse

        url = reverse("showcase:case", args=[case.pk])
        for n in range(200):
            response = Client(REMOTE_ADDR="192.0.2.77", HTTP_USER_AGENT=f"A/{n}").get(
                url
            )
            assert response.status_code == 200
        bound = counter.ADDRESS_CASE_READS
        assert f"浏览量：{bound}" in response.content.decode()
        assert int(redis_counter.hget(counter.PENDING_KEY, case.pk)) == bound
        # The address's counts last the hour, like the visitors'.
        for key in redis_counter.scan_iter(match=counter.ADDRESS_PREFIX + "*"):
            assert 0 < redis_counter.ttl(key) <= counter.SEEN_SECONDS
        other = Client(REMOTE_ADDR="192.0.2.78").get(url)
        assert f"浏览量：{bound + 1}" in other.content.decode()
        assert counter.views_fold() == bound + 1
