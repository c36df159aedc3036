from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from .selectors import desk_for


class DeskHomeView(LoginRequiredMixin, TemplateView):
    """The landing page after signing in: what waits for each of the user's roles."""

    template_name = "desk/desk_home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["desk"] = desk_for(user=self.request.user)
        return context
