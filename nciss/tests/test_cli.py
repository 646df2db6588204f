"""The core commands of ``nciss`` as a user meets them: output, exit codes, error lines."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import nciss
from nciss import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

GOOD_SCALE = """
id: demo-national
version: "0.1"
name: Demo national scale
country: UZ
levels:
  - {name: Low, colour: "#ffffff", meaning: Little effect, targets: {triage: 1d}}
  - {name: Medium, colour: "#FCEE21"}
  - {name: High, colour: "#cc0033"}
  - {name: Critical, colour: "#000000"}
rules:
  - {id: cross-border, when: {countries_affected: "not empty"}, floor: 1}
  - {id: essential-down, when: {all: [{entity_criticality: ">= essential"},
                                      {functional_impact: ">= significant-critical"}]}, floor: 2}
  - {id: loss-of-life, name: Loss of life, when: {fatalities: ">= 1"}, floor: 3}
  - {id: active, when: {observed_activity: [presence, effect]}, floor: 1}
crosswalks:
  cisa-nciss:
    - {from: 0, to: {min: 0, max: 1}, rationale: Low is Baseline or Low}
    - {from: 1, to: {min: 2, max: 2}, rationale: Medium is Medium}
    - {from: 2, to: {min: 3, max: 4}, rationale: High reads as High or Severe}
    - {from: 3, to: {min: 4, max: 5}, rationale: Critical reads as Severe or Emergency}
"""

# A user's first try: shape mistakes (caught by the schema) ...
SHAPE_MISTAKES = """
id: my-scale
version: "1"
name: {ru: Моя шкала}
levels:
  - {name: Low, colour: "#ffffff"}
  - {name: Medium, colour: "#ffee00"}
  - {name: High, colour: "#ff0000"}
  - {name: Critical, colour: "red"}
"""

# ... and meaning mistakes (a misspelt fact, a value that is not the fact's, a rank too high).
MEANING_MISTAKES = """
id: my-scale
version: "1"
name: My scale
levels:
  - {name: Low, colour: "#ffffff"}
  - {name: Medium, colour: "#ffee00"}
  - {name: High, colour: "#ff0000"}
  - {name: Critical, colour: "#000000"}
rules:
  - {id: cross-border, when: {countries_affected: "not empty"}, floor: 1}
  - {id: outage, when: {functional_impact: ">= catastrophic"}, floor: 2}
  - {id: loss-of-life, when: {fatality: ">= 1"}, floor: 3}
  - {id: essential, when: {entity_criticality: ">= essential"}, floor: 7}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def jsonl(*records: Any) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def feed_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8"))


# ---------------------------------------------------------------- scales


def test_it_lists_the_presets_as_a_json_array(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scales", "list", "--json")
    assert code == 0
    listed = json.loads(out)
    assert isinstance(listed, list)
    assert [s["id"] for s in listed] == [s.id for s in nciss.list_scales()]
    assert "cisa-nciss" in [s["id"] for s in listed]
    for s in listed:
        assert set(s) >= {"id", "name", "version", "levels"}
        assert [lv["rank"] for lv in s["levels"]] == list(range(len(s["levels"])))
        for level in s["levels"]:
            assert set(level) == {"rank", "name", "colour"}
            assert level["colour"].startswith("#") and len(level["colour"]) == 7


def test_it_lists_the_presets_in_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scales", "list")
    assert code == 0
    assert "cisa-nciss" in out
    assert "Baseline" in out and "Emergency" in out


def test_it_shows_a_scale_readably_and_in_russian(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scales", "show", "cisa-nciss")
    assert code == 0
    assert "Functional impact" in out and "Emergency" in out and "#cc0033" in out
    code, out, _ = run(capsys, "scales", "show", "cisa-nciss", "--lang", "ru")
    assert code == 0
    assert "Чрезвычайный" in out


def test_it_shows_the_definition_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scales", "show", "cisa-nciss", "--json")
    assert code == 0
    assert json.loads(out) == nciss.load_scale("cisa-nciss").definition


def test_it_shows_a_scale_file_with_its_rules_and_crosswalks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "demo.yaml", GOOD_SCALE)
    code, out, _ = run(capsys, "scales", "show", path)
    assert code == 0
    assert "Loss of life" in out
    assert "fatalities >= 1" in out
    assert "Crosswalk to cisa-nciss" in out
    assert "[effect," in out  # a condition's brackets are shown, not taken for markup


def test_it_validates_a_good_file_with_translation_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "demo.yaml", GOOD_SCALE)
    code, out, err = run(capsys, "scales", "validate", path)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"{path}: valid"
    assert f"{path}: name: no ru, uz text, falls back to English (warning)" in lines
    assert err == ""


