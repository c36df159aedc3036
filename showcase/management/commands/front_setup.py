"""After a deploy: the front server's headers file, and a fresh published copy.

nginx serves the published copy with the headers Django gives the public
pages; nginx reads them from FRONT_ROOT/headers.conf, which this command
writes from a real answer of Django's, so there is one source for them (the
settings and the middleware). A deploy may change templates too, so every
cached page and the copy are retired, and the copy starts anew. Reload nginx
afterwards (`nginx -s reload`) so it reads the headers.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from showcase.cache import public_cache_bump
from showcase.front import django_headers, nginx_headers
from showcase.published import root


class Command(BaseCommand):
    help = "Write the front server's headers file and start a fresh published copy."

    def handle(self, *args, **options):
        folder = root()
        if folder is None:
            raise CommandError(
                "FRONT_ROOT is not set: the site keeps no published copy for a "
                "front server."
            )
        try:
            lines = nginx_headers(django_headers())
        except ValueError as error:
            raise CommandError(str(error)) from None
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "headers.conf"
        temporary = folder / ".headers.conf.new"
        temporary.write_text(lines, encoding="utf-8")
        temporary.replace(target)
        public_cache_bump()
        self.stdout.write(f"headers: {target}")
        self.stdout.write(
            f"published copy: {folder / 'current'} (empty, fills on reads)"
        )
        if not settings.DEBUG:
            self.stdout.write("reload nginx now: nginx -s reload")
