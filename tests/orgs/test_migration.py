"""Migration 0016 on a database with owners and spaces: down and up again keeps them, and the
owners made before applications existed are active."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text


def test_down_and_up_with_data(app, db, factories):
    org = factories.org(name="번동초등학교")
    factories.space(owner=org)
    factories.manager(org)
    db.session.commit()
    db.session.remove()
    downgrade(revision="0018")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM organisations")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM spaces")).scalar() == 1
    upgrade(revision="0016")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM organisations")).scalar() == "active"
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0016"
    upgrade()  # back to the head, for the tests that follow
