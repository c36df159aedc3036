"""Notification moves to the inbox app: review forgets the model, the table
stays.

State only: the table review_notification, its rows, its index and its
constraint are untouched; inbox.0001_initial takes the model over with
db_table = "review_notification" and moves its content type.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("review", "0007_stage_events")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notification")],
            database_operations=[],
        )
    ]
