import factory
from django.contrib.auth import get_user_model
from django.test import Client

from submissions.models import Branch, Case, Membership, Theme

PASSWORD = "correct horse battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password(PASSWORD)


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch

    name = factory.Sequence(lambda n: f"第{n}党支部")
    kind = Branch.Kind.BRANCH


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    branch = factory.SubFactory(BranchFactory)
    role = Membership.Role.SECRETARY


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"主题{n}")


class CaseFactory(factory.django.DjangoModelFactory):
    """A draft, as a branch member would have written it."""

    class Meta:
        model = Case

    branch = factory.SubFactory(BranchFactory)
    title = factory.Sequence(lambda n: f"党建引领案例{n}")
    tagline = "筑基·创新·暖心"
    author_name = "张三"
    lead = "支部以党建引领业务发展,取得了明显成效。"
    body = "<h2>一、筑基</h2><p>一是加强组织建设。二是规范组织生活。三是压实责任。</p>"
    created_by = factory.SubFactory(UserFactory)
    last_edited_by = factory.SelfAttribute("created_by")


def member(role=Membership.Role.SECRETARY, branch=None, **user_fields):
    """A user who belongs to `branch` (a new one if not given) with `role`."""
    membership = MembershipFactory(
        role=role,
        user=UserFactory(**user_fields),
        **({"branch": branch} if branch is not None else {}),
    )
    return membership.user


def signed_in(user, **client_options) -> Client:
    """A test client with `user` signed in."""
    client = Client(**client_options)
    client.force_login(user)
    return client
