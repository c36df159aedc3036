import datetime
import zoneinfo

from django.db import migrations, models

import casehub.dates

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
# Stored before the forms checked the range: 0001-01-01 00:00 in Beijing is a
# BC timestamp that PostgreSQL keeps but Python cannot read, so the editors'
# desk, the admin and publish_due all failed on such a row. Nothing here reads
# the value: the database finds and rewrites it.
FIRST_GOOD = datetime.datetime(2000, 1, 1, tzinfo=BEIJING)
# Later than this, the time cannot be shown in Beijing time (year 10000).
LAST_GOOD = datetime.datetime(9999, 12, 30, tzinfo=datetime.UTC)
# One minute before the range: readable, and still outside what publish_due
# publishes, so the issue waits, shown on the desk, until an editor replans it.
MARKER = datetime.datetime(1999, 12, 31, 23, 59, tzinfo=BEIJING)


def issue_times_into_calendar(apps, schema_editor):
    Issue = apps.get_model("showcase", "Issue")
    outside = models.Q(scheduled_at__lt=FIRST_GOOD) | models.Q(
        scheduled_at__gt=LAST_GOOD
    )
    Issue.objects.filter(outside).update(scheduled_at=MARKER)
    Issue.objects.filter(
        models.Q(published_at__lt=FIRST_GOOD) | models.Q(published_at__gt=LAST_GOOD)
    ).update(published_at=MARKER)


class Migration(migrations.Migration):
    dependencies = [
        ("showcase", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="issue",
            name="scheduled_at",
            field=models.DateTimeField(
                validators=[casehub.dates.TypedDateValidator()],
                verbose_name="scheduled for",
            ),
        ),
        migrations.RunPython(issue_times_into_calendar, migrations.RunPython.noop),
    ]
