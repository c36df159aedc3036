"""初审 and 终审 with their reviewer groups, and the editors' group."""

from django.db import migrations

from review.setup import default_roles_ensure


def create_roles(apps, schema_editor):
    default_roles_ensure(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("review", "0002_stages_decisions_notifications"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
