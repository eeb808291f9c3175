"""The migrations build exactly the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.extensions import db


def test_no_pending_autogenerate_changes(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_postgresql_has_the_overlap_exclusion_constraint(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "SQLite has no exclusion constraints; its guarantee is the serialized write "
            "transaction, covered by the concurrency tests"
        )
    with db.engine.connect() as conn:
        names = {c["name"] for c in inspect(conn).get_check_constraints("bookings")}
        excl = (
            conn.exec_driver_sql(
                "SELECT conname FROM pg_constraint "
                "WHERE contype = 'x' AND conrelid = 'bookings'::regclass"
            )
            .scalars()
            .all()
        )
    assert "ck_bookings_range" in names
    assert excl == ["ex_bookings_no_overlap"]


def test_password_resets_migrate_down_and_up(app):
    from flask_migrate import downgrade, upgrade

    db.session.remove()
    downgrade(revision="0016")
    with db.engine.connect() as conn:
        assert "password_resets" not in inspect(conn).get_table_names()
    upgrade()
    with db.engine.connect() as conn:
        inspector = inspect(conn)
        assert "password_resets" in inspector.get_table_names()
        assert {c["name"] for c in inspector.get_columns("password_resets")} >= {
            "token_hash", "token_seed", "expires_at", "used_at"}


def test_the_statistics_people_index_migrates_down_and_up(app):
    from flask_migrate import downgrade, upgrade

    db.session.remove()
    downgrade(revision="0021")
    with db.engine.connect() as conn:
        assert "ix_stats_area_people_user" not in {
            i["name"] for i in inspect(conn).get_indexes("stats_area_people")}
    upgrade()
    with db.engine.connect() as conn:
        assert "ix_stats_area_people_user" in {
            i["name"] for i in inspect(conn).get_indexes("stats_area_people")}
