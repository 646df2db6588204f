import json

import nciss


def test_it_lists_the_scales_national_one_first(client, settings):
    response = client.get("/api/v1/scales")
    assert response.status_code == 200
    scales = response.json()
    assert scales[0]["id"] == settings.NCISS_NATIONAL_SCALE
    assert {scale["id"] for scale in scales} == {"osce-reference", "cisa-nciss", "uk-ncsc", "eu-nis2"}
    for scale in scales:
        assert set(scale) == {"id", "name", "version", "levels"}
        assert [level["rank"] for level in scale["levels"]] == list(range(len(scale["levels"])))


def test_it_lists_level_names_in_english(client):
    uk = next(scale for scale in client.get("/api/v1/scales").json() if scale["id"] == "uk-ncsc")
    assert uk["levels"][5]["name"].startswith("Category 1")


def test_it_gives_a_scale_definition_in_full(client):
    response = client.get("/api/v1/scales/eu-nis2")
    assert response.status_code == 200
    assert response.json() == nciss.load_scale("eu-nis2").definition


def test_it_answers_404_for_an_unknown_scale(client):
    response = client.get("/api/v1/scales/atlantis")
    assert response.status_code == 404
    assert response.json()["errors"][0]["path"] == "scale"


def test_it_offers_a_national_scale_written_in_a_file_first(client, settings, tmp_path):
    scale_file = tmp_path / "atlantis.json"
    scale_file.write_text(json.dumps({**nciss.load_scale("cisa-nciss").definition, "id": "atlantis"}))
    settings.NCISS_NATIONAL_SCALE = str(scale_file)
    assert client.get("/api/v1/scales").json()[0]["id"] == "atlantis"
    response = client.post("/api/v1/assess", {"scale": "atlantis", "facts": {}}, content_type="application/json")
    assert response.json()["scale"] == "atlantis"
    assert '<option value="atlantis" selected>' in client.get("/").content.decode()
