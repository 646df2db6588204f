"""The incident tests' people and organisations, for the feed tests."""

from nciss_platform.incidents.tests.conftest import *  # noqa: F403
