from django.urls import path

from .views import DeskHomeView

app_name = "desk"

urlpatterns = [
    path("", DeskHomeView.as_view(), name="home"),
]
