"""Word exports: asking for one, building it (the Celery task's work), and
starting again the ones whose worker was lost.

A job has a heartbeat, written when it is queued, when its build starts and
after every case. An open job silent for EXPORT_STALE_MINUTES lost its worker
(killed mid-build: the broker hands the task back only after its one-hour
visibility timeout) or its task (the broker was down). Asking for the export
again, or the sweep beat runs every minute, then starts it again under a new
build number; a task for an earlier build does nothing when it comes.
"""

import logging
import re

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from casehub import roles
from casehub.exceptions import NotPermitted

from .docx import document_build
from .models import ExportJob, export_keep_period, export_stale_period
from .sources import ExportSourceMissing, source_get

logger = logging.getLogger(__name__)

# A build lost this many times is tried once more at most; a case that kills
# the worker every time (its memory, say) must not take workers down for ever.
MAX_INTERRUPTIONS = 2
# Characters Windows and macOS refuse in a file name.
UNSAFE_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def export_request(*, kind: str, object_id: int, acting_user) -> ExportJob:
    """Start a Word export of a published object, or find the one on its way.

    Raises NotPermitted for a user who may not export, and ExportSourceMissing
    when the object is not there or not published.
    """
    if not roles.may_export(acting_user):
        raise NotPermitted(_("Only editors and reviewers may export to Word."))
    # The document speaks the site's language, and so does all the job says.
    with translation.override(settings.LANGUAGE_CODE):
        return _job_get_or_create(kind=kind, object_id=object_id, user=acting_user)


def _job_get_or_create(*, kind: str, object_id: int, user) -> ExportJob:
    source = source_get(kind=kind, object_id=object_id)
    mine = ExportJob.objects.filter(kind=kind, object_id=object_id, requested_by=user)
    with transaction.atomic():
        current = mine.filter(status__in=ExportJob.OPEN).first()
        if current is not None:
            if current.is_stalled:
                # A person asking starts it again, however often it was lost.
                _job_revive(current, limited=False)
                current.refresh_from_db()
            return current
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
        transaction.on_commit(lambda: _build_queue(job.pk, job.build), robust=True)
    return job


def _build_queue(job_id: int, build: int) -> None:
    from .tasks import export_job_build_task

    export_job_build_task.delay(job_id, build)


def exports_revive_stalled() -> int:
    """Start again every open export that lost its worker or its task (the
    beat's sweep); return how many were started again or given up."""
    cutoff = timezone.now() - export_stale_period()
    stalled = ExportJob.objects.filter(
        status__in=ExportJob.OPEN, heartbeat_at__lt=cutoff
    ).order_by("heartbeat_at", "pk")
    revived = 0
    with translation.override(settings.LANGUAGE_CODE):
        for job in stalled.iterator():
            revived += _job_revive(job, limited=True)
    return revived


def _job_revive(job: ExportJob, *, limited: bool) -> bool:
    """Start a stalled job again, unless someone else did first; False then.

    Each change is one conditional UPDATE on the job as it was read (its
    status, build and old heartbeat), so of two requests or sweeps at once
    only one revives it and queues a task.
    """
    now = timezone.now()
    with transaction.atomic():
        as_read = ExportJob.objects.filter(
            pk=job.pk,
            status=job.status,
            build=job.build,
            heartbeat_at__lt=now - export_stale_period(),
        )
        if job.status == ExportJob.Status.QUEUED:
            # Never taken up: its task was not sent, or still waits behind
            # others. One more task for the same build: whichever comes first
            # builds it, and the other finds it taken.
            build = job.build
            revived = as_read.update(heartbeat_at=now, updated_at=now)
        elif limited and job.interruptions >= MAX_INTERRUPTIONS:
            return bool(
                as_read.update(
                    status=ExportJob.Status.FAILED,
                    error_message=_interrupted_too_often(),
                    finished_at=now,
                    updated_at=now,
                )
            )
        else:
            build = job.build + 1
            revived = as_read.update(
                status=ExportJob.Status.QUEUED,
                build=build,
                build_task_id="",
                interruptions=F("interruptions") + 1,
                done_count=0,
                heartbeat_at=now,
                updated_at=now,
            )
        if revived:
            logger.warning(
                "Word export %s had stalled; queued again as build %d",
                job.public_id,
                build,
            )
            transaction.on_commit(lambda: _build_queue(job.pk, build), robust=True)
    return bool(revived)


