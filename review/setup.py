"""The review roles a department starts with: 初审 and 终审, and the editors.

Used by the data migration (with historical models) and by `seed_demo`; only
creates what is missing, and adds no stage where stages already exist.
"""

STAGES = [
    # position, stage name, reviewer group, due in days, after a return
    (1, "初审", "初审组", 3, "first_stage"),
    (2, "终审", "终审组", 5, "first_stage"),
]
EDITOR_GROUP = "编辑组"
REOPEN_CODENAME = "reopen_case"


def default_roles_ensure(apps) -> None:
    """`apps`: a migration's app registry, or django.apps.apps."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
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
    # Permissions are normally made after migrating; the group needs it now.
    content_type, _ = ContentType.objects.get_or_create(
        app_label="review", model="decision"
    )
    reopen, _ = Permission.objects.get_or_create(
        codename=REOPEN_CODENAME,
        content_type=content_type,
        defaults={"name": "Can reopen a rejected case"},
    )
    Group.objects.get_or_create(name=EDITOR_GROUP)[0].permissions.add(reopen)
