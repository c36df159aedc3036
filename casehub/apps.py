from django.apps import AppConfig
from django.db.models.signals import pre_save
from django.utils.translation import gettext_lazy as _


class CasehubConfig(AppConfig):
    name = "casehub"
    verbose_name = _("CaseHub")

    def ready(self):
        from .text import bidi_strip_on_save

        # One receiver for every model: each path that saves user text goes
        # through it, so no form or service has to remember.
        pre_save.connect(bidi_strip_on_save, dispatch_uid="casehub.text.bidi_strip")
