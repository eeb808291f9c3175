"""Migration 0021 adds the claims, the verified residency and the waiver state, and removes
them on the way down (on SQLite and PostgreSQL alike)."""

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
    upgrade()
    tables, users, bookings = _schema()
    assert "verifications" in tables
    assert "home_district_verified_at" in users and "waiver_state" in bookings
    with db.engine.connect() as conn:
        # A district claimed before the migration stays unverified.
        assert conn.execute(text("SELECT home_district_verified_at FROM users WHERE id = :id"),
                            {"id": person_id}).scalar() is None
        # Back at the head (0021 or a later migration).
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() >= "0021"
