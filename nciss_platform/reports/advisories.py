"""A public advisory drafted from an incident: TLP:CLEAR, so nothing restricted goes into it.

What it says: the kind of incident (RSIT class and type), the sector, the level on the
national scale, whether it is still going on, and what the public should do (the class's
actions in ``data/advice.yaml``). What it never says: the incident's title, the reporting or
affected organisations, who worked on it, its timeline, and its description unless the
incident is TLP:CLEAR. Observables appear only when the incident is TLP:CLEAR or TLP:GREEN and
its PAP allows active use (PAP:CLEAR or PAP:GREEN). A TLP:RED incident gets no advisory at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from nciss.facts import fact_specs
from nciss.taxonomy import rsit_labels
from nciss.texts import Text
from nciss_platform.errors import NotAllowed
from nciss_platform.incidents import display
from nciss_platform.incidents.models import PAP, TLP, Incident
from nciss_platform.scales.services import LevelView

ADVICE_FILE = Path(__file__).resolve().parent / "data" / "advice.yaml"
MAX_OBSERVABLES = 50


@dataclass(frozen=True)
class Advice:
    name: Text
    actions: tuple[Text, ...]


@cache
def advice_table() -> dict[str, Advice]:
    """The RSIT classes' names and recommended actions, by class id."""
    raw = yaml.safe_load(ADVICE_FILE.read_text(encoding="utf-8"))
    return {
        klass: Advice(Text(entry["name"]), tuple(Text(action) for action in entry["actions"]))
        for klass, entry in raw.items()
    }


def classification_name(value: str, lang: str) -> str:
    """``availability:ddos`` as "Availability: DDoS" with the class named in ``lang`` (types keep RSIT's names)."""
    if not value:
        return ""
    klass, _, kind = value.partition(":")
    advice = advice_table().get(klass)
    name = advice.name.get_for(lang) if advice else rsit_labels().get(klass, klass)
    return f"{name}: {rsit_labels().get(value, kind)}" if kind else name


def sector_name(sector: str, lang: str) -> str:
    label = fact_specs()["sector"].value_labels.get(sector)
    return label.get_for(lang) if label else sector


def may_publish_observables(incident: Incident) -> bool:
    return incident.tlp in (TLP.CLEAR, TLP.GREEN) and incident.pap in (PAP.CLEAR, PAP.GREEN)


@dataclass(frozen=True)
class Advisory:
    issued: dt.date
    level: LevelView
    classification: str  # "" while the incident is not classified yet
    sector: str
    ongoing: bool
    first_detected: dt.date | None
    description: str  # the incident's own words: only from a TLP:CLEAR incident
    observables: list[tuple[str, str]]  # (STIX type, value)
    observables_withheld: bool  # it has observables that its TLP or PAP keep out of the advisory
    actions: list[str]


def draft_advisory(incident: Incident, *, lang: str, now: dt.datetime) -> Advisory:
    """The public advisory for ``incident`` in ``lang``; NotAllowed for a TLP:RED incident."""
    if incident.tlp == TLP.RED:
        raise NotAllowed(f"{incident.reference} is TLP:RED: it gets no public advisory")
    klass = incident.classification.partition(":")[0] or "other"
    advice = advice_table().get(klass) or advice_table()["other"]
    has_observables = incident.observables.exists()
    publish = may_publish_observables(incident)
    observables = (
        list(incident.observables.values_list("type", "value")[:MAX_OBSERVABLES]) if publish and has_observables else []
    )
    detected = incident.detected_at or incident.reported_at
    return Advisory(
        issued=now.date(),
        level=display.level(incident.level, lang),
        classification=classification_name(incident.classification, lang),
        sector=sector_name(incident.sector, lang),
        ongoing=incident.is_open,
        first_detected=detected.date() if detected else None,
        description=incident.description if incident.tlp == TLP.CLEAR else "",
        observables=observables,
        observables_withheld=has_observables and not publish,
        actions=[action.get_for(lang) for action in advice.actions],
    )
