"""评选's pages: a panel member's cases to score, the score form, the results
with their downloads, and an editor's reassignment. The rules are in
review.scoring; these bind forms, call it and render."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_POST

from casehub import roles
from casehub.tables import COUNT, FORMATS, Column, Format, Table, table_response
from casehub.views import service_run
from submissions.models import Case

from .forms import ReassignForm, ScoredAcceptForm, ScoreForm
from .models import ReviewStage, Score, ScoreAssignment
from .scoring import (
    assignment_get_for_scorer,
    assignment_reassign,
    assignments_for_scorer,
    panel,
    score_record,
    scoring_stages,
    sees_results,
    stage_results,
)

SCORE = Format(
    text=lambda value: f"{value:.2f}",
    sheet=float,
    number_format="0.00",
    numeric=True,
)


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


def _ranking_columns(*, blind: bool) -> list[Column]:
    columns = [
        Column(gettext_lazy("Case"), lambda r: r.case.title),
        Column(gettext_lazy("Rank"), lambda r: r.rank, COUNT),
        Column(
            gettext_lazy("Call for cases"),
            lambda r: r.case.campaign.title if r.case.campaign else "",
        ),
    ]
    if not blind:
        columns.append(Column(gettext_lazy("Organisation"), lambda r: r.case.branch))
    return [
        *columns,
        Column(gettext_lazy("Weighted mean"), lambda r: r.mean, SCORE),
        Column(gettext_lazy("Spread"), lambda r: r.spread, SCORE),
        Column(gettext_lazy("Scores"), lambda r: r.count, COUNT),
    ]


def _score_columns(*, stage: ReviewStage, blind: bool) -> list[Column]:
    """One row per score, with the case's figures beside it."""
    columns = [
        Column(gettext_lazy("Case"), lambda row: row[0].case.title),
        Column(gettext_lazy("Rank"), lambda row: row[0].rank, COUNT),
        Column(
            gettext_lazy("Call for cases"),
            lambda row: row[0].case.campaign.title if row[0].case.campaign else "",
        ),
    ]
    if not blind:
        columns.append(
            Column(gettext_lazy("Organisation"), lambda row: row[0].case.branch)
        )
    columns += [
        Column(gettext_lazy("Weighted mean"), lambda row: row[0].mean, SCORE),
        Column(gettext_lazy("Scorer"), lambda row: _person(row[1].scorer)),
        Column(gettext_lazy("Verdict"), lambda row: row[1].get_kind_display()),
    ]
    for criterion in stage.criteria.all():
        columns.append(
            Column(
                criterion.name,
                lambda row, key=str(criterion.pk): row[1].points.get(key),
                COUNT,
            )
        )
    return [
        *columns,
        Column(gettext_lazy("Total"), lambda row: row[1].total, SCORE),
        Column(gettext_lazy("Comment"), lambda row: row[1].comment),
    ]


class ScoringListView(LoginRequiredMixin, View):
    """The cases a panel member is asked to score, and the rounds they sit on."""

    template_name = "review/scoring_list.html"

    def get(self, request):
        stages = [
            stage
            for stage in scoring_stages()
            if stage.is_active and roles.is_stage_member(request.user, stage)
        ]
        editor = roles.may_publish(request.user)
        if not stages and not editor:
            raise PermissionDenied(_("Only a scoring panel's members score cases."))
        assignments = list(assignments_for_scorer(user=request.user))
        scored = set(
            Score.objects.filter(
                scorer=request.user,
                revision__in=[a.revision_id for a in assignments],
            ).values_list("revision_id", flat=True)
        )
        for assignment in assignments:
            assignment.is_done = assignment.revision_id in scored
        context = {
            "assignments": assignments,
            "stages": stages if not editor else list(scoring_stages()),
        }
        return render(request, self.template_name, context)


