"""Settings of the Celery worker the integration tests start: the product's,
with mail going through the holding backend."""

from casehub.settings import *  # noqa: F403

EMAIL_BACKEND = "tests.integration.mailbox.HoldingBackend"
