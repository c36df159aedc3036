"""Word exports, built by Celery.

A job can be delivered twice (acks_late, a worker lost mid-build) and sent
again (the sweep, a person asking again): each task carries the build it was
sent for and its own id, and the build service does nothing for a build given
up since, for a build another task has in hand, or for a finished job.
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
def exports_revive_stalled_task() -> int:
    """Start again the exports whose worker was lost (every minute)."""
    from .services import exports_revive_stalled

    return exports_revive_stalled()


@shared_task(bind=True, **RETRY)
def export_job_build_task(self, job_id: int, build: int | None = None) -> None:
    """Build the Word file of one export job, reporting progress per case.

    `build` is None in tasks queued before builds were numbered.
    """
    from .services import export_job_build

    export_job_build(job_id=job_id, build=build, task_id=self.request.id)
