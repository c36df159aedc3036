"""Who may do what, by name: one predicate per role, one mixin for views.

The department's roles are Django permissions, so an administrator grants
them to a group (编辑组 holds the four editor permissions) or to a person:

- reopen a rejected case: ``review.reopen_case``
- plan and publish the showcase: ``showcase.publish_issue``
- run calls for cases: ``campaigns.manage_campaign``
- take cases to Word or Excel: ``exports.export_cases``

Reviewing is by stage: the members of a stage's reviewer group review the
cases waiting at it while the stage is in use. A branch's own roles
(secretary, correspondent) come from its memberships, in
``submissions.selectors``.

This module reads only the user, their groups and the stage it is given, so
every app can ask it without depending on the apps that hold the models.
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

REOPEN = "review.reopen_case"
PUBLISH = "showcase.publish_issue"
MANAGE_CALLS = "campaigns.manage_campaign"
EXPORT = "exports.export_cases"

# (app label, model, codename, name): what the editors' group is given.
EDITOR_PERMISSIONS = [
    ("review", "decision", "reopen_case", "Can reopen a rejected case"),
    ("showcase", "issue", "publish_issue", "Can plan and publish the showcase"),
    ("campaigns", "campaign", "manage_campaign", "Can manage calls for cases"),
    ("exports", "exportjob", "export_cases", "Can export cases"),
]


def _holds(user, permission: str) -> bool:
    return user.is_authenticated and user.has_perm(permission)


def may_reopen(user) -> bool:
    return _holds(user, REOPEN)


def may_publish(user) -> bool:
    return _holds(user, PUBLISH)


def may_manage_calls(user) -> bool:
    return _holds(user, MANAGE_CALLS)


def is_stage_member(user, stage) -> bool:
    """In `stage`'s reviewer group, whether or not the stage is in use."""
    return (
        user.is_authenticated
        and user.groups.filter(pk=stage.reviewer_group_id).exists()
    )


def reviews_at(user, stage) -> bool:
    """Decides the cases waiting at `stage`: a member while it is in use."""
    return stage.is_active and is_stage_member(user, stage)


def is_reviewer(user) -> bool:
    """Reviews at some stage in use."""
    return (
        user.is_authenticated
        and user.groups.filter(review_stages__is_active=True).exists()
    )


def may_export(user) -> bool:
    """Exporters, and the reviewers of any stage, take the showcase to Word."""
    return _holds(user, EXPORT) or is_reviewer(user)


def sees_every_export(user) -> bool:
    """An exporter sees everyone's export jobs; others see their own."""
    return _holds(user, EXPORT)


def is_editor(user) -> bool:
    """Holds any of the editors' permissions: the desk's links are theirs."""
    return user.is_authenticated and any(
        user.has_perm(permission) for permission in (PUBLISH, MANAGE_CALLS, REOPEN)
    )


def is_department(user) -> bool:
    """Reviewers and editors: the people the department's pages are for."""
    return is_editor(user) or is_reviewer(user)


# The roles a view can require, by name, with the refusal its users read.
ROLES = {
    "reopen": (may_reopen, _("Only editors may see this page.")),
    "publish": (may_publish, _("Only editors may plan and publish the showcase.")),
    "manage_calls": (may_manage_calls, _("Only editors may manage calls for cases.")),
    "export": (may_export, _("Only editors and reviewers may export to Word.")),
    "department": (is_department, _("Only reviewers and editors may see this page.")),
}


def has_role(user, role: str) -> bool:
    return ROLES[role][0](user)


class RoleRequiredMixin(LoginRequiredMixin):
    """A view for one role: `required_role` names it in ROLES.

    Anonymous visitors go to the login page; a signed-in user without the
    role gets 403 with the role's own message.
    """

    required_role: str = ""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            predicate, refusal = ROLES[self.required_role]
            if not predicate(request.user):
                raise PermissionDenied(refusal)
        return super().dispatch(request, *args, **kwargs)
