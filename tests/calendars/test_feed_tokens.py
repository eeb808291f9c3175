"""Secret feed addresses are kept like API tokens: only the token's SHA-256 and a short prefix
are stored, the address is shown once (in the answer that made it, never in a redirect, a
flash message or a cookie), and feeds that existed before hashing keep working after the
migration."""

from __future__ import annotations

import hashlib
import importlib.util
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from app import create_app
from app.calendars.models import CalendarFeed
from app.notifications.models import Notification
from tests.calendars.test_ics import make_feed

MIGRATION = Path(__file__).parents[2] / "migrations" / "versions" / "0010_feed_tokens.py"


@pytest.fixture
def migration():
    spec = importlib.util.spec_from_file_location("feed_tokens_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def world(factories, db, now):
    org = factories.org(name="번동초등학교")
    manager = factories.manager(org, locale="en")
    resident = factories.user(locale="en")
    space = factories.space(owner=org)
    start = (now + timedelta(days=3)).replace(hour=10, minute=0, second=0)
    factories.booking(space, resident, start=start, end=start + timedelta(hours=1))
    db.session.commit()
    return {"org": org, "manager": manager, "resident": resident}


def stored_values(db) -> list[str]:
    """Every value of every calendar_feeds row, as text."""
    rows = db.session.execute(text("SELECT * FROM calendar_feeds")).all()
    return [str(value) for row in rows for value in row]


def test_the_database_holds_only_the_hash_and_a_prefix(world, client, login, db):
    login(world["resident"])
    personal = make_feed(client)
    login(world["manager"])
    organisation = make_feed(client, world["org"].id)
    for token in (personal, organisation):
        assert all(token not in value for value in stored_values(db))
        row = db.session.scalars(select(CalendarFeed).where(
            CalendarFeed.token_hash == hashlib.sha256(token.encode()).hexdigest())).one()
        assert row.prefix == token[:8] and len(token) > 40
        assert client.get(f"/calendars/{token}.ics").status_code == 200


def test_the_address_is_shown_once_then_only_its_prefix_and_date(world, client, login, db):
    login(world["resident"])
    response = client.post("/account/calendars?lang=en", data={"action": "create"})
    assert response.status_code == 201 and "Location" not in response.headers
    page = response.get_data(as_text=True)
    token = re.search(r"calendars/([A-Za-z0-9_-]+)\.ics", page).group(1)
    assert f"webcal://localhost/calendars/{token}.ics" in page
    assert f"http://localhost/calendars/{token}.ics" in page
    assert "shown only this once" in page
    assert all(token not in cookie for cookie in response.headers.getlist("Set-Cookie"))

    again = client.get("/account/calendars?lang=en").get_data(as_text=True)
    assert token not in again and "webcal://" not in again and "calendars/" + token[:8] not in again
    row = db.session.scalars(select(CalendarFeed)).one()
    assert f"starting with {token[:8]}…" in again
    assert "Make a new address" in again and "Stop this address" in again
    assert str(row.created_at.year) in again
    # The address still works; it is simply not shown again.
    assert client.get(f"/calendars/{token}.ics").status_code == 200


def test_regenerating_stops_the_old_address_of_that_feed_only(world, client, login, db):
    login(world["manager"])
    personal = make_feed(client)
    old = make_feed(client, world["org"].id)
    new = make_feed(client, world["org"].id)
    assert client.get(f"/calendars/{old}.ics").status_code == 404
    assert client.get(f"/calendars/{new}.ics").status_code == 200
    assert client.get(f"/calendars/{personal}.ics").status_code == 200
    client.post("/account/calendars", data={"action": "revoke",
                                            "organisation": world["org"].id})
    assert client.get(f"/calendars/{new}.ics").status_code == 404
    assert client.get(f"/calendars/{personal}.ics").status_code == 200


@pytest.mark.parametrize("token", ["", "x" * 65, "x" * 5000, "%00", "../../etc"],
                         ids=["empty", "65", "5000", "nul", "dots"])
def test_odd_addresses_are_not_found(client, token):
    assert client.get(f"/calendars/{token}.ics").status_code == 404


def test_the_migration_hashes_as_the_app_does(world, client, db, migration):
    plain = "an-address-made-before-hashing-0123456789ab"
    digest, prefix = migration.hashed(plain)
    assert (digest, prefix) == (CalendarFeed.hash(plain), plain[:CalendarFeed.PREFIX_LENGTH])
    db.session.add(CalendarFeed(kind="personal", user=world["resident"], token_hash=digest,
                                prefix=prefix))
    db.session.commit()
    assert client.get(f"/calendars/{plain}.ics").status_code == 200


def test_a_feed_made_before_the_upgrade_opens_after_it(tmp_path, migration):
    """The upgrade run on a real row: a fresh SQLite database at the previous revision gets a
    feed with a plain token, is upgraded to the newest revision and serves that address."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/old.sqlite"})
    plain = "subscribed-in-a-phone-calendar-long-ago-0123"
    with app.app_context():
        from app.extensions import db

        upgrade(revision=migration.down_revision)
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (id, email, name, password_hash, locale, is_admin, "
                "is_active_account, created_at, reminder_hours) VALUES (1, 'old@example.org', "
                "'주민', 'x', 'ko', false, true, '2026-01-01 00:00:00', 24)"))
            conn.execute(text(
                "INSERT INTO calendar_feeds (kind, user_id, token, created_at) "
                "VALUES ('personal', 1, :token, '2026-01-01 00:00:00')"), {"token": plain})
        upgrade()
        row = db.session.scalars(select(CalendarFeed)).one()
        assert (row.token_hash, row.prefix) == migration.hashed(plain)
        assert plain not in stored_values(db)
        response = app.test_client().get(f"/calendars/{plain}.ics")
        assert response.status_code == 200 and b"BEGIN:VCALENDAR" in response.data
        db.session.remove()
        db.engine.dispose()


def test_the_migration_takes_imported_titles_out_of_closure_notices(factories, db, migration):
    """Notices written before titles were private: a reason stays only when a closure typed by
    hand on that space says it."""
    space, elsewhere = factories.space(), factories.space()
    factories.closure(space, datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 2, 2, tzinfo=UTC),
                      reason="보일러 점검")
    resident = factories.user()

    def notice(space_id, reason):
        note = Notification(kind="closure_conflict", channel="in_app", user=resident,
                            params={"booking": {"space_id": space_id, "space": "체육관"},
                                    "closure": {"start": "2027-02-01T00:00:00+00:00",
                                                "end": "2027-02-02T00:00:00+00:00",
                                                "reason": reason}})
        db.session.add(note)
        return note

    typed = notice(space.id, "보일러 점검")
    imported = notice(space.id, "교직원 연수 (김선생 병가)")
    same_words_elsewhere = notice(elsewhere.id, "보일러 점검")
    none = notice(space.id, None)
    other = Notification(kind="booking_received", channel="in_app", user=resident,
                         params={"closure": {"reason": "교직원 연수"}})
    db.session.add(other)
    db.session.commit()

    migration.scrub_imported_titles(db.session.connection())
    db.session.commit()
    db.session.expire_all()
    reasons = [n.params["closure"]["reason"] for n in (typed, imported, same_words_elsewhere,
                                                       none, other)]
    assert reasons == ["보일러 점검", None, None, None, "교직원 연수"]
    assert typed.params["booking"]["space"] == "체육관"  # the rest of the notice is kept
    assert db.session.scalar(select(func.count(Notification.id))) == 5