def test_it_reports_every_shape_mistake_as_path_and_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "mine.yaml", SHAPE_MISTAKES)
    code, out, err = run(capsys, "scales", "validate", path)
    assert code == 2
    lines = out.splitlines()
    assert any(line.startswith("levels[3].colour: not a colour") for line in lines)
    assert any(line.startswith("name: ") and "en" in line for line in lines)  # English is missing
    assert len(err.splitlines()) == 1 and err.startswith("nciss: ")


def test_it_reports_every_meaning_mistake_as_path_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "mine.yaml", MEANING_MISTAKES)
    code, out, _ = run(capsys, "scales", "validate", path)
    assert code == 2
    lines = out.splitlines()
    assert "rules[2].when.fatality: unknown fact" in lines
    assert any(line.startswith("rules[1].when.functional_impact: 'catastrophic' is not a value") for line in lines)
    assert any(line.startswith("rules[3].floor: no level 7") for line in lines)
    assert all(": " in line and "Traceback" not in line for line in lines)


def test_it_prefixes_each_line_with_the_file_when_validating_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path, "good.yaml", GOOD_SCALE)
    bad = write(tmp_path, "bad.yaml", MEANING_MISTAKES)
    missing = str(tmp_path / "missing.yaml")
    code, out, err = run(capsys, "scales", "validate", good, bad, missing)
    assert code == 2
    lines = out.splitlines()
    assert f"{good}: valid" in lines
    assert f"{bad}: rules[2].when.fatality: unknown fact" in lines
    assert [line for line in lines if line.startswith(missing)] == [
        f"{missing}: cannot read: No such file or directory"
    ]
    assert all(line.startswith((good, bad, missing)) for line in lines)
    assert err == "nciss: 2 of 3 files are not valid scale definitions\n"


def test_it_gives_one_line_for_a_file_that_is_not_yaml_or_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = write(tmp_path, "broken.yaml", "id: [unclosed\n")
    code, out, _ = run(capsys, "scales", "validate", broken)
    assert code == 2
    assert len(out.splitlines()) == 1 and "not valid YAML" in out
    broken_json = write(tmp_path, "broken.json", '{"id": ')
    code, out, _ = run(capsys, "scales", "validate", broken_json)
    assert code == 2
    assert len(out.splitlines()) == 1 and "not valid JSON" in out


def test_it_prints_both_json_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scales", "schema")
    assert code == 0
    assert json.loads(out) == nciss.scale_json_schema()
    code, out, _ = run(capsys, "facts-schema")
    assert code == 0
    schema = json.loads(out)
    assert schema == nciss.facts_json_schema()
    assert "functional_impact" in schema["properties"]


# ---------------------------------------------------------------- assess, one object


def test_it_reports_one_assessment_readably(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "assess", "--scale", "cisa-nciss", str(EXAMPLES / "pipeline-ot.json"))
    assert code == 0, err
    expected = nciss.assess(nciss.load_scale("cisa-nciss"), json.loads((EXAMPLES / "pipeline-ot.json").read_text()))
    assert expected.level["name"] in out
    assert f"{expected.score:.1f} of 100" in out
    assert "Contributions to the score" in out
    assert "Explanation" in out


def test_it_reads_one_object_from_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    feed_stdin(
        monkeypatch, json.dumps({"functional_impact": "denial-critical", "observed_activity": "effect"}, indent=2)
    )
    code, out, _ = run(capsys, "assess", "--scale", "cisa-nciss", "-")
    assert code == 0
    assert "Reachable" in out


def test_it_refuses_bad_facts_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "facts.json", json.dumps({"fatalities": -1, "functional_impact": "catastrophic"}))
    code, out, err = run(capsys, "assess", "--scale", "cisa-nciss", path)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("nciss: invalid facts: ")
    assert "fatalities: must not be negative" in err and "functional_impact" in err


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON"),
        (jsonl({"fatalities": 1}, {"fatalities": 2}), "use --json for JSON Lines"),
        ("[1, 2]", "expected one JSON object"),
        ("", "empty"),
    ],
)
def test_it_refuses_a_file_that_is_not_one_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, reason: str
) -> None:
    path = write(tmp_path, "facts.json", content)
    code, out, err = run(capsys, "assess", "--scale", "cisa-nciss", path)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and reason in err


def test_it_refuses_an_unknown_scale_and_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "assess", "--scale", "atlantis", str(EXAMPLES / "cloud-outage.json"))
    assert code == 2
    assert err.startswith("nciss: unknown scale 'atlantis'") and err.count("\n") == 1
    code, _, err = run(capsys, "assess", "--scale", "cisa-nciss", "no-such-facts.json")
    assert code == 2
    assert err == "nciss: no-such-facts.json: cannot read: No such file or directory\n"


