import yaml
from django.core.management import call_command


def test_it_publishes_an_openapi_schema_with_every_endpoint(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/assess", "/api/v1/scales", "/api/v1/scales/{scale_id}"} <= set(schema["paths"])
    assess = schema["paths"]["/api/v1/assess"]["post"]
    assert {"200", "400"} <= set(assess["responses"])
    assessment = schema["components"]["schemas"]["Assessment"]
    assert {"scale", "level", "reachable", "decisive_unknowns", "explanation"} <= set(assessment["properties"])


def test_it_serves_the_api_docs_from_its_own_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()


def test_it_publishes_a_schema_that_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    operations = yaml.safe_load((tmp_path / "schema.yaml").read_text())["paths"]
    assert operations["/api/v1/assess"]["post"]["operationId"] == "assess"
