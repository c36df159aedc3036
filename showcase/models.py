import datetime

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from casehub.audit import AppendOnlyModel
from casehub.dates import TypedDateValidator
from casehub.richtext import richtext_clean, validate_richtext
from submissions.models import Case

from .origins import ORIGIN_MAX_LENGTH, origin_normalise


class Series(models.Model):
    """A numbered weekly series, e.g. 「党建引领」系列案例展播."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=80)
    name = models.CharField(
        _("short name"),
        max_length=40,
        help_text=_("Shown in the breadcrumb, e.g. 党建引领"),
    )
    column = models.CharField(
        _("column"),
        max_length=40,
        help_text=_("The site column above the series, e.g. 基层党建"),
    )
    editors_note = models.TextField(
        _("editor's note"), blank=True, validators=[validate_richtext]
    )
    publish_weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=Weekday.choices,
        default=Weekday.FRIDAY,
        validators=[MaxValueValidator(6)],
    )
    publish_time = models.TimeField(
        _("time"),
        default=datetime.time(9, 0),
        help_text=_("Beijing time (Asia/Shanghai)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = _("series")
        ordering = ["title"]

    def __str__(self):
        return self.title

    rich_text_fields = ("editors_note",)

    def save(self, *args, **kwargs):
        self.editors_note = richtext_clean(self.editors_note)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("showcase:series", args=[self.slug])


class Issue(models.Model):
    """第N期: one week's cases. The number is given when it is published."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        PUBLISHED = "published", _("Published")
        UNPUBLISHED = "unpublished", _("Unpublished")

    series = models.ForeignKey(
        Series,
        verbose_name=_("series"),
        on_delete=models.PROTECT,
        related_name="issues",
    )
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=Status.choices,
        default=Status.PLANNED,
        db_index=True,
    )
    scheduled_at = models.DateTimeField(
        _("scheduled for"), validators=[TypedDateValidator()]
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, validators=[validate_richtext])
    unpublish_reason = models.TextField(_("reason for unpublishing"), blank=True)
    # Titles and branches of the cases, frozen at publication: the series page
    # lists any number of issues without a query per issue.
    summary = models.JSONField(_("summary"), default=list, blank=True)
    cases = models.ManyToManyField(
        Case, through="IssueCase", verbose_name=_("cases"), related_name="issues"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("issue")
        permissions = [("publish_issue", _("Can plan and publish the showcase"))]
        verbose_name_plural = _("issues")
        ordering = ["series", "-number", "scheduled_at"]
        constraints = [
            # Gapless numbering is the service's job; uniqueness is the database's.
            models.UniqueConstraint(
                fields=["series", "number"],
                condition=Q(number__isnull=False),
                name="issue_number_unique_per_series",
            ),
            models.CheckConstraint(
                condition=Q(status="planned") | Q(number__isnull=False),
                name="issue_published_has_number",
            ),
        ]
        indexes = [models.Index(fields=["status", "scheduled_at"])]

    def __str__(self):
        if self.number:
            return _("%(series)s · No. %(number)d") % {
                "series": self.series.title,
                "number": self.number,
            }
        return _("%(series)s · planned for %(date)s") % {
            "series": self.series.title,
            "date": self.scheduled_at.date(),
        }

    rich_text_fields = ("note",)

    def save(self, *args, **kwargs):
        self.note = richtext_clean(self.note)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("showcase:issue", args=[self.series.slug, self.number])


class IssueCase(models.Model):
    issue = models.ForeignKey(
        Issue, verbose_name=_("issue"), on_delete=models.CASCADE, related_name="entries"
    )
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("case in an issue")
        verbose_name_plural = _("cases in issues")
        ordering = ["issue", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["issue", "case"], name="issue_case_once")
        ]

    def __str__(self):
        return f"{self.issue_id}:{self.case_id}"

    @property
    def case_url(self) -> str:
        return reverse("showcase:case", args=[self.case_id])


class QueueEntry(models.Model):
    """How an approved case waits for the showcase: its order, pin and hold."""

    case = models.OneToOneField(
        Case,
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="queue_entry",
    )
    position = models.IntegerField(_("position"), default=0)
    is_pinned = models.BooleanField(_("pinned"), default=False)
    is_held = models.BooleanField(_("held back"), default=False)

    class Meta:
        verbose_name = _("queue entry")
        verbose_name_plural = _("queue entries")

    def __str__(self):
        return str(self.case_id)


