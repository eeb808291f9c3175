"""The command line a district's administrator uses: seed, users, tokens, the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import ApiToken, User
from app.bookings.models import Booking
from app.spaces.models import Space


def test_seed_demo_loads_once(runner, db):
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    spaces = db.session.scalar(select(func.count()).select_from(Space))
    bookings = db.session.scalar(select(func.count()).select_from(Booking))
    assert spaces >= 30 and bookings > 0
    again = runner.invoke(args=["seed", "demo"])
    assert again.exit_code == 0, again.output
    assert db.session.scalar(select(func.count()).select_from(Space)) == spaces
    assert db.session.scalar(select(func.count()).select_from(Booking)) == bookings


@pytest.mark.parametrize(
    ("role", "extra", "check"),
    [
        ("resident", [], lambda u: u.role_names == ["resident"]),
        ("manager", ["--org", "school"], lambda u: u.is_manager),
        ("staff", ["--org", "school"], lambda u: u.is_manager),
        ("principal", ["--org", "school"], lambda u: u.org_roles and "principal" in u.role_names),
        ("officer", ["--jurisdiction", "gangbuk"], lambda u: u.is_officer),
        ("admin", [], lambda u: u.is_admin),
    ],
)
def test_users_create_gives_each_role(runner, db, factories, client, role, extra, check):
    factories.org(slug="school")
    factories.jurisdiction(slug="gangbuk")
    db.session.commit()
    result = runner.invoke(
        args=["users", "create", "New@Example.kr", "--name", "새 사용자",
              "--password", "a-long-password", "--role", role, *extra]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User).where(User.email == "new@example.kr")).one()
    assert check(user)
    login = client.post("/login", data={"email": "new@example.kr", "password": "a-long-password"})
    assert login.status_code == 302


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "manager"], "needs an existing organisation"),
        (["--role", "manager", "--org", "nowhere"], "needs an existing organisation"),
        (["--role", "officer"], "needs an existing jurisdiction"),
        (["--role", "officer", "--org", "school"], "Only managers, principals and staff"),
        (["--role", "resident", "--jurisdiction", "gangbuk"], "Only officers"),
    ],
)
def test_users_create_refuses_what_does_not_fit(runner, db, factories, english, args, message):
    factories.org(slug="school")
    factories.jurisdiction(slug="gangbuk")
    db.session.commit()
    result = runner.invoke(
        args=["users", "create", "x@example.kr", "--name", "X", "--password", "a-long-password",
              *args]
    )
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_users_token_prints_a_working_token(runner, db, factories, client):
    factories.user(email="kim@example.kr")
    db.session.commit()
    result = runner.invoke(args=["users", "token", "KIM@example.kr"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    response = client.get("/api/v1/bookings", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1
    missing = runner.invoke(args=["users", "token", "nobody@example.kr"])
    assert missing.exit_code != 0 and "no user" in missing.output


def test_bookings_sweep_expires_requests_whose_time_began(runner, db, factories, now):
    from tests.factories import ALWAYS_OPEN

    space = factories.space(hours=ALWAYS_OPEN)
    start = now - timedelta(hours=1)
    booking = factories.booking(
        space, start=start, end=start + timedelta(hours=2), now=start - timedelta(days=1)
    )
    db.session.commit()
    result = runner.invoke(args=["bookings", "sweep"])
    assert result.exit_code == 0, result.output
    assert "expired=1" in result.output
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "expired"
    assert "expired=0" in runner.invoke(args=["bookings", "sweep"]).output


def test_users_create_makes_confirmed_accounts_unless_told(runner, db):
    for address, flag in (("yes@example.kr", []), ("no@example.kr", ["--unverified"])):
        result = runner.invoke(args=["users", "create", address, "--name", "X",
                                     "--password", "a-long-password", *flag])
        assert result.exit_code == 0, result.output
    users = {u.email: u for u in db.session.scalars(select(User))}
    assert users["yes@example.kr"].email_verified_at is not None
    assert users["no@example.kr"].email_verified_at is None
