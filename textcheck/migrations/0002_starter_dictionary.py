"""The starter dictionary (textcheck/dictionaries/starter.csv) and the
built-in checks' settings: version 1 of an empty dictionary."""

import csv
from pathlib import Path

from django.db import migrations

STARTER = Path(__file__).resolve().parents[1] / "dictionaries" / "starter.csv"
BUILTIN_MODES = {"numbering": "warn", "punctuation": "warn", "repeat": "warn"}


def starter_load(apps, schema_editor):
    Term = apps.get_model("textcheck", "Term")
    TermEvent = apps.get_model("textcheck", "TermEvent")
    Dictionary = apps.get_model("textcheck", "Dictionary")
    BuiltinCheck = apps.get_model("textcheck", "BuiltinCheck")
    for kind, mode in BUILTIN_MODES.items():
        BuiltinCheck.objects.get_or_create(kind=kind, defaults={"mode": mode})
    if Term.objects.exists() or Dictionary.objects.exists():
        return
    Dictionary.objects.create(pk=1, version=1)
    with STARTER.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        values = {name: row[name].strip() for name in ("kind", "term", "replacement", "severity", "note")}
        Term.objects.create(**values)
        TermEvent.objects.create(
            actor=None,
            action="add",
            kind=values["kind"],
            term=values["term"],
            before=None,
            after=values,
            version=1,
        )


def starter_unload(apps, schema_editor):
    for name in ("TermEvent", "Term", "Dictionary", "BuiltinCheck"):
        apps.get_model("textcheck", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("textcheck", "0001_initial")]

    operations = [migrations.RunPython(starter_load, starter_unload)]
