from django.db.models import QuerySet
from django.http import Http404

from .models import Branch, Case, Membership


def membership_role(*, user, branch: Branch) -> str | None:
    """The user's role in `branch`, or None when they are not a member."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(user=user, branch=branch, branch__is_active=True)
        .values_list("role", flat=True)
        .first()
    )


def branches_for_user(*, user) -> QuerySet[Branch]:
    if not user.is_authenticated:
        return Branch.objects.none()
    return Branch.objects.filter(memberships__user=user, is_active=True).distinct()


def cases_for_member(*, user) -> QuerySet[Case]:
    """Cases of every organisation the user belongs to."""
    return (
        Case.objects.filter(branch__in=branches_for_user(user=user))
        .select_related("branch", "last_edited_by")
        .prefetch_related("themes")
    )


def case_get_for_member(*, case_id, user) -> Case:
    """The case if the user is a member of its organisation.

    A case that does not exist and a case of another organisation answer the
    same 404, so ids reveal nothing.
    """
    try:
        return cases_for_member(user=user).get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
