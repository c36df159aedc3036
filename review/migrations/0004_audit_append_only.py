"""A PostgreSQL trigger that refuses UPDATE and DELETE on the audit log.

The model and its queryset already refuse both; the trigger covers raw SQL and
any code path that bypasses them. SQLite, the single-machine default, keeps the
model's guard only: it has no TRUNCATE, so a trigger there would also refuse
the table resets that test runs and `flush` make.
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE OR REPLACE FUNCTION review_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'review_caseevent is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER review_caseevent_no_update BEFORE UPDATE OR DELETE ON review_caseevent
    FOR EACH ROW EXECUTE FUNCTION review_caseevent_append_only();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS review_caseevent_no_update ON review_caseevent;
DROP FUNCTION IF EXISTS review_caseevent_append_only();
"""
def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("review", "0003_default_stages")]

    operations = [migrations.RunPython(forward, backward)]
