"""``nciss audit verify`` finds any edited or removed event; ``nciss audit tail`` shows the last ones."""

import pytest
from django.db import connection

from nciss_platform.audit.models import AuditEvent, AuditHead
from nciss_platform.audit.services import record, verify
from nciss_platform.cli import main

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def events():
    """Five events in the chain."""
    return [record(None, "test.event", None, {"n": n}, object_type="thing", object_id=str(n)) for n in range(5)]


def audit(capsys, *args):
    code = main(["audit", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_it_says_an_intact_log_is_intact(capsys, events):
    code, out, _ = audit(capsys, "verify")
    assert code == 0
    assert out.startswith("audit log intact: 5 events (last hash ")
    assert events[-1].hash in out


def test_it_says_an_empty_log_is_intact(capsys, db):
    assert audit(capsys, "verify")[:2] == (0, f"audit log intact: 0 events (last hash {'0' * 64})\n")


def test_it_finds_an_edited_event(capsys, events):
    AuditEvent.objects.filter(pk=events[2].pk).update(data={"n": 99})
    code, _, err = audit(capsys, "verify")
    assert code == 1
    assert f"audit log broken at event id {events[2].pk} (2 events before it are intact)" in err
    assert "does not match its hash (the row was edited)" in err


def test_it_finds_an_edited_actor_with_raw_sql(capsys, events):
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET actor = %s WHERE id = %s", ["mallory", events[0].pk])
    code, _, err = audit(capsys, "verify")
    assert code == 1
    assert f"event id {events[0].pk}" in err


def test_it_finds_an_event_removed_from_the_middle(capsys, events):
    AuditEvent.objects.filter(pk=events[2].pk).delete()
    code, _, err = audit(capsys, "verify")
    assert code == 1
    assert f"audit log broken at event id {events[3].pk}" in err
    assert "a row was removed or reordered" in err


def test_it_finds_the_last_event_removed(capsys, events):
    AuditEvent.objects.filter(pk=events[-1].pk).delete()
    code, _, err = audit(capsys, "verify")
    assert code == 1
    assert "audit log broken after event 4: the chain ends after 4 events but 5 were written" in err


def test_it_finds_the_head_record_removed(capsys, events):
    AuditHead.objects.all().delete()
    code, _, err = audit(capsys, "verify")
    assert code == 1
    assert "head record is missing" in err


def test_it_finds_an_event_whose_hash_was_recomputed_without_the_rest(capsys, events):
    AuditEvent.objects.filter(pk=events[1].pk).update(data={"n": 99}, hash="f" * 64)
    assert audit(capsys, "verify")[0] == 1


def test_it_reports_progress_in_batches(events):
    seen = []
    assert verify(batch=2, progress=seen.append).ok
    assert seen == [2, 4, 5]


def test_it_shows_the_last_events_oldest_first(capsys, events):
    code, out, _ = audit(capsys, "tail", "-n", "2")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2
    assert 'test.event  thing 3  {"n":3}' in lines[0]
    assert 'test.event  thing 4  {"n":4}' in lines[1]


def test_it_refuses_to_edit_or_delete_an_event_through_the_model(events):
    with pytest.raises(ValueError, match="append-only"):
        events[0].save()
    with pytest.raises(ValueError, match="append-only"):
        events[0].delete()


def test_it_leaves_events_appended_during_a_check_for_the_next_one(events):
    appended = []

    def append_meanwhile(done):
        if not appended:
            appended.append(record(None, "test.event", None, {"n": "late"}, object_type="thing", object_id="late"))

    result = verify(batch=2, progress=append_meanwhile)
    assert result.ok
    assert result.checked == 5
    assert verify().checked == 6
