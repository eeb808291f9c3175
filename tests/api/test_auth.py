"""Bearer tokens, the JSON error format and the language of messages."""

from __future__ import annotations

import pytest
from flask import g

from app.db import utcnow
from tests.api.helpers import assert_error

PROTECTED = [
    ("GET", "/api/v1/bookings"),
    ("POST", "/api/v1/bookings"),
    ("GET", "/api/v1/bookings/1"),
    ("POST", "/api/v1/bookings/1/approve"),
    ("POST", "/api/v1/bookings/1/reject"),
    ("POST", "/api/v1/bookings/1/cancel"),
]
PUBLIC = ["/api/v1/spaces", "/api/v1/openapi.json"]


def _send(client, method, path, headers):
    return client.open(path, method=method, headers=headers, json={} if method == "POST" else None)


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ", "Bearer ggn_not-a-real-token", "Basic dXNlcjpwYXNz", "ggn_x"],
)
def test_protected_endpoints_need_a_valid_token(client, method, path, header):
    headers = {"Authorization": header} if header is not None else {}
    response = _send(client, method, path, headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_revoked_token_is_refused(client, db, factories, api_token, method, path):
    headers = api_token(factories.user())
    from app.accounts.models import ApiToken

    for token in db.session.scalars(db.select(ApiToken)):
        token.revoked_at = utcnow()
    db.session.commit()
    assert_error(_send(client, method, path, headers), 401, "unauthorized")


def test_token_of_a_deactivated_account_is_refused(client, db, factories, api_token):
    user = factories.user()
    headers = api_token(user)
    assert client.get("/api/v1/bookings", headers=headers).status_code == 200
    user.is_active_account = False
    db.session.commit()
    assert_error(client.get("/api/v1/bookings", headers=headers), 401, "unauthorized")


def test_lowercase_scheme_is_accepted(client, factories, api_token):
    token = api_token(factories.user())["Authorization"].split()[1]
    response = client.get("/api/v1/bookings", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_a_session_cookie_is_not_an_api_credential(client, db, factories, login):
    """The API is CSRF-exempt, so a logged-in browser must not be able to use it by cookie."""
    user = factories.user()
    db.session.commit()
    login(user)
    assert_error(client.get("/api/v1/bookings"), 401, "unauthorized")
    assert_error(client.post("/api/v1/bookings", json={}), 401, "unauthorized")


def test_token_wins_over_another_users_session(client, db, factories, login, api_token):
    browser_user, api_user = factories.user(), factories.user(name="API 사용자")
    headers = api_token(api_user)
    login(browser_user)
    booking_page = client.get("/api/v1/bookings?scope=mine", headers=headers)
    assert booking_page.status_code == 200


@pytest.mark.parametrize("path", PUBLIC)
def test_public_endpoints_need_no_token(client, path):
    assert client.get(path).status_code == 200


def test_public_endpoint_ignores_a_bad_token(client):
    response = client.get("/api/v1/spaces", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 200


def test_unknown_path_and_wrong_method_answer_json(client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(client.delete("/api/v1/spaces"), 405, "method_not_allowed")
    assert_error(client.put("/api/v1/bookings"), 405, "method_not_allowed")


def _language(client, path, headers) -> str:
    g.pop("_flask_babel", None)  # the test client shares `g` between requests; Babel caches there
    response = client.get(path, headers=headers)
    assert "Accept-Language" in response.headers["Vary"]
    return response.headers["Content-Language"]


def test_messages_follow_accept_language(client):
    assert _language(client, "/api/v1/bookings", {}) == "ko"
    assert _language(client, "/api/v1/bookings", {"Accept-Language": "en"}) == "en"
    assert _language(client, "/api/v1/spaces", {"Accept-Language": "fr, en;q=0.5"}) == "en"
    assert _language(client, "/api/v1/spaces", {"Accept-Language": "fr"}) == "ko"
    g.pop("_flask_babel", None)
    english = client.get("/api/v1/bookings", headers={"Accept-Language": "en"}).get_json()
    assert english["error"]["message"].startswith("Send an API token")


def test_accept_language_wins_over_the_account_language(client, factories, api_token):
    korean_user = api_token(factories.user(locale="ko"))
    english_user = api_token(factories.user(locale="en"))
    assert _language(client, "/api/v1/bookings", {**korean_user, "Accept-Language": "en"}) == "en"
    assert _language(client, "/api/v1/bookings", {**english_user, "Accept-Language": "ko"}) == "ko"
    # Without the header, the account's language.
    assert _language(client, "/api/v1/bookings", english_user) == "en"
