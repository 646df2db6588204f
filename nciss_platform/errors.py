"""The two ways a service refuses: bad input, or an actor who may not act. Views map them to 400 and 403."""

from __future__ import annotations


class ServiceError(ValueError):
    """Bad input: ``errors`` holds (field, reason) pairs; nothing was changed."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{p}: {r}" for p, r in errors))


class NotAllowed(PermissionError):
    """The actor may not do this."""
