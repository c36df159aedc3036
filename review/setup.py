"""The review roles a department starts with: 初审 and 终审, and the editors.

Used by the data migrations (with historical models) and by `seed_demo`; only
creates what is missing, and adds no stage where stages already exist.
"""

from django.conf import settings

from casehub.roles import EDITOR_PERMISSIONS

STAGES = [
    # position, stage name, reviewer group, due in days, after a return
    (1, "初审", "初审组", 3, "first_stage"),
    (2, "终审", "终审组", 5, "first_stage"),
]
EDITOR_GROUP = "编辑组"


def editor_permissions(apps) -> list:
    """The editors' permissions, made now if need be.

    Permissions are normally made after migrating; a migration that grants
    them needs them at once.
    """
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    permissions = []
    for app_label, model, codename, name in EDITOR_PERMISSIONS:
        content_type, _ = ContentType.objects.get_or_create(
            app_label=app_label, model=model
        )
        permission, _ = Permission.objects.get_or_create(
            codename=codename, content_type=content_type, defaults={"name": name}
        )
        permissions.append(permission)
    return permissions


def default_roles_ensure(apps) -> None:
    """`apps`: a migration's app registry, or django.apps.apps."""
    Group = apps.get_model("auth", "Group")
    ReviewStage = apps.get_model("review", "ReviewStage")
    if not ReviewStage.objects.exists():
        for position, name, group_name, due_in_days, resume in STAGES:
            ReviewStage.objects.create(
                position=position,
                name=name,
                reviewer_group=Group.objects.get_or_create(name=group_name)[0],
                due_in_days=due_in_days,
                resume_after_return=resume,
            )
    editors = Group.objects.get_or_create(name=EDITOR_GROUP)[0]
    editors.permissions.add(*editor_permissions(apps))


def editor_permissions_spread(apps) -> None:
    """Whoever could reopen cases was an editor: give them the rest by name."""
    Group = apps.get_model("auth", "Group")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    reopen, *others = editor_permissions(apps)
    for group in Group.objects.filter(permissions=reopen):
        group.permissions.add(*others)
    for user in User.objects.filter(user_permissions=reopen):
        user.user_permissions.add(*others)
