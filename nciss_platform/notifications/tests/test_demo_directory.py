"""The demo's stakeholder directory and routing rules (loaded by ``nciss demo``) hold together."""

from __future__ import annotations

from collections import Counter

from nciss_platform.incidents import demo_data as data
from nciss_platform.notifications import services


def test_it_gives_aralia_regulators_a_crisis_cell_police_and_cbm8_contacts_abroad() -> None:
    kinds = Counter(data.ORGS[c.org].kind for c in data.CONTACTS)
    assert kinds["regulator"] >= 3 and kinds["agency"] >= 3 and kinds["csirt"] == 2
    cbm8 = [c for c in data.CONTACTS if "CBM 8" in c.function]
    assert {data.ORGS[c.org].country for c in cbm8} == {"XB", "XC"}
    assert {c.language for c in data.CONTACTS} == {"en", "ru", "uz"}
    assert {c.org for c in data.CONTACTS if c.tier == 2} >= {data.CSIRT, "erxa", "ncmc"}


def test_it_writes_every_demo_rule_in_the_rule_language_with_known_recipients() -> None:
    names = {c.name for c in data.CONTACTS}
    for rule in data.ROUTING_RULES:
        services.parse_rule_condition(rule.condition)  # raises on any mistake
        assert set(rule.orgs) <= set(data.ORGS) and set(rule.contacts) <= names, rule.name
        assert rule.orgs or rule.contacts, rule.name
    energy = next(r for r in data.ROUTING_RULES if r.name == "Energy, High and above")
    assert energy.condition == {"level": ">= 3", "sector": "energy"} and set(energy.orgs) == {"erxa", "ncmc"}
