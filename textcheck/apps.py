from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TextcheckConfig(AppConfig):
    name = "textcheck"
    verbose_name = _("Text check")
