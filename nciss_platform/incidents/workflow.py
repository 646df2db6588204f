"""The incident workflow as a table: which status may follow which, and who may move it.

reported -> triaged -> investigating -> contained -> resolved -> closed, plus rejected
and duplicate. Reporters never change the status; analysts run the workflow;
coordinators may also reopen what is closed or rejected.
"""

from __future__ import annotations

from django.db import models


class Status(models.TextChoices):
    REPORTED = "reported", "Reported"
    TRIAGED = "triaged", "Triaged"
    INVESTIGATING = "investigating", "Investigating"
    CONTAINED = "contained", "Contained"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    REJECTED = "rejected", "Rejected"
    DUPLICATE = "duplicate", "Duplicate"


OPEN_STATUSES = (Status.REPORTED, Status.TRIAGED, Status.INVESTIGATING, Status.CONTAINED)

STAFF = frozenset({"analyst", "coordinator"})
COORDINATOR = frozenset({"coordinator"})

# (from, to) -> the roles that may make the move. Marking a duplicate goes through merging.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (Status.REPORTED, Status.TRIAGED): STAFF,
    (Status.REPORTED, Status.REJECTED): STAFF,
    (Status.TRIAGED, Status.INVESTIGATING): STAFF,
    (Status.TRIAGED, Status.RESOLVED): STAFF,
    (Status.TRIAGED, Status.REJECTED): STAFF,
    (Status.INVESTIGATING, Status.CONTAINED): STAFF,
    (Status.INVESTIGATING, Status.RESOLVED): STAFF,
    (Status.CONTAINED, Status.INVESTIGATING): STAFF,
    (Status.CONTAINED, Status.RESOLVED): STAFF,
    (Status.RESOLVED, Status.CLOSED): STAFF,
    (Status.RESOLVED, Status.INVESTIGATING): STAFF,
    (Status.CLOSED, Status.INVESTIGATING): COORDINATOR,
    (Status.REJECTED, Status.REPORTED): COORDINATOR,
}


def next_statuses(status: str, role: str) -> list[str]:
    """The statuses ``role`` may move an incident to from ``status``, in workflow order."""
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == status and role in roles]


def may_move(status: str, to: str, role: str) -> bool:
    return role in TRANSITIONS.get((status, to), frozenset())
