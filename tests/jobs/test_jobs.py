"""The in-process job backend: periodic jobs claimed once per period however many runners tick,
the CLI, `exclusive()` keeping two sweeps apart, and deliveries dispatched after a commit."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import g
from sqlalchemy import func, select

from app import (
    jobs,
    tasks,  # noqa: E402  (the schedule is registered on import, as create_app does)
)
from app.bookings import services
from app.bookings.models import Booking, BookingTransition
from app.db import utcnow
from app.extensions import db
from app.notifications.models import EmailDelivery, Notification
from tests.conftest import next_weekday
from tests.factories import ALWAYS_OPEN

ALL = [p.job for p in jobs.PERIODIC]
EVERY_MINUTE = [p.job for p in jobs.PERIODIC if p.every == timedelta(minutes=1)]


def in_threads(app, target, n: int = 2) -> list:
    """Run `target()` on `n` threads at the same moment, each in an application context of its
    own (so each has its own session and connection); returns their results in order."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def body(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results[i] = target()
            except BaseException as exc:  # noqa: BLE001 (reported to the test below)
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def ran(monkeypatch) -> list[str]:
    """The periodic jobs run by `tick` (recorded instead of run)."""
    calls: list[str] = []
    lock = threading.Lock()

    def record(name, *args):
        with lock:
            calls.append(name)
        return {}

    monkeypatch.setattr(jobs, "run", record)
    return calls


# --------------------------------------------------------------------------- periodic jobs
def test_two_runners_ticking_at_once_claim_each_job_once(app, ran):
    now = utcnow()
    first, second = in_threads(app, lambda: jobs.tick(now))
    assert sorted(first + second) == sorted(ALL)
    assert sorted(ran) == sorted(ALL)
    db.session.expire_all()
    runs = jobs.last_runs()
    assert {name: (r.runs, r.last_started_at) for name, r in runs.items()} == {
        name: (1, now) for name in ALL
    }
    assert {r.last_status for r in runs.values()} == {"ok"}


def test_a_second_tick_within_the_period_dispatches_nothing(ran):
    now = utcnow()
    assert jobs.tick(now) == ALL
    assert jobs.tick(now) == []
    assert jobs.tick(now + timedelta(seconds=30)) == []
    # A minute on, only the every-minute jobs are due again (a scheduler ticking every minute
    # a little early is not refused).
    assert jobs.tick(now + timedelta(seconds=58)) == EVERY_MINUTE
    assert jobs.tick(now + timedelta(minutes=1, seconds=30)) == []
    assert "notifications.reminders" in jobs.tick(now + timedelta(minutes=5))
    assert ran.count("bookings.sweep") == 3 and ran.count("calendars.sync") == 1


def test_a_failing_periodic_job_is_recorded_and_the_others_still_run(monkeypatch):
    calls = []

    def run(name, *args):
        calls.append(name)
        if name == "notifications.digests":
            raise RuntimeError("SMTP on fire")
        return {}

    monkeypatch.setattr(jobs, "run", run)
    assert jobs.tick(utcnow()) == ALL
    assert calls == ALL
    runs = jobs.last_runs()
    assert runs["notifications.digests"].last_status == "failed"
    assert "RuntimeError: SMTP on fire" in runs["notifications.digests"].last_error
    assert runs["bookings.sweep"].last_status == "ok"


# --------------------------------------------------------------------------- the CLI
def resident_request(factories, *, weeks: int = 1) -> tuple[Booking, object]:
    org = factories.org()
    manager = factories.manager(org, locale="en")
    resident = factories.user(locale="en")
    space = factories.space(owner=org, hours=ALWAYS_OPEN)
    start = next_weekday(2, 10, weeks=weeks)
    booking = services.create_booking(space, resident, start=start,
                                      end=start + timedelta(hours=1), purpose="모임",
                                      attendees=5)
    return booking, manager


