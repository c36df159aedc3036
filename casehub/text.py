"""Plain-text helpers: the characters XML cannot carry, the bidirectional
controls no case text needs, and rendering a template as plain text."""

import re
from functools import cache
from pathlib import Path

from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.template import Context
from django.template.loader import get_template

# XML 1.0 has no place for C0 control characters other than tab and newlines;
# one pasted into a title would make the whole document fail to build.
XML_UNFIT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# The explicit embeddings and overrides (U+202A–U+202E) and isolates
# (U+2066–U+2069) open a scope that, left unclosed, reverses whatever the page
# shows after the text: a title with U+202E turns the rest of an inbox line
# around. The marks (LRM U+200E, RLM U+200F, ALM U+061C) open no scope, but
# they are invisible and Chinese or English case text has no use for them, so
# they go too: what is left reads the same, and hides nothing.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def xml_fit(text: str) -> str:
    """`text` without the characters XML cannot carry."""
    return XML_UNFIT.sub("", text)


def bidi_strip(text: str) -> str:
    """`text` without bidirectional control characters."""
    return BIDI_CONTROLS.sub("", text)


def text_render(template_name: str, context: dict) -> str:
    """Render a template as plain text: nothing in it is HTML-escaped.

    For email subjects and bodies, where `&amp;` would reach the reader as is.
    """
    template = get_template(template_name).template
    return template.render(Context(context, autoescape=False))


def subject_line(text: str) -> str:
    """One line, as an email header must be."""
    return " ".join(text.split())


@cache
def _plain_text_fields(model) -> tuple[str, ...]:
    """The plain-text fields of one of our models (or the user model)."""
    if model._meta.apps is not global_apps or model._meta.app_config is None:
        return ()  # a migration's historical model, or Django's own bookkeeping
    app_path = Path(model._meta.app_config.path).resolve()
    ours = app_path.parent == Path(settings.BASE_DIR).resolve()
    if not ours and model is not get_user_model():
        return ()
    # Rich text is cleaned by casehub.richtext before it is stored, and must
    # not change after that: taking characters out of sanitised HTML could
    # make an address the sanitiser judged harmless mean something else.
    rich = set(getattr(model, "rich_text_fields", ()))
    return tuple(
        field.attname
        for field in model._meta.concrete_fields
        if isinstance(field, (models.CharField, models.TextField))
        and field.name not in rich
    )


def bidi_strip_on_save(sender, instance, raw=False, update_fields=None, **kwargs):
    """pre_save: the plain-text fields of every model of ours lose their
    bidirectional controls, whichever path saves them (forms, admin,
    services, commands)."""
    if raw:
        return
    for attname in _plain_text_fields(sender):
        if update_fields is not None and attname not in update_fields:
            continue
        value = getattr(instance, attname)
        if isinstance(value, str) and BIDI_CONTROLS.search(value):
            setattr(instance, attname, bidi_strip(value))
