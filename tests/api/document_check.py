"""Every answer of the API in these tests is checked against the OpenAPI document: the JSON body
must validate (jsonschema, draft 2020-12) against the schema the document gives for its
operation and status. The document is read once per app and cached."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

PREFIX = "/api/v1"
_documents: dict[int, dict] = {}


def document_of(app, client) -> dict:
    key = id(app)
    if key not in _documents:
        _documents.clear()
        _validators.clear()
        _documents[key] = FlaskClient.get(client, PREFIX + "/openapi.json").get_json()
    return _documents[key]


def _resolve(document: dict, item: dict) -> dict:
    while "$ref" in item:
        section, name = item["$ref"].split("/")[-2:]
        item = document["components"][section][name]
    return item


def _operation(app, document: dict, method: str, path: str) -> tuple[str, dict] | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(path, method=method)
    except Exception:  # noqa: BLE001 - 404/405: no operation to check against
        return None
    rule = next(r for r in app.url_map.iter_rules(endpoint) if method in r.methods)
    template = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix(PREFIX))
    operation = document["paths"].get(template, {}).get(method.lower())
    return (f"{method} {template}", operation) if operation is not None else None


_validators: dict[tuple[int, str, str], Draft202012Validator] = {}


def _validator(document: dict, name: str, status: str, schema: dict) -> Draft202012Validator:
    key = (id(document), name, status)
    if key not in _validators:
        _validators[key] = Draft202012Validator({**schema, "components": document["components"]})
    return _validators[key]


def check_response(app, client, method: str, path: str, response) -> None:
    """Assert that `response` to `method path` is what the document says it answers."""
    path = path.split("?", 1)[0]
    if not path.startswith(PREFIX + "/") or path == PREFIX + "/openapi.json":
        return
    if response.status_code == 429:
        return
    if response.status_code == 204:
        assert response.data == b"", "204 No Content with a body"
    elif response.mimetype != "application/json":
        return
    document = document_of(app, client)
    found = _operation(app, document, method.upper(), path)
    if found is None:
        return
    name, operation = found
    responses = operation.get("responses", {})
    status = str(response.status_code)
    assert status in responses, f"{name} answered {status}, which the document does not list"
    if status == "204":
        return
    documented = _resolve(document, responses[status])
    schema = documented.get("content", {}).get("application/json", {}).get("schema")
    assert schema is not None, f"{name} {status}: no JSON schema in the document"
    validator = _validator(document, name, status, schema)
    errors = sorted(validator.iter_errors(response.get_json()), key=lambda e: e.json_path)
    assert not errors, (name, status, errors[0].json_path, errors[0].message)


class CheckedClient(FlaskClient):
    """A test client whose every API answer is checked against the OpenAPI document."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        if not kwargs.get("follow_redirects"):
            request = response.request
            check_response(self.application, self, request.method, request.path, response)
        return response
