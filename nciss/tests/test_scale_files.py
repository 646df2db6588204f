"""A scale written by a user in a file works like a preset, and every mistake in it is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import nciss
from nciss.scales import ScaleError, scale_from_definition

GOOD = """
id: ruritania
version: "2026.1"
name: {en: Ruritania national scale, ru: Национальная шкала Рурітании, uz: Ruritaniya milliy shkalasi}
country: RU
levels:
  - {name: {en: Routine}, colour: "#FFFFFF", targets: {triage: 1d}}
  - {name: {en: Elevated}, colour: "#ffcc00", targets: {triage: 4h, first_response: 1d}}
  - {name: {en: Grave}, colour: "#cc0000", targets: {triage: 30m}}
weighted:
  thresholds: [{level: 1, from: 40}, {level: 2, from: 75}]
  categories:
    - id: functional_impact
      weight: 2
      fact: functional_impact
      options: {no-impact: 0, no-impact-to-services: 10, minimal-non-critical: 20, minimal-critical: 30,
                significant-non-critical: 50, denial-non-critical: 60, significant-critical: 80, denial-critical: 100}
    - id: reach
      weight: 1
      fact: users_affected
      bands: [{from: 0, value: 0}, {from: 1000, value: 50}, {from: 100000, value: 100}]
    - id: sector
      weight: 1
      fact: sector
      options_from_sectors: dependency
sectors:
  energy: {values: {dependency: 100}}
  transport: {values: {dependency: 80}}
  banking: {values: {dependency: 40}}
  financial: {values: {dependency: 40}}
  health: {values: {dependency: 60}}
  drinking-water: {values: {dependency: 60}}
  waste-water: {values: {dependency: 50}}
  digital-infrastructure: {values: {dependency: 80}}
  ict-services: {values: {dependency: 80}}
  public-administration: {values: {dependency: 50}}
  space: {values: {dependency: 30}}
  courier: {values: {dependency: 20}}
  waste-management: {values: {dependency: 20}}
  chemical: {values: {dependency: 30}}
  food: {values: {dependency: 30}}
  manufacturing: {values: {dependency: 40}}
  digital-providers: {values: {dependency: 70}}
  research: {values: {dependency: 10}}
  other: {values: {dependency: 0}}
  mining: {name: {en: Mining}, values: {dependency: 70}}
rules:
  - id: loss-of-life
    name: Loss of life
    when: {fatalities: ">= 1"}
    floor: 2
  - id: cross-border
    when: {countries_affected: "not empty", any: [{entity_criticality: ">= essential"}, {sector: [energy, mining]}]}
    floor: 1
taxonomy:
  types:
    - {class: fraud, type: sim-swap, name: SIM swap}
