"""Calls for cases (征集): the department asks the branches for cases by a date."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casehub.dates import TypedDateValidator


class Campaign(models.Model):
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    series = models.ForeignKey(
        "showcase.Series",
        verbose_name=_("series it feeds"),
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    opens_on = models.DateField(_("opens on"), validators=[TypedDateValidator()])
    closes_on = models.DateField(
        _("closes on"),
        help_text=_("The last day cases can be submitted."),
        validators=[TypedDateValidator()],
    )
    branches = models.ManyToManyField(
        "submissions.Branch",
        verbose_name=_("expected organisations"),
        related_name="campaigns",
        blank=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("call for cases")
        verbose_name_plural = _("calls for cases")
        ordering = ["-opens_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_on__gte=F("opens_on")),
                name="campaign_closes_after_it_opens",
            )
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("campaigns:detail", args=[self.pk])

    def is_open(self, today: datetime.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.opens_on <= today <= self.closes_on

    def days_left(self, today: datetime.date | None = None) -> int:
        """Days after today on which cases are still taken (0 on the last day)."""
        today = today or timezone.localdate()
        return (self.closes_on - today).days


class Extension(models.Model):
    """An editor lets one organisation submit after the call has closed."""

    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("call for cases"),
        on_delete=models.CASCADE,
        related_name="extensions",
    )
    branch = models.ForeignKey(
        "submissions.Branch",
        verbose_name=_("party organisation"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    until = models.DateField(_("until"), validators=[TypedDateValidator()])
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted"), auto_now=True)

    class Meta:
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "branch"], name="one_extension_per_branch"
            )
        ]

    def __str__(self):
        return f"{self.campaign} · {self.branch} · {self.until}"
