"""Registering, logging in and out, and the account page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import ApiToken, User
from app.notifications.models import EmailDelivery


def _register(client, **overrides):
    data = {
        "name": "김주민",
        "email": "resident@example.org",
        "password": "long-enough-1",
        "confirm": "long-enough-1",
        "consent_booking": "y",
        "locale": "en",
        "phone": "",
        "district": "0",
    }
    data.update(overrides)
    return client.post("/register", data=data)


def _outbox(db):
    return db.session.scalars(select(EmailDelivery).order_by(EmailDelivery.id)).all()


def test_register_creates_an_unconfirmed_account_and_mails_the_link(client, db, factories):
    gangbuk = factories.jurisdiction(name="강북구", kind="district")
    db.session.commit()
    page = client.get("/register")
    assert page.status_code == 200
    assert '<html lang="en">' in page.get_data(as_text=True)  # see conftest
    assert "강북구" in page.get_data(as_text=True)

    response = _register(
        client, email="Resident@Example.org", phone="010-1234-5678", district=str(gangbuk.id)
    )

    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    user = db.session.scalars(select(User)).one()
    assert user.email == "resident@example.org"
    assert user.locale == "en"
    assert user.phone == "010-1234-5678"
    assert user.home_district_id == gangbuk.id
    assert user.email_verified_at is None
    [mail] = _outbox(db)
    assert (mail.to_address, mail.kind) == ("resident@example.org", "email_verification")
    link = re.search(r"http://gonggan\.test(/verify-email/\S+)", mail.body_text or _render(mail))
    # The link confirms the address; then the person logs in with their password.
    response = client.get(link.group(1))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    db.session.refresh(user)
    assert user.email_verified_at is not None
    response = client.post("/login", data={"email": "resident@example.org",
                                           "password": "long-enough-1"})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200


def _render(mail):
    from app.notifications.delivery import _content

    _content(mail)
    return mail.body_text


def test_signing_up_with_a_taken_address_looks_the_same_and_tells_its_owner(
    client, db, factories
):
    owner = factories.user(email="taken@example.org", name="주인")
    db.session.commit()
    fresh = _register(client, email="new@example.org")
    taken = _register(client, email="TAKEN@example.org", name="침입자", password="other-pass-1",
                      confirm="other-pass-1")
    # Same status and the same page, apart from the address typed.
    assert (fresh.status_code, taken.status_code) == (200, 200)
    assert fresh.get_data(as_text=True).replace("new@example.org", "X") == (
        taken.get_data(as_text=True).replace("TAKEN@example.org", "X")
    )
    # Nothing changed for the owner's account, who is told by email.
    db.session.refresh(owner)
    assert owner.name == "주인" and owner.check_password("password123")
    assert db.session.scalar(select(User).where(User.name == "침입자")) is None
    kinds = {(m.to_address, m.kind) for m in _outbox(db)}
    assert ("taken@example.org", "signup_attempt") in kinds
    assert ("new@example.org", "email_verification") in kinds


def test_a_forged_or_stale_confirmation_link_changes_nothing(client, db, factories):
    user = factories.user(email="me@example.org", email_verified_at=None)
    db.session.commit()
    from app.accounts.services import verification_token

    good = verification_token(user)
    assert client.get("/verify-email/" + good[:-2] + "xx").status_code == 400
    user.email = "changed@example.org"  # the link was for the old address
    db.session.commit()
    assert client.get("/verify-email/" + good).status_code == 400
    db.session.refresh(user)
    assert user.email_verified_at is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"password": "short", "confirm": "short"}, "must have at least 8 characters"),
        ({"confirm": "something-else"}, "The two passwords do not match."),
        ({"email": "not-an-email"}, "Please enter a valid email address."),
        ({"name": "  "}, "Please enter your name."),
        ({"district": "999999"}, "Choose a district from the list."),
        ({"district": "abc"}, "Choose a district from the list."),
        ({"locale": "fr"}, 'id="locale-err"'),  # WTForms' own (translated) message
    ],
)
def test_register_explains_what_is_wrong(client, db, overrides, message):
    response = _register(client, **overrides)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(User)).first() is None


def test_a_district_must_be_a_district(client, db, factories):
    office = factories.jurisdiction(name="서울특별시교육청", kind="education_office")
    db.session.commit()
    response = _register(client, district=str(office.id))
    assert response.status_code == 422


def test_login_and_logout(client, db, factories):
    user = factories.user(email="me@example.org")
    db.session.commit()
    assert client.get("/login").status_code == 200

    response = client.post("/login", data={"email": "me@example.org", "password": "password123"})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200

    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/account").status_code == 302  # back to the login page
    assert user.email in ("me@example.org",)


@pytest.mark.parametrize(
    ("email", "password"),
    [("me@example.org", "wrong-password"), ("nobody@example.org", "password123")],
)
def test_login_failure_says_the_same_whatever_was_wrong(client, db, factories, email, password):
    factories.user(email="me@example.org")
    db.session.commit()
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 401
    assert "The email address or the password is not correct." in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_login_follows_a_local_next_only(client, db, factories):
    factories.user(email="me@example.org")
    db.session.commit()
    creds = {"email": "me@example.org", "password": "password123"}
    response = client.post("/login?next=/bookings/", data=creds)
    assert response.headers["Location"] == "/bookings/"
    client.post("/logout")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        response = client.post("/login", data={**creds, "next": evil})
        assert response.status_code == 302
        assert "evil" not in response.headers["Location"]
        assert "javascript" not in response.headers["Location"]
        client.post("/logout")


def test_protected_page_sends_to_login_with_next(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_account_edits_are_saved(client, db, factories, login):
    user = factories.user(name="옛 이름")
    district = factories.jurisdiction(name="성북구", kind="district")
    db.session.commit()
    login(user)
    response = client.post(
        "/account",
        data={
            "action": "profile",
            "profile-name": "새 이름",
            "profile-locale": "en",
            "profile-phone": "02-123-4567",
            "profile-district": str(district.id),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.name, user.locale, user.phone, user.home_district_id) == (
        "새 이름",
        "en",
        "02-123-4567",
        district.id,
    )
    page = client.get("/account").get_data(as_text=True)
    assert "새 이름" in page
    assert "Your details were saved." in page


def test_password_change_needs_the_current_password(client, db, factories, login):
    user = factories.user(email="me@example.org")
    db.session.commit()
    login(user)
    response = client.post(
        "/account",
        data={
            "action": "password",
            "password-current_password": "not-my-password",
            "password-new_password": "brand-new-secret",
            "password-confirm": "brand-new-secret",
        },
    )
    assert response.status_code == 422
    assert "The current password is not correct." in response.get_data(as_text=True)

    response = client.post(
        "/account",
        data={
            "action": "password",
            "password-current_password": "password123",
            "password-new_password": "brand-new-secret",
            "password-confirm": "brand-new-secret",
        },
    )
    assert response.status_code == 302
    client.post("/logout")
    old = client.post("/login", data={"email": "me@example.org", "password": "password123"})
    assert old.status_code == 401
    new = client.post("/login", data={"email": "me@example.org", "password": "brand-new-secret"})
    assert new.status_code == 302


def test_token_is_shown_once_and_can_be_revoked(client, db, factories, login):
    user = factories.user()
    db.session.commit()
    login(user)
    response = client.post("/account", data={"action": "token", "token-name": "캘린더 스크립트"})
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    plain = re.search(r'value="(ggn_[^"]+)"', page).group(1)
    row = db.session.scalars(select(ApiToken)).one()
    assert row.user_id == user.id
    assert row.token_hash == ApiToken.hash(plain)

    listing = client.get("/account").get_data(as_text=True)
    assert "캘린더 스크립트" in listing
    assert row.prefix in listing
    assert plain not in listing  # never shown again

    response = client.post("/account", data={"action": "revoke", "revoke-token_id": str(row.id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).revoked_at is not None
    assert "캘린더 스크립트" not in client.get("/account").get_data(as_text=True)


def test_token_needs_a_name(client, db, factories, login):
    login(factories.user())
    db.session.commit()
    response = client.post("/account", data={"action": "token", "token-name": " "})
    assert response.status_code == 422
    assert "Please name the token." in response.get_data(as_text=True)
    assert db.session.scalars(select(ApiToken)).first() is None


def test_cannot_revoke_someone_elses_token(client, db, factories, login):
    owner = factories.user()
    other = factories.user()
    row, _plain = ApiToken.issue(owner, "theirs")
    db.session.commit()
    login(other)
    response = client.post("/account", data={"action": "revoke", "revoke-token_id": str(row.id)})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).revoked_at is None
    assert "theirs" not in client.get("/account").get_data(as_text=True)


def test_a_token_from_the_account_page_works_on_the_api_until_revoked(
    client, app, db, factories, login
):
    from tests.conftest import next_weekday

    user = factories.user()
    start = next_weekday(2, 10)
    mine = factories.booking(factories.space(), user, start=start, end=start + timedelta(hours=1))
    factories.booking(factories.space(), start=start, end=start + timedelta(hours=1))
    db.session.commit()
    login(user)
    page = client.post("/account", data={"action": "token", "token-name": "script"})
    plain = re.search(r'value="(ggn_[^"]+)"', page.get_data(as_text=True)).group(1)
    client.post("/logout")

    api = app.test_client()  # no session cookie: the token alone
    headers = {"Authorization": f"Bearer {plain}"}
    listing = api.get("/api/v1/bookings", headers=headers)
    assert listing.status_code == 200
    assert [b["id"] for b in listing.get_json()["items"]] == [mine.id]
    assert api.post(f"/api/v1/bookings/{mine.id}/cancel", headers=headers).status_code == 200

    login(user)
    row = db.session.scalars(select(ApiToken)).one()
    db.session.refresh(row)
    assert row.last_used_at is not None  # a write through the API records the use
    token_row = re.search(
        r"<td>script</td>.*?</tr>", client.get("/account").get_data(as_text=True), re.S
    )
    assert "Never" not in token_row.group(0)
    client.post("/account", data={"action": "revoke", "revoke-token_id": str(row.id)})
    assert api.get("/api/v1/bookings", headers=headers).status_code == 401


def test_account_page_runs_a_bounded_number_of_queries(db, factories, login, queries_of_get):
    from app.accounts.models import ApiToken

    user = factories.user()
    db.session.commit()
    login(user)

    few = queries_of_get("/account")
    for n in range(12):
        ApiToken.issue(user, f"token {n}")
        factories.jurisdiction(name=f"구 {n}")
    db.session.commit()
    assert queries_of_get("/account") == few
