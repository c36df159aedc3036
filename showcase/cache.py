"""Caching of the public pages.

Every public page is cached under a key that carries a site-wide version. A
publish, unpublish or edit bumps the version, which retires every cached page
at once: publishing happens a few times a week, so nothing finer is needed.
"""

from django.core.cache import cache
from django.utils.translation import get_language

VERSION_KEY = "showcase:public-version"
PAGE_TIMEOUT = 60 * 60 * 24


def public_cache_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return version


def public_cache_bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def page_key(kind: str, *parts) -> str:
    joined = ":".join(str(part) for part in parts)
    return f"showcase:page:{public_cache_version()}:{get_language()}:{kind}:{joined}"


def case_page_keys(case_id: int) -> list[str]:
    """The case page's cache keys in every language, to drop after a fold."""
    from django.conf import settings
    from django.utils import translation

    keys = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            keys.append(page_key("case", case_id))
    return keys
