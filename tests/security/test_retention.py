"""The security log is kept SECURITY_EVENT_RETENTION_DAYS, then deleted by the hourly
`security.sweep` job; spent proof-of-work solutions go once their challenges have expired."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app import jobs
from app.security.models import (
    BOOKING_REQUESTED,
    LOGIN,
    THROTTLED,
    SecurityEvent,
    SpentChallenge,
)
from tests.security.conftest import NOW, event


def test_the_sweep_is_periodic():
    assert {p.job: p.every for p in jobs.PERIODIC}["security.sweep"] == timedelta(hours=1)


def test_old_events_and_expired_solutions_are_deleted(factories, db, frozen, app, monkeypatch):
    monkeypatch.setitem(app.config, "SECURITY_EVENT_RETENTION_DAYS", 30)
    user, space = factories.user(), factories.space()
    kept = [
        event(LOGIN, at=NOW - timedelta(days=29, hours=23), user=user),
        event(BOOKING_REQUESTED, at=NOW - timedelta(hours=1), user=user, space=space),
    ]
    event(THROTTLED, at=NOW - timedelta(days=30, minutes=1), user=user)
    event(BOOKING_REQUESTED, at=NOW - timedelta(days=400), user=user, space=space)
    db.session.add_all([
        SpentChallenge(key="a" * 64, expires_at=NOW - timedelta(seconds=1)),
        SpentChallenge(key="b" * 64, expires_at=NOW + timedelta(minutes=5)),
    ])
    db.session.commit()
    kept_ids = sorted(e.id for e in kept)

    assert jobs.run("security.sweep") == {"events": 2, "spent_challenges": 1}
    db.session.expire_all()
    assert sorted(db.session.scalars(select(SecurityEvent.id))) == kept_ids
    assert db.session.scalars(select(SpentChallenge.key)).all() == ["b" * 64]
    assert jobs.run("security.sweep") == {"events": 0, "spent_challenges": 0}
