"""Who may use the calibration lab.

- Scale owners and administrators edit drafts, publish versions, re-assess open incidents,
  keep the reference cases and run consistency studies; nobody else sees those pages (403).
- An analyst assigned to a consistency study answers its questionnaire, blind: they see their
  own answers only, never another analyst's, the incident's facts or its level.
"""

from __future__ import annotations

from typing import Any

from nciss_platform.accounts.access import is_administrator
from nciss_platform.accounts.models import User


def may_calibrate(user: Any) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.role == User.Role.SCALE_OWNER or is_administrator(user))
    )


def may_rate(user: Any) -> bool:
    """Who may be asked to rate incidents blind: the CSIRT's analysts and coordinators."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_csirt_staff)