def test_flask_jobs_run_and_status(runner, factories):
    resident_request(factories)  # two emails owed: request received, approval requested
    db.session.commit()
    g.pop("jobs.deferred", None)  # their dispatch is lost: the outbox sweep sends them

    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 0, result.output
    assert "backend: inline" in result.output
    assert "bookings.sweep: never run" in result.output
    assert "outbox: pending=2" in result.output

    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "dispatched: " + " ".join(ALL)

    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "dispatched: nothing due"

    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 0, result.output
    for name in ALL:
        assert f"{name}: last " in result.output
    assert "notifications.deliver_due: last" in result.output
    assert "ok (1 runs)" in result.output and "failed" not in result.output
    assert "outbox: sent=2" in result.output


def test_flask_jobs_run_only(runner):
    result = runner.invoke(args=["jobs", "run", "--only", "bookings.sweep"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "dispatched: bookings.sweep"
    assert set(jobs.last_runs()) == {"bookings.sweep"}


def test_flask_jobs_worker_needs_redis(runner):
    result = runner.invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output


# --------------------------------------------------------------------------- exclusive()
def test_two_sweeps_at_once_expire_an_overdue_request_once(app, factories, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("exclusive() takes an advisory lock on PostgreSQL only; on SQLite the "
                    "sweeps' write transactions are serialized instead")
    resident = factories.user(locale="en")
    space = factories.space(hours=ALWAYS_OPEN)
    start = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    booking = services.create_booking(space, resident, start=start,
                                      end=start + timedelta(hours=1), purpose="모임",
                                      attendees=5, now=start - timedelta(days=2))
    db.session.commit()
    assert booking.status == "requested"

    real_sweep = tasks.sweep
    inside = []

    def slow_sweep(*args, **kwargs):
        inside.append(threading.get_ident())
        time.sleep(0.5)  # long enough for the other sweep to try the lock meanwhile
        return real_sweep(*args, **kwargs)

    monkeypatch.setattr(tasks, "sweep", slow_sweep)
    results = in_threads(app, lambda: jobs.run("bookings.sweep"))
    assert len(inside) == 1
    assert sorted(r.get("expired", 0) for r in results) == [0, 1]
    assert {"skipped": 1} in results

    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "expired"
    expired = db.session.scalar(select(func.count()).select_from(BookingTransition).where(
        BookingTransition.booking_id == booking.id, BookingTransition.to_status == "expired"))
    notes = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "booking_expired"))
    assert (expired, notes) == (1, 1)
    # Run again afterwards: the lock is free again and there is nothing left to do.
    assert jobs.run("bookings.sweep")["expired"] == 0


# --------------------------------------------------------------------------- after commit
def test_a_request_s_emails_are_sent_once_it_commits(factories, client, login, use_smtp):
    org = factories.org()
    manager = factories.manager(org, locale="en")
    resident = factories.user(locale="en")
    space = factories.space(owner=org, hours=ALWAYS_OPEN)
    db.session.commit()
    login(resident)
    local = next_weekday(3, 10).astimezone(ZoneInfo("Asia/Seoul"))
    response = client.post(f"/spaces/{space.id}/book", data={
        "date": f"{local:%Y-%m-%d}", "start_time": f"{local:%H:%M}",
        "end_time": f"{local + timedelta(hours=1):%H:%M}", "attendees": "5",
        "purpose": "배드민턴 동호회", "purpose_category": "sports", "waiver": "", "send": "1",
    })
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    # By the time the response is back, the emails are out (JOBS_INLINE_AFTER_RESPONSE runs
    # them after the response is sent in production; the tests run them before).
    db.session.expire_all()
    rows = db.session.scalars(select(EmailDelivery).order_by(EmailDelivery.id)).all()
    assert sorted((r.kind, r.to_address, r.status) for r in rows) == sorted([
        ("booking_received", resident.email, "sent"),
        ("approval_requested", manager.email, "sent"),
    ])
    assert sorted(m.rcpt_tos[0] for m in use_smtp.messages) == sorted(
        [resident.email, manager.email])
    assert {m.message["Message-ID"] for m in use_smtp.messages} == {r.message_id for r in rows}
    assert jobs.run_deferred() == 0
