"""Migration 0021 adds the claims, the verified residency and the waiver state, and removes
them on the way down (on SQLite and PostgreSQL alike); 0022 adds what to capture of a hold
whose price went down (payments.capture_amount)."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app.extensions import db


def _schema() -> tuple[set[str], set[str], set[str]]:
    with db.engine.connect() as conn:
        found = inspect(conn)
        return (set(found.get_table_names()),
                {c["name"] for c in found.get_columns("users")},
                {c["name"] for c in found.get_columns("bookings")})


def test_0021_upgrades_and_downgrades(app, factories):
    person = factories.user(home_district_id=factories.jurisdiction().id)
    db.session.commit()
    person_id = person.id
    db.session.remove()
    downgrade(revision="0019")
    tables, users, bookings = _schema()
    assert "verifications" not in tables
    assert "home_district_verified_at" not in users and "waiver_state" not in bookings
    upgrade(revision="0021")
    tables, users, bookings = _schema()
    assert "verifications" in tables
    assert "home_district_verified_at" in users and "waiver_state" in bookings
    with db.engine.connect() as conn:
        # A district claimed before the migration stays unverified.
        assert conn.execute(text("SELECT home_district_verified_at FROM users WHERE id = :id"),
                            {"id": person_id}).scalar() is None
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0021"
    upgrade()


def test_0022_adds_and_removes_the_amount_to_capture(app):
    def columns() -> set[str]:
        with db.engine.connect() as conn:
            return {c["name"] for c in inspect(conn).get_columns("payments")}

    db.session.remove()
    assert "capture_amount" in columns()
    downgrade(revision="0021")
    assert "capture_amount" not in columns()
    upgrade(revision="0022")
    assert "capture_amount" in columns()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0022"
    upgrade()  # back to the head, for the tests that follow
