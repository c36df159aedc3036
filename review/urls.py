from django.urls import path

from . import views

app_name = "review"

urlpatterns = [
    path("", views.ReviewQueueView.as_view(), name="queue"),
    path("cases/<int:pk>/", views.ReviewCaseView.as_view(), name="case"),
    path("cases/<int:pk>/notes/", views.NoteAddView.as_view(), name="note_add"),
    path("rejected/", views.RejectedCaseListView.as_view(), name="rejected"),
    path("rejected/<int:pk>/reopen/", views.CaseReopenView.as_view(), name="reopen"),
]