def _interrupted_too_often() -> str:
    return _(
        "The export was interrupted several times and has been stopped. Try "
        "again; if it stops again, tell the site's administrators."
    )


class _BuildSuperseded(Exception):
    """The job was started again under a newer build while this one ran."""


def _file_name(stem: str) -> str:
    stem = UNSAFE_IN_FILE_NAMES.sub("-", stem).strip(" .-") or "export"
    return f"{stem[:150]}.docx"


def export_job_build(
    *, job_id: int, build: int | None = None, task_id: str | None = None
) -> ExportJob | None:
    """Build the file of a job, step by step; a finished job is left as it is.

    `build` is the build the task was sent for (None: the current one) and
    `task_id` the task's own id. Safe to run again for the same job: a run
    that finds the job done or failed, started again under a newer build, or
    taken up by another task does nothing; the same task delivered again
    after its worker was lost starts the build over. Of two runs at once only
    the first to finish keeps its file.
    """
    job = _job_start(job_id, build=build, task_id=task_id)
    if job is None:
        return None
    plain_titles = []
    with translation.override(settings.LANGUAGE_CODE):
        try:
            source = source_get(kind=job.kind, object_id=job.object_id)
            _job_progress(job, 0, len(source.cases))
            content = document_build(
                source,
                progress=lambda done, total: _job_progress(job, done, total),
                exported_plainly=lambda case: plain_titles.append(case.title),
            )
        except _BuildSuperseded:
            logger.info("Word export %s: build %d superseded", job.public_id, job.build)
            return None
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
        notes = [
            _(
                "The case “%(title)s” could not be exported with its layout; "
                "it is in the document as plain text."
            )
            % {"title": title}
            for title in plain_titles
        ]
    return _job_finish(job, content, notes=notes)


def _job_start(job_id: int, *, build: int | None, task_id: str | None):
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return None
        if build is not None and build != job.build:
            return None  # sent for a build that was given up since
        if job.status == ExportJob.Status.RUNNING:
            if task_id and job.build_task_id and task_id != job.build_task_id:
                return None  # a spare task: another one has the build in hand
            # This very task again: the worker that ran it was lost.
            job.interruptions += 1
            if job.interruptions > MAX_INTERRUPTIONS:
                job.status = ExportJob.Status.FAILED
                job.error_message = _interrupted_too_often()
                job.finished_at = timezone.now()
                job.save()
                return None
        job.status = ExportJob.Status.RUNNING
        job.build_task_id = task_id or ""
        job.done_count = 0
        job.heartbeat_at = timezone.now()
        job.save(
            update_fields=[
                "status",
                "build_task_id",
                "interruptions",
                "done_count",
                "heartbeat_at",
                "updated_at",
            ]
        )
    return job


def _job_progress(job: ExportJob, done: int, total: int) -> None:
    # Written at once, outside any transaction, so the page polling the job
    # sees each case as it is done; it is the heartbeat too.
    now = timezone.now()
    moved = ExportJob.objects.filter(
        pk=job.pk, build=job.build, status=ExportJob.Status.RUNNING
    ).update(
        done_count=min(done, total),
        total_count=total,
        heartbeat_at=now,
        updated_at=now,
    )
    if not moved:
        raise _BuildSuperseded


def _job_finish(job: ExportJob, content: bytes, *, notes: list[str]) -> ExportJob:
    build = job.build
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ExportJob.Status.RUNNING or job.build != build:
            return job
        job.file.save(job.file_name, ContentFile(content), save=False)
        job.status = ExportJob.Status.DONE
        job.done_count = job.total_count
        job.error_message = ""
        job.notes = notes
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
    build = job.build
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job.pk)
        if job.is_finished or job.build != build:
            return job
        job.status = ExportJob.Status.FAILED
        job.error_message = message
        job.finished_at = timezone.now()
        job.save()
    return job
