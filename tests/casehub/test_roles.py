"""Roles by name: the editors' group holds them, and each predicate reads one."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission

from casehub import roles
from review.setup import EDITOR_GROUP, editor_permissions_spread
from tests.review.factories import people, stage
from tests.submissions.factories import UserFactory

pytestmark = pytest.mark.django_db

PREDICATES = {
    roles.REOPEN: roles.may_reopen,
    roles.PUBLISH: roles.may_publish,
    roles.MANAGE_CALLS: roles.may_manage_calls,
    roles.EXPORT: roles.sees_every_export,
}


def grant(user, name):
    app_label, codename = name.split(".")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    # has_perm caches what a user holds; read them again.
    return type(user).objects.get(pk=user.pk)


def test_the_editors_group_holds_every_editor_permission():
    people()
    held = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=EDITOR_GROUP).permissions.all()
    }
    assert held == set(PREDICATES)


@pytest.mark.parametrize("name", list(PREDICATES))
def test_each_predicate_answers_its_own_permission_only(name):
    people()
    user = grant(UserFactory(), name)
    assert {other: check(user) for other, check in PREDICATES.items()} == {
        other: other == name for other in PREDICATES
    }
    assert roles.is_editor(user) == (name != roles.EXPORT)


def test_reviewing_is_by_stage_and_only_while_the_stage_is_in_use():
    who = people()
    first, second = stage(1), stage(2)
    assert roles.reviews_at(who.reviewer1, first)
    assert not roles.reviews_at(who.reviewer1, second)
    assert roles.is_reviewer(who.reviewer1) and roles.may_export(who.reviewer1)
    first.is_active = False
    first.save()
    assert roles.is_stage_member(who.reviewer1, first)
    assert not roles.reviews_at(who.reviewer1, first)
    assert not roles.is_reviewer(who.reviewer1)
    assert not roles.is_department(who.reviewer1)


def test_no_role_for_an_outsider_or_a_branch_member():
    who = people()
    for user in (who.outsider, who.secretary, who.correspondent):
        assert not any(roles.has_role(user, name) for name in roles.ROLES)


def test_whoever_could_reopen_becomes_an_editor_by_name():
    """The migration gives the other three to every holder of the old one."""
    people()
    old_editors = Group.objects.create(name="老编辑组")
    reopen = Permission.objects.get(codename="reopen_case")
    old_editors.permissions.add(reopen)
    person = UserFactory()
    person.user_permissions.add(reopen)
    editor_permissions_spread(apps)
    assert old_editors.permissions.count() == 4
    person = type(person).objects.get(pk=person.pk)
    assert all(check(person) for check in PREDICATES.values())
