"""The jobs that tie packages together, and the schedule of every periodic job.

Imported when the app is made (create_app), so every job is registered in every process that
runs them: web workers, `flask jobs ...` and RQ workers. Jobs of one package live in it
(notifications.delivery, notifications.periodic); the ones here combine packages (the sweep
runs bookings' deadlines, then the payment work they left).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from app.bookings.sweeps import sweep
from app.calendars.fetch import sync_all
from app.extensions import db
from app.jobs import exclusive, job, schedule
from app.notifications import delivery, periodic  # noqa: F401  (they register their jobs)
from app.payments import settlement, work  # noqa: F401  (settlement registers its job)
from app.privacy import retention as privacy_retention  # noqa: F401  (registers its job)
from app.security import retention
from app.stats.events import close_days
from app.stats.facts import extend_open

log = logging.getLogger(__name__)


@job("bookings.sweep")
def sweep_bookings() -> dict:
    """Deadlines, expiries, lottery draws, unpaid bookings, card holds, Stripe calls owed.

    Alone across workers: two sweeps at once would each expire the same request.
    """
    with exclusive("bookings.sweep") as mine:
        if not mine:
            return {"skipped": 1}
        counts = sweep()
        db.session.commit()
        counts.update(work.sweep())
        return counts


@job("calendars.sync")
def sync_calendars() -> int:
    """Fetch and import every external calendar that has a URL (each in its own transaction)."""
    with exclusive("calendars.sync") as mine:
        if not mine:
            return 0
        return sync_all(log.info)


@job("stats.close_days")
def close_stats_days() -> int:
    """The events of the days that are over, summed per area (a month of days per run at most,
    so a first run on a long history catches up over a few runs)."""
    with exclusive("stats.close_days") as mine:
        if not mine:
            return 0
        written = close_days(max_days=31)
        db.session.commit()
        return written


@job("stats.open_days")
def extend_open_days() -> int:
    """Open time for the coming days (statistics' utilisation): each day written once."""
    with exclusive("stats.open_days") as mine:
        if not mine:
            return 0
        return extend_open()


@job("security.sweep")
def sweep_security_log() -> dict:
    """Security events past SECURITY_EVENT_RETENTION_DAYS (they hold network addresses) and
    spent proof-of-work solutions whose challenges have expired."""
    with exclusive("security.sweep") as mine:
        if not mine:
            return {"skipped": 1}
        counts = retention.sweep()
        db.session.commit()
        return counts


# Every periodic job, in the order a tick runs them.
for _name, _every in (
    ("bookings.sweep", timedelta(minutes=1)),
    ("notifications.deliver_due", timedelta(minutes=1)),
    ("notifications.reminders", timedelta(minutes=5)),
    ("notifications.approval_deadlines", timedelta(minutes=15)),
    ("notifications.digests", timedelta(minutes=15)),
    ("notifications.weekly_summaries", timedelta(hours=1)),
    ("calendars.sync", timedelta(hours=1)),
    ("stats.open_days", timedelta(hours=6)),
    ("stats.close_days", timedelta(hours=1)),
    ("security.sweep", timedelta(hours=1)),
    ("payments.settle", timedelta(hours=1)),
    ("privacy.retention", timedelta(days=1)),
):
    schedule(_name, _every)
