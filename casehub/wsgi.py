"""The WSGI entry point for gunicorn: Django set up, then the application
settings.WSGI_APPLICATION names (the public fast path in front of Django), as
runserver takes it."""

import os

from django.core.servers.basehttp import get_internal_wsgi_application
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casehub.settings")

get_wsgi_application()
application = get_internal_wsgi_application()
