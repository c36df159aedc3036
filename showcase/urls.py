from django.urls import path

from . import views
from .feeds import SeriesFeed

app_name = "showcase"

urlpatterns = [
    path("series/<slug:slug>/", views.series_detail, name="series"),
    path("series/<slug:slug>/feed/", SeriesFeed(), name="feed"),
    path("series/<slug:slug>/<int:number>/", views.issue_detail, name="issue"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/views/", views.case_views, name="case_views"),
    path("cases/<int:pk>/views.gif", views.case_views_pixel, name="case_views_pixel"),
    path("search/", views.search, name="search"),
    path("embed/issues/", views.embed_issues, name="embed_issues"),
]
