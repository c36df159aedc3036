"""What a database holds, as a backup's manifest records it and a restore checks it.

Every table gets its row count and a checksum: a SHA-256 over its rows in
primary-key order, each value in one canonical form (times in UTC, JSON with
sorted keys, UUIDs as text), read through the model so that SQLite and
PostgreSQL give the same figure for the same rows. Tables no model describes
(SQLite's full-text index, say) are hashed from their raw rows in column order.
"""

import datetime
import decimal
import hashlib
import json
import uuid

from django.apps import apps
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

CHUNK = 2000


def _canonical(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return str(value.normalize())
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        return value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value // datetime.timedelta(microseconds=1)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _row_line(values) -> bytes:
    return (
        json.dumps([_canonical(value) for value in values], ensure_ascii=False).encode()
        + b"\n"
    )


def _models():
    """Each table's model: every installed model with a table of its own,
    the many-to-many tables Django makes, and the migration record."""
    found = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and not meta.swapped:
            found.setdefault(meta.db_table, model)
    found.setdefault(
        MigrationRecorder.Migration._meta.db_table, MigrationRecorder.Migration
    )
    return found


def _model_summary(model, using: str) -> dict:
    fields = [field.attname for field in model._meta.local_concrete_fields]
    digest = hashlib.sha256()
    rows = 0
    query = model._base_manager.using(using).order_by("pk").values_list(*fields)
    for values in query.iterator(chunk_size=CHUNK):
        digest.update(_row_line(values))
        rows += 1
    return {"rows": rows, "checksum": digest.hexdigest()}


def _raw_summary(table: str, using: str) -> dict:
    connection = connections[using]
    quoted = connection.ops.quote_name(table)
    digest = hashlib.sha256()
    rows = 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {quoted} WHERE 1 = 0")  # noqa: S608
        width = len(cursor.description)
        order = ", ".join(str(position) for position in range(1, width + 1))
        cursor.execute(f"SELECT * FROM {quoted} ORDER BY {order}")  # noqa: S608
        while batch := cursor.fetchmany(CHUNK):
            for values in batch:
                digest.update(_row_line(values))
                rows += 1
    return {"rows": rows, "checksum": digest.hexdigest()}


def table_names(using: str) -> list[str]:
    connection = connections[using]
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def database_summary(using: str = "default") -> dict[str, dict]:
    """{table: {"rows": n, "checksum": hex}} for every table of the database."""
    models = _models()
    summary = {}
    for table in table_names(using):
        model = models.get(table)
        if model is not None:
            summary[table] = _model_summary(model, using)
        else:
            summary[table] = _raw_summary(table, using)
    return summary


def applied_migrations(using: str = "default") -> list[list[str]]:
    recorder = MigrationRecorder(connections[using])
    if not recorder.has_table():
        return []
    return sorted([app, name] for app, name in recorder.applied_migrations())


def code_migrations() -> set[tuple[str, str]]:
    """The migrations this code has on disk, without asking a database."""
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def unapplied_in_code(applied) -> list[tuple[str, str]]:
    """Migrations of this code that the `applied` set lacks: what `migrate`
    would apply (a squash whose replaced migrations are all there counts as
    applied, as Django counts it)."""
    loader = MigrationLoader(None, ignore_no_migrations=True, replace_migrations=False)
    applied = {tuple(item) for item in applied}
    missing = []
    for key, migration in loader.disk_migrations.items():
        if key in applied:
            continue
        if migration.replaces and all(tuple(r) in applied for r in migration.replaces):
            continue
        missing.append(key)
    return sorted(missing)
