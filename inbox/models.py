from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """An inbox item, and the email that goes with it.

    The inbox sits below the apps whose news it carries, so it names their
    models by string and never imports them.
    """

    class Kind(models.TextChoices):
        EVENT = "event", _("Case event")
        REMINDER = "reminder", _("Overdue reminder")
        CAMPAIGN = "campaign", _("Call for cases reminder")
        SCORING = "scoring", _("Scoring reminder")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    # A notification is about a case, or, for a call's reminder, about a call.
    case = models.ForeignKey(
        "submissions.Case",
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        verbose_name=_("call for cases"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    event = models.ForeignKey(
        "review.CaseEvent",
        verbose_name=_("event"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # What makes a notification unique for its recipient, so a task that runs
    # twice finds the first run's row instead of adding a second.
    key = models.CharField(_("key"), max_length=80)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        # The model moved here from review; its table, and the names of its
        # index and constraint, stayed where they were.
        db_table = "review_notification"
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"], name="notification_once_per_recipient"
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient", "read_at"], name="review_noti_recipie_2beb75_idx"
            )
        ]

    def __str__(self):
        return f"{self.recipient} {self.key}"

    def get_absolute_url(self):
        return reverse("inbox:open", args=[self.pk])
