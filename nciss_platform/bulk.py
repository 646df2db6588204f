"""Writing many rows in few statements, where Django's bulk methods cost too much.

Feed ingestion writes about one row per event, opens dozens of incidents and changes hundreds
of rows per batch. One statement per row, ``bulk_update``'s ``CASE`` expressions, or Django's
``bulk_create`` on PostgreSQL (each column sent as a text array whose every quote psycopg
escapes in Python: JSON is full of them) would cost more than everything else ingestion does.

Here the rows go as a table ``v`` (columns ``c0``, ``c1`` ...) that one statement reads: on
PostgreSQL one binary array per column, unnested (a short statement, nothing to quote); on
SQLite multi-row ``VALUES``. Values are the fields' database values (``get_db_prep_save``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import psycopg
from django.db import DEFAULT_DB_ALIAS, connection, connections, models

M = TypeVar("M", bound=models.Model)
_MAX_ROWS = 1000  # rows per statement on SQLite (and its limit of 32 766 parameters)
_MAX_PARAMETERS = 30000


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], returning: str | None = None
) -> list[Any]:
    """Insert rows of database values (``columns`` name the model's fields), skipping those a
    unique constraint already holds (``ON CONFLICT DO NOTHING``); with ``returning``, that
    field of each row inserted."""
    fields = [model._meta.get_field(column) for column in columns]
    return _write(model, fields, rows, "ON CONFLICT DO NOTHING", returning)


def create_objects(objects: Sequence[M]) -> list[M]:
    """Insert new model instances (all of one model) and set their primary keys, like
    ``bulk_create`` without signals."""
    if not objects:
        return []
    meta = objects[0]._meta
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
    prepare = _preparers(fields)
    rows = [[p(field.pre_save(obj, True)) for field, p in zip(fields, prepare, strict=True)] for obj in objects]
    keys = sorted(_write(type(objects[0]), fields, rows, "", meta.pk.name))
    for obj, pk in zip(objects, keys, strict=True):  # keys come from a sequence, in insertion order
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias
    return list(objects)


def update_rows(objects: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of saved model instances (all of one model), like ``save(update_fields=...)``
    for each, without signals; ``auto_now`` fields are written as the instances hold them."""
    if not objects:
        return
    meta = objects[0]._meta
    targets = [meta.pk, *(meta.get_field(name) for name in fields)]
    prepare = _preparers(targets)
    rows = [[p(getattr(obj, field.attname)) for field, p in zip(targets, prepare, strict=True)] for obj in objects]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    assignments = ", ".join(f"{quote(field.column)} = v.c{i}" for i, field in enumerate(targets) if i)
    for source, params in _sources(targets, rows):
        sql = (
            f"WITH v AS ({source}) UPDATE {table} SET {assignments} FROM v WHERE {table}.{quote(meta.pk.column)} = v.c0"
        )
        _execute(sql, params)


def select_matching(
    model: type[models.Model], columns: Sequence[str], keys: Sequence[Sequence[Any]], selected: Sequence[str]
) -> list[tuple[Any, ...]]:
    """The ``selected`` fields (Python values, as ``values_list`` gives them) of the rows whose
    ``columns`` equal one of the ``keys`` (Python values): an exact match on several columns at
    once, as ``field__in`` cannot say."""
    meta = model._meta
    fields = [meta.get_field(column) for column in columns]
    prepare = _preparers(fields)
    rows = [[p(value) for p, value in zip(prepare, key, strict=True)] for key in keys]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    wanted = [meta.get_field(name) for name in selected]
    columns_wanted = ", ".join(f"{table}.{quote(field.column)}" for field in wanted)
    joined = " AND ".join(f"{table}.{quote(field.column)} = v.c{i}" for i, field in enumerate(fields))
    found: list[tuple[Any, ...]] = []
    for source, params in _sources(fields, rows):
        found += _execute(f"WITH v AS ({source}) SELECT {columns_wanted} FROM {table} JOIN v ON {joined}", params, True)
    return _converted(model, wanted, found)


def _converted(model: type[models.Model], fields: Sequence[Any], rows: list[Any]) -> list[tuple[Any, ...]]:
    """The rows' database values as Python values, by the converters Django's queries apply."""
    conversions = []
    for i, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if converters:
            conversions.append((i, column, converters))
    if not conversions:
        return [tuple(row) for row in rows]
    converted = []
    for row in rows:
        values = list(row)
        for i, column, converters in conversions:
            for convert in converters:
                values[i] = convert(values[i], column, connection)
        converted.append(tuple(values))
    return converted


def _write(
    model: type[models.Model],
    fields: Sequence[models.Field[Any, Any]],
    rows: Sequence[Any],
    conflict: str,
    returning: str | None,
) -> list[Any]:
    """``INSERT`` the rows (``conflict``: what to do on one); the ``returning`` field of those inserted."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    selected = ", ".join(f"c{i}" for i in range(len(fields)))
    tail = f"{conflict} RETURNING {quote(model._meta.get_field(returning).column)}" if returning else conflict
    inserted: list[Any] = []
    for source, params in _sources(fields, rows):
        # "WHERE true": SQLite reads "ON CONFLICT" after a bare SELECT as part of a join
        sql = (
            f"WITH v AS ({source}) INSERT INTO {quote(model._meta.db_table)} ({names}) "
            f"SELECT {selected} FROM v WHERE true {tail}"
        )
        inserted += [row[0] for row in _execute(sql, params, fetch=returning is not None)]
    return inserted


def _preparers(fields: Sequence[models.Field[Any, Any]]) -> list[Callable[[Any], Any]]:
    """For each field, what turns a Python value into its database value (``get_db_prep_save``),
    skipped for text, integer, boolean, bytes and foreign key fields (and aware date-times on
    PostgreSQL), whose values the drivers take as they are: thousands of calls per batch saved."""
    db = connections[DEFAULT_DB_ALIAS]  # not the proxy, which would be looked up at every call
    plain: tuple[type[models.Field[Any, Any]], ...] = (
        models.CharField,
        models.TextField,
        models.IntegerField,
        models.BooleanField,
        models.BinaryField,
    )
    if db.vendor == "postgresql":  # psycopg takes aware datetimes as they are
        plain += (models.DateTimeField,)
    return [
        _as_is
        if isinstance(field.target_field if field.is_relation else field, plain)
        else functools.partial(field.get_db_prep_save, connection=db)
        for field in fields
    ]


def _as_is(value: Any) -> Any:
    return value


def _sources(fields: Sequence[models.Field[Any, Any]], rows: Sequence[Any]) -> Iterator[tuple[str, list[Any]]]:
    """The rows as ``SELECT``s with columns c0, c1 ...: one for all on PostgreSQL, one per thousand on SQLite."""
    names = ", ".join(f"c{i}" for i in range(len(fields)))
    if connection.vendor == "postgresql":
        if rows:
            arrays = ", ".join(f"%b::{field.db_type(connection).split('(')[0]}[]" for field in fields)
            yield f"SELECT * FROM unnest({arrays}) AS u ({names})", [list(column) for column in zip(*rows, strict=True)]
        return
    size = max(1, min(_MAX_ROWS, _MAX_PARAMETERS // max(len(fields), 1)))
    marks = "(" + ", ".join(["?"] * len(fields)) + ")"
    for at in range(0, len(rows), size):
        part = rows[at : at + size]
        first = ", ".join(f"column{i + 1} AS c{i}" for i in range(len(fields)))
        yield f"SELECT {first} FROM (VALUES {', '.join([marks] * len(part))})", [v for row in part for v in row]


def _execute(sql: str, params: list[Any], fetch: bool = False) -> list[Any]:
    """Run on the connection's own driver cursor: psycopg's server-side binding (which binary
    arrays need) whatever Django's cursors use; sqlite3's qmark parameters."""
    connection.ensure_connection()
    raw = connection.connection
    cursor = psycopg.Cursor(raw) if connection.vendor == "postgresql" else raw.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall() if fetch else []
    finally:
        cursor.close()
