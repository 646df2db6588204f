"""Who may see and change the stakeholder directory, the routing rules and the notifications.

- CSIRT staff (analysts, coordinators) and administrators see the directory, the rules and who
  was told what about an incident they may see.
- Coordinators and administrators change the directory and the rules.
- Analysts and coordinators acknowledge a notification on a contact's behalf (after a call);
  the contact acknowledges through the signed link in the message, without signing in.
- Reporters and partners abroad see none of it.
"""

from __future__ import annotations

from typing import Any

from nciss_platform.accounts.access import is_administrator
from nciss_platform.accounts.models import User


def may_view_directory(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_csirt_staff or is_administrator(user)))


def may_edit_directory(user: Any) -> bool:
    return bool(user.is_authenticated and (user.role == User.Role.COORDINATOR or is_administrator(user)))


def may_see_notifications(user: Any) -> bool:
    """Who may read the notifications of an incident they can see."""
    return may_view_directory(user)


def may_acknowledge(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_csirt_staff)
