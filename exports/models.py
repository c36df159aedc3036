import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .storage import export_storage

DOCX_CONTENT_TYPE = (
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
)


def export_keep_period() -> timedelta:
    """How long a finished export stays downloadable (read on each use, so a
    changed setting is followed at once)."""
    return timedelta(days=settings.EXPORT_KEEP_DAYS)


def export_stale_period() -> timedelta:
    """How long an open export may go without a sign of life before it is
    taken for lost and built again."""
    return timedelta(minutes=settings.EXPORT_STALE_MINUTES)


def export_file_path(job: "ExportJob", filename: str) -> str:
    # The stored name is ours alone; the reader's file name is `file_name`.
    return f"{job.created_at:%Y/%m}/{job.public_id}.docx"


class ExportJob(models.Model):
    """One Word export someone asked for, from the queue to the finished file."""

    class Kind(models.TextChoices):
        ISSUE = "issue", _("Issue")
        CAMPAIGN = "campaign", _("Call for cases")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    OPEN = (Status.QUEUED, Status.RUNNING)

    public_id = models.UUIDField(
        _("public id"), default=uuid.uuid4, unique=True, editable=False
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField(_("object id"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.CASCADE,
        related_name="export_jobs",
    )
    title = models.CharField(_("title"), max_length=200)
    file_name = models.CharField(_("file name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    done_count = models.PositiveIntegerField(_("cases done"), default=0)
    total_count = models.PositiveIntegerField(_("cases in all"), default=0)
    error_message = models.TextField(_("error message"), blank=True)
    # What the reader should know about a finished file, one sentence each
    # (a case exported as plain text).
    notes = models.JSONField(_("notes"), default=list, blank=True)
    # Which build of the job is the current one: a task carries the number it
    # was sent for, and a task for an earlier build does nothing.
    build = models.PositiveIntegerField(_("build"), default=1)
    # The Celery task that took up the current build: the same task delivered
    # again had its worker lost; another one for the same build is a spare.
    build_task_id = models.CharField(_("build task"), max_length=255, blank=True)
    # Builds lost with their worker: each one is started again, up to a limit.
    interruptions = models.PositiveSmallIntegerField(_("interruptions"), default=0)
    # Written when the job is queued, started and after each case: an open
    # job whose heartbeat is older than EXPORT_STALE_MINUTES was lost.
    heartbeat_at = models.DateTimeField(_("last sign of life"), default=timezone.now)
    file = models.FileField(
        _("file"),
        storage=export_storage,
        upload_to=export_file_path,
        max_length=200,
        blank=True,
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    # Moved on with every step of the build: a job that stops moving was
    # abandoned (its worker lost, its task never queued).
    updated_at = models.DateTimeField(_("last progress"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("Word export")
        permissions = [("export_cases", _("Can export cases"))]
        verbose_name_plural = _("Word exports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Asking again while an export is on its way finds the same job.
            models.UniqueConstraint(
                fields=["kind", "object_id", "requested_by"],
                condition=Q(status__in=["queued", "running"]),
                name="export_job_one_open_per_person_and_object",
            ),
            models.CheckConstraint(
                condition=Q(done_count__lte=models.F("total_count")),
                name="export_job_done_within_total",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("exports:job", args=[self.public_id])

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def is_stalled(self) -> bool:
        """Open, and no sign of life for longer than a build ever pauses."""
        return (
            self.status in self.OPEN
            and self.heartbeat_at < timezone.now() - export_stale_period()
        )

    def notice(self) -> str:
        """What the page says about an open job that was interrupted."""
        if self.status not in self.OPEN:
            return ""
        if self.is_stalled:
            return gettext(
                "The export has stopped. It is started again automatically "
                "within a few minutes, or you can start it again now."
            )
        if self.interruptions:
            return gettext("The export was interrupted and is being built again…")
        return ""

    @property
    def kept_until(self):
        """When the nightly pruning removes a finished export."""
        if self.finished_at is None:
            return None
        return self.finished_at + export_keep_period()

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_count:
            return 0
        return self.done_count * 100 // self.total_count

    def progress_text(self) -> str:
        if self.status == self.Status.QUEUED:
            return gettext("Waiting for its turn…")
        return ngettext(
            "%(done)d of %(total)d case done",
            "%(done)d of %(total)d cases done",
            self.total_count,
        ) % {"done": self.done_count, "total": self.total_count}
