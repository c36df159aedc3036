"""No GET changes state: every URL of the site, read by every role, leaves every
table as it was, apart from the counters a read is meant to move.

Another site's page can make a reader's browser GET any address of ours (an
image, a link, a redirect), so a GET that wrote would be a write anyone can
trigger for anyone.
"""

import pytest
from django.apps import apps
from django.test import Client

from tests.security import test_permissions as matrix

# The permission matrix's world, built once for this module too, and each
# role's user; its snapshot of every table but the counters a read may move.
world_built = matrix.world_built
world = matrix.world
COUNTERS = matrix.COUNTERS
tables = matrix.tables
changes = matrix.changes

pytestmark = pytest.mark.django_db


def test_the_counters_are_tables():
    labels = {model._meta.label_lower for model in apps.get_models()}
    assert labels >= COUNTERS


@pytest.mark.parametrize("role", matrix.ROLES)
def test_no_get_changes_a_row(world, role):
    client = Client(raise_request_exception=False)
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    written = {}
    before = tables()
    for name in sorted(matrix.EXPECTED):
        response = client.get(matrix.url_for(name, world))
        assert response.status_code != 500, name
        after = tables()
        if changed := changes(before, after):
            written[name] = changed
        before = after
    assert written == {}
