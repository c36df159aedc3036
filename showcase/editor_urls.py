from django.urls import path

from .editor_views import (
    CaseFindingsView,
    EditorActionView,
    EditorDeskView,
    FindingOverrideView,
    IssueCasePreviewView,
    IssueFindingsView,
    IssuePlanView,
    IssuePreviewView,
    ScoredAcceptView,
)

app_name = "showcase_editor"

ISSUE_ACTIONS = [
    "add",
    "remove",
    "up",
    "down",
    "note",
    "publish",
    "unpublish",
    "delete",
]

urlpatterns = [
    path("", EditorDeskView.as_view(), name="desk"),
    path("plan/", IssuePlanView.as_view(), name="plan"),
    path("queue/pin/", EditorActionView.as_view(action="pin"), name="pin"),
    path("queue/hold/", EditorActionView.as_view(action="hold"), name="hold"),
    path("issues/<int:pk>/preview/", IssuePreviewView.as_view(), name="issue_preview"),
    path(
        "issues/<int:pk>/preview/cases/<int:case_pk>/",
        IssueCasePreviewView.as_view(),
        name="issue_case_preview",
    ),
    path(
        "issues/<int:pk>/findings/", IssueFindingsView.as_view(), name="issue_findings"
    ),
    path("cases/<int:pk>/findings/", CaseFindingsView.as_view(), name="case_findings"),
    path(
        "cases/<int:pk>/override/",
        FindingOverrideView.as_view(),
        name="finding_override",
    ),
    path("scoring/<int:pk>/accept/", ScoredAcceptView.as_view(), name="scored_accept"),
    *[
        path(
            f"issues/<int:pk>/{action}/",
            EditorActionView.as_view(action=action),
            name=f"issue_{action}",
        )
        for action in ISSUE_ACTIONS
    ],
]