class ViewCount(models.Model):
    """Reads of a published case, folded in from the counter every few minutes."""

    case = models.OneToOneField(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="views"
    )
    count = models.PositiveBigIntegerField(_("views"), default=0)

    class Meta:
        verbose_name = _("view count")
        verbose_name_plural = _("view counts")

    def __str__(self):
        return f"{self.case_id}: {self.count}"


class ShowcaseEvent(AppendOnlyModel):
    """The editors' audit log: what was planned, moved, published, and by whom."""

    class Action(models.TextChoices):
        ISSUE_PLAN = "issue_plan", _("Issue planned")
        ISSUE_EDIT = "issue_edit", _("Issue edited")
        ISSUE_PUBLISH = "issue_publish", _("Issue published")
        ISSUE_UNPUBLISH = "issue_unpublish", _("Issue unpublished")
        ISSUE_DELETE = "issue_delete", _("Planned issue deleted")
        CASE_ADD = "case_add", _("Case added to an issue")
        CASE_REMOVE = "case_remove", _("Case taken out of an issue")
        CASE_MOVE = "case_move", _("Case moved")
        QUEUE_PIN = "queue_pin", _("Pinned")
        QUEUE_UNPIN = "queue_unpin", _("Unpinned")
        QUEUE_HOLD = "queue_hold", _("Held back")
        QUEUE_RELEASE = "queue_release", _("Released")

    issue = models.ForeignKey(
        Issue,
        verbose_name=_("issue"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
    )
    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="showcase_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the schedule acted."),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("showcase event")
        verbose_name_plural = _("showcase events")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.action} {self.issue_id} {self.case_id}"


class ViewFold(models.Model):
    """A batch of counted reads already added to ViewCount; a rerun skips it."""

    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("view fold")
        verbose_name_plural = _("view folds")

    def __str__(self):
        return self.token


class SearchEntry(models.Model):
    """A published case as the site search finds it, written when its issue is
    published and deleted when it is taken down (`showcase.search`).

    `tokens` is the text segmented into words, space-joined; PostgreSQL keeps
    it as `vector` (tsvector, GIN index), SQLite in the FTS5 table
    `showcase_search_fts`, kept in step by triggers (both made in migration
    0005; a later migration that makes SQLite rebuild this table must make the
    triggers again). `plain_text` is the same text unsegmented and in lower
    case, for the substring search (trigram index on PostgreSQL).
    """

    case = models.OneToOneField(
        Case,
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="search_entry",
    )
    issue = models.ForeignKey(
        Issue, verbose_name=_("issue"), on_delete=models.CASCADE, related_name="+"
    )
    series = models.ForeignKey(
        Series, verbose_name=_("series"), on_delete=models.CASCADE, related_name="+"
    )
    branch = models.ForeignKey(
        "submissions.Branch",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    year = models.PositiveSmallIntegerField(_("year"), db_index=True)
    published_at = models.DateTimeField(_("published"))
    title = models.CharField(_("title"), max_length=120)
    tagline = models.CharField(_("tagline"), max_length=60, blank=True)
    branch_name = models.CharField(_("organisation"), max_length=120)
    series_title = models.CharField(_("series"), max_length=80)
    issue_number = models.PositiveIntegerField(_("number"))
    body_text = models.TextField(_("text"), blank=True)
    plain_text = models.TextField(_("plain text"), blank=True)
    tokens = models.TextField(_("words"), blank=True)
    vector = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")

    def __str__(self):
        return self.title

    @property
    def case_url(self) -> str:
        return reverse("showcase:case", args=[self.case_id])


class EmbedOrigin(models.Model):
    """Another site allowed to show the latest issues in a frame (/embed/) and
    to read the public API from its pages (CORS), e.g. the institute's own
    website. Read through showcase.selectors.embed_origins, which is cached."""

    origin = models.CharField(
        _("origin"),
        max_length=ORIGIN_MAX_LENGTH,
        unique=True,
        help_text=_(
            "Scheme, host and port of the site, e.g. https://www.example.gov.cn "
            "(no path, no wildcard)."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(
        pgettext_lazy("embedding origin", "note"),
        max_length=200,
        blank=True,
        help_text=_("Whose site it is and where the list appears on it."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("embedding origin")
        verbose_name_plural = _("embedding origins")
        ordering = ["origin"]

    def __str__(self):
        return self.origin

    def save(self, *args, **kwargs):
        # Every way in stores the one spelling browsers send; the unique
        # constraint then holds for the origin, not for how it was typed.
        self.origin = origin_normalise(self.origin)
        super().save(*args, **kwargs)

    def clean(self):
        try:
            self.origin = origin_normalise(self.origin)
        except ValidationError as error:
            raise ValidationError({"origin": error}) from None
