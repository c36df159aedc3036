"""The public API's addresses, under /api/v1/ (showcase.api)."""

from django.urls import path

from .api import api, get_only, openapi_json

app_name = "api"
urlpatterns = [
    path("openapi.json", openapi_json, name="openapi"),
    *(
        path(str(pattern.pattern), get_only(pattern.callback), name=pattern.name)
        for pattern in api.urls[0]
    ),
]
