from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuthoringConfig(AppConfig):
    """The branch's desk: writing, editing and sending cases to review."""

    name = "authoring"
    verbose_name = _("Writing cases")
