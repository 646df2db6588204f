"""The incidents API in the OpenAPI schema: every endpoint, its shapes and its errors."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.management import call_command

OPERATIONS = {
    ("/api/v1/incidents", "get"): "list_incidents",
    ("/api/v1/incidents", "post"): "report_incident",
    ("/api/v1/incidents/bulk", "post"): "bulk_incidents",
    ("/api/v1/incidents/{reference}", "get"): "get_incident",
    ("/api/v1/incidents/{reference}/facts", "post"): "update_incident_facts",
    ("/api/v1/incidents/{reference}/transition", "post"): "transition_incident",
    ("/api/v1/incidents/{reference}/assign", "post"): "assign_incident",
    ("/api/v1/incidents/{reference}/waiting", "post"): "set_incident_waiting",
    ("/api/v1/incidents/{reference}/comments", "get"): "list_incident_comments",
    ("/api/v1/incidents/{reference}/comments", "post"): "add_incident_comment",
    ("/api/v1/incidents/{reference}/attachments", "get"): "list_incident_attachments",
    ("/api/v1/incidents/{reference}/attachments", "post"): "add_incident_attachment",
    ("/api/v1/incidents/{reference}/attachments/{attachment_id}", "get"): "download_incident_attachment",
    ("/api/v1/incidents/{reference}/assessments", "get"): "list_incident_assessments",
    ("/api/v1/incidents/{reference}/timeline", "get"): "get_incident_timeline",
    ("/api/v1/incidents/{reference}/merge", "post"): "merge_incident",
    ("/api/v1/incidents/{reference}/links", "post"): "link_incident",
    ("/api/v1/incidents/{reference}/sharing", "post"): "set_incident_sharing",
    ("/api/v1/incidents/{reference}/reporting", "post"): "submit_incident_reporting_step",
    # sharing with partners abroad (nciss_platform.sharing.api)
    ("/api/v1/incidents/{reference}/shares", "get"): "list_incident_shares",
    ("/api/v1/incidents/{reference}/shares", "post"): "share_incident",
    ("/api/v1/incidents/{reference}/shares/{id}", "delete"): "revoke_incident_share",
}


def schema(tmp_path: Path) -> dict:
    """The schema as `nciss manage spectacular` writes it, failing on any warning."""
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    return yaml.safe_load((tmp_path / "schema.yaml").read_text())


def test_it_documents_every_incident_endpoint_without_warnings(tmp_path: Path) -> None:
    paths = schema(tmp_path)["paths"]
    documented = {
        (path, method): operation["operationId"]
        for path, operations in paths.items()
        if path.startswith("/api/v1/incidents")
        for method, operation in operations.items()
    }
    assert documented == OPERATIONS
    for (path, method), operation_id in OPERATIONS.items():
        operation = paths[path][method]
        assert operation["tags"] == ["incidents"], operation_id
        assert operation["summary"], operation_id
        errors = {code for code in operation["responses"] if code.startswith("4")}
        assert "401" in errors, operation_id
        for code in errors:
            content = operation["responses"][code]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}, (operation_id, code)
        if method == "post":
            assert "400" in errors and "requestBody" in operation, operation_id
        if "{reference}" in path:
            assert "404" in errors, operation_id


def test_it_documents_the_shapes_clients_rely_on(tmp_path: Path) -> None:
    document = schema(tmp_path)
    components = document["components"]["schemas"]
    assert {"reference", "level", "overdue", "reachable_max", "tlp"} <= set(components["Incident"]["properties"])
    detail = set(components["IncidentDetail"]["properties"])
    assert {"facts", "assessment", "deadlines", "other_scales", "related", "duplicates", "attachments"} <= detail
    listing = document["paths"]["/api/v1/incidents"]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "PaginatedIncidentList"
    )
    filters = {parameter["name"] for parameter in listing["parameters"]}
    assert {"status", "level", "level_min", "sector", "classification", "organisation", "assignee"} <= filters
    assert {"reported_from", "reported_to", "overdue", "q", "ordering", "page", "page_size"} <= filters
    upload = document["paths"]["/api/v1/incidents/{reference}/attachments"]["post"]["requestBody"]["content"]
    assert set(upload) == {"multipart/form-data"}


def test_it_serves_the_schema_with_the_incident_paths(client) -> None:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert "/api/v1/incidents/{reference}/transition" in yaml.safe_load(response.content)["paths"]
