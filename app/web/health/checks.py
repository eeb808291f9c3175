"""What /healthz and /readyz report. Each check is bounded: one short connection to the database
with a statement time-out, counts capped at COUNT_CAP, a Redis client with short time-outs.
Failures are reported by kind only (the details, which name hosts, go to the log)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.engine import Connection

from app.db import utcnow
from app.extensions import db
from app.jobs import PERIODIC
from app.jobs.models import JobRun
from app.notifications.models import DeliveryState, EmailDelivery
from app.notifications.models import EmailDelivery as E

log = logging.getLogger(__name__)

# Counts stop here: "1000" means a thousand or more, and no count scans a whole table.
COUNT_CAP = 1000


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _failed(what: str, exc: BaseException) -> dict:
    log.warning("health: %s failed: %s: %s", what, type(exc).__name__, exc)
    return {"ok": False, "error": type(exc).__name__}


def _cfg(name: str):
    return current_app.config[name]


@contextmanager
def _connect() -> Iterator[Connection]:
    """A connection of its own (the request's session stays untouched) whose statements give up
    after HEALTH_TIMEOUT_SECONDS on PostgreSQL; it is rolled back and returned to the pool."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            millis = max(1, int(_cfg("HEALTH_TIMEOUT_SECONDS") * 1000))
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {millis}")
        yield conn


def _capped_count(conn: Connection, *conditions) -> int:

    rows = select(EmailDelivery.id).where(*conditions).limit(COUNT_CAP).subquery()
    return conn.execute(select(func.count()).select_from(rows)).scalar_one()


def outbox(conn: Connection, now: datetime) -> dict:
    """Emails owed: pending, retrying after failures, overdue (due HEALTH_BACKLOG_MINUTES ago
    and still not sent: nothing is delivering), failed for good in the last day."""

    late = now - timedelta(minutes=_cfg("HEALTH_BACKLOG_MINUTES"))
    stale = late - timedelta(minutes=current_app.config.get("MAIL_SENDING_STALE_MINUTES", 15))
    counts = {
        "pending": _capped_count(conn, E.status == DeliveryState.PENDING),
        "retrying": _capped_count(conn, E.status == DeliveryState.PENDING,
                                  E.attempts >= _cfg("HEALTH_MAIL_RETRIES")),
        "overdue": _capped_count(conn, or_(
            and_(E.status == DeliveryState.PENDING, E.next_attempt_at < late),
            and_(E.status == DeliveryState.SENDING, E.claimed_at < stale),
        )),
        "failed_24h": _capped_count(conn, E.status == DeliveryState.FAILED,
                                    E.claimed_at >= now - timedelta(days=1)),
    }
    return {"ok": counts["overdue"] == 0 and counts["retrying"] == 0, **counts}


def periodic(conn: Connection, now: datetime) -> dict:
    """Periodic jobs that have run before but not for three of their periods (and at least
    HEALTH_BACKLOG_MINUTES): the scheduler or cron entry has stopped."""

    slack = timedelta(minutes=_cfg("HEALTH_BACKLOG_MINUTES"))
    started = dict(conn.execute(select(JobRun.name, JobRun.last_started_at)).tuples().all())
    late = []
    for p in PERIODIC:
        last = started.get(p.job)
        if last is None:
            continue  # never run: a fresh installation, nothing to compare with
        if last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        if last < now - max(3 * p.every, slack):
            late.append(p.job)
    return {"ok": not late, "late": late}


# --------------------------------------------------------------------------- Redis
_redis_clients: dict[tuple[str, float], object] = {}


def _redis(url: str):
    from redis import Redis

    timeout = float(_cfg("HEALTH_TIMEOUT_SECONDS"))
    client = _redis_clients.get((url, timeout))
    if client is None:
        client = _redis_clients[(url, timeout)] = Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout)
    return client