class ScoreCaseView(LoginRequiredMixin, View):
    """The revision to score, blind if the stage says so, and the rubric."""

    template_name = "review/score_case.html"

    def get(self, request, pk):
        assignment = assignment_get_for_scorer(case_id=pk, user=request.user)
        form = ScoreForm(criteria=assignment.stage.criteria.all())
        return self.render(assignment, form)

    def post(self, request, pk):
        assignment = assignment_get_for_scorer(case_id=pk, user=request.user)
        form = ScoreForm(request.POST, criteria=assignment.stage.criteria.all())
        if not form.is_valid():
            return self.render(assignment, form, status=400)
        done = service_run(
            request,
            lambda: score_record(
                case=assignment.case,
                acting_user=request.user,
                kind=form.cleaned_data["kind"],
                points=form.points(),
                comment=form.cleaned_data["comment"],
            ),
            success=_("Your score of “%(title)s” is recorded.")
            % {"title": assignment.revision.title},
        )
        if not done:
            return self.render(assignment, form, status=409)
        return redirect("review:scoring")

    def render(self, assignment, form, status=200):
        score = Score.objects.filter(
            revision=assignment.revision, scorer=self.request.user
        ).first()
        context = {
            "assignment": assignment,
            "stage": assignment.stage,
            "revision": assignment.revision,
            "case": assignment.case,
            "form": form,
            "score": score,
        }
        return render(self.request, self.template_name, context, status=status)


class ScoringResultsView(LoginRequiredMixin, View):
    """Ranking per call at a scoring stage, for editors and the panel; the
    ranking and every score as CSV or Excel."""

    template_name = "review/scoring_results.html"

    def get(self, request, pk):
        stage = get_object_or_404(ReviewStage, pk=pk, kind=ReviewStage.Kind.SCORING)
        if not sees_results(request.user, stage):
            raise PermissionDenied(_("Only editors and the panel see the results."))
        editor = roles.may_publish(request.user)
        blind = stage.is_blind and not editor
        results = stage_results(stage=stage)
        tables = {
            "ranking": Table(
                title=_("Ranking"),
                columns=_ranking_columns(blind=blind),
                rows=results,
                empty=_("No case is being scored at this stage."),
            ),
            "scores": Table(
                title=_("Every score"),
                columns=_score_columns(stage=stage, blind=blind),
                rows=[(result, score) for result in results for score in result.scores],
                empty=_("No scores yet."),
            ),
        }
        wanted, fmt = request.GET.get("table"), request.GET.get("format")
        if wanted in tables and fmt in FORMATS:
            return table_response(tables[wanted], fmt, f"{stage.name}-{wanted}")
        calls = {}
        for result in results:
            calls.setdefault(result.case.campaign_id, []).append(result)
        groups = [
            {
                "campaign": rows[0].case.campaign,
                "campaign_id": campaign_id or "",
                "table": Table(
                    title=str(rows[0].case.campaign or _("Not for a call")),
                    columns=_ranking_columns(blind=blind),
                    rows=rows,
                ),
                "waiting": sum(
                    1
                    for r in rows
                    if r.rank is not None and r.case.current_stage_id == stage.pk
                ),
            }
            for campaign_id, rows in calls.items()
        ]
        assignments = []
        if editor:
            scored = Score.objects.filter(
                revision=OuterRef("revision"), scorer=OuterRef("scorer")
            )
            assignments = list(
                ScoreAssignment.objects.filter(
                    stage=stage,
                    case__status=Case.Status.IN_REVIEW,
                    case__current_stage=stage,
                )
                .exclude(Exists(scored))
                .select_related("case", "scorer")
                .order_by("case_id", "pk")
            )
        context = {
            "stage": stage,
            "groups": groups,
            "editor": editor,
            "assignments": assignments,
            "panel": list(panel(stage)) if editor else [],
            "accept_form": ScoredAcceptForm(initial={"count": 1}),
        }
        return render(request, self.template_name, context)


@method_decorator(require_POST, name="dispatch")
class AssignmentReassignView(LoginRequiredMixin, View):
    def post(self, request, pk):
        if not roles.may_publish(request.user):
            raise PermissionDenied(_("Only editors may change who scores a case."))
        assignment = get_object_or_404(ScoreAssignment, pk=pk)
        form = ReassignForm(request.POST)
        new_scorer = None
        if form.is_valid():
            new_scorer = (
                get_user_model()
                .objects.filter(pk=form.cleaned_data["new_scorer"])
                .first()
            )
        if new_scorer is None:
            messages.error(request, _("Choose a panel member."))
        else:
            service_run(
                request,
                lambda: assignment_reassign(
                    assignment=assignment,
                    new_scorer=new_scorer,
                    acting_user=request.user,
                ),
                success=_("%(person)s now scores “%(title)s”.")
                % {"person": _person(new_scorer), "title": assignment.case.title},
            )
        return redirect("review:scoring_results", assignment.stage_id)
