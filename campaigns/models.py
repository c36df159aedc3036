"""Calls for cases (征集): the department asks the branches for cases by a date."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from casehub.audit import AppendOnlyModel
from casehub.dates import TypedDateValidator
from casehub.zishu import digits_grouped

# Far above any call's wish (a body that can be saved holds under 90,000
# characters), and low enough that no typo asks for the impossible unnoticed.
MOST_ZISHU = 100_000
MOST_IMAGES = 100


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
    # Checked when a case is submitted or resubmitted (review.workflow), by the
    # count of casehub.zishu; empty means no limit.
    min_zishu = models.PositiveIntegerField(
        _("fewest characters"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MOST_ZISHU)],
        help_text=_(
            "At least this many characters in the body (Chinese characters plus "
            "Latin words; punctuation is not counted). Leave empty for no minimum."
        ),
    )
    max_zishu = models.PositiveIntegerField(
        _("most characters"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MOST_ZISHU)],
        help_text=_(
            "At most this many characters in the body. Leave empty for no maximum."
        ),
    )
    max_images = models.PositiveIntegerField(
        _("most images"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MOST_IMAGES)],
        help_text=_(
            "Images the body may hold at most; 0 takes text only. Leave empty "
            "for no limit."
        ),
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
        permissions = [("manage_campaign", _("Can manage calls for cases"))]
        verbose_name_plural = _("calls for cases")
        ordering = ["-opens_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_on__gte=F("opens_on")),
                name="campaign_closes_after_it_opens",
            ),
            models.CheckConstraint(
                condition=Q(min_zishu__isnull=True) | Q(min_zishu__gte=1),
                name="campaign_min_zishu_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_zishu__isnull=True) | Q(max_zishu__gte=1),
                name="campaign_max_zishu_positive",
            ),
            models.CheckConstraint(
                condition=Q(min_zishu__isnull=True)
                | Q(max_zishu__isnull=True)
                | Q(max_zishu__gte=F("min_zishu")),
                name="campaign_zishu_min_not_above_max",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("campaigns:detail", args=[self.pk])

    def clean(self):
        super().clean()
        if (
            self.min_zishu is not None
            and self.max_zishu is not None
            and self.max_zishu < self.min_zishu
        ):
            raise ValidationError(
                {
                    "max_zishu": ValidationError(
                        _(
                            "The most characters cannot be fewer than the fewest "
                            "(%(min)s)."
                        ),
                        code="zishu_range",
                        params={"min": digits_grouped(self.min_zishu)},
                    )
                }
            )

    @property
    def has_limits(self) -> bool:
        limits = (self.min_zishu, self.max_zishu, self.max_images)
        return any(limit is not None for limit in limits)

    @property
    def limits_text(self) -> str:
        """What the call asks of a case's length, as writers read it ("" if nothing)."""
        least, most = self.min_zishu, self.max_zishu
        length = ""
        if least is not None and most is not None:
            length = gettext("%(min)s–%(max)s characters")
        elif least is not None:
            length = gettext("at least %(min)s characters")
        elif most is not None:
            length = gettext("at most %(max)s characters")
        length %= {
            "min": digits_grouped(least or 0),
            "max": digits_grouped(most or 0),
        }
        images = ""
        if self.max_images == 0:
            images = gettext("text only, no images")
        elif self.max_images is not None:
            images = ngettext(
                "at most %(count)s image", "at most %(count)s images", self.max_images
            ) % {"count": digits_grouped(self.max_images)}
        if length and images:
            return gettext("%(length)s, %(images)s") % {
                "length": length,
                "images": images,
            }
        return length or images

    def is_open(self, today: datetime.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.opens_on <= today <= self.closes_on

    def days_left(self, today: datetime.date | None = None) -> int:
        """Days after today on which cases are still taken (0 on the last day)."""
        today = today or timezone.localdate()
        return (self.closes_on - today).days


class ExtensionQuerySet(models.QuerySet):
    def in_force(self) -> "ExtensionQuerySet":
        """The latest grant for each organisation; the earlier ones are history."""
        return self.filter(superseded_at__isnull=True)


class Extension(models.Model):
    """An editor lets one organisation submit after the call has closed.

    A new grant for the same organisation does not overwrite the last one: it
    closes it (`superseded_at`) and adds its own row, so the history stays.
    """

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
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)
    superseded_at = models.DateTimeField(
        _("replaced by a later grant"), null=True, blank=True
    )

    objects = ExtensionQuerySet.as_manager()

    class Meta:
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        ordering = ["granted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "branch"],
                condition=Q(superseded_at__isnull=True),
                name="one_extension_in_force_per_branch",
            )
        ]

    def __str__(self):
        return f"{self.campaign} · {self.branch} · {self.until}"

    @property
    def in_force(self) -> bool:
        return self.superseded_at is None


class CampaignEvent(AppendOnlyModel):
    """One line of the calls' audit log: who opened, changed or extended a call."""

    class Action(models.TextChoices):
        CREATE = "create", _("Call opened")
        CHANGE = "change", _("Call changed")
        EXTEND = "extend", _("Extension granted")
        DELETE = "delete", _("Call deleted")

    # Kept when the call is deleted, with its title in `detail`.
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("call for cases"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
    )
    branch = models.ForeignKey(
        "submissions.Branch",
        verbose_name=_("party organisation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The organisation an extension is for."),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.action} {self.campaign_id} {self.branch_id}"
