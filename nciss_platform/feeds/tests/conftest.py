"""The incident tests' people and organisations, and the networks they own, for the feed tests."""

import pytest

from nciss_platform.accounts.constituency import add_assets
from nciss_platform.accounts.models import Organisation
from nciss_platform.incidents.tests.conftest import *  # noqa: F403


@pytest.fixture
def owned(energy: Organisation, ministry: Organisation) -> None:
    """The grid operator owns 192.0.2.0/24, the ministry 198.51.100.0/24 and finance.example."""
    add_assets(actor=None, organisation=energy, assets=[("cidr", "192.0.2.0/24")])
    add_assets(actor=None, organisation=ministry, assets=[("cidr", "198.51.100.0/24"), ("domain", "finance.example")])
