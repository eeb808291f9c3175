"""One interface for background work: email delivery, reminders, deadlines, sweeps, lottery
draws, calendar sync.

A job is a named function (`@job("name")`) that runs inside an application context, commits its
own work and is idempotent: running it twice, or on two workers at once, does the work once
(its rows are claimed with conditional updates or row locks, and `exclusive()` keeps two runs
of a whole-table job from overlapping).

Two backends, chosen by configuration:

- no `REDIS_URL`: jobs run in this process — right after the request that queued them (after
  the response is sent) or at the end of the CLI command — and periodic jobs run from
  `flask jobs run` (call it from cron every minute) or `flask jobs scheduler`.
- `REDIS_URL` set: jobs go to an RQ queue in Redis and run on any number of `flask jobs worker`
  processes, on as many machines as needed; `flask jobs scheduler` (or `flask jobs run` from
  cron) enqueues the periodic ones.

Work queued inside a transaction (`enqueue_after_commit`) is dispatched only once that
transaction commits, and dropped if it rolls back. Whatever a lost dispatch would have done is
picked up by the periodic jobs (the outbox is swept every minute), so nothing depends on the
queue keeping every message.
"""

from __future__ import annotations

import hashlib
import logging
import time
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, g, has_app_context
from redis.exceptions import RedisError
from rq import get_current_job
from sqlalchemy import event, inspect, or_, select, update

from app import logs
from app.db import rowcount, serialized_writes, utcnow
from app.extensions import db
from app.jobs import rq_backend, worker
from app.jobs.models import JobRun

log = logging.getLogger(__name__)

JOBS: dict[str, Callable] = {}


def job(name: str):
    """Register `func` as the job `name`."""

    def register(func: Callable) -> Callable:
        JOBS[name] = func
        return func

    return register


@dataclass(frozen=True)
class Periodic:
    job: str
    every: timedelta


# What runs on a schedule, in order; filled by `schedule` (app.tasks, when the app is made).
# Each is claimed once per period however many runners tick.
PERIODIC: list[Periodic] = []


def schedule(name: str, every: timedelta) -> None:
    """Run job `name` every `every` (once per period, however many runners tick)."""
    if all(p.job != name for p in PERIODIC):
        PERIODIC.append(Periodic(name, every))


