"""Seen events keep only their digest, as 16 bytes; foreign keys that a composite index leads with lose their own index."""

import django.db.models.deletion
from django.db import migrations, models


def digests_to_bytes(apps, schema_editor):
    """The digests were stored as hex text: the same 16 bytes, as bytes."""
    model = apps.get_model("feeds", "SeenEvent")
    table = schema_editor.quote_name(model._meta.db_table)
    if schema_editor.connection.vendor == "postgresql":
        like = schema_editor._create_index_name(model._meta.db_table, ["digest"], suffix="_like")
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(like)}")
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN digest TYPE bytea USING decode(digest, 'hex')")
        return
    with schema_editor.connection.cursor() as cursor:  # SQLite keeps bytes in any column: rewrite the values
        cursor.execute(f"SELECT digest FROM {table}")
        rows = [(bytes.fromhex(digest), digest) for (digest,) in cursor.fetchall() if isinstance(digest, str)]
        cursor.executemany(f"UPDATE {table} SET digest = %s WHERE digest = %s", rows)


def digests_to_hex(apps, schema_editor):
    """A downgrade: the column back to hex text (its rows are forgotten first, ``forget_seen``)."""
    if schema_editor.connection.vendor == "postgresql":
        table = apps.get_model("feeds", "SeenEvent")._meta.db_table
        like = schema_editor.quote_name(schema_editor._create_index_name(table, ["digest"], suffix="_like"))
        table = schema_editor.quote_name(table)
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN digest TYPE varchar(32) USING encode(digest, 'hex')")
        schema_editor.execute(f"CREATE INDEX {like} ON {table} (digest varchar_pattern_ops)")


def forget_seen(apps, schema_editor):
    """A downgrade gives seen events their incident back: none is known, so they are forgotten
    (events sent again within the window then count again)."""
    apps.get_model("feeds", "SeenEvent").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_scale_owner_role"),
        ("feeds", "0002_feedbatch"),
    ]

    operations = [
        migrations.RemoveField(model_name="seenevent", name="incident"),
        migrations.AlterField(
            model_name="feedincident",
            name="organisation",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="feed_incidents",
                to="accounts.organisation",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="seenevent",
                    name="digest",
                    field=models.BinaryField(
                        help_text="nciss.interop.intelmq.dedup_key", max_length=16, primary_key=True, serialize=False
                    ),
                )
            ],
            database_operations=[migrations.RunPython(digests_to_bytes, digests_to_hex)],
        ),
        migrations.RunPython(migrations.RunPython.noop, forget_seen),  # undone first
    ]
