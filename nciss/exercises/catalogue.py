"""The action menu of an exercise: the 16 OSCE cyber/ICT CBMs and ordinary response actions.

Both come from ``catalogue.yaml`` (names in en/ru/uz); a scenario may add response actions of
its own. ``assess``, ``notify`` and ``share`` are built into the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import yaml

from nciss.texts import Text

BUILT_IN = ("assess", "notify", "share")


@dataclass(frozen=True)
class Action:
    """One entry of the menu: a CBM (``cbm-1`` ... ``cbm-16``) or a response action."""

    id: str
    name: Text
    description: Text = field(default_factory=Text)
    cbm: int | None = None  # the CBM's number
    reconciles: bool = False  # ends a divergence between the two States' classifications

    @property
    def is_cbm(self) -> bool:
        return self.cbm is not None


@cache
def _catalogue() -> tuple[tuple[Action, ...], tuple[Action, ...]]:
    raw = yaml.safe_load(resources.files("nciss.exercises").joinpath("catalogue.yaml").read_text("utf-8"))
    cbms = tuple(
        Action(
            id=f"cbm-{c['number']}",
            name=Text(c["name"]),
            description=Text(c["description"]),
            cbm=c["number"],
            reconciles=bool(c.get("reconciles", False)),
        )
        for c in raw["cbms"]
    )
    actions = tuple(
        Action(id=a["id"], name=Text(a["name"]), description=Text(a.get("description"))) for a in raw["actions"]
    )
    return cbms, actions


def cbms() -> tuple[Action, ...]:
    """The 16 OSCE CBMs, in order."""
    return _catalogue()[0]


def response_actions() -> tuple[Action, ...]:
    """The ordinary response actions every scenario offers."""
    return _catalogue()[1]
