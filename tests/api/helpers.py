"""Helpers shared by the API tests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")


def seoul_iso(dt: datetime) -> str:
    """How the API shows a booking time of a space in Seoul."""
    return dt.astimezone(SEOUL).isoformat(timespec="seconds")


def assert_error(response, status: int, code: str) -> dict:
    """The response is the JSON error `code` with `status`; returns the error object."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


def validate_against(document: dict, name: str, body) -> None:
    """`body` is valid against the component schema `name` of the OpenAPI `document`."""
    from jsonschema import Draft202012Validator

    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    errors = list(Draft202012Validator(schema).iter_errors(body))
    assert not errors, (name, errors[0].json_path, errors[0].message)