"""


def write(tmp_path: Path, text: str, name: str = "scale.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_it_assesses_on_a_scale_from_a_file_like_on_a_preset(tmp_path: Path) -> None:
    scale = nciss.load_scale(str(write(tmp_path, GOOD)))
    a = nciss.assess(
        scale,
        {
            "functional_impact": "denial-critical",
            "users_affected": 200000,
            "sector": "mining",
            "classification": "fraud:sim-swap",
        },
    )
    d = a.to_dict()
    assert d["scale"] == "ruritania" and d["scale_version"] == "2026.1"
    assert d["level"] == {"rank": 2, "name": "Grave", "colour": "#cc0000"}
    assert d["classification"] == "fraud:sim-swap"
    assert nciss.assess(scale, {"fatalities": 1}).rank == 2
    assert nciss.assess(scale, {"countries_affected": ["KZ"], "sector": "mining"}).rank == 1


def test_it_reads_the_same_scale_from_json(tmp_path: Path) -> None:
    import json

    path = write(tmp_path, json.dumps(yaml.safe_load(GOOD)), "scale.json")
    assert nciss.load_scale(str(path)).summary()["levels"][2]["name"] == "Grave"


def test_it_warns_but_accepts_a_scale_with_english_only(tmp_path: Path) -> None:
    scale = nciss.load_scale(str(write(tmp_path, GOOD)))
    assert ("levels[0].name.ru", "missing, falls back to English") in scale.warnings
    assert scale.levels[0].name.get_for("uz") == "Routine"


def broken(change: str, value: Any) -> dict[str, Any]:
    d = yaml.safe_load(GOOD)
    target = d
    *parents, last = change.split(".")
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return d


DELETE = object()


@pytest.mark.parametrize(
    ("change", "value", "error"),
    [
        ("levels.2.colour", "red", ("levels[2].colour", "not a colour (expected #rrggbb)")),
        ("rules.0.when", {"fatality": ">= 1"}, ("rules[0].when.fatality", "unknown fact")),
        (
            "rules.1.when",
            {"any": [{"entity_criticality": ">= vital"}]},
            (
                "rules[1].when.any[0].entity_criticality",
                "'vital' is not a value of entity_criticality (other, important, essential, critical)",
            ),
        ),
        ("rules.0.floor", 7, ("rules[0].floor", "no level 7 (levels run 0-2)")),
        ("rules.0.when", {"fatalities": ">= lots"}, ("rules[0].when.fatalities", "unknown fact 'lots' in expression")),
        (
            "rules.0.when",
            {"sector": ">= energy"},
            ("rules[0].when.sector", "sector has no order: use == or a list of values"),
        ),
        (
            "weighted.categories.0.options",
            {"no-impact": 0, "wiped": 100},
            ("weighted.categories[0].options.wiped", "not a value of functional_impact"),
        ),
        (
            "weighted.categories.0.fact",
            "functional_impacts",
            ("weighted.categories[0].fact", "unknown fact 'functional_impacts'"),
        ),
        (
            "weighted.thresholds",
            [{"level": 2, "from": 40}, {"level": 1, "from": 75}],
            ("weighted.thresholds[1].level", "levels must rise above 0, one threshold each"),
        ),
        (
            "weighted.categories.1.bands",
            [{"from": 10, "value": 0}],
            ("weighted.categories[1].bands[0].from", "the first band must start at 0"),
        ),
        ("levels.0.rank", 3, ("levels[0].rank", "must be 0: ranks run from 0 in the order of the levels")),
        (
            "levels.1.targets",
            {"triage": "soon"},
            ("levels[1].targets.triage", "not a duration (expected e.g. 30m, 4h, 2d, 1w, 1mo)"),
        ),
        ("levels.0.shade", "x", ("levels[0].shade", "unknown field")),
        ("version", DELETE, ("version", "required")),
        ("name", {"ru": "Только по-русски"}, ("name", "expected a text: a string, or a mapping of languages with en")),
        (
            "taxonomy.types.0.class",
            "scams",
            (
                "taxonomy.types[0].class",
                "not an RSIT class (abusive-content, malicious-code, information-gathering, intrusion-attempts, intrusions, availability, information-content-security, fraud, vulnerable, other, test)",
            ),
        ),
    ],
)
def test_it_names_each_kind_of_mistake_with_its_path(change: str, value: Any, error: tuple[str, str]) -> None:
    with pytest.raises(ScaleError) as raised:
        scale_from_definition(broken(change, value))
    assert error in raised.value.errors, raised.value.errors


def test_it_reports_every_mistake_not_just_the_first() -> None:
    d = broken("levels.2.colour", "red")
    d["rules"][0]["when"] = {"fatality": ">= 1"}
    d["rules"][1]["floor"] = 9
    with pytest.raises(ScaleError) as raised:
        scale_from_definition(d)
    assert {"levels[2].colour", "rules[0].when.fatality", "rules[1].floor"} <= {p for p, _ in raised.value.errors}


def test_it_says_where_a_file_is_not_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "id: x\nlevels: [\n")
    with pytest.raises(ScaleError) as raised:
        nciss.load_scale(str(path))
    ((where, reason),) = raised.value.errors
    assert where.startswith("line ") and "not valid YAML" in reason


def test_it_says_a_scale_id_is_unknown() -> None:
    with pytest.raises(ScaleError, match="unknown scale 'atlantis'"):
        nciss.load_scale("atlantis")


def test_it_rejects_facts_with_a_national_sector_on_a_scale_that_does_not_have_it(tmp_path: Path) -> None:
    scale = nciss.load_scale(str(write(tmp_path, GOOD)))
    nciss.assess(scale, {"sector": "mining"})
    with pytest.raises(nciss.FactsError):
        nciss.assess(nciss.load_scale("cisa-nciss"), {"sector": "mining"})


def test_every_preset_validates_and_the_schema_accepts_its_definition() -> None:
    import jsonschema

    for scale in nciss.list_scales():
        jsonschema.validate(scale.definition, nciss.scale_json_schema())
        assert scale_from_definition(scale.definition).summary() == scale.summary()
