"""Finding 4: a log-in can be ended from the server: log-out, a password change, "log out on
every device" and deactivation end it wherever its cookie was copied; remember-me lasts at most
30 days; the session is started afresh at log-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import time_machine

from app.accounts import sessions
from app.accounts.models import ApiToken, LoginSession


def _log_in(app, user, remember=False):
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": "password123",
                                           "remember": "y" if remember else ""})
    assert response.status_code == 302
    return client, response


def _cookies(client) -> dict:
    return {c.key: c.value for c in client._cookies.values()}


def _with_cookies(app, cookies):
    copy = app.test_client()
    for name, value in cookies.items():
        copy.set_cookie(name, value)
    return copy


def test_a_cookie_copied_before_log_out_stops_working(app, db, factories):
    user = factories.user()
    db.session.commit()
    client, _ = _log_in(app, user)
    stolen = _with_cookies(app, _cookies(client))
    assert stolen.get("/bookings/").status_code == 200
    client.post("/logout")
    assert stolen.get("/bookings/").status_code == 302  # to the login page


def test_a_remembered_log_in_also_ends_at_log_out(app, db, factories):
    user = factories.user()
    db.session.commit()
    client, response = _log_in(app, user, remember=True)
    remember = _cookies(client)["remember_token"]
    # The browser dropped its session cookie (closed); the remember-me cookie signs it back in.
    reopened = _with_cookies(app, {"remember_token": remember})
    assert reopened.get("/bookings/").status_code == 200
    client.post("/logout")
    again = _with_cookies(app, {"remember_token": remember})
    assert again.get("/bookings/").status_code == 302


def test_remember_me_lasts_thirty_days_at_most(app, db, factories):
    user = factories.user()
    db.session.commit()
    now = datetime.now(UTC)
    client, response = _log_in(app, user, remember=True)
    cookie = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("remember_token="))
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    assert timedelta(days=29) < expires - now <= timedelta(days=30, minutes=1)
    with time_machine.travel(now + timedelta(days=31), tick=False):
        reopened = _with_cookies(app, {"remember_token": _cookies(client)["remember_token"]})
        assert reopened.get("/bookings/").status_code == 302  # the server ended it too


def test_a_log_in_without_remember_me_ends_on_the_server_after_its_hours(app, db, factories):
    user = factories.user()
    db.session.commit()
    client, _ = _log_in(app, user)
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=13), tick=False):
        assert client.get("/bookings/").status_code == 302


def test_a_password_change_ends_every_other_session(app, db, factories):
    user = factories.user()
    db.session.commit()
    laptop, _ = _log_in(app, user)
    phone, _ = _log_in(app, user)
    response = phone.post("/account", data={
        "action": "password", "password-current_password": "password123",
        "password-new_password": "a-new-secret-1", "password-confirm": "a-new-secret-1"})
    assert response.status_code == 302
    assert phone.get("/account").status_code == 200  # the one who changed it stays in
    assert laptop.get("/account").status_code == 302


def test_log_out_on_every_device(app, db, factories):
    user = factories.user()
    db.session.commit()
    laptop, _ = _log_in(app, user)
    phone, _ = _log_in(app, user)
    page = phone.get("/account").get_data(as_text=True)
    assert "Log out on every device" in page or "모든 기기에서 로그아웃" in page
    phone.post("/account/sessions/end-all")
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 302


def test_the_account_page_lists_devices_and_ends_one(app, db, factories):
    user = factories.user()
    db.session.commit()
    laptop, _ = _log_in(app, user)
    phone = app.test_client()
    phone.post("/login", data={"email": user.email, "password": "password123"},
               headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
                        "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 "
                        "Safari/604.1"})
    page = laptop.get("/account").get_data(as_text=True)
    assert "Mobile Safari · iOS" in page
    phone_row = db.session.query(LoginSession).filter(
        LoginSession.user_agent.like("%iPhone%")).one()
    assert laptop.post(f"/account/sessions/{phone_row.id}/end").status_code == 302
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 200


def test_deactivation_ends_sessions_and_tokens(app, db, factories, api_token):
    user = factories.user()
    headers = api_token(user)
    db.session.commit()
    client, _ = _log_in(app, user)
    sessions.deactivate(user)
    db.session.commit()
    assert client.get("/account").status_code == 302
    assert app.test_client().get("/api/v1/bookings", headers=headers).status_code == 401
    assert db.session.query(ApiToken).filter_by(user_id=user.id, revoked_at=None).count() == 0


def test_the_session_starts_afresh_at_log_in_keeping_the_language(app, db, factories):
    user = factories.user(locale="en")
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as s:
        s["csrf_token"] = "token-of-the-anonymous-visit"
        s["locale"] = "en"
        s["planted"] = "by someone who had this browser"
    client.post("/login", data={"email": user.email, "password": "password123"})
    with client.session_transaction() as s:
        assert "csrf_token" not in s and "planted" not in s
        assert s["locale"] == "en"


def test_the_database_holds_no_usable_session_key(app, db, factories):
    user = factories.user()
    db.session.commit()
    client, _ = _log_in(app, user)
    with client.session_transaction() as s:
        key = s["_user_id"]
    row = db.session.query(LoginSession).one()
    assert row.key_hash != key and row.key_hash == LoginSession.hash(key)
