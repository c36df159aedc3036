from django.urls import path

from . import views

app_name = "submissions"

urlpatterns = [
    path("", views.CaseListView.as_view(), name="case_list"),
    path("new/", views.CaseCreateView.as_view(), name="case_create"),
    path("<int:pk>/", views.CaseDetailView.as_view(), name="case_detail"),
    path("<int:pk>/edit/", views.CaseUpdateView.as_view(), name="case_update"),
    path("<int:pk>/preview/", views.CasePreviewView.as_view(), name="case_preview"),
    path(
        "<int:pk>/text-check/",
        views.CaseTextCheckView.as_view(),
        name="case_text_check",
    ),
    path(
        "<int:pk>/revisions/<int:number>/",
        views.CaseRevisionView.as_view(),
        name="revision_detail",
    ),
    path(
        "<int:pk>/notes/<int:note_pk>/reply/",
        views.CaseNoteReplyView.as_view(),
        name="case_note_reply",
    ),
    path("<int:pk>/submit/", views.CaseSubmitView.as_view(), name="case_submit"),
    path("<int:pk>/resubmit/", views.CaseResubmitView.as_view(), name="case_resubmit"),
    path("<int:pk>/withdraw/", views.CaseWithdrawView.as_view(), name="case_withdraw"),
    path("<int:pk>/delete/", views.CaseDeleteView.as_view(), name="case_delete"),
    path("images/", views.image_upload, name="image_upload"),
]
