"""The search index: one row per published case, and what finds it quickly on
each database (see showcase.search): on PostgreSQL a GIN index on the tsvector
and, where the pg_trgm extension can be made, a trigram index for the substring
search; on SQLite an FTS5 table over the words, kept in step by triggers.
"""

import logging

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import DatabaseError, migrations, models, transaction

logger = logging.getLogger(__name__)

FTS_SQLITE = [
    "CREATE VIRTUAL TABLE showcase_search_fts USING fts5("
    "tokens, content='showcase_searchentry', content_rowid='id')",
    "CREATE TRIGGER showcase_search_fts_insert AFTER INSERT ON showcase_searchentry "
    "BEGIN INSERT INTO showcase_search_fts(rowid, tokens) "
    "VALUES (new.id, new.tokens); END",
    "CREATE TRIGGER showcase_search_fts_delete AFTER DELETE ON showcase_searchentry "
    "BEGIN INSERT INTO showcase_search_fts(showcase_search_fts, rowid, tokens) "
    "VALUES ('delete', old.id, old.tokens); END",
    "CREATE TRIGGER showcase_search_fts_update AFTER UPDATE ON showcase_searchentry "
    "BEGIN INSERT INTO showcase_search_fts(showcase_search_fts, rowid, tokens) "
    "VALUES ('delete', old.id, old.tokens); "
    "INSERT INTO showcase_search_fts(rowid, tokens) VALUES (new.id, new.tokens); END",
]
FTS_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS showcase_search_fts_insert",
    "DROP TRIGGER IF EXISTS showcase_search_fts_delete",
    "DROP TRIGGER IF EXISTS showcase_search_fts_update",
    "DROP TABLE IF EXISTS showcase_search_fts",
]


def search_indexes_create(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for statement in FTS_SQLITE:
                cursor.execute(statement)
            return
        if connection.vendor != "postgresql":
            return
        # The words become the tsvector as the row is written, whoever writes it.
        cursor.execute(
            "CREATE TRIGGER showcase_searchentry_vector BEFORE INSERT OR UPDATE "
            "ON showcase_searchentry FOR EACH ROW EXECUTE FUNCTION "
            "tsvector_update_trigger(vector, 'pg_catalog.simple', tokens)"
        )
        cursor.execute(
            "CREATE INDEX showcase_searchentry_vector_gin "
            "ON showcase_searchentry USING gin (vector)"
        )
        try:
            # pg_trgm is a trusted extension (PostgreSQL 13+): the database's
            # owner may make it. Where that is refused, substring search still
            # works, by a scan of the plain text.
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as error:
            logger.warning(
                "pg_trgm unavailable (%s): substring search unindexed", error
            )
            return
        cursor.execute(
            "CREATE INDEX showcase_searchentry_plain_trgm "
            "ON showcase_searchentry USING gin (plain_text gin_trgm_ops)"
        )


def search_indexes_drop(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for statement in FTS_SQLITE_DROP:
                cursor.execute(statement)
        elif connection.vendor == "postgresql":
            cursor.execute("DROP INDEX IF EXISTS showcase_searchentry_plain_trgm")
            cursor.execute("DROP INDEX IF EXISTS showcase_searchentry_vector_gin")
            cursor.execute(
                "DROP TRIGGER IF EXISTS showcase_searchentry_vector "
                "ON showcase_searchentry"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("showcase", "0004_publish_permission"),
        ("submissions", "0005_richtext_bounds"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
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
                    "year",
                    models.PositiveSmallIntegerField(
                        db_index=True, verbose_name="year"
                    ),
                ),
                ("published_at", models.DateTimeField(verbose_name="published")),
                ("title", models.CharField(max_length=120, verbose_name="title")),
                (
                    "tagline",
                    models.CharField(blank=True, max_length=60, verbose_name="tagline"),
                ),
                (
                    "branch_name",
                    models.CharField(max_length=120, verbose_name="organisation"),
                ),
                (
                    "series_title",
                    models.CharField(max_length=80, verbose_name="series"),
                ),
                ("issue_number", models.PositiveIntegerField(verbose_name="number")),
                ("body_text", models.TextField(blank=True, verbose_name="text")),
                ("plain_text", models.TextField(blank=True, verbose_name="plain text")),
                ("tokens", models.TextField(blank=True, verbose_name="words")),
                (
                    "vector",
                    django.contrib.postgres.search.SearchVectorField(
                        editable=False, null=True
                    ),
                ),
                (
                    "branch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="submissions.branch",
                        verbose_name="organisation",
                    ),
                ),
                (
                    "case",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="search_entry",
                        to="submissions.case",
                        verbose_name="case",
                    ),
                ),
                (
                    "issue",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="showcase.issue",
                        verbose_name="issue",
                    ),
                ),
                (
                    "series",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="showcase.series",
                        verbose_name="series",
                    ),
                ),
            ],
            options={
                "verbose_name": "search entry",
                "verbose_name_plural": "search entries",
            },
        ),
        migrations.RunPython(search_indexes_create, search_indexes_drop),
    ]
