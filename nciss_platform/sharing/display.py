"""What the sharing pages and the API show of a share, in the reader's language.

Levels are named from the scale's own definition (name, colour, rank) in the reader's
language; the frozen record's level name (in the recipient organisation's language) is the
fallback for a scale this deployment no longer offers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

import nciss
from nciss.interop import Assessed, IncidentRecord
from nciss_platform.incidents import display
from nciss_platform.scales.services import LevelView, find_scale, ink_for, level_view
from nciss_platform.sharing.models import Share

FALLBACK_COLOUR = "#6b6b6b"


@dataclass(frozen=True)
class LevelSent:
    """One assessment a share carries, ready for the level badge."""

    scale_id: str
    scale_name: str
    level: LevelView
    highest: LevelView | None  # the most severe level still possible, when above ``level``
    score: float | None
    basis: str  # facts or crosswalk
    missing: list[tuple[str, str]]  # (fact, label) the level waits on

    @property
    def settled(self) -> bool:
        return self.highest is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale_id,
            "scale_name": self.scale_name,
            "rank": self.level.rank,
            "name": self.level.name,
            "colour": self.level.colour,
            "reachable_max": self.highest.rank if self.highest else self.level.rank,
            "score": self.score,
            "basis": self.basis,
            "missing": [{"fact": fact, "label": label} for fact, label in self.missing],
        }


def level_sent(assessed: Assessed, lang: str) -> LevelSent:
    try:
        scale: nciss.Scale | None = find_scale(assessed.scale_id)
    except nciss.ScaleError:
        scale = None

    def view(rank: int) -> LevelView:
        if scale is not None and 0 <= rank <= scale.top:
            return level_view(scale, scale.levels[rank], lang)
        return LevelView(
            rank,
            max(rank, assessed.reachable_max or rank),
            assessed.name,
            FALLBACK_COLOUR,
            ink_for(FALLBACK_COLOUR),
            "",
        )

    top = assessed.reachable_max if assessed.reachable_max is not None else assessed.rank
    return LevelSent(
        scale_id=assessed.scale_id,
        scale_name=scale.name.get_for(lang) if scale else assessed.scale_id,
        level=view(assessed.rank),
        highest=view(top) if top > assessed.rank else None,
        score=assessed.score,
        basis=assessed.basis,
        missing=[(fact, display.fact_label(fact, lang)) for fact in assessed.missing],
    )


@dataclass(frozen=True)
class ShareView:
    """A share as its reader sees it."""

    share: Share
    record: IncidentRecord
    partner: LevelSent  # on the recipient's preferred scale
    national: LevelSent  # on the sender's national scale
    facts: list[tuple[str, str, str]]  # (fact, label, value in words)
    classification: str
    reporter: str  # the reporting organisation, or a sentence saying it is not named
    tlp_meaning: str
    pap_meaning: str

    @property
    def basis_text(self) -> str:
        if self.partner.basis == "crosswalk":
            return _("Read through the crosswalk from the national level: the facts do not settle it yet.")
        if self.partner.missing:
            return _("The least severe level the known facts give: some facts are still missing.")
        return _("Computed from the facts.")


def share_view(share: Share, lang: str) -> ShareView:
    record = IncidentRecord.from_json(share.record)
    national, partner = record.assessments[0], record.assessments[-1]
    if record.reporter:
        reporter = f"{record.reporter} ({record.reporter_country})"
    else:
        reporter = _("Not named (an organisation in %(country)s)") % {"country": record.reporter_country or "?"}
    return ShareView(
        share=share,
        record=record,
        partner=level_sent(partner, lang),
        national=level_sent(national, lang),
        facts=display.fact_rows(record.facts, lang),
        classification=display.classification_text(record.classification),
        reporter=reporter,
        tlp_meaning=str(display.TLP_MEANINGS.get(record.tlp or "", "")),
        pap_meaning=str(display.PAP_MEANINGS.get(record.pap or "", "")),
    )
