"""Reporting deadlines and response targets as dates."""

from __future__ import annotations

import datetime as dt

import pytest

from nciss.deadlines import add, reporting_deadlines, response_targets
from nciss.scales import Duration, scale_from_definition

UTC5 = dt.timezone(dt.timedelta(hours=5))
DETECTED = dt.datetime(2026, 1, 30, 22, 0, tzinfo=UTC5)

SCALE = scale_from_definition(
    {
        "id": "regime-test",
        "version": "1",
        "name": "Regime test",
        "levels": [
            {"name": "Not significant", "colour": "#ffffff", "targets": {"triage": "2d"}},
            {
                "name": "Significant",
                "colour": "#ff0000",
                "targets": {"triage": "4h", "first_response": "1d", "resolution": "1mo"},
            },
        ],
        "rules": [{"id": "outage", "when": {"outage_minutes": "> 30"}, "floor": 1}],
        "regime": {
            "name": "NIS2-like",
            "from_level": 1,
            "deadlines": [
                {"id": "early-warning", "name": "Early warning", "after": "detected_at", "within": "24h"},
                {
                    "id": "notification",
                    "name": "Notification",
                    "after": "detected_at",
                    "within": "72h",
                    "when": {"not": {"entity_type": "trust-service"}},
                },
                {
                    "id": "notification",
                    "name": "Notification",
                    "after": "detected_at",
                    "within": "24h",
                    "when": {"entity_type": "trust-service"},
                },
                {"id": "final-report", "name": "Final report", "after": "notification", "within": "1mo"},
            ],
        },
    }
)


def test_it_adds_calendar_months_clamping_to_the_month_end() -> None:
    assert add(DETECTED, Duration(1, "mo")) == dt.datetime(2026, 2, 28, 22, 0, tzinfo=UTC5)
    assert add(DETECTED, Duration(11, "mo")) == dt.datetime(2026, 12, 30, 22, 0, tzinfo=UTC5)
    assert add(DETECTED, Duration(90, "m")) == dt.datetime(2026, 1, 30, 23, 30, tzinfo=UTC5)


def test_it_sets_the_early_warning_and_notification_from_detection() -> None:
    deadlines = reporting_deadlines(SCALE, {"entity_type": "cloud"}, 1, 1, {"detected_at": DETECTED})
    assert [(d.id, d.due) for d in deadlines] == [
        ("early-warning", DETECTED + dt.timedelta(hours=24)),
        ("notification", DETECTED + dt.timedelta(hours=72)),
        ("final-report", None),
    ]
    now = DETECTED + dt.timedelta(hours=30)
    assert [d.state(now) for d in deadlines] == ["overdue", "due", "waiting"]


def test_it_gives_trust_services_24_hours_for_the_notification() -> None:
    deadlines = reporting_deadlines(SCALE, {"entity_type": "trust-service"}, 1, 1, {"detected_at": DETECTED})
    notification = next(d for d in deadlines if d.id == "notification")
    assert notification.due == DETECTED + dt.timedelta(hours=24)


def test_it_lists_both_notifications_as_conditional_while_the_entity_type_is_unknown() -> None:
    deadlines = reporting_deadlines(SCALE, {}, 1, 1, {"detected_at": DETECTED})
    notifications = [d for d in deadlines if d.id == "notification"]
    assert len(notifications) == 2 and all(d.conditional for d in notifications)


def test_it_counts_the_final_report_from_the_notification_submitted() -> None:
    sent = DETECTED + dt.timedelta(hours=50)
    deadlines = reporting_deadlines(
        SCALE,
        {"entity_type": "cloud"},
        1,
        1,
        {"detected_at": DETECTED},
        {"notification": sent, "early-warning": DETECTED + dt.timedelta(hours=25)},
    )
    by_id = {d.id: d for d in deadlines}
    assert by_id["final-report"].due == add(sent, Duration(1, "mo"))
    assert by_id["early-warning"].state(sent) == "late"
    assert by_id["notification"].state(sent) == "done"


@pytest.mark.parametrize(("level", "reachable", "expected"), [(0, 0, 0), (0, 1, 3), (1, 1, 3)])
def test_it_shows_obligations_only_when_the_incident_is_or_could_become_reportable(
    level: int, reachable: int, expected: int
) -> None:
    deadlines = reporting_deadlines(SCALE, {"entity_type": "cloud"}, level, reachable, {"detected_at": DETECTED})
    assert len(deadlines) == expected
    assert all(d.possible_only == (level == 0) for d in deadlines)


def test_it_gives_the_response_targets_of_the_level() -> None:
    targets = response_targets(SCALE, 1, DETECTED)
    assert targets == {
        "triage": DETECTED + dt.timedelta(hours=4),
        "first_response": DETECTED + dt.timedelta(days=1),
        "resolution": dt.datetime(2026, 2, 28, 22, 0, tzinfo=UTC5),
    }