def test_it_reports_usage_errors_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "assess", str(EXAMPLES / "cloud-outage.json"))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "--scale" in err and "--all-scales" in err


def test_it_assesses_with_a_scale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "demo.yaml", GOOD_SCALE)
    facts = write(tmp_path, "facts.jsonl", jsonl({"fatalities": 2}))
    code, out, _ = run(capsys, "assess", "--scale", path, "--json", facts)
    assert code == 0
    result = json.loads(out)
    assert result["scale"] == "demo-national"  # the definition's id, not the path
    assert result["level"] == {"rank": 3, "name": "Critical", "colour": "#000000"}


def test_every_example_is_valid_facts_on_every_preset() -> None:
    files = sorted(EXAMPLES.glob("*.json"))
    assert len(files) >= 3
    records = [json.loads(f.read_text()) for f in files]
    records += [json.loads(line) for line in (EXAMPLES / "batch.jsonl").read_text().splitlines() if line.strip()]
    for scale in nciss.list_scales():
        for facts in records:
            nciss.assess(scale, facts)


# ---------------------------------------------------------------- assess, JSON Lines


def test_it_assesses_json_lines_in_order_with_an_error_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records: list[Any] = [
        {"functional_impact": "denial-critical", "observed_activity": "effect", "sector": "energy"},
        {"observed_activity": "prepare"},
        "{this is not json",
        {"fatalities": -3},
        "",
        {"potential_impact": "severe", "classification": "availability:ddos"},
    ]
    path = write(tmp_path, "batch.jsonl", jsonl(*records))
    code, out, err = run(capsys, "assess", "--scale", "cisa-nciss", "--json", path)
    assert code == 2
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 5  # the blank line is skipped
    scale = nciss.load_scale("cisa-nciss")
    for got, facts in zip([lines[0], lines[1], lines[4]], [records[0], records[1], records[5]], strict=True):
        assert got == json.loads(json.dumps(nciss.assess(scale, facts).to_dict()))
    assert "not valid JSON" in lines[2]["error"] and lines[2]["line"] == 3
    assert "fatalities: must not be negative" in lines[3]["error"]
    assert lines[3]["errors"] == [{"path": "fatalities", "reason": "must not be negative"}]
    assert err.count("\n") == 1 and "2 of 5 lines could not be assessed" in err


def test_it_writes_the_contract_keys_for_every_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "assess", "--scale", "cisa-nciss", "--json", str(EXAMPLES / "batch.jsonl"))
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == len([x for x in (EXAMPLES / "batch.jsonl").read_text().splitlines() if x.strip()])
    for a in lines:
        keys = set(a)
        assert {"scale", "scale_version", "score", "level", "reachable", "decisive_unknowns"} <= keys
        assert {"classification", "contributions", "rules_fired", "explanation"} <= keys
        assert a["scale"] == "cisa-nciss"
        assert a["level"]["rank"] == a["reachable"]["min"] <= a["reachable"]["max"]


def test_it_explains_in_the_language_asked(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    feed_stdin(monkeypatch, jsonl({"functional_impact": "denial-critical"}))
    code, out, _ = run(capsys, "assess", "--scale", "cisa-nciss", "--json", "--lang", "ru")
    assert code == 0
    result = json.loads(out)
    assert "из 0-5" in result["explanation"]


def test_it_writes_identical_output_for_repeated_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = {"observed_activity": "effect", "location": "critical-systems"}
    path = write(tmp_path, "same.jsonl", jsonl(line, {"actor": "apt"}, line, line))
    code, out, _ = run(capsys, "assess", "--scale", "cisa-nciss", "--json", path)
    assert code == 0
    out_lines = out.splitlines()
    assert out_lines[0] == out_lines[2] == out_lines[3] != out_lines[1]


def test_it_assesses_on_every_scale_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXAMPLES / "ransomware-hospital.json")
    code, out, _ = run(capsys, "assess", "--all-scales", path)
    assert code == 0
    for scale in nciss.list_scales():
        assert scale.id in out

    batch = str(EXAMPLES / "batch.jsonl")
    code, out, _ = run(capsys, "assess", "--all-scales", "--json", batch)
    assert code == 0
    ids = [s.id for s in nciss.list_scales()]
    records = [json.loads(x) for x in Path(batch).read_text().splitlines() if x.strip()]
    lines = [json.loads(x) for x in out.splitlines()]
    assert len(lines) == len(records)
    for line, facts in zip(lines, records, strict=True):
        assert list(line) == ids
        for scale_id in ids:
            expected = nciss.assess(nciss.load_scale(scale_id), facts).to_dict()
            assert line[scale_id] == json.loads(json.dumps(expected))


