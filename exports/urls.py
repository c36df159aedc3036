from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path(
        "new/<slug:kind>/<int:object_id>/",
        views.ExportStartView.as_view(),
        name="start",
    ),
    path("<uuid:public_id>/", views.ExportJobDetailView.as_view(), name="job"),
    path(
        "<uuid:public_id>/status/",
        views.ExportJobStatusView.as_view(),
        name="job_status",
    ),
    path(
        "<uuid:public_id>/download/",
        views.ExportJobDownloadView.as_view(),
        name="job_download",
    ),
]
