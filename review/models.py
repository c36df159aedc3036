from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from casehub.audit import AppendOnlyModel
from submissions.models import Case


class ReviewStage(models.Model):
    """One step of review (初审, 终审, …): data, so a department can add its own."""

    class Resume(models.TextChoices):
        FIRST_STAGE = "first_stage", _("Start again at the first stage")
        THIS_STAGE = "this_stage", _("Come back to this stage")

    class Kind(models.TextChoices):
        REVIEW = "review", _("Review")
        SCORING = "scoring", _("Scoring round")

    position = models.PositiveSmallIntegerField(_("position"), unique=True)
    name = models.CharField(_("name"), max_length=40, unique=True)
    reviewer_group = models.ForeignKey(
        Group,
        verbose_name=_("reviewer group"),
        on_delete=models.PROTECT,
        related_name="review_stages",
    )
    due_in_days = models.PositiveSmallIntegerField(_("due in days"), default=3)
    resume_after_return = models.CharField(
        _("after a return, the resubmitted case"),
        max_length=20,
        choices=Resume.choices,
        default=Resume.FIRST_STAGE,
    )
    is_active = models.BooleanField(_("active"), default=True)
    # 评选: a scoring stage is scored by its panel (the reviewer group) on a
    # rubric instead of decided by one reviewer; see review.scoring.
    kind = models.CharField(
        _("kind"), max_length=10, choices=Kind.choices, default=Kind.REVIEW
    )
    scorers_per_case = models.PositiveSmallIntegerField(
        _("scorers per case"),
        default=3,
        help_text=_("How many panel members score each case (scoring stages)."),
    )
    scoring_deadline = models.DateTimeField(
        _("scoring deadline"), null=True, blank=True
    )
    is_blind = models.BooleanField(
        _("blind scoring"),
        default=False,
        help_text=_("The panel does not see the organisation or the author."),
    )

    class Meta:
        verbose_name = _("review stage")
        verbose_name_plural = _("review stages")
        ordering = ["position"]

    def __str__(self):
        return self.name

    @property
    def is_scoring(self) -> bool:
        return self.kind == self.Kind.SCORING


class Criterion(models.Model):
    """One line of a scoring stage's rubric: 创新性, weight 30, scored 0..10."""

    stage = models.ForeignKey(
        ReviewStage,
        verbose_name=_("stage"),
        on_delete=models.CASCADE,
        related_name="criteria",
    )
    name = models.CharField(_("name"), max_length=40)
    weight = models.PositiveSmallIntegerField(_("weight"))
    scale_max = models.PositiveSmallIntegerField(_("highest score"), default=10)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gt=0), name="criterion_weight_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(scale_max__gt=0), name="criterion_scale_positive"
            ),
            models.UniqueConstraint(
                fields=["stage", "name"], name="criterion_name_once_per_stage"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.weight})"


class ScoreAssignment(models.Model):
    """A panel member asked to score one case in one round (its revision)."""

    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        related_name="score_assignments",
    )
    revision = models.ForeignKey(
        "submissions.CaseRevision",
        verbose_name=_("revision"),
        on_delete=models.PROTECT,
        related_name="score_assignments",
    )
    stage = models.ForeignKey(
        ReviewStage,
        verbose_name=_("stage"),
        on_delete=models.PROTECT,
        related_name="score_assignments",
    )
    scorer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("scorer"),
        on_delete=models.PROTECT,
        related_name="score_assignments",
    )
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("scoring assignment")
        verbose_name_plural = _("scoring assignments")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["revision", "stage", "scorer"],
                name="score_assignment_once_per_round",
            )
        ]

    def __str__(self):
        return f"{self.case_id} → {self.scorer_id}"


