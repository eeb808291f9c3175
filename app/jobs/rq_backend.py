"""The distributed backend: RQ on Redis.

Why RQ rather than Celery: our jobs are plain functions with ids for arguments, Redis is the
only broker a district needs to run, and RQ is a small, well-established library (one
dependency, no separate beat process, a dashboard and CLI of its own) whose workers scale out by
starting more processes on more machines. Celery's extra machinery (several brokers, canvases,
result backends) buys us nothing here, and the guarantees that matter — an email sent once, a
booking expired once — come from the database, not from the queue.
"""

from __future__ import annotations

from flask import current_app
from redis import Redis
from rq import Queue, Retry, SimpleWorker

from app import logs
from app.jobs import worker

_connections: dict[tuple[str, bool], Redis] = {}

# Putting a job on the queue happens inside a web request: an unreachable Redis must fail it in
# seconds (the job then runs in process, see app.jobs.dispatch), not after the system's TCP
# time-out. A worker's connection has no read time-out: it blocks on the queue by design.
ENQUEUE_TIMEOUT_SECONDS = 3


def connection(url: str | None = None, *, worker: bool = False) -> Redis:
    url = url or current_app.config["REDIS_URL"]
    conn = _connections.get((url, worker))
    if conn is None:
        timeouts = {} if worker else {"socket_connect_timeout": ENQUEUE_TIMEOUT_SECONDS,
                                      "socket_timeout": ENQUEUE_TIMEOUT_SECONDS}
        conn = _connections[(url, worker)] = Redis.from_url(url, **timeouts)
    return conn


def queue(url: str | None = None, *, worker: bool = False) -> Queue:
    return Queue(
        current_app.config.get("JOBS_QUEUE", "gonggan"),
        connection=connection(url, worker=worker),
        default_timeout=current_app.config.get("JOBS_TIMEOUT", 600),
    )


def enqueue(name: str, args: list):
    """Put job `name` on the queue; RQ retries a job that raised 3 times (10 s, 1 min, 5 min)."""
    return queue().enqueue(
        "app.jobs.execute",
        name,
        args,
        retry=Retry(max=3, interval=[10, 60, 300]),
        result_ttl=3600,
        failure_ttl=7 * 86400,
        description=f"{name}{tuple(args)!r}",
        meta={"request_id": logs.current_request_id()},
    )


def work(*, burst: bool = False, name: str | None = None) -> bool:
    """Run a worker on this process until stopped (or, with `burst`, until the queue is empty).

    SimpleWorker runs each job in this process, inside the application the CLI built, instead of
    forking a child per job (which would inherit open database connections).
    """

    # current_app is a LocalProxy (Flask types it as the app itself); the worker keeps the app.
    worker.use(current_app._get_current_object())  # type: ignore[attr-defined]
    w = SimpleWorker([queue(worker=True)], connection=connection(worker=True), name=name)
    return w.work(burst=burst, with_scheduler=True, logging_level="WARNING")
