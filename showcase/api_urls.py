"""The public API's addresses, under /api/v1/ (showcase.api)."""

from django.urls import path

from .api import api, openapi_json

app_name = "api"
urlpatterns = [
    path("openapi.json", openapi_json, name="openapi"),
    *api.urls[0],
]
