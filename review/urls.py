from django.urls import path

from . import scoring_views, views

app_name = "review"

urlpatterns = [
    path("", views.ReviewQueueView.as_view(), name="queue"),
    path("cases/<int:pk>/", views.ReviewCaseView.as_view(), name="case"),
    path("cases/<int:pk>/notes/", views.NoteAddView.as_view(), name="note_add"),
    path(
        "cases/<int:pk>/notes/<int:note_pk>/withdraw/",
        views.NoteWithdrawView.as_view(),
        name="note_withdraw",
    ),
    path("scoring/", scoring_views.ScoringListView.as_view(), name="scoring"),
    path(
        "scoring/cases/<int:pk>/",
        scoring_views.ScoreCaseView.as_view(),
        name="score",
    ),
    path(
        "scoring/stages/<int:pk>/",
        scoring_views.ScoringResultsView.as_view(),
        name="scoring_results",
    ),
    path(
        "scoring/assignments/<int:pk>/reassign/",
        scoring_views.AssignmentReassignView.as_view(),
        name="scoring_reassign",
    ),
    path(
        "scoring/cases/<int:pk>/scorers/",
        scoring_views.AssignmentAddView.as_view(),
        name="scoring_assign_add",
    ),
    path(
        "scoring/cases/<int:pk>/close/",
        scoring_views.ScoringCloseView.as_view(),
        name="scoring_close",
    ),
    path("rejected/", views.RejectedCaseListView.as_view(), name="rejected"),
    path("rejected/<int:pk>/reopen/", views.CaseReopenView.as_view(), name="reopen"),
]
