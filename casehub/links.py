"""Absolute addresses of the site's own pages, for everything read off the page.

Canonical links, Open Graph tags, feeds, the sitemap, robots.txt and emails all
name the site as SITE_URL does, never as the request's Host header does: a public
page is cached and shown to every later reader, so whatever host the first
reader sent would otherwise be handed on to all of them.
"""

from urllib.parse import urlsplit

from django.conf import settings


def absolute_url(path: str) -> str:
    """`path` (as `reverse` or a file's `.url` gives it) on the site at SITE_URL."""
    if path.startswith(("http://", "https://")):
        return path
    if path.startswith("//"):
        return f"{site_scheme()}:{path}"
    return f"{settings.SITE_URL}/{path.lstrip('/')}"


def site_scheme() -> str:
    return urlsplit(settings.SITE_URL).scheme or "https"


def site_domain() -> str:
    """SITE_URL without its scheme: the host, port and any path prefix."""
    parts = urlsplit(settings.SITE_URL)
    return parts.netloc + parts.path.rstrip("/")
