"""Changing calls for cases. Editors open and extend calls; branches submit to them."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from casehub import roles
from casehub.exceptions import NotPermitted, WrongState
from casehub.zishu import digits_grouped, image_count, zishu
from submissions.models import Branch

from .models import Campaign, CampaignEvent, Extension
from .selectors import campaign_accepts


class NotAccepting(WrongState):
    """The call does not take cases from this organisation today."""


class OutsideLimits(WrongState):
    """The body is shorter or longer, or holds more images, than the call asks."""


def _require_editor(user) -> None:
    if not roles.may_manage_calls(user):
        raise NotPermitted(_("Only editors may manage calls for cases."))


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def _log(*, campaign, acting_user, action, branch=None, detail="") -> CampaignEvent:
    return CampaignEvent.objects.create(
        campaign=campaign,
        branch=branch,
        actor=acting_user,
        action=action,
        detail=detail,
    )


def _settings_text(campaign: Campaign, branch_ids) -> dict[str, str]:
    """What a call's audit line records, as text that needs no translation."""
    return {
        "title": campaign.title,
        "description": campaign.description,
        "series": str(campaign.series),
        "opens_on": campaign.opens_on.isoformat(),
        "closes_on": campaign.closes_on.isoformat(),
        "branches": ",".join(str(pk) for pk in sorted(branch_ids)),
        **{
            name: _text_or_blank(getattr(campaign, name))
            for name in ("min_zishu", "max_zishu", "max_images")
        },
    }


def _text_or_blank(value) -> str:
    return "" if value is None else str(value)


def _changes_text(before: dict[str, str] | None, after: dict[str, str]) -> str:
    if before is None:
        return "\n".join(f"{name}: {value}" for name, value in after.items())
    return "\n".join(
        f"{name}: {before[name]} → {after[name]}"
        for name in after
        if before[name] != after[name]
    )


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
    min_zishu: int | None = None,
    max_zishu: int | None = None,
    max_images: int | None = None,
) -> Campaign:
    """Open a call, or change one; with no organisations chosen, every active
    organisation is expected to take part. The call stays locked while it
    changes, and each save adds one line to its audit log.

    The limits (字数 and images) are left empty for none; cases submitted
    from then on are held to them, those already in review are not."""
    _require_editor(acting_user)
    if closes_on < opens_on:
        raise WrongState(_("A call cannot close before it opens."))
    if min_zishu is not None and max_zishu is not None and max_zishu < min_zishu:
        raise WrongState(
            _("The most characters cannot be fewer than the fewest (%(min)s).")
            % {"min": digits_grouped(min_zishu)}
        )
    before = None
    if campaign is None:
        campaign = Campaign(created_by=acting_user)
    else:
        campaign = _locked(campaign)
        before = _settings_text(
            campaign, campaign.branches.values_list("pk", flat=True)
        )
    campaign.title = title
    campaign.description = description
    campaign.series = series
    campaign.opens_on = opens_on
    campaign.closes_on = closes_on
    campaign.min_zishu = min_zishu
    campaign.max_zishu = max_zishu
    campaign.max_images = max_images
    campaign.save()
    if not branches:
        branches = Branch.objects.filter(is_active=True)
    campaign.branches.set(branches)
    after = _settings_text(campaign, campaign.branches.values_list("pk", flat=True))
    if before != after:
        _log(
            campaign=campaign,
            acting_user=acting_user,
            action=CampaignEvent.Action.CREATE
            if before is None
            else CampaignEvent.Action.CHANGE,
            detail=_changes_text(before, after),
        )
    return campaign


@transaction.atomic
def extension_grant(
    *, campaign: Campaign, branch: Branch, until: datetime.date, reason="", acting_user
) -> Extension:
    """Let one organisation submit to a closed call until `until`.

    A grant for an organisation that already has one replaces it: the earlier
    row is closed, not overwritten, and the latest grant is the one in force.
    Grants for one call are taken one at a time, under the call's lock.
    """
    _require_editor(acting_user)
    campaign = _locked(campaign)
    if not campaign.branches.filter(pk=branch.pk).exists():
        raise WrongState(
            _("%(branch)s is not expected to take part in this call.")
            % {"branch": branch}
        )
    if until <= campaign.closes_on or until < timezone.localdate():
        raise WrongState(
            _("An extension must run past the closing day and not end in the past.")
        )
    previous = Extension.objects.in_force().filter(campaign=campaign, branch=branch)
    previous_until = previous.values_list("until", flat=True).first()
    previous.update(superseded_at=timezone.now())
    extension = Extension.objects.create(
        campaign=campaign,
        branch=branch,
        until=until,
        reason=reason,
        granted_by=acting_user,
    )
    detail = f"until: {until.isoformat()}"
    if previous_until is not None:
        detail = f"until: {previous_until.isoformat()} → {until.isoformat()}"
    if reason:
        detail += f"\nreason: {reason}"
    _log(
        campaign=campaign,
        acting_user=acting_user,
        action=CampaignEvent.Action.EXTEND,
        branch=branch,
        detail=detail,
    )
    return extension


@transaction.atomic
def campaign_delete(*, campaign: Campaign, acting_user) -> None:
    """Remove a call opened by mistake; refused once any case answers it.

    Its audit log stays, with the call's title, for the record.
    """
    if not acting_user.is_superuser:
        raise NotPermitted(_("Only a superuser may delete a call for cases."))
    campaign = _locked(campaign)
    if campaign.cases.exists():
        raise WrongState(
            _("Cases answer “%(title)s”; it cannot be deleted.")
            % {"title": campaign.title}
        )
    _log(
        campaign=campaign,
        acting_user=acting_user,
        action=CampaignEvent.Action.DELETE,
        detail=_changes_text(
            None,
            _settings_text(campaign, campaign.branches.values_list("pk", flat=True)),
        ),
    )
    campaign.delete()


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


def campaign_require_within_limits(*, campaign: Campaign, body: str) -> None:
    """Refuse a body shorter or longer than the call asks, or with more images.

    Every limit the body misses is named, with its count, so the writer knows
    at once how far off the text is.
    """
    count, images = zishu(body), image_count(body)
    numbers = {
        "count": digits_grouped(count),
        "min": digits_grouped(campaign.min_zishu or 0),
        "max": digits_grouped(campaign.max_zishu or 0),
    }
    problems = []
    if campaign.min_zishu is not None and count < campaign.min_zishu:
        problems.append(
            _("The body has %(count)s characters; this call asks for at least %(min)s.")
            % numbers
        )
    if campaign.max_zishu is not None and count > campaign.max_zishu:
        problems.append(
            _("The body has %(count)s characters; this call asks for at most %(max)s.")
            % numbers
        )
    if campaign.max_images is not None and images > campaign.max_images:
        if campaign.max_images == 0:
            message = ngettext(
                "The body has %(count)s image; this call takes text only.",
                "The body has %(count)s images; this call takes text only.",
                images,
            )
        else:
            message = ngettext(
                "The body has %(count)s image; this call allows at most %(max)s.",
                "The body has %(count)s images; this call allows at most %(max)s.",
                images,
            )
        problems.append(
            message
            % {
                "count": digits_grouped(images),
                "max": digits_grouped(campaign.max_images),
            }
        )
    if problems:
        raise OutsideLimits(" ".join(problems))
