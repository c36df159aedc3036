"""The inbox takes Notification over from review, table and all.

State only: the table review_notification was made by review's migrations and
is used as it is, with the same index and constraint names. Review forgets the
model first (review.0008_notification_to_inbox), so no state ever holds two
models on one table. The model's content type row moves with it, so the admin
permissions granted on notifications still apply.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _content_type_move(apps, schema_editor, *, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_types = ContentType.objects.using(schema_editor.connection.alias)
    # A row already at the target (a migrate that ran without this step made
    # it) keeps its place: (app_label, model) is unique, and
    # remove_stale_contenttypes settles the one left behind.
    if content_types.filter(app_label=target, model="notification").exists():
        return
    content_types.filter(app_label=source, model="notification").update(
        app_label=target
    )


def content_type_to_inbox(apps, schema_editor):
    _content_type_move(apps, schema_editor, source="review", target="inbox")


def content_type_to_review(apps, schema_editor):
    _content_type_move(apps, schema_editor, source="inbox", target="review")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("campaigns", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("review", "0008_notification_to_inbox"),
        ("submissions", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("event", "Case event"),
                                    ("reminder", "Overdue reminder"),
                                    ("campaign", "Call for cases reminder"),
                                ],
                                max_length=10,
                                verbose_name="kind",
                            ),
                        ),
                        ("key", models.CharField(max_length=80, verbose_name="key")),
                        (
                            "created_at",
                            models.DateTimeField(
                                auto_now_add=True, verbose_name="time"
                            ),
                        ),
                        (
                            "read_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="read"
                            ),
                        ),
                        (
                            "emailed_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="emailed"
                            ),
                        ),
                        (
                            "campaign",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to="campaigns.campaign",
                                verbose_name="call for cases",
                            ),
                        ),
                        (
                            "case",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to="submissions.case",
                                verbose_name="case",
                            ),
                        ),
                        (
                            "event",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="notifications",
                                to="review.caseevent",
                                verbose_name="event",
                            ),
                        ),
                        (
                            "recipient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="recipient",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "notification",
                        "verbose_name_plural": "notifications",
                        "db_table": "review_notification",
                        "ordering": ["-created_at", "-pk"],
                        "indexes": [
                            models.Index(
                                fields=["recipient", "read_at"],
                                name="review_noti_recipie_2beb75_idx",
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("recipient", "key"),
                                name="notification_once_per_recipient",
                            )
                        ],
                    },
                )
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_inbox, content_type_to_review),
    ]