# --------------------------------------------------------------------------- running a job
def run(name: str, *args) -> object:
    """Run job `name` now, in this process (the application context must be pushed).

    Never leaves a failed transaction behind; exceptions propagate to the caller (the RQ worker
    records them; the in-process runner logs them).
    """
    func = JOBS[name]
    with logs.job_context(name):
        started = time.perf_counter()
        try:
            result = func(*args)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        logs.job_log.info("job %s done", name, extra={
            "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    # Work that this job queued for after its own commits.
    run_deferred()
    return result


def execute(name: str, args: list) -> object:
    """Entry point of RQ workers: runs inside the worker's application (see app.jobs.worker).
    Its log records carry the RQ job's id, and the id of the request that queued it."""
    current = get_current_job()
    meta = current.meta if current is not None else {}
    with worker.app_context(), logs.request_context(meta.get("request_id")), \
            logs.job_context(name, current.id if current is not None else None):
        try:
            return run(name, *args)
        except Exception:
            log.exception("job %s%r failed", name, tuple(args))
            raise
        finally:
            db.session.remove()


# --------------------------------------------------------------------------- dispatch
def backend_name(app: Flask | None = None) -> str:
    app = app or current_app
    return "rq" if app.config.get("REDIS_URL") else "inline"


def dispatch(name: str, *args) -> None:
    """Hand job `name` to the configured backend now. When Redis cannot take it, the job runs
    here instead: the change that queued it is committed already, and jobs are idempotent, so
    running it in process is safe where failing the request would not be."""
    if backend_name() == "rq":

        try:
            rq_backend.enqueue(name, list(args))
            return
        except (RedisError, OSError) as exc:
            log.warning("Redis refused job %s%r (%s: %s); running it in process",
                        name, args, type(exc).__name__, exc)
    try:
        run(name, *args)
    except Exception:
        # The periodic sweep retries whatever this job left undone.
        log.exception("job %s%r failed", name, args)


def enqueue_after_commit(name: str, *args) -> None:
    """Dispatch job `name` once the current transaction commits (never if it rolls back).

    Arguments may be ORM objects still waiting for their primary key; they are replaced by it.
    """
    db.session.info.setdefault("jobs.pending", []).append((name, args))


def _resolve(arg):
    if hasattr(arg, "__table__"):
        state = inspect(arg)
        return state.identity[0] if state.identity else None
    return arg


_listening = False


def register(app: Flask) -> None:
    global _listening
    worker.use(app, replace=False)
    if not _listening:  # the session is shared by every app this process makes
        _listening = True
        _listen()

    @app.before_request
    def _own_queue():
        # Jobs committed outside this request (a test's set-up sharing the app context) are not
        # this request's to run.
        g.jobs_outside = g.pop("jobs.deferred", None)

    @app.after_request
    def _after(response):
        outside = g.pop("jobs_outside", None)
        response = _dispatch_after(response)
        if outside:
            g.setdefault("jobs.deferred", [])[:0] = outside
        return response

    def _dispatch_after(response):
        if not g.get("jobs.deferred"):
            return response
        if app.config.get("JOBS_INLINE_AFTER_RESPONSE") and backend_name(app) == "inline":
            # Run once the response has been sent: the visitor never waits for SMTP.
            items = g.pop("jobs.deferred")
            ctx = app.app_context()
            request_id = logs.current_request_id()

            def _later():
                with ctx, logs.request_context(request_id):
                    g.setdefault("jobs.deferred", []).extend(items)
                    run_deferred()
                    db.session.remove()

            response.call_on_close(_later)
        else:
            run_deferred()
        return response


def _listen() -> None:
    @event.listens_for(db.session, "after_flush_postexec")
    def _ids(session, _ctx):
        pending = session.info.pop("jobs.pending", None)
        if pending:
            flushed = session.info.setdefault("jobs.flushed", [])
            for name, args in pending:
                flushed.append((name, tuple(_resolve(a) for a in args)))

    @event.listens_for(db.session, "after_commit")
    def _committed(session):
        if session.in_nested_transaction():
            # A savepoint was released (e.g. `with begin_nested():` around an insert): the
            # transaction it belongs to may still roll back, so nothing is dispatched yet.
            return
        flushed = session.info.pop("jobs.flushed", None)
        if flushed and has_app_context():
            deferred = g.setdefault("jobs.deferred", [])
            for item in flushed:
                if item not in deferred:
                    deferred.append(item)

    @event.listens_for(db.session, "after_transaction_end")
    def _ended(session, transaction):
        # Only the end of the whole transaction drops what it queued (after_commit has taken
        # what was committed). A savepoint that rolls back (one request of a bulk decision that
        # cannot be decided) leaves the others' jobs queued; a job for one of its own rows,
        # which are gone, finds nothing to do.
        if transaction.parent is None:
            session.info.pop("jobs.pending", None)
            session.info.pop("jobs.flushed", None)


def run_deferred() -> int:
    """Dispatch the jobs whose transactions committed in this context. Returns how many."""
    if not has_app_context():
        return 0
    done = 0
    while True:
        items = g.pop("jobs.deferred", None)
        if not items:
            return done
        for name, args in items:
            dispatch(name, *args)
            done += 1


# --------------------------------------------------------------------------- periodic jobs
def claim_period(name: str, every: timedelta, now: datetime) -> bool:
    """Claim this period's run of periodic job `name`; True for exactly one caller."""

    with serialized_writes():
        if db.session.get(JobRun, name) is None:
            db.session.add(JobRun(name=name, runs=0))
            try:
                db.session.commit()
            except Exception:
                db.session.rollback()  # another runner created it first
        # A small slack so a scheduler ticking every `every` is not refused by clock jitter.
        threshold = now - every + timedelta(seconds=5)
        claimed = rowcount(db.session.execute(
            update(JobRun)
            .where(
                JobRun.name == name,
                or_(JobRun.last_started_at.is_(None), JobRun.last_started_at <= threshold),
            )
            .values(last_started_at=now, runs=JobRun.runs + 1)
        ))
        db.session.commit()
    return claimed == 1


def record_result(name: str, error: str | None, now: datetime | None = None) -> None:

    with serialized_writes():
        db.session.execute(
            update(JobRun)
            .where(JobRun.name == name)
            .values(
                last_finished_at=now or utcnow(),
                last_status="failed" if error else "ok",
                last_error=error,
            )
        )
        db.session.commit()


def tick(now: datetime | None = None, *, only: set[str] | None = None) -> list[str]:
    """Dispatch every periodic job whose period has come (each claimed once across runners).
    Returns the names dispatched."""
    now = now or utcnow()
    dispatched = []
    for periodic in PERIODIC:
        if only and periodic.job not in only:
            continue
        if not claim_period(periodic.job, periodic.every, now):
            continue
        dispatched.append(periodic.job)
        if backend_name() == "rq":
            dispatch(periodic.job)
            continue
        try:
            run(periodic.job)
            record_result(periodic.job, None)
        except Exception as exc:
            log.exception("periodic job %s failed", periodic.job)
            record_result(periodic.job, f"{type(exc).__name__}: {exc}"[:2000])
    return dispatched


def last_runs() -> dict:

    return {r.name: r for r in db.session.scalars(select(JobRun))}


# --------------------------------------------------------------------------- exclusivity
def _lock_key(name: str) -> int:
    return zlib.crc32(hashlib.sha1(name.encode()).digest()) & 0x7FFFFFFF


@contextmanager
def exclusive(name: str):
    """Run a block alone across every process: yields False (and the caller skips its work)
    when another run of `name` holds it.

    PostgreSQL: a session advisory lock on a connection of its own. SQLite: the block runs in
    serialized write transactions (BEGIN IMMEDIATE), so a second run waits for the first and
    then finds the work done.
    """
    if db.engine.dialect.name != "postgresql":
        with serialized_writes():
            yield True
        return
    key = _lock_key(name)
    with db.engine.connect() as conn:
        got = conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({key})").scalar()
        conn.commit()
        try:
            yield bool(got)
        finally:
            if got:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")
                conn.commit()