def redis_check(url: str) -> dict:
    started = time.perf_counter()
    try:
        _redis(url).ping()
    except Exception as exc:  # redis-py's errors and the OSErrors beneath them
        return _failed("redis", exc)
    return {"ok": True, "ms": _ms(started)}


def queue(url: str, now: datetime) -> dict:
    """Jobs waiting on the RQ queue; unhealthy when the oldest waited HEALTH_BACKLOG_MINUTES
    (no worker is taking them)."""
    from rq import Queue, Worker
    from rq.job import Job

    conn = _redis(url)
    try:
        q = Queue(_cfg("JOBS_QUEUE"), connection=conn)
        waiting = q.count
        oldest = None
        first = q.get_job_ids(0, 1)
        if first:
            job = Job.fetch(first[0], connection=conn)
            if job.enqueued_at is not None:
                enqueued = job.enqueued_at
                if enqueued.tzinfo is None:
                    enqueued = enqueued.replace(tzinfo=UTC)
                oldest = round((now - enqueued).total_seconds() / 60, 1)
        workers = Worker.count(queue=q)
    except Exception as exc:
        return _failed("job queue", exc)
    limit = _cfg("HEALTH_BACKLOG_MINUTES")
    return {"ok": oldest is None or oldest < limit, "backend": "rq", "waiting": waiting,
            "oldest_waiting_minutes": oldest, "workers": workers}


# --------------------------------------------------------------------------- the reports
def _database(checks: dict[str, dict], then: Callable[[Connection], None],
              dependents: tuple[str, ...]) -> None:
    """Check the database answers (checks["database"]), then run `then` on the same connection;
    when the database is down, every check in `dependents` is reported as unknown."""
    started = time.perf_counter()
    try:
        with _connect() as conn:
            conn.execute(text("SELECT 1"))
            checks["database"] = {"ok": True, "ms": _ms(started)}
            then(conn)
    except Exception as exc:
        checks["database"] = _failed("database", exc)
        for name in dependents:
            checks[name] = {"ok": False, "error": "DatabaseUnavailable"}


def health(now: datetime | None = None) -> dict:
    """Every dependency (database, Redis when configured) and the job backlog."""
    now = now or utcnow()
    checks: dict[str, dict] = {}

    def backlog(conn: Connection) -> None:
        try:
            checks["outbox"] = outbox(conn, now)
            checks["periodic"] = periodic(conn, now)
        except Exception as exc:
            checks["outbox"] = checks["periodic"] = _failed("backlog queries", exc)

    _database(checks, backlog, dependents=("outbox", "periodic"))
    url = current_app.config.get("REDIS_URL")
    if url:
        checks["redis"] = redis_check(url)
        checks["queue"] = (queue(url, now) if checks["redis"]["ok"]
                           else {"ok": False, "error": "RedisUnavailable"})
    else:
        checks["redis"] = {"ok": True, "configured": False}
        checks["queue"] = {"ok": True, "backend": "inline"}
    return _report(checks)


def _heads() -> set[str]:
    heads = current_app.extensions.get("health.heads")
    if heads is None:
        from alembic.script import ScriptDirectory

        directory = current_app.extensions["migrate"].directory
        heads = current_app.extensions["health.heads"] = set(
            ScriptDirectory(directory).get_heads())
    return heads


def readiness() -> dict:
    """The database answers and its schema is the one this code expects (migrations at head)."""
    checks: dict[str, dict] = {}

    def migrations(conn: Connection) -> None:
        try:
            found = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        except Exception as exc:  # no alembic_version: never migrated
            checks["migrations"] = _failed("migration version", exc)
        else:
            expected = _heads()
            checks["migrations"] = {"ok": found == expected, "database": sorted(found),
                                    "code": sorted(expected)}

    _database(checks, migrations, dependents=("migrations",))
    return _report(checks)


def _report(checks: dict) -> dict:
    return {"status": "ok" if all(c["ok"] for c in checks.values()) else "fail",
            "checks": checks}
