import pytest

from tests.submissions.factories import UserFactory


@pytest.fixture
def panel_members(db):
    """Three members of a scoring panel, none of them in a branch."""
    return [
        UserFactory(username=f"expert{n}", first_name=f"专家{n}") for n in (1, 2, 3)
    ]
