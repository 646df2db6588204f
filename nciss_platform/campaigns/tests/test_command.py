"""``nciss campaigns correlate``: what it changed, as lines or JSON; bad options exit 2."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from nciss_platform import clock
from nciss_platform.accounts.models import Organisation
from nciss_platform.campaigns.tests.conftest import Hit, hours

pytestmark = pytest.mark.django_db


def test_it_prints_the_campaigns_it_opened(organisations: Callable[..., list[Organisation]], hit: Hit) -> None:
    for n, organisation in enumerate(organisations(3)):
        hit(organisation, n)
    out = io.StringIO()
    with clock.frozen(hours(3)):
        call_command("campaigns", "correlate", stdout=out)
    assert out.getvalue().splitlines() == [
        "1 opened, 0 incidents joined, 0 re-assessed, 0 closed",
        "opened CMP-2026-0001",
    ]
    out = io.StringIO()
    with clock.frozen(hours(100)):
        call_command("campaigns", "correlate", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"opened": [], "joined": {}, "reassessed": {}, "closed": ["CMP-2026-0001"]}


@pytest.mark.parametrize(
    ("option", "value", "reason"),
    [("--window-hours", "0", "window: must be positive"), ("--min-organisations", "1", "min_organisations: must be")],
)
def test_bad_options_exit_2_with_the_reason(option: str, value: str, reason: str) -> None:
    with pytest.raises(CommandError, match=reason) as error:
        call_command("campaigns", "correlate", option, value)
    assert error.value.returncode == 2
