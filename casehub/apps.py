from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasehubConfig(AppConfig):
    name = "casehub"
    verbose_name = _("CaseHub")
