import json
from pathlib import Path

import pytest

import nciss

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
CONTRACT_KEYS = {
    "scale",
    "scale_version",
    "score",
    "level",
    "reachable",
    "decisive_unknowns",
    "classification",
    "contributions",
    "rules_fired",
    "explanation",
}


def post(client, body, **extra):
    return client.post(
        "/api/v1/assess", body if isinstance(body, str) else json.dumps(body), content_type="application/json", **extra
    )


@pytest.mark.parametrize("scale_id", ["osce-reference", "cisa-nciss", "uk-ncsc", "eu-nis2"])
def test_it_answers_what_the_engine_answers_on_every_preset(client, scale_id):
    facts = json.loads((EXAMPLES / "ransomware-hospital.json").read_text())
    response = post(client, {"scale": scale_id, "facts": facts})
    assert response.status_code == 200
    expected = nciss.assess(nciss.load_scale(scale_id), facts).to_dict()
    assert response.json() == json.loads(json.dumps(expected))


def test_it_answers_with_the_contract_keys(client):
    response = post(client, {"scale": "cisa-nciss", "facts": {"functional_impact": "denial-critical"}})
    body = response.json()
    assert body.keys() >= CONTRACT_KEYS
    assert body["scale"] == "cisa-nciss"
    assert set(body["level"]) == {"rank", "name", "colour"}
    assert body["reachable"]["min"] <= body["reachable"]["max"]
    assert isinstance(body["score"], float)
    assert "functional_impact" not in body["decisive_unknowns"]


def test_it_assesses_an_incident_with_nothing_known(client):
    body = post(client, {"scale": "osce-reference", "facts": {}}).json()
    assert body["level"]["rank"] == 0
    assert body["reachable"] == {"min": 0, "max": 5}


def test_it_speaks_russian_and_uzbek_when_asked(client):
    facts = {"fatalities": 1}
    english = post(client, {"scale": "osce-reference", "facts": facts}).json()
    russian = post(client, {"scale": "osce-reference", "facts": facts, "lang": "ru"}).json()
    uzbek = post(client, {"scale": "osce-reference", "facts": facts, "lang": "uz"}).json()
    assert english["level"]["rank"] == russian["level"]["rank"] == uzbek["level"]["rank"]
    assert len({english["level"]["name"], russian["level"]["name"], uzbek["level"]["name"]}) == 3
    assert english["explanation"] != russian["explanation"]


def test_it_lists_every_invalid_fact_with_its_reason(client):
    response = post(
        client, {"scale": "cisa-nciss", "facts": {"fatalities": -1, "functional_impact": "catastrophic", "fatality": 1}}
    )
    assert response.status_code == 400
    body = response.json()
    paths = {error["path"] for error in body["errors"]}
    assert paths == {"facts.fatalities", "facts.functional_impact", "facts.fatality"}
    assert "must not be negative" in body["error"]
    assert "\n" not in body["error"]


def test_it_rejects_an_unknown_scale_naming_the_known_ones(client):
    response = post(client, {"scale": "atlantis", "facts": {}})
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["path"] == "scale"
    assert "atlantis" in body["error"] and "osce-reference" in body["error"]


def test_it_never_reads_a_scale_file_named_by_a_client(client, tmp_path):
    definition = nciss.load_scale("cisa-nciss").definition
    scale_file = tmp_path / "mine.json"
    scale_file.write_text(json.dumps(definition))
    response = post(client, {"scale": str(scale_file), "facts": {}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "scale"


def test_it_rejects_malformed_json_with_the_same_error_shape(client):
    response = post(client, '{"scale": "cisa-nciss", "facts": ')
    assert response.status_code == 400
    body = response.json()
    assert body["error"].startswith("JSON parse error")
    assert body["errors"] == [{"path": "body", "reason": body["error"]}]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"facts": {}}, "scale"),
        ({"scale": "cisa-nciss"}, "facts"),
        ({"scale": "cisa-nciss", "facts": [1, 2]}, "facts"),
        ({"scale": "cisa-nciss", "facts": {}, "lang": "fr"}, "lang"),
        ([{"scale": "cisa-nciss"}], "body"),
    ],
)
def test_it_names_the_part_of_a_bad_request_that_is_wrong(client, body, path):
    response = post(client, body)
    assert response.status_code == 400
    assert [error["path"] for error in response.json()["errors"]] == [path]


def test_it_refuses_other_methods_in_the_error_shape(client):
    response = client.get("/api/v1/assess")
    assert response.status_code == 405
    assert response.json()["error"] == 'Method "GET" not allowed.'
