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

from . import workflow
from .forms import ReassignForm, ScoredAcceptForm, ScoreForm, ScoringCloseForm
from .models import Decision, ReviewStage, Score, ScoreAssignment
from .scoring import (
    assignment_add,
    assignment_get_for_scorer,
    assignment_reassign,
    assignments_for_scorer,
    deadline_passed,
    own_scores,
    panel,
    results_for,
    score_record,
    scoring_stages,
    sees_results,
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
            # review.scoring refuses a score after the deadline; the page
            # says so instead of offering the form.
            "closed": deadline_passed(assignment.stage),
        }
        return render(self.request, self.template_name, context, status=status)


class ScoringResultsView(LoginRequiredMixin, View):
    """Ranking per call at a scoring stage, with the ranking and every score
    as CSV or Excel: the editors', and the panel's once the deadline has
    passed (review.scoring.results_for); before it a panel member sees their
    own scores. An editor also changes who scores a case, and returns or
    rejects a case whose round cannot end."""

    template_name = "review/scoring_results.html"

    def get(self, request, pk):
        stage = get_object_or_404(ReviewStage, pk=pk, kind=ReviewStage.Kind.SCORING)
        if not sees_results(request.user, stage):
            raise PermissionDenied(_("Only editors and the panel see the results."))
        editor = roles.may_publish(request.user)
        blind = stage.is_blind and not editor
        results = results_for(stage=stage, user=request.user)
        wanted, fmt = request.GET.get("table"), request.GET.get("format")
        if results is None:
            if wanted:
                raise PermissionDenied(
                    _("The panel sees the results once the deadline has passed.")
                )
            context = {
                "stage": stage,
                "closed_to_me": True,
                "own_scores": list(own_scores(stage=stage, user=request.user)),
            }
            return render(request, self.template_name, context)
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
                "waiting": sum(1 for r in rows if r.rank is not None),
            }
            for campaign_id, rows in calls.items()
        ]
        context = {
            "stage": stage,
            "groups": groups,
            "editor": editor,
            "accept_form": ScoredAcceptForm(initial={"count": 1}),
        }
        if editor:
            context.update(self._editor_context(stage, results))
        return render(request, self.template_name, context)

    def _editor_context(self, stage, results):
        """The unscored assignments to move, and per waiting case the panel
        members who could be added and the ways out the table offers."""
        scored = Score.objects.filter(
            revision=OuterRef("revision"), scorer=OuterRef("scorer")
        )
        assignments = list(
            ScoreAssignment.objects.filter(
                stage=stage,
                revision__in=[r.revision_id for r in results],
            )
            .annotate(is_scored=Exists(scored))
            .select_related("case", "scorer")
            .order_by("case_id", "pk")
        )
        members = list(panel(stage))
        held = {}
        for assignment in assignments:
            held.setdefault(assignment.revision_id, set()).add(assignment.scorer_id)
        cases = []
        for result in results:
            actions = {
                action
                for action in ("return", "reject")
                if workflow.is_available(action, result.case, self.request.user)
            }
            mine = held.get(result.revision_id, set())
            cases.append(
                {
                    "case": result.case,
                    "revision_id": result.revision_id,
                    "may_close": actions,
                    "addable": [p for p in members if p.pk not in mine],
                }
            )
        return {
            "assignments": [a for a in assignments if not a.is_scored],
            "panel": members,
            "cases": cases,
            "close_form": ScoringCloseForm(),
        }


def _editors_only(request) -> None:
    if not roles.may_publish(request.user):
        raise PermissionDenied(_("Only editors may change who scores a case."))


def _scorer_chosen(request):
    """The person an editor's `ReassignForm` names, or None, said in a
    message; whether they may score the case is the service's to say."""
    form = ReassignForm(request.POST)
    new_scorer = None
    if form.is_valid():
        new_scorer = (
            get_user_model().objects.filter(pk=form.cleaned_data["new_scorer"]).first()
        )
    if new_scorer is None:
        messages.error(request, _("Choose a panel member."))
    return new_scorer


@method_decorator(require_POST, name="dispatch")
class AssignmentReassignView(LoginRequiredMixin, View):
    def post(self, request, pk):
        _editors_only(request)
        assignment = get_object_or_404(ScoreAssignment, pk=pk)
        new_scorer = _scorer_chosen(request)
        if new_scorer is not None:
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


@method_decorator(require_POST, name="dispatch")
class AssignmentAddView(LoginRequiredMixin, View):
    """An editor asks one more panel member to score a case."""

    def post(self, request, pk):
        _editors_only(request)
        case = get_object_or_404(Case, pk=pk)
        new_scorer = _scorer_chosen(request)
        if new_scorer is not None:
            service_run(
                request,
                lambda: assignment_add(
                    case=case, new_scorer=new_scorer, acting_user=request.user
                ),
                success=_("%(person)s now scores “%(title)s” too.")
                % {"person": _person(new_scorer), "title": case.title},
            )
        return _back_to_results(case)


@method_decorator(require_POST, name="dispatch")
class ScoringCloseView(LoginRequiredMixin, View):
    """An editor returns or rejects a case waiting at a scoring stage, by the
    table's rows for a scoring stage (review.workflow)."""

    def post(self, request, pk):
        if not roles.may_publish(request.user):
            raise PermissionDenied(_("Only editors may return or reject a case here."))
        case = get_object_or_404(Case.objects.select_related("current_stage"), pk=pk)
        form = ScoringCloseForm(request.POST)
        if not form.is_valid():
            messages.error(
                request, _("Choose return or reject and say why; nothing was changed.")
            )
            return _back_to_results(case)
        outcome = form.cleaned_data["outcome"]
        service = (
            workflow.case_return
            if outcome == Decision.Outcome.RETURN
            else workflow.case_reject
        )
        revision = case.revisions.filter(pk=form.cleaned_data["revision"]).first()
        stage = case.current_stage
        if stage is None or not stage.is_scoring:
            messages.error(
                request,
                _("“%(title)s” is no longer being scored; nothing was changed.")
                % {"title": case.title},
            )
            return redirect("review:scoring")
        service_run(
            request,
            lambda: service(
                case=case,
                acting_user=request.user,
                stage=stage,
                revision=revision,
                comment=form.cleaned_data["comment"],
            ),
            success=(
                _("“%(title)s” is returned to its branch.")
                if outcome == Decision.Outcome.RETURN
                else _("“%(title)s” is rejected.")
            )
            % {"title": case.title},
        )
        return redirect("review:scoring_results", stage.pk)


def _back_to_results(case):
    stage = case.current_stage
    if stage is not None and stage.is_scoring:
        return redirect("review:scoring_results", stage.pk)
    return redirect("review:scoring")
