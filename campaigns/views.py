from operator import attrgetter

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView

from casehub import roles
from casehub.roles import RoleRequiredMixin
from casehub.tables import COUNT, DATE, FORMATS, Column, Table, table_response
from casehub.views import service_run

from .forms import CampaignForm, ExtensionForm
from .models import Campaign
from .selectors import (
    campaign_published_cases,
    campaigns_with_counts,
    participation,
    participation_summary,
)
from .services import campaign_save, extension_grant


class CampaignListView(RoleRequiredMixin, ListView):
    required_role = "department"
    template_name = "campaigns/campaign_list.html"
    context_object_name = "campaigns"
    paginate_by = 25

    def get_queryset(self):
        return campaigns_with_counts()


class CampaignDetailView(RoleRequiredMixin, View):
    required_role = "department"
    template_name = "campaigns/campaign_detail.html"

    def get(self, request, pk):
        campaign = get_object_or_404(Campaign.objects.select_related("series"), pk=pk)
        rows = participation(campaign=campaign)
        fmt = request.GET.get("format")
        if fmt in FORMATS:
            return table_response(
                participation_table(rows),
                fmt,
                _("%(title)s-participation") % {"title": campaign.title},
            )
        return self.render(campaign, rows, ExtensionForm(campaign=campaign))

    def render(self, campaign, rows, extension_form, status=200):
        context = {
            "campaign": campaign,
            "table": participation_table(rows),
            "summary": participation_summary(rows),
            "extension_form": extension_form,
            "can_edit": roles.may_manage_calls(self.request.user),
            "published_count": campaign_published_cases(campaign=campaign).count(),
        }
        return render(self.request, self.template_name, context, status=status)


# The page and the downloads read these columns alike.
PARTICIPATION_COLUMNS = [
    Column(gettext_lazy("Organisation"), lambda row: row.branch.name),
    Column(
        gettext_lazy("Stage reached"),
        attrgetter("label"),
        badge=lambda row: f"participation participation--{row.state}",
    ),
    Column(gettext_lazy("Cases"), attrgetter("cases"), COUNT),
    Column(gettext_lazy("Submitted"), attrgetter("submitted"), COUNT),
    Column(gettext_lazy("Extended until"), attrgetter("extended_until"), DATE),
]


def participation_table(rows) -> Table:
    return Table(
        title=_("Participation"),
        columns=PARTICIPATION_COLUMNS,
        rows=rows,
        empty=_("No organisation is expected to take part."),
    )


class CampaignFormView(RoleRequiredMixin, View):
    required_role = "manage_calls"
    template_name = "campaigns/campaign_form.html"

    def get(self, request, pk=None):
        campaign = self.get_campaign(pk)
        return self.render(CampaignForm(instance=campaign), campaign)

    def post(self, request, pk=None):
        campaign = self.get_campaign(pk)
        form = CampaignForm(request.POST, instance=campaign)
        if not form.is_valid():
            return self.render(form, campaign)
        data = form.cleaned_data
        saved = []

        def save():
            saved.append(
                campaign_save(
                    acting_user=request.user,
                    campaign=campaign,
                    title=data["title"].strip(),
                    description=data["description"].strip(),
                    series=data["series"],
                    opens_on=data["opens_on"],
                    closes_on=data["closes_on"],
                    branches=data["branches"],
                    min_zishu=data["min_zishu"],
                    max_zishu=data["max_zishu"],
                    max_images=data["max_images"],
                )
            )

        if not service_run(request, save, success=_("The call for cases is saved.")):
            return self.render(form, campaign)
        return redirect(saved[0])

    def get_campaign(self, pk):
        return get_object_or_404(Campaign, pk=pk) if pk is not None else None

    def render(self, form, campaign):
        return render(
            self.request, self.template_name, {"form": form, "campaign": campaign}
        )


class ExtensionGrantView(RoleRequiredMixin, View):
    required_role = "manage_calls"
    http_method_names = ["post"]

    def post(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        form = ExtensionForm(request.POST, campaign=campaign)
        if not form.is_valid():
            messages.error(request, _("The extension was not granted; see below."))
            return self.refused(campaign, form)
        data = form.cleaned_data
        granted = service_run(
            request,
            lambda: extension_grant(
                campaign=campaign,
                branch=data["branch"],
                until=data["until"],
                reason=data["reason"].strip(),
                acting_user=request.user,
            ),
            success=_("%(branch)s may submit until %(until)s.")
            % {"branch": data["branch"], "until": data["until"].isoformat()},
        )
        if not granted:
            return self.refused(campaign, form)
        return redirect(campaign)

    def refused(self, campaign, form):
        """The call's page again, with what the editor typed still in the form."""
        detail = CampaignDetailView()
        detail.setup(self.request, pk=campaign.pk)
        return detail.render(
            campaign, participation(campaign=campaign), form, status=400
        )
