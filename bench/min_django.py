"""The smallest Django app that returns the bytes of a CaseHub page.

`make bench` serves it under gunicorn beside CaseHub and measures it in the
same rounds as the public pages: one URL, Django's default middleware as
`django-admin startproject` writes it, and a view that returns the file named
by BENCH_CEILING_FILE, read once. A cached public page that reaches this
app's requests/s costs no more than Django itself; the `*_to_min_django`
figures say how far each page is from that.

Run from the repository root: gunicorn bench.min_django:application
"""

import os
from pathlib import Path

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

# The settings are all here; a DJANGO_SETTINGS_MODULE left in the environment
# for CaseHub must not be read by anything that looks for one.
os.environ.pop("DJANGO_SETTINGS_MODULE", None)

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    SECRET_KEY="bench-min-django-not-secret",  # noqa: S106 (serves one fixed page)
    ROOT_URLCONF=__name__,
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
    ],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    USE_TZ=True,
)

BODY = Path(os.environ["BENCH_CEILING_FILE"]).read_bytes()


def page(request):
    return HttpResponse(BODY)


urlpatterns = [path("", page)]

application = get_wsgi_application()
