"""Context facts: rules outside scales (routing, escalation) may test ``level`` and ``tlp``; scales may not."""

from __future__ import annotations

import pytest

from nciss.rules import ConditionError, parse_condition


def test_it_reads_level_and_tlp_in_three_valued_logic_when_the_context_is_allowed() -> None:
    condition = parse_condition({"level": ">= 3", "sector": "energy", "tlp": "<= TLP:AMBER"}, "when", context=True)
    assert condition.describe() == "level >= 3 and sector == energy and tlp <= TLP:AMBER"
    assert condition.evaluate({"level": 3, "sector": "energy", "tlp": "TLP:GREEN"}) is True
    assert condition.evaluate({"level": 3, "sector": "energy", "tlp": "TLP:RED"}) is False
    assert condition.evaluate({"level": 4, "tlp": "TLP:CLEAR"}) is None  # the sector is not known yet
    assert condition.facts() == {"level", "sector", "tlp"}


def test_it_keeps_context_facts_out_of_scale_rules() -> None:
    with pytest.raises(ConditionError) as raised:
        parse_condition({"any": [{"level": ">= 3"}, {"tlp": "TLP:RED"}]}, "rules[0].when")
    assert raised.value.errors == [
        ("rules[0].when.any[0].level", "unknown fact"),
        ("rules[0].when.any[1].tlp", "unknown fact"),
    ]


def test_it_names_a_bad_tlp_as_it_names_any_bad_value() -> None:
    with pytest.raises(ConditionError) as raised:
        parse_condition({"tlp": "TLP:PURPLE"}, "condition", context=True)
    [(path, reason)] = raised.value.errors
    assert path == "condition.tlp" and reason.startswith("'TLP:PURPLE' is not a value of tlp")
