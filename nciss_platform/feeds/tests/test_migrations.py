"""Upgrading keeps what deduplication remembers: seen digests stored as hex text become the same 16 bytes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.feeds.models import SeenEvent
from nciss_platform.incidents.models import Incident

BEFORE = [("feeds", "0002_feedbatch")]
AFTER = [("feeds", "0003_lean_indexes")]
T0 = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)


def _migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_seen_digests_stay_seen_across_the_upgrade_to_bytes(csirt: Organisation) -> None:
    analyst = User.objects.create_user("analyst", role="analyst", organisation=csirt)
    incident = Incident.objects.create(
        reference="NCISS-2026-000001",
        title="Feed events",
        reporting_organisation=csirt,
        reported_at=T0,
        created_by=analyst,
    )
    _migrate(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps.get_model("feeds", "SeenEvent")
        old.objects.create(digest="00ff" * 8, first_seen=T0, incident_id=incident.pk)
    finally:
        _migrate(AFTER)
    assert list(SeenEvent.objects.values_list("digest", "first_seen")) == [(bytes.fromhex("00ff" * 8), T0)]
