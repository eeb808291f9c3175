"""Jobs wrapping the existing sweeps: booking deadlines and payments, calendar sync, the
security log's retention."""

from __future__ import annotations

import logging

from app.extensions import db
from app.jobs import exclusive, job

log = logging.getLogger(__name__)


@job("bookings.sweep")
def sweep_bookings() -> dict:
    """Deadlines, expiries, lottery draws, unpaid bookings, card holds, Stripe calls owed.

    Alone across workers: two sweeps at once would each expire the same request.
    """
    from app.bookings.services import sweep
    from app.payments import work

    with exclusive("bookings.sweep") as mine:
        if not mine:
            return {"skipped": 1}
        counts = sweep()
        db.session.commit()
        work.perform_committed()
        counts.update(work.sweep())
        return counts


@job("calendars.sync")
def sync_calendars() -> int:
    """Fetch and import every external calendar that has a URL (each in its own transaction)."""
    from app.calendars.fetch import sync_all

    with exclusive("calendars.sync") as mine:
        if not mine:
            return 0
        return sync_all(log.info)


@job("stats.close_days")
def close_stats_days() -> int:
    """The events of the days that are over, summed per area (a month of days per run at most,
    so a first run on a long history catches up over a few runs)."""
    from app.stats.events import close_days

    with exclusive("stats.close_days") as mine:
        if not mine:
            return 0
        written = close_days(max_days=31)
        db.session.commit()
        return written


@job("stats.open_days")
def extend_open_days() -> int:
    """Open time for the coming days (statistics' utilisation): each day written once."""
    from app.stats.facts import extend_open

    with exclusive("stats.open_days") as mine:
        if not mine:
            return 0
        return extend_open()


@job("security.sweep")
def sweep_security_log() -> dict:
    """Security events past SECURITY_EVENT_RETENTION_DAYS (they hold network addresses) and
    spent proof-of-work solutions whose challenges have expired."""
    from app.security.retention import sweep

    with exclusive("security.sweep") as mine:
        if not mine:
            return {"skipped": 1}
        counts = sweep()
        db.session.commit()
        return counts
