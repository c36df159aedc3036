"""The site's URLs plus the benchmark's ceiling: the case page's own bytes,
returned by the smallest possible view through the same middleware."""

from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.urls import path

from casehub.urls import urlpatterns as site_urlpatterns

_body = None


def ceiling(request):
    global _body
    if _body is None:
        _body = Path(settings.BENCH_CEILING_FILE).read_bytes()
    return HttpResponse(_body)


urlpatterns = [path("bench/ceiling/", ceiling), *site_urlpatterns]
