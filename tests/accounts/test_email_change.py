"""Changing the address: it changes only when the new address is confirmed from its link; the
old address is told when it is asked and when it is done."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.accounts.models import User
from app.notifications.delivery import _content
from app.notifications.models import EmailDelivery


def _outbox(db):
    return db.session.scalars(select(EmailDelivery).order_by(EmailDelivery.id)).all()


def _ask(client, email="new@example.org", password="password123"):
    return client.post("/account/email", data={"email-email": email, "email-password": password})


def _confirm_link(db) -> str:
    mail = next(m for m in _outbox(db) if m.kind == "email_change_confirm")
    _content(mail)
    found = re.search(r"http://gonggan\.test(/account/email/\S+)", mail.body_text or "")
    assert found, mail.body_text
    return found.group(1)


def test_the_account_page_offers_the_change(client, db, factories, login):
    user = factories.user(email="old@example.org")
    db.session.commit()
    login(user)
    page = client.get("/account").get_data(as_text=True)
    assert "Change your email address" in page and 'action="/account/email"' in page


def test_the_address_changes_only_once_confirmed_and_the_old_one_is_told(
    client, db, factories, login
):
    user = factories.user(email="old@example.org")
    db.session.commit()
    login(user)
    response = _ask(client)
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.email == "old@example.org"  # not yet
    assert [(m.to_address, m.kind) for m in _outbox(db)] == [
        ("new@example.org", "email_change_confirm"),
        ("old@example.org", "email_change_notice"),
    ]
    notice = _outbox(db)[1]
    _content(notice)
    assert "new@example.org" in (notice.body_text or "")
    assert "/password/forgot" in (notice.body_text or "")

    link = _confirm_link(db)
    assert client.get(link).status_code == 302
    db.session.refresh(user)
    assert user.email == "new@example.org" and user.email_verified_at is not None
    done = _outbox(db)[-1]
    assert (done.to_address, done.kind, done.params["done"]) == (
        "old@example.org", "email_change_notice", True)
    # The new address logs in; the link works once.
    assert client.get(link).status_code == 400
    client.post("/logout")
    assert client.post("/login", data={"email": "new@example.org",
                                       "password": "password123"}).status_code == 302


def test_the_password_is_needed_and_mistakes_change_nothing(client, db, factories, login):
    user = factories.user(email="old@example.org")
    db.session.commit()
    login(user)
    for data, message in (
        ({"password": "wrong-password"}, "The current password is not correct."),
        ({"email": "not an address"}, "Please enter a valid email address."),
        ({"email": "OLD@example.org"}, "This is already your address."),
    ):
        response = _ask(client, **data)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert _outbox(db) == []


def test_a_password_change_cancels_a_pending_change(client, db, factories, login):
    user = factories.user(email="old@example.org")
    db.session.commit()
    login(user)
    _ask(client)
    link = _confirm_link(db)
    client.post("/account", data={"action": "password",
                                  "password-current_password": "password123",
                                  "password-new_password": "another-pass-1",
                                  "password-confirm": "another-pass-1"})
    response = client.get(link)
    assert response.status_code == 400
    assert "does not work any more" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.email == "old@example.org"


def test_an_address_taken_meanwhile_is_not_taken_over(client, db, factories, login):
    user = factories.user(email="old@example.org")
    db.session.commit()
    login(user)
    _ask(client)
    link = _confirm_link(db)
    factories.user(email="new@example.org")
    db.session.commit()
    response = client.get(link)
    assert response.status_code == 400
    assert "Another account uses this address now" in response.get_data(as_text=True)
    assert db.session.scalars(select(User.email).where(User.id == user.id)).one() == (
        "old@example.org")


def test_asking_is_throttled(app, client, db, factories, login, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_EMAIL_CHANGE_PER_ACCOUNT", "2 per hour")
    user = factories.user(email="old@example.org")
    db.session.commit()
    login(user)
    assert _ask(client, "a@example.org").status_code == 302
    assert _ask(client, "b@example.org").status_code == 302
    assert _ask(client, "c@example.org").status_code == 429
