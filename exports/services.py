"""Word exports: asking for one, and building it (the Celery task's work)."""

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from submissions.exceptions import NotPermitted

from .docx import document_build
from .models import ExportJob, export_keep_period
from .selectors import may_export
from .sources import ExportSourceMissing, source_get

logger = logging.getLogger(__name__)

# An export that has not moved for this long was abandoned: its task never
# reached a worker (the broker was down) or its worker was lost for good.
# Asking again then starts a new one.
STALE_AFTER = timedelta(minutes=10)
# Characters Windows and macOS refuse in a file name.
UNSAFE_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def export_request(*, kind: str, object_id: int, acting_user) -> ExportJob:
    """Start a Word export of a published object, or find the one on its way.

    Raises NotPermitted for a user who may not export, and ExportSourceMissing
    when the object is not there or not published.
    """
    if not may_export(acting_user):
        raise NotPermitted(_("Only editors and reviewers may export to Word."))
    # The document speaks the site's language, and so does all the job says.
    with translation.override(settings.LANGUAGE_CODE):
        return _job_get_or_create(kind=kind, object_id=object_id, user=acting_user)


def _job_get_or_create(*, kind: str, object_id: int, user) -> ExportJob:
    source = source_get(kind=kind, object_id=object_id)
    mine = ExportJob.objects.filter(kind=kind, object_id=object_id, requested_by=user)
    with transaction.atomic():
        current = mine.select_for_update().filter(status__in=ExportJob.OPEN).first()
        if current is not None:
            if current.updated_at >= timezone.now() - STALE_AFTER:
                return current
            _job_fail(
                current, _("The export stopped before it was finished. Start it again.")
            )
        try:
            with transaction.atomic():
                job = ExportJob.objects.create(
                    kind=kind,
                    object_id=object_id,
                    requested_by=user,
                    title=source.title[:200],
                    file_name=_file_name(source.file_stem),
                    total_count=len(source.cases),
                )
        except IntegrityError:
            # Another click at the same moment made it first; it may even be
            # finished by now.
            return mine.order_by("-created_at", "-pk").first()
        transaction.on_commit(lambda: _build_queue(job.pk), robust=True)
    return job


def _build_queue(job_id: int) -> None:
    from .tasks import export_job_build_task

    export_job_build_task.delay(job_id)


def _file_name(stem: str) -> str:
    stem = UNSAFE_IN_FILE_NAMES.sub("-", stem).strip(" .-") or "export"
    return f"{stem[:150]}.docx"


def export_job_build(*, job_id: int) -> ExportJob | None:
    """Build the file of a job, step by step; a finished job is left as it is.

    Safe to run again for the same job: a run that finds the job done or
    failed does nothing, and of two runs at once only the first to finish
    keeps its file.
    """
    job = _job_start(job_id)
    if job is None:
        return None
    with translation.override(settings.LANGUAGE_CODE):
        try:
            source = source_get(kind=job.kind, object_id=job.object_id)
            _job_progress(job, 0, len(source.cases))
            content = document_build(
                source, progress=lambda done, total: _job_progress(job, done, total)
            )
        except ExportSourceMissing:
            return _job_fail(
                job, _("There is nothing to export: it is no longer published.")
            )
        except DatabaseError:
            raise  # the task tries again later
        except Exception:
            logger.exception("Word export %s could not be built", job.public_id)
            return _job_fail(
                job,
                _(
                    "The Word document could not be built. Try again; if it "
                    "fails again, tell the site's administrators."
                ),
            )
    return _job_finish(job, content)


def _job_start(job_id: int) -> ExportJob | None:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return None
        job.status = ExportJob.Status.RUNNING
        job.done_count = 0
        job.save(update_fields=["status", "done_count", "updated_at"])
    return job


def _job_progress(job: ExportJob, done: int, total: int) -> None:
    # Written at once, outside any transaction, so the page polling the job
    # sees each case as it is done.
    ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
        done_count=min(done, total), total_count=total, updated_at=timezone.now()
    )


def _job_finish(job: ExportJob, content: bytes) -> ExportJob:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ExportJob.Status.RUNNING:
            return job
        job.file.save(job.file_name, ContentFile(content), save=False)
        job.status = ExportJob.Status.DONE
        job.done_count = job.total_count
        job.error_message = ""
        job.finished_at = timezone.now()
        job.save()
    return job


def exports_prune() -> int:
    """Remove the exports finished more than EXPORT_KEEP_DAYS ago, and those
    abandoned that long ago, with their files; return how many jobs went."""
    cutoff = timezone.now() - export_keep_period()
    expired = Q(finished_at__lt=cutoff) | Q(finished_at=None, updated_at__lt=cutoff)
    removed = 0
    for job in ExportJob.objects.filter(expired).only("pk", "file").iterator():
        # The row goes first: a file left behind by a failed removal is only
        # disk space, while a row pointing at no file would be a dead link.
        deleted, _ = ExportJob.objects.filter(expired, pk=job.pk).delete()
        if not deleted:
            continue
        removed += 1
        if job.file:
            try:
                job.file.delete(save=False)
            except OSError:
                logger.exception("Could not remove export file %s", job.file.name)
    return removed


def _job_fail(job: ExportJob, message: str) -> ExportJob:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            return job
        job.status = ExportJob.Status.FAILED
        job.error_message = message
        job.finished_at = timezone.now()
        job.save()
    return job
