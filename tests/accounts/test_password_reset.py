"""Forgotten passwords: the request page that never tells who has an account, the single-use
link of one hour, and what a reset ends (every other log-in and API token)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts import resets
from app.accounts.models import ApiToken, LoginSession, PasswordReset
from app.db import utcnow
from app.notifications.delivery import _content
from app.notifications.models import EmailDelivery, Notification

ASK_AGAIN = "This password reset link does not work any more"


def _outbox(db):
    return db.session.scalars(select(EmailDelivery).order_by(EmailDelivery.id)).all()


def _link(mail) -> str:
    _content(mail)
    found = re.search(r"http://gonggan\.test(/password/reset/\S+)", mail.body_text or "")
    assert found, mail.body_text
    return found.group(1)


def _forgot(client, email):
    return client.post("/password/forgot", data={"email": email})


def _visible(response) -> str:
    """The page's words, without what differs per request (the CSRF token, the nonce)."""
    page = response.get_data(as_text=True)
    return re.sub(r'(nonce|value|content)="[^"]*"', "", page)


def test_the_login_page_offers_the_way_to_reset(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in page and "Forgot your password?" in page


def test_asking_answers_the_same_with_or_without_an_account(client, db, factories):
    factories.user(email="known@example.org")
    db.session.commit()
    known = _forgot(client, "known@example.org")
    unknown = _forgot(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert (_visible(known).replace("known@", "X@")
            == _visible(unknown).replace("nobody@", "X@"))
    assert "Check your email" in known.get_data(as_text=True)
    # An email went into the outbox either way (the same work): the link, or a note that the
    # address has no account. Neither reaches an inbox.
    mails = _outbox(db)
    assert [(m.to_address, m.kind) for m in mails] == [
        ("known@example.org", "password_reset"),
        ("nobody@example.org", "password_reset_unknown"),
    ]
    assert db.session.scalars(select(Notification)).first() is None
    _content(mails[1])
    assert "no active account" in (mails[1].body_text or "")


def test_only_the_hash_of_the_token_is_stored(client, db, factories):
    user = factories.user(email="me@example.org")
    db.session.commit()
    _forgot(client, "me@example.org")
    [mail] = _outbox(db)
    token = _link(mail).rsplit("/", 1)[1]
    row = db.session.scalars(select(PasswordReset)).one()
    assert row.user_id == user.id and row.token_hash == PasswordReset.hash(token)
    assert token not in str(row.token_seed) and token not in str(mail.params)
    assert row.expires_at - row.created_at == timedelta(hours=1)


def test_a_reset_sets_the_password_signs_in_and_ends_every_other_log_in(
    app, client, db, factories, api_token
):
    user = factories.user(email="me@example.org")
    db.session.commit()
    headers = api_token(user)
    # Signed in elsewhere, with "keep me logged in".
    other = app.test_client()
    assert other.post("/login", data={"email": "me@example.org", "password": "password123",
                                        "remember": "y"}).status_code == 302
    assert other.get("/account").status_code == 200

    _forgot(client, "me@example.org")
    link = _link(_outbox(db)[0])
    page = client.get(link)
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    response = client.post(link, data={"password": "brand-new-pass", "confirm": "brand-new-pass"})
    assert response.status_code == 302
    # Signed in here with the new password.
    assert client.get("/account").status_code == 200
    db.session.refresh(user)
    assert user.check_password("brand-new-pass") and not user.check_password("password123")
    # The other browser (its remember-me cookie too) and the API token are out.
    other_page = other.get("/account")
    assert other_page.status_code == 302 and "/login" in other_page.headers["Location"]
    assert app.test_client().get("/api/v1/bookings", headers=headers).status_code == 401
    assert db.session.scalar(select(ApiToken.revoked_at)) is not None
    live = db.session.scalars(select(LoginSession).where(LoginSession.ended_at.is_(None))).all()
    assert len(live) == 1  # this browser's new log-in
    # The link works once.
    again = client.get(link)
    assert again.status_code == 400 and ASK_AGAIN in again.get_data(as_text=True)
    assert 'href="/password/forgot"' in again.get_data(as_text=True)


@pytest.mark.parametrize("case", ["unknown", "expired", "used", "superseded", "closed"])
def test_a_link_that_does_not_work_gets_one_message_and_the_way_to_ask_again(
    client, db, factories, time_machine, case
):
    time_machine.move_to(utcnow(), tick=False)
    user = factories.user(email="me@example.org")
    db.session.commit()
    _forgot(client, "me@example.org")
    link = _link(_outbox(db)[0])
    if case == "unknown":
        link = "/password/reset/" + "A" * 43
    elif case == "expired":
        time_machine.shift(timedelta(hours=1, seconds=1))
    elif case == "used":
        resets.reset_password(link.rsplit("/", 1)[1], "another-password")
        db.session.commit()
    elif case == "superseded":
        _forgot(client, "me@example.org")  # only the newest link works
    elif case == "closed":
        user.is_active_account = False
        db.session.commit()
    for response in (client.get(link),
                     client.post(link, data={"password": "brand-new-pass",
                                             "confirm": "brand-new-pass"})):
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert ASK_AGAIN in page and 'href="/password/forgot"' in page
    db.session.refresh(user)
    assert not user.check_password("brand-new-pass")


def test_an_hour_is_still_in_time(client, db, factories, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    factories.user(email="me@example.org")
    db.session.commit()
    _forgot(client, "me@example.org")
    link = _link(_outbox(db)[0])
    time_machine.shift(timedelta(minutes=59))
    assert client.get(link).status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"password": "short", "confirm": "short"}, "must have at least 8 characters"),
        ({"password": "long-enough-1", "confirm": "other-one-22"}, "do not match"),
    ],
)
def test_the_new_password_follows_the_policy(client, db, factories, data, message):
    user = factories.user(email="me@example.org")
    db.session.commit()
    _forgot(client, "me@example.org")
    link = _link(_outbox(db)[0])
    response = client.post(link, data=data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.check_password("password123")
    assert client.get(link).status_code == 200  # still usable


def test_a_deactivated_account_gets_no_link(client, db, factories):
    factories.user(email="gone@example.org", is_active_account=False)
    db.session.commit()
    assert _forgot(client, "gone@example.org").status_code == 200
    assert [m.kind for m in _outbox(db)] == ["password_reset_unknown"]
    assert db.session.scalars(select(PasswordReset)).first() is None


def test_not_an_address_is_a_message(client, db):
    response = _forgot(client, "not an address")
    assert response.status_code == 422
    assert "Please enter a valid email address." in response.get_data(as_text=True)
    assert _outbox(db) == []


def test_a_reset_confirms_an_unconfirmed_address(client, db, factories):
    user = factories.user(email="me@example.org", email_verified_at=None)
    db.session.commit()
    _forgot(client, "me@example.org")
    client.post(_link(_outbox(db)[0]), data={"password": "brand-new-pass",
                                             "confirm": "brand-new-pass"})
    db.session.refresh(user)
    assert user.email_verified_at is not None


def test_asking_is_throttled_per_address_and_per_network_address(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_PASSWORD_RESET_PER_ADDRESS", "2 per hour")
    monkeypatch.setitem(app.config, "RATELIMIT_PASSWORD_RESET_PER_IP", "4 per hour")
    assert _forgot(client, "a@example.org").status_code == 200
    assert _forgot(client, "a@example.org").status_code == 200
    assert _forgot(client, "A@example.org ").status_code == 429  # the same address (counted)
    assert _forgot(client, "b@example.org").status_code == 200
    assert _forgot(client, "c@example.org").status_code == 429  # this network address
    # Throttled requests send nothing.
    assert len(_outbox(db)) == 3


def test_the_pages_run_few_queries(client, db, factories, count_queries):
    factories.user(email="me@example.org")
    db.session.commit()
    with count_queries() as asked:
        _forgot(client, "me@example.org")
    link = _link(_outbox(db)[0])
    with count_queries() as opened:
        client.get(link)
    with count_queries() as done:
        client.post(link, data={"password": "brand-new-pass", "confirm": "brand-new-pass"})
    assert asked.count <= 8 and opened.count <= 4 and done.count <= 16, (
        asked.count, opened.count, done.count)
