"""The OpenAPI document is valid and describes every route of the API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.conftest import next_weekday

PREFIX = "/api/v1"


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _api_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(PREFIX) :])
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            yield rule, path, methods


def test_document_is_valid_openapi(document):
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": "http://localhost/api/v1"}]


def test_every_route_is_described_and_nothing_else(app, document):
    described = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    routed = {(path, m) for _rule, path, methods in _api_rules(app) for m in methods}
    assert routed, "no API routes found"
    assert routed == described


def test_path_parameters_match_the_routes(app, document):
    for rule, path, methods in _api_rules(app):
        for method in methods:
            operation = document["paths"][path][method.lower()]
            params = [
                document["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
                if "$ref" in p
                else p
                # The operation's parameters and those of the path item it shares.
                for p in [
                    *operation.get("parameters", []),
                    *document["paths"][path].get("parameters", []),
                ]
            ]
            in_path = {p["name"] for p in params if p["in"] == "path"}
            assert in_path == set(rule.arguments), (path, method)


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield f"{method.upper()} {path}", operation


def test_every_operation_is_described_and_answers_json(document):
    tags = {tag["name"] for tag in document["tags"]}
    for name, operation in _operations(document):
        assert operation.get("summary"), name
        assert set(operation["tags"]) <= tags, name
        success = [s for s in operation["responses"] if s.startswith("2")]
        assert success, name
        for status in success:
            if status == "204":  # No Content: nothing to describe
                assert "content" not in operation["responses"][status], name
                continue
            content = operation["responses"][status]["content"]
            assert "schema" in content["application/json"], (name, status)


def test_every_request_body_has_an_example_and_documents_bad_input(document):
    bodies = 0
    for name, operation in _operations(document):
        if "requestBody" not in operation:
            continue
        bodies += 1
        if "multipart/form-data" in operation["requestBody"]["content"]:
            # An upload: a form of named parts, each described.
            schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
            assert "$ref" in schema, name
            assert {"400", "413", "422"} <= set(operation["responses"]), name
            continue
        content = operation["requestBody"]["content"]["application/json"]
        assert "example" in content, name
        schema = content["schema"]
        assert "$ref" in schema, name
        example_errors = list(
            Draft202012Validator({**schema, "components": document["components"]}).iter_errors(
                content["example"]
            )
        )
        assert not example_errors, (name, example_errors[0].message)
        assert {"400", "413", "422"} <= set(operation["responses"]), name
    assert bodies >= 10


def test_token_protected_routes_require_bearer_and_document_401(app, document):
    for rule, path, methods in _api_rules(app):
        view = app.view_functions[rule.endpoint]
        for method in methods:
            operation = document["paths"][path][method.lower()]
            if getattr(view, "token_required", False):
                assert operation["security"] == [{"bearerAuth": []}], path
                assert "401" in operation["responses"], path
            else:
                assert {} in operation["security"], path
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


def test_errors_share_one_schema(document):
    for name, response in document["components"]["responses"].items():
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}, name
    error = document["components"]["schemas"]["Error"]["properties"]["error"]
    if "$ref" in error:
        error = document["components"]["schemas"][error["$ref"].rsplit("/", 1)[1]]
    assert set(error["required"]) == {"code", "message"}
    assert "details" in error["properties"]


def test_per_page_limit_follows_the_configuration(app, document):
    per_page = document["components"]["parameters"]["PerPage"]["schema"]
    assert per_page["maximum"] == app.config["API_MAX_PER_PAGE"]


def test_responses_match_the_document(api, factories, space, resident, manager):
    """Real answers validate against the schemas the document gives for them."""
    document = api.get("/api/v1/openapi.json").get_json()
    start = next_weekday(2, 10)
    created = api.post(
        "/api/v1/bookings",
        {
            "space_id": space.id,
            "start": start.isoformat(),
            "end": (start + timedelta(hours=2)).isoformat(),
            "purpose": "회의",
            "attendees": 3,
        },
        user=resident,
    )
    booking_id = created.get_json()["id"]
    checks = [
        ("Booking", created),
        ("Booking", api.post(f"/api/v1/bookings/{booking_id}/approve", user=manager)),
        ("BookingPage", api.get("/api/v1/bookings?scope=managed", user=manager)),
        ("SpacePage", api.get("/api/v1/spaces?near=37.6,127.0&radius_km=100")),
        ("SpacePage", api.get("/api/v1/spaces")),
        ("SpaceDetail", api.get(f"/api/v1/spaces/{space.id}")),
        ("Availability", api.get(f"/api/v1/spaces/{space.id}/availability")),
        ("Error", api.get("/api/v1/bookings")),
        ("Error", api.get("/api/v1/spaces?type=castle")),
    ]
    for name, response in checks:
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        errors = list(Draft202012Validator(schema).iter_errors(response.get_json()))
        assert not errors, (name, errors[0].message)