def test_it_marks_a_bad_line_on_every_scale_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "b.jsonl", jsonl({"observed_activity": "effect"}, {"sector": "atlantis"}))
    code, out, err = run(capsys, "assess", "--all-scales", "--json", path)
    assert code == 2
    first, second = (json.loads(x) for x in out.splitlines())
    assert "cisa-nciss" in first
    assert "sector" in second["error"]
    assert err.count("\n") == 1


# ---------------------------------------------------------------- crosswalk


def test_it_crosswalks_a_level_by_name_and_by_rank(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "demo.yaml", GOOD_SCALE)
    code, out, _ = run(capsys, "crosswalk", "--from", path, "--to", "cisa-nciss", "High")
    assert code == 0
    assert "High" in out and "Severe" in out
    assert "High reads as High or Severe" in out

    code, out, _ = run(capsys, "crosswalk", "--from", path, "--to", "cisa-nciss", "critical", "--json")
    assert code == 0
    assert json.loads(out) == {"min": 4, "max": 5, "rationale": "Critical reads as Severe or Emergency"}
    code, out, _ = run(capsys, "crosswalk", "--from", path, "--to", "cisa-nciss", "3", "--json")
    assert json.loads(out)["max"] == 5
    code, out, _ = run(capsys, "crosswalk", "--from", path, "--to", "cisa-nciss", "crit", "--json")  # a unique start
    assert code == 0 and json.loads(out)["min"] == 4


def test_it_refuses_an_unknown_level_or_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "demo.yaml", GOOD_SCALE)
    code, _, err = run(capsys, "crosswalk", "--from", path, "--to", "cisa-nciss", "Apocalyptic")
    assert code == 2
    assert err.count("\n") == 1 and "no level 'Apocalyptic'" in err and "Critical" in err
    code, _, err = run(capsys, "crosswalk", "--from", path, "--to", "cisa-nciss", "9")
    assert code == 2 and "levels 0-3" in err
    code, _, err = run(capsys, "crosswalk", "--from", path, "--to", "atlantis", "1")
    assert code == 2 and "no crosswalk to 'atlantis'" in err


def test_it_crosswalks_between_presets_when_they_have_tables(capsys: pytest.CaptureFixture[str]) -> None:
    scales = {s.id: s for s in nciss.list_scales()}
    pairs = [(a, b) for a in scales.values() for b in a.crosswalks if b in scales]
    if not pairs:
        pytest.skip("no preset has a crosswalk table yet")
    source, target = pairs[0]
    code, out, _ = run(capsys, "crosswalk", "--from", source.id, "--to", target, "0", "--json")
    assert code == 0
    row = json.loads(out)
    assert 0 <= row["min"] <= row["max"] <= scales[target].top and row["rationale"]


# ---------------------------------------------------------------- a real process


def _nciss(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "nciss", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def test_it_keeps_stdout_json_and_stderr_one_line_in_a_real_process() -> None:
    stdin = jsonl({"observed_activity": "effect"}, '{"broken": ', {"actor": "apt"})
    proc = _nciss("assess", "--scale", "cisa-nciss", "--json", stdin=stdin)
    assert proc.returncode == 2
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [("error" in x) for x in lines] == [False, True, False]
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("nciss: ")
    assert "Traceback" not in proc.stderr

    proc = _nciss("scales", "list", "--json")
    assert proc.returncode == 0 and proc.stderr == ""
    assert json.loads(proc.stdout)

    proc = _nciss("assess", "--scale", "nowhere")
    assert proc.returncode == 2 and proc.stdout == "" and proc.stderr.count("\n") == 1


def test_it_keeps_the_order_across_worker_processes_with_a_progress_bar(tmp_path: Path) -> None:
    values = ["none", "prepare", "engage", "presence", "effect"]
    records: list[Any] = [{"observed_activity": values[i % 5], "users_affected": i} for i in range(5000)]
    records[2500] = "not json"
    path = write(tmp_path, "many.jsonl", jsonl(*records))
    one = _nciss("assess", "--scale", "cisa-nciss", "--json", "--workers", "1", path)
    two = _nciss("assess", "--scale", "cisa-nciss", "--json", "--workers", "2", "--progress", path)
    assert one.returncode == two.returncode == 2
    assert one.stdout == two.stdout
    lines = two.stdout.splitlines()
    assert len(lines) == 5000
    assert "error" in json.loads(lines[2500])
    assert two.stderr.strip().splitlines()[-1].startswith("nciss: 1 of 5000 lines could not be assessed")
