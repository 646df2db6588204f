"""GET /api/v1/dashboard: the same figures as the page, for staff only."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.dashboard.tests.conftest import NOW

pytestmark = pytest.mark.django_db


def api_get(user: User, url: str) -> tuple[int, dict]:
    client = APIClient()
    client.force_authenticate(user)
    with clock.frozen(NOW):
        response = client.get(url)
    return response.status_code, response.json()


def test_the_figures_of_the_week(history: dict, people: dict[str, User]) -> None:
    code, body = api_get(people["coordinator"], "/api/v1/dashboard?period=7")
    assert code == 200
    assert body["open_by_level"] == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1} and body["highest_open_level"] == 5
    assert (body["reported_last_24h"], body["escalated_last_24h"], body["reported"]) == (3, 1, 6)
    assert body["compliance"][0] == {"step": "triage", "met": 3, "breached": 3, "share": 0.5}
    assert body["mean_time_to_triage_seconds"] == (60 + 300 + 10 + 20) / 4 * 60
    assert {"sector": "energy", "level": 3, "count": 2} in body["sector_by_level"]
    assert body["trend"]["classification"]["availability"][-3:] == [2, 0, 1]


def test_reporters_are_refused_and_a_bad_period_explained(history: dict, people: dict[str, User]) -> None:
    assert api_get(people["reporter"], "/api/v1/dashboard")[0] == 403
    code, body = api_get(people["analyst"], "/api/v1/dashboard?period=2")
    assert code == 400 and body["errors"] == [{"path": "period", "reason": "one of 7, 30, 90, 365"}]
