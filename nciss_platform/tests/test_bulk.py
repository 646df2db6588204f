"""The bulk writers ingestion relies on: same rows as one save at a time, in a few statements."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.bulk import create_objects, insert_rows, select_matching, update_rows
from nciss_platform.feeds.models import SeenEvent
from nciss_platform.incidents.models import Incident, Observable, TimelineEntry

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def analyst(csirt: Organisation) -> User:
    return User.objects.create_user("analyst", role="analyst", organisation=csirt)


@pytest.fixture
def incidents(csirt: Organisation, analyst: User) -> list[Incident]:
    return [
        Incident.objects.create(
            reference=f"NCISS-2026-00000{n}",
            title=f"Incident {n}",
            reporting_organisation=csirt,
            reported_at=T0,
            created_by=analyst,
        )
        for n in (1, 2)
    ]


def test_create_objects_stores_every_field_and_gives_the_keys_in_order(
    incidents: list[Incident], analyst: User
) -> None:
    author = analyst
    quoted = {"note": 'a "quoted" word, a back\\slash, {braces}, Кириллица', "list": [1, None, "x"]}
    entries = [
        TimelineEntry(
            incident=incident,
            kind="comment",
            author=author if n else None,
            created_at=T0,
            body=f"entry {n}",
            data=quoted,
        )
        for n, incident in enumerate(incidents * 600)  # more rows than one SQLite statement takes
    ]
    created = create_objects(entries)
    assert created == entries and len({e.pk for e in entries}) == 1200
    for entry in (entries[0], entries[1], entries[-1]):
        stored = TimelineEntry.objects.get(pk=entry.pk)
        assert (stored.incident_id, stored.author_id, stored.body, stored.data, stored.created_at) == (
            entry.incident_id,
            entry.author_id,
            entry.body,
            quoted,
            T0,
        )
    assert create_objects([]) == []


def test_update_rows_writes_only_the_fields_named_of_the_objects_given(incidents: list[Incident]) -> None:
    first, second = incidents
    first.level, first.due_at, first.title = 4, T0, "not written"
    update_rows([first], ["level", "due_at"])
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.level, first.due_at, first.title) == (4, T0, "Incident 1")
    assert (second.level, second.due_at) == (0, None)
    first.due_at = None  # a column of nothing but NULLs keeps its type
    update_rows([first], ["due_at"])
    assert Incident.objects.get(pk=first.pk).due_at is None


def test_insert_rows_skips_the_rows_a_unique_constraint_holds_and_says_which_it_inserted(
    incidents: list[Incident],
) -> None:
    first, second = incidents
    Observable.objects.create(incident=first, type="ipv4-addr", value="192.0.2.1", comment="first")
    inserted = insert_rows(
        Observable,
        ["incident", "type", "value", "comment"],
        [(first.pk, "ipv4-addr", "192.0.2.1", "again"), (second.pk, "ipv4-addr", "192.0.2.1", "second")],
        returning="incident",
    )
    assert inserted == [second.pk]
    assert sorted(Observable.objects.values_list("incident", "comment")) == [(first.pk, "first"), (second.pk, "second")]


def test_bytes_go_in_and_come_back_as_they_are(db: None) -> None:
    digests = [bytes(16), b"\xff" * 16, bytes(range(16)), b"'\\\"x" + bytes(12)]
    stamp = SeenEvent._meta.get_field("first_seen").get_db_prep_save(T0, connection)
    assert (
        insert_rows(SeenEvent, ["digest", "first_seen"], [(d, stamp) for d in digests], returning="digest") == digests
    )
    assert insert_rows(SeenEvent, ["digest", "first_seen"], [(digests[0], stamp)], returning="digest") == []
    found = select_matching(SeenEvent, ["digest"], [(digests[1],), (b"\x01" * 16,), (digests[3],)], ["digest"])
    assert sorted(bytes(d) for (d,) in found) == sorted([digests[1], digests[3]])


def test_select_matching_matches_whole_keys_not_each_column_alone(incidents: list[Incident]) -> None:
    first, second = incidents
    Observable.objects.create(incident=first, type="ipv4-addr", value="192.0.2.1")
    Observable.objects.create(incident=second, type="ipv4-addr", value="192.0.2.2")
    keys = [
        (first.pk, "ipv4-addr", "192.0.2.2"),
        (second.pk, "ipv4-addr", "192.0.2.2"),
        (second.pk, "domain-name", "192.0.2.2"),
    ]
    found = select_matching(Observable, ["incident", "type", "value"], keys, ["incident", "value"])
    assert found == [(second.pk, "192.0.2.2")]
    assert select_matching(Observable, ["incident"], [], ["id"]) == []


def test_select_matching_gives_python_values_as_values_list_does(incidents: list[Incident]) -> None:
    first, _ = incidents
    first.facts = {"classification": "fraud:phishing", "note": 'a "quoted" word'}
    first.save()
    found = select_matching(Incident, ["reference"], [(first.reference,)], ["id", "facts", "reported_at", "due_at"])
    assert found == list(Incident.objects.filter(pk=first.pk).values_list("id", "facts", "reported_at", "due_at"))
    assert found == [(first.pk, first.facts, T0, None)]
