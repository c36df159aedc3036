"""Two dictionary edits at the same moment: each gets its own version."""

import threading
import time
from unittest import mock

import pytest
from django.db import connection

from tests.conftest import service_missing
from tests.textcheck.factories import rows
from textcheck.models import Term, TermEvent, dictionary_version
from textcheck.services import terms_import


@pytest.mark.django_db(transaction=True)
class DictionaryRaceTests:
    def test_concurrent_imports_bump_the_version_twice(self):
        if connection.vendor != "postgresql":
            service_missing(
                "the race test needs PostgreSQL's row locks; set DATABASE_URL"
            )
        # The tables were emptied: the first edit makes the Dictionary row.
        terms_import(rows=rows([("sensitive", "起点", "", "warn")]), acting_user=None)
        start = dictionary_version()
        barrier = threading.Barrier(2)
        results = {}
        real_bulk_create = Term.objects.bulk_create

        def slow_bulk_create(*args, **kwargs):
            # Between reading the version and writing the terms: without the
            # Dictionary row's lock both edits would write the same version.
            time.sleep(0.3)
            return real_bulk_create(*args, **kwargs)

        def attempt(term):
            try:
                barrier.wait(timeout=10)
                results[term] = terms_import(
                    rows=rows([("sensitive", term, "", "warn")]), acting_user=None
                )
            except Exception as error:  # the test inspects what each got
                results[term] = error
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt, args=(t,)) for t in ("甲", "乙")]
        with mock.patch.object(
            Term.objects, "bulk_create", side_effect=slow_bulk_create
        ):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        assert all(isinstance(r, dict) for r in results.values()), results
        assert dictionary_version() == start + 2
        versions = sorted(
            TermEvent.objects.filter(term__in=["甲", "乙"]).values_list(
                "version", flat=True
            )
        )
        assert versions == [start + 1, start + 2]
