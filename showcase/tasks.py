from celery import shared_task

from .counter import views_fold
from .services import issues_publish_due


@shared_task(acks_late=True)
def issues_publish_due_task() -> list[int]:
    """Publish every planned issue whose time has come (beat runs this).

    Returns the ids published; those that could not be are logged by the
    service, and a failure of one never stops the others.
    """
    return [issue.pk for issue in issues_publish_due().published]


@shared_task(acks_late=True)
def views_fold_task() -> int:
    """Move counted reads from Redis into the database (beat runs this)."""
    return views_fold()