class Score(AppendOnlyModel):
    """A panel member's score of one case in one round, or their declared
    conflict of interest or abstention (recorded, not counted).

    Append-only, as the audit log: a score is never changed once recorded
    (PostgreSQL's trigger refuses it from any code path, migration 0013).
    The points per criterion are checked against each criterion's scale by
    review.scoring; the database holds what it can check within the row: a
    scored row has a total on 0..100, a conflict or abstention neither points
    nor a total.
    """

    class Kind(models.TextChoices):
        SCORED = "scored", _("Scored")
        CONFLICT = "conflict", _("Conflict of interest")
        ABSTAIN = "abstain", _("Abstained")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="scores"
    )
    revision = models.ForeignKey(
        "submissions.CaseRevision",
        verbose_name=_("revision"),
        on_delete=models.PROTECT,
        related_name="scores",
    )
    stage = models.ForeignKey(
        ReviewStage,
        verbose_name=_("stage"),
        on_delete=models.PROTECT,
        related_name="scores",
    )
    scorer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("scorer"),
        on_delete=models.PROTECT,
        related_name="scores",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # {criterion id (as text): points}; empty unless scored.
    points = models.JSONField(_("points"), default=dict)
    # The weighted total on 0..100, kept with the points it was computed from.
    total = models.DecimalField(
        _("total"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        ordering = ["created_at", "pk"]
        constraints = [
            # However two requests race, one panel member scores a round once.
            models.UniqueConstraint(
                fields=["case", "scorer", "revision"], name="score_once_per_round"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["scored", "conflict", "abstain"]),
                name="score_kind_known",
            ),
            models.CheckConstraint(
                condition=(
                    (
                        # NULL compares to nothing, so it is excluded apart.
                        models.Q(
                            kind="scored",
                            total__isnull=False,
                            total__gte=0,
                            total__lte=100,
                        )
                        & ~models.Q(points={})
                    )
                    | (
                        ~models.Q(kind="scored")
                        & models.Q(total__isnull=True, points={})
                    )
                ),
                name="score_total_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.case_id} {self.scorer_id} {self.kind} {self.total}"


class StageEvent(AppendOnlyModel):
    """One line of the stages' audit log: who set a stage up or changed it, and how."""

    class Action(models.TextChoices):
        CREATE = "create", _("Stage set up")
        CHANGE = "change", _("Stage changed")
        DEACTIVATE = "deactivate", _("Stage deactivated")
        ACTIVATE = "activate", _("Stage activated")

    stage = models.ForeignKey(
        ReviewStage,
        verbose_name=_("stage"),
        on_delete=models.PROTECT,
        related_name="config_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    # {field name: [before, after]}, as text; before is null for a new stage.
    changes = models.JSONField(_("changes"), default=dict)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("stage event")
        verbose_name_plural = _("stage events")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.stage_id} {self.action}"


class Decision(models.Model):
    """A reviewer's verdict on one revision at one stage."""

    class Outcome(models.TextChoices):
        APPROVE = "approve", _("Approve")
        RETURN = "return", _("Return for revision")
        REJECT = "reject", _("Reject")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="decisions"
    )
    revision = models.ForeignKey(
        "submissions.CaseRevision",
        verbose_name=_("revision"),
        on_delete=models.PROTECT,
        related_name="decisions",
    )
    stage = models.ForeignKey(
        ReviewStage,
        verbose_name=_("stage"),
        on_delete=models.PROTECT,
        related_name="decisions",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        related_name="review_decisions",
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["created_at", "pk"]
        constraints = [
            # However two requests race, a revision is judged once per stage.
            models.UniqueConstraint(
                fields=["revision", "stage"], name="decision_once_per_revision_stage"
            )
        ]
        permissions = [("reopen_case", _("Can reopen a rejected case"))]

    def __str__(self):
        return f"{self.case_id} {self.stage} {self.outcome}"


class CaseEvent(AppendOnlyModel):
    """One line of a case's audit log: who moved it from which state to which.

    Append-only: the model refuses updates and deletes, and database triggers
    refuse them from any other code path.
    """

    class Action(models.TextChoices):
        SUBMIT = "submit", _("Submitted")
        WITHDRAW = "withdraw", _("Withdrawn")
        APPROVE = "approve", _("Approved")
        RETURN = "return", _("Returned for revision")
        REJECT = "reject", _("Rejected")
        RESUBMIT = "resubmit", _("Resubmitted")
        REOPEN = "reopen", _("Reopened")
        SCHEDULE = "schedule", _("Scheduled for the showcase")
        UNSCHEDULE = "unschedule", _("Taken out of a planned issue")
        PUBLISH = "publish", _("Published")
        UNPUBLISH = "unpublish", _("Unpublished")
        EDIT = "edit", _("Edited")
        OVERRIDE = "override", _("Finding overridden")
        SCORE_ACCEPT = "score_accept", _("Accepted on its scores")
        # 评选, the state unchanged: a panel member's score, conflict or
        # abstention, and an editor's change of who scores the case.
        SCORE = "score", _("Score recorded")
        SCORERS = "scorers", _("Scorers changed")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="events"
    )
    revision = models.ForeignKey(
        "submissions.CaseRevision",
        verbose_name=_("revision"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    stage = models.ForeignKey(
        ReviewStage,
        verbose_name=_("stage"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        help_text=_("Where the action was taken, for decisions and withdrawals."),
    )
    to_stage = models.ForeignKey(
        ReviewStage,
        verbose_name=_("now at stage"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The stage the case entered, if it is still in review."),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_events",
        help_text=_("Empty when the publishing schedule acted."),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_status = models.CharField(
        _("from"), max_length=20, choices=Case.Status.choices
    )
    to_status = models.CharField(_("to"), max_length=20, choices=Case.Status.choices)
    comment = models.TextField(_("comment"), blank=True)
    # A decision's notes in the text (review.notes), counted as it was taken.
    note_count = models.PositiveIntegerField(_("notes in the text"), default=0)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.case_id} {self.action} {self.from_status}→{self.to_status}"


class Note(AppendOnlyModel):
    """批注: a reviewer's note on a passage of one revision, at one stage.

    Written while the round (the revision at the stage) is open and never
    changed: the branch's answers are `NoteResponse` rows, and where the
    passage stands in later revisions is a `NoteAnchor` row per revision.
    """

    class Field(models.TextChoices):
        LEAD = "lead", _("Lead paragraph")
        BODY = "body", _("Body")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="notes"
    )
    revision = models.ForeignKey(
        "submissions.CaseRevision",
        verbose_name=_("revision"),
        on_delete=models.PROTECT,
        related_name="notes",
    )
    stage = models.ForeignKey(
        ReviewStage,
        verbose_name=_("stage"),
        on_delete=models.PROTECT,
        related_name="notes",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="review_notes",
    )
    field = models.CharField(_("field"), max_length=10, choices=Field.choices)
    # The passage as the reviewer chose it, in the visible text of the field
    # (textcheck.services.visible_text), with some text either side of it so
    # that a later revision can find it again.
    quote = models.CharField(_("passage"), max_length=500)
    before = models.CharField(_("text before"), max_length=100, blank=True)
    after = models.CharField(_("text after"), max_length=100, blank=True)
    text = models.TextField(_("note text"))
    suggestion = models.TextField(_("suggested text"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("note in the text")
        verbose_name_plural = _("notes in the text")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.case_id} {self.field} “{self.quote[:20]}”"


class NoteAnchor(AppendOnlyModel):
    """Where a note's passage stands in one revision: the one it was written
    on, and each revision after it; `start` None when the passage is gone."""

    note = models.ForeignKey(
        Note,
        verbose_name=_("note in the text"),
        on_delete=models.PROTECT,
        related_name="anchors",
    )
    revision = models.ForeignKey(
        "submissions.CaseRevision",
        verbose_name=_("revision"),
        on_delete=models.PROTECT,
        related_name="note_anchors",
    )
    start = models.PositiveIntegerField(_("start"), null=True, blank=True)
    end = models.PositiveIntegerField(_("end"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("note anchor")
        verbose_name_plural = _("note anchors")
        ordering = ["revision", "start", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["note", "revision"], name="note_anchor_once_per_revision"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(start__isnull=True, end__isnull=True)
                    | models.Q(start__isnull=False, end__gt=models.F("start"))
                ),
                name="note_anchor_range",
            ),
        ]

    @property
    def found(self) -> bool:
        return self.start is not None

    def __str__(self):
        return f"{self.note_id}@{self.revision_id} {self.start}–{self.end}"


class NoteResponse(AppendOnlyModel):
    """The branch's answer to a note while the case is back with it: done, or
    a reply in words."""

    class Kind(models.TextChoices):
        DONE = "done", _("Done")
        ANSWER = "answer", _("Answered")

    note = models.ForeignKey(
        Note,
        verbose_name=_("note in the text"),
        on_delete=models.PROTECT,
        related_name="responses",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="note_responses",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    text = models.TextField(_("answer"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("note response")
        verbose_name_plural = _("note responses")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.note_id} {self.kind}"


class NoteWithdrawal(AppendOnlyModel):
    """A note its author took back while its round was still open: the note
    stays as written, this row says it no longer stands. The branch never
    sees it, the decision does not count it, and it is not carried on."""

    # One-to-one: a note is withdrawn once, however two requests race.
    note = models.OneToOneField(
        Note,
        verbose_name=_("note in the text"),
        on_delete=models.PROTECT,
        related_name="withdrawal",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        on_delete=models.PROTECT,
        related_name="note_withdrawals",
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("note withdrawal")
        verbose_name_plural = _("note withdrawals")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.note_id} withdrawn"
