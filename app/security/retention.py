"""Keeping the security log no longer than needed: its rows hold network addresses, which are
personal data, so they are deleted after SECURITY_EVENT_RETENTION_DAYS (the `security.sweep`
job, hourly); spent proof-of-work solutions go once their challenges have expired."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete

from app.db import rowcount, utcnow
from app.extensions import db
from app.security import challenge
from app.security.models import SecurityEvent


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Delete the events older than the retention period and the expired spent solutions.
    Returns how many of each; the caller commits."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["SECURITY_EVENT_RETENTION_DAYS"])
    events = db.session.execute(delete(SecurityEvent).where(SecurityEvent.at < cutoff))
    return {"events": rowcount(events), "spent_challenges": challenge.forget_expired(now)}
