"""The incident tests' people and organisations, for the import and export tests."""

from nciss_platform.incidents.tests.conftest import *  # noqa: F403
