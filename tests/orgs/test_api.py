"""The organisation endpoints of the API, every answer checked against the OpenAPI document."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.notifications.models import EmailDelivery
from app.orgs.models import OrgMembership
from tests.api.document_check import CheckedClient
from tests.api.helpers import assert_error
from tests.orgs.conftest import COMPANY


@pytest.fixture
def client(app):
    return CheckedClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def call(client, api_token, db):
    headers: dict[int, dict] = {}

    def _call(method: str, path: str, user, body=None):
        db.session.commit()
        if user.id not in headers:
            headers[user.id] = api_token(user)
        return client.open(path, method=method, json=body, headers=headers[user.id])

    return _call


API_BODY = {k: v for k, v in COMPANY.items() if k != "legal_name"}


def test_apply_read_and_approve(place, call, db):
    created = call("POST", "/api/v1/organisations", place["applicant"], API_BODY)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "pending" and body["registration_number"] == "1248100998"
    assert [j["slug"] for j in body["jurisdictions"]] == ["gangbuk"]
    org_id = body["id"]
    path = f"/api/v1/organisations/{org_id}"
    assert call("GET", path, place["applicant"]).status_code == 200
    assert call("GET", path, place["officer"]).status_code == 200
    assert_error(call("GET", path, place["stranger"]), 404, "not_found")
    assert_error(call("GET", path, place["other_officer"]), 404, "not_found")
    # The applicant sees it but may not decide; others do not know it exists.
    assert_error(call("POST", path + "/approve", place["applicant"], {}), 403, "forbidden")
    assert_error(call("POST", path + "/approve", place["other_officer"], {}), 404, "not_found")
    approved = call("POST", path + "/approve", place["officer"], {})
    assert approved.status_code == 200 and approved.get_json()["status"] == "active"
    assert call("GET", path, place["applicant"]).get_json()["my_role"] == "manager"
    assert_error(call("POST", path + "/reject", place["admin"], {"reason": "늦은 거절"}),
                 422, "invalid")


def test_a_wrong_check_digit_names_the_field(place, call):
    response = call("POST", "/api/v1/organisations", place["applicant"],
                    {**API_BODY, "registration_number": "124-81-00997"})
    assert "registration_number" in assert_error(response, 422, "invalid")["details"]
    missing = call("POST", "/api/v1/organisations", place["applicant"], {"kind": "company"})
    details = assert_error(missing, 422, "invalid")["details"]
    assert {"name", "address", "contact_email"} <= set(details)


def test_reject_needs_a_reason(place, call):
    org_id = call("POST", "/api/v1/organisations", place["applicant"], API_BODY).get_json()["id"]
    path = f"/api/v1/organisations/{org_id}/reject"
    assert "reason" in assert_error(call("POST", path, place["admin"], {}), 422,
                                    "invalid")["details"]
    rejected = call("POST", path, place["admin"], {"reason": "상호가 다릅니다."})
    assert rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["review_note"] == "상호가 다릅니다."


def test_invite_and_accept(place, call, factories, db):
    org = factories.org(name="옥상정원 공유", kind="company")
    manager = factories.manager(org, email="boss@example.kr")
    colleague = factories.user(email="colleague@example.kr")
    path = f"/api/v1/organisations/{org.id}/invitations"
    body = {"email": "colleague@example.kr", "role": "staff"}
    assert_error(call("POST", path, colleague, body), 404, "not_found")
    assert "role" in assert_error(call("POST", path, manager, {**body, "role": "principal"}),
                                  422, "invalid")["details"]
    sent = call("POST", path, manager, body)
    assert sent.status_code == 201 and sent.get_json()["role"] == "staff"
    token = db.session.scalars(select(EmailDelivery.params)
                               .where(EmailDelivery.kind == "org_invitation")).one()["token"]
    accepted = call("POST", "/api/v1/invitations/accept", colleague, {"token": token})
    assert accepted.status_code == 200
    assert accepted.get_json() == {"organisation_id": org.id, "role": "staff"}
    assert db.session.scalar(select(OrgMembership.role).where(
        OrgMembership.user_id == colleague.id)) == "staff"
    again = call("POST", "/api/v1/invitations/accept", colleague, {"token": token})
    assert_error(again, 422, "invalid")
    unknown = call("POST", "/api/v1/invitations/accept", colleague, {"token": "nope"})
    assert "token" in assert_error(unknown, 422, "invalid")["details"]
