from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    """The page everyone lands on after signing in: what waits for each role."""

    name = "desk"
    verbose_name = _("Desk")
