from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casehub.richtext import richtext_clean, validate_richtext


class Branch(models.Model):
    """A party organisation: 党委 at the top, then 党总支 and 党支部 below."""

    class Kind(models.TextChoices):
        COMMITTEE = "committee", _("Party committee")
        GENERAL_BRANCH = "general_branch", _("General party branch")
        BRANCH = "branch", _("Party branch")

    # How high each kind stands: a parent must stand higher than its child.
    RANK = {Kind.COMMITTEE: 3, Kind.GENERAL_BRANCH: 2, Kind.BRANCH: 1}

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("party organisation")
        verbose_name_plural = _("party organisations")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.parent_id is None:
            return
        if self.pk is not None and self.pk in {b.pk for b in self.parent.lineage()}:
            raise ValidationError(
                {"parent": _("An organisation cannot sit below itself.")},
                code="cycle",
            )
        if self.RANK[self.parent.kind] <= self.RANK[self.kind]:
            raise ValidationError(
                {
                    "parent": _("A %(kind)s cannot sit below a %(parent_kind)s.")
                    % {
                        "kind": self.get_kind_display(),
                        "parent_kind": self.parent.get_kind_display(),
                    }
                },
                code="rank",
            )

    def lineage(self) -> list["Branch"]:
        """This organisation and its parents, the top one first."""
        chain, node, seen = [], self, set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            chain.append(node)
            node = node.parent
        return list(reversed(chain))


class Membership(models.Model):
    class Role(models.TextChoices):
        SECRETARY = "secretary", _("Secretary")
        CORRESPONDENT = "correspondent", _("Correspondent")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "branch"], name="membership_one_role_per_branch"
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.branch} · {self.get_role_display()}"


class Theme(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


def overdue_q(now=None) -> models.Q:
    """The one rule for "overdue": waiting at a review stage past its due time.

    `Case.is_overdue` applies the same rule to one loaded case.
    """
    return models.Q(
        status=Case.Status.IN_REVIEW,
        current_stage__isnull=False,
        stage_due_at__lt=now or timezone.now(),
    )


class CaseQuerySet(models.QuerySet):
    def overdue(self, now=None) -> "CaseQuerySet":
        return self.filter(overdue_q(now))


class Case(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        RETURNED = "returned", _("Returned for revision")
        APPROVED = "approved", _("Approved")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # States in which the branch may change the text and submit it again.
    EDITABLE = frozenset({Status.DRAFT, Status.RETURNED, Status.WITHDRAWN})

    branch = models.ForeignKey(
        Branch,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    title = models.CharField(_("title"), max_length=120)
    tagline = models.CharField(
        _("tagline"),
        max_length=60,
        blank=True,
        help_text=_("A short line under the title, e.g. 筑基·创新·暖心"),
    )
    author_name = models.CharField(_("author"), max_length=60, blank=True)
    source = models.CharField(
        _("source"),
        max_length=120,
        blank=True,
        help_text=_("Left empty, the organisation's name is shown."),
    )
    lead = models.TextField(_("lead paragraph"), blank=True)
    body = models.TextField(_("body"), blank=True, validators=[validate_richtext])
    cover_image = models.ImageField(
        _("cover image"), upload_to="covers/%Y/%m/", blank=True
    )
    cover_thumbnail = models.ImageField(
        _("cover thumbnail"), upload_to="covers/thumbs/%Y/%m/", blank=True
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        verbose_name=_("call for cases"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    themes = models.ManyToManyField(
        Theme, verbose_name=_("themes"), blank=True, related_name="cases"
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.DRAFT,
        db_index=True,
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    # Where the case stands in review; written only by review.services.
    current_stage = models.ForeignKey(
        "review.ReviewStage",
        verbose_name=_("review stage"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    stage_entered_at = models.DateTimeField(
        _("at this stage since"), null=True, blank=True
    )
    stage_due_at = models.DateTimeField(
        _("due at this stage"), null=True, blank=True, db_index=True
    )
    resume_stage = models.ForeignKey(
        "review.ReviewStage",
        verbose_name=_("resume at stage"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last edited by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-updated_at", "-pk"]
        indexes = [
            models.Index(fields=["branch", "status"]),
            models.Index(fields=["status", "current_stage", "stage_entered_at"]),
        ]

    def __str__(self):
        return self.title

    # Cleaned by richtext_clean; casehub.text leaves it alone.
    rich_text_fields = ("body",)

    def save(self, *args, **kwargs):
        self.body = richtext_clean(self.body)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("submissions:case_detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def is_overdue(self) -> bool:
        """`overdue_q` for this case, read from its fields without a query."""
        return (
            self.status == self.Status.IN_REVIEW
            and self.current_stage_id is not None
            and self.stage_due_at is not None
            and self.stage_due_at < timezone.now()
        )

    @property
    def branch_name(self) -> str:
        return self.branch.name

    @property
    def source_display(self) -> str:
        return self.source or self.branch.name


class CaseRevision(models.Model):
    """What the branch submitted, frozen: reviewers judge this, not the draft."""

    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        related_name="revisions",
    )
    number = models.PositiveIntegerField(_("round"))
    branch_name = models.CharField(_("organisation"), max_length=120)
    title = models.CharField(_("title"), max_length=120)
    tagline = models.CharField(_("tagline"), max_length=60, blank=True)
    author_name = models.CharField(_("author"), max_length=60, blank=True)
    source = models.CharField(_("source"), max_length=120)
    lead = models.TextField(_("lead paragraph"), blank=True)
    body = models.TextField(_("body"), blank=True, validators=[validate_richtext])
    cover_image = models.CharField(_("cover image"), max_length=255, blank=True)
    theme_names = models.JSONField(_("themes"), default=list)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("submitted"), auto_now_add=True)

    class Meta:
        verbose_name = _("case revision")
        verbose_name_plural = _("case revisions")
        ordering = ["case", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "number"], name="revision_number_unique_per_case"
            )
        ]

    def __str__(self):
        return _("%(title)s (round %(number)d)") % {
            "title": self.title,
            "number": self.number,
        }

    rich_text_fields = ("body",)

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A case revision is immutable once written.")
        self.body = richtext_clean(self.body)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("A case revision is never deleted.")

    @property
    def source_display(self) -> str:
        return self.source


class EditorImage(models.Model):
    """An image uploaded from the editor, kept with who uploaded it for which branch."""

    image = models.ImageField(_("image"), upload_to="uploads/%Y/%m/")
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("editor image")
        verbose_name_plural = _("editor images")

    def __str__(self):
        return self.image.name
