"""Trigram indexes for searching titles and descriptions, on PostgreSQL only.

``q=`` in the queue becomes ``UPPER(title::text) LIKE UPPER('%words%')`` (Django's
``icontains``), which a plain index cannot serve; pg_trgm's GIN indexes over the same
``UPPER(...)`` expressions can. Where the extension cannot be created (a database user without the
right), the search still works, by a scan, and the migration says so.
"""

from django.db import DatabaseError, migrations, transaction

INDEXES = {
    "incident_title_trgm": "title",
    "incident_description_trgm": "description",
}


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        print(f"\n  pg_trgm is not available ({exc.__class__.__name__}): searches will scan the table")
        return
    for name, column in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON incidents_incident USING gin ((UPPER({column}::text)) gin_trgm_ops)")


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_incidents_assessments_timeline")]
    operations = [migrations.RunPython(create, drop)]
