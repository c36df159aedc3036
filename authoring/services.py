from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from campaigns.services import campaign_require_accepting
from casehub.exceptions import EditConflict, NotPermitted, WrongState
from casehub.images import CleanImage, image_clean
from review.workflow import case_edit_record
from submissions.models import Branch, Case, EditorImage, Theme
from submissions.selectors import branches_for_user, membership_role
from submissions.tasks import case_cover_thumbnail

if TYPE_CHECKING:
    from campaigns.models import Campaign


@dataclass
class CaseContent:
    """The fields a branch member writes; the same for create and edit."""

    title: str
    tagline: str = ""
    author_name: str = ""
    source: str = ""
    lead: str = ""
    body: str = ""
    themes: list[Theme] = field(default_factory=list)
    # The call for cases the case answers, if any.
    campaign: "Campaign | None" = None
    # A new cover, already checked and re-encoded; None keeps the current one.
    cover: CleanImage | None = None
    remove_cover: bool = False


def _require_member(*, user, branch: Branch) -> str:
    role = membership_role(user=user, branch=branch)
    if role is None:
        raise NotPermitted(
            _("You are not a member of %(branch)s.") % {"branch": branch}
        )
    return role


def _apply_content(case: Case, content: CaseContent) -> bool:
    """Copy `content` onto `case`; True when a new cover needs a thumbnail."""
    new_campaign = content.campaign.pk if content.campaign else None
    if new_campaign is not None and new_campaign != case.campaign_id:
        campaign_require_accepting(campaign=content.campaign, branch=case.branch)
    case.campaign = content.campaign
    case.title = content.title
    case.tagline = content.tagline
    case.author_name = content.author_name
    case.source = content.source
    case.lead = content.lead
    case.body = content.body
    if content.cover is not None:
        case.cover_image.save(
            content.cover.content.name, content.cover.content, save=False
        )
        case.cover_thumbnail = ""
        return True
    if content.remove_cover:
        case.cover_image = ""
        case.cover_thumbnail = ""
    return False


def _queue_thumbnail(case: Case) -> None:
    case_id = case.pk
    transaction.on_commit(lambda: case_cover_thumbnail.delay(case_id), robust=True)


@transaction.atomic
def case_create(*, branch: Branch, acting_user, content: CaseContent) -> Case:
    _require_member(user=acting_user, branch=branch)
    case = Case(branch=branch, created_by=acting_user, last_edited_by=acting_user)
    needs_thumbnail = _apply_content(case, content)
    case.save()
    case.themes.set(content.themes)
    if needs_thumbnail:
        _queue_thumbnail(case)
    return case


@transaction.atomic
def case_update(
    *, case: Case, acting_user, expected_version: int, content: CaseContent
) -> Case:
    """Save an edit made on top of `expected_version`.

    A save based on an older version is refused, so the first of two people
    editing at once keeps their work and the second is shown what changed.
    """
    locked = (
        Case.objects.select_for_update(of=("self",))
        .select_related("branch")
        .get(pk=case.pk)
    )
    _require_member(user=acting_user, branch=locked.branch)
    if not locked.is_editable:
        raise WrongState(
            _("This case is %(status)s and cannot be edited now.")
            % {"status": locked.get_status_display()}
        )
    if locked.version != expected_version:
        raise EditConflict(
            _(
                "%(user)s saved this case while you were editing it. Your text "
                "has not been saved; it is kept in the form below."
            )
            % {"user": locked.last_edited_by.get_full_name() or locked.last_edited_by},
            current=locked,
        )
    needs_thumbnail = _apply_content(locked, content)
    locked.version += 1
    locked.last_edited_by = acting_user
    locked.save()
    locked.themes.set(content.themes)
    case_edit_record(case=locked, acting_user=acting_user)
    if needs_thumbnail:
        _queue_thumbnail(locked)
    return locked


def editor_image_store(*, upload, acting_user) -> EditorImage:
    """Check, re-encode and keep an image uploaded from the editor."""
    if not branches_for_user(user=acting_user).exists():
        raise NotPermitted(_("Only members of a party organisation may upload images."))
    if upload is None:
        raise ValidationError(_("No file was received."), code="missing")
    clean = image_clean(upload)
    image = EditorImage(width=clean.width, height=clean.height, uploaded_by=acting_user)
    image.image.save(clean.content.name, clean.content, save=False)
    image.save()
    return image
