"""Changing calls for cases. Editors open and extend calls; branches submit to them."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from review.selectors import is_editor
from submissions.exceptions import NotPermitted, WrongState
from submissions.models import Branch

from .models import Campaign, Extension
from .selectors import campaign_accepts


class NotAccepting(WrongState):
    """The call does not take cases from this organisation today."""


def _require_editor(user) -> None:
    if not is_editor(user):
        raise NotPermitted(_("Only editors may manage calls for cases."))


@transaction.atomic
def campaign_save(
    *,
    acting_user,
    title: str,
    description: str,
    series,
    opens_on: datetime.date,
    closes_on: datetime.date,
    branches=None,
    campaign: Campaign | None = None,
) -> Campaign:
    """Open a call, or change one; with no organisations chosen, every active
    organisation is expected to take part."""
    _require_editor(acting_user)
    if closes_on < opens_on:
        raise WrongState(_("A call cannot close before it opens."))
    if campaign is None:
        campaign = Campaign(created_by=acting_user)
    campaign.title = title
    campaign.description = description
    campaign.series = series
    campaign.opens_on = opens_on
    campaign.closes_on = closes_on
    campaign.save()
    if not branches:
        branches = Branch.objects.filter(is_active=True)
    campaign.branches.set(branches)
    return campaign


@transaction.atomic
def extension_grant(
    *, campaign: Campaign, branch: Branch, until: datetime.date, reason="", acting_user
) -> Extension:
    """Let one organisation submit to a closed call until `until`."""
    _require_editor(acting_user)
    if not campaign.branches.filter(pk=branch.pk).exists():
        raise WrongState(
            _("%(branch)s is not expected to take part in this call.")
            % {"branch": branch}
        )
    if until <= campaign.closes_on or until < timezone.localdate():
        raise WrongState(
            _("An extension must run past the closing day and not end in the past.")
        )
    extension, _created = Extension.objects.update_or_create(
        campaign=campaign,
        branch=branch,
        defaults={"until": until, "reason": reason, "granted_by": acting_user},
    )
    return extension


def campaign_require_accepting(*, campaign: Campaign, branch: Branch) -> None:
    """Refuse a case for a call that does not take cases from `branch` today."""
    if campaign_accepts(campaign=campaign, branch=branch):
        return
    today = timezone.localdate()
    if not campaign.branches.filter(pk=branch.pk).exists():
        message = _("%(branch)s is not expected to take part in “%(title)s”.")
    elif today < campaign.opens_on:
        message = _("The call “%(title)s” opens on %(opens)s.")
    else:
        message = _(
            "The call “%(title)s” closed on %(closes)s; ask an editor for an "
            "extension to submit to it."
        )
    raise NotAccepting(
        message
        % {
            "branch": branch,
            "title": campaign.title,
            "opens": date_format(campaign.opens_on, "Y-m-d"),
            "closes": date_format(campaign.closes_on, "Y-m-d"),
        }
    )
