"""Word exports, built by Celery.

A job can be delivered twice (acks_late, a worker lost mid-build): the build
service leaves a finished job alone and keeps only one file.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(**RETRY)
def exports_prune_task() -> int:
    """Remove the exports kept longer than EXPORT_KEEP_DAYS (nightly)."""
    from .services import exports_prune

    return exports_prune()


@shared_task(**RETRY)
def export_job_build_task(job_id: int) -> None:
    """Build the Word file of one export job, reporting progress per case."""
    from .services import export_job_build

    export_job_build(job_id=job_id)
