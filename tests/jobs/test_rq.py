"""The RQ backend on a real Redis: what a commit enqueues (and a rollback does not), two real
`flask jobs worker` processes draining a queue full of duplicates so that every email arrives
exactly once, and periodic jobs put on the queue instead of run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from rq import Queue
from sqlalchemy import select

from app import jobs
from app.bookings import services
from app.db import utcnow
from app.extensions import db
from app.jobs import rq_backend
from app.notifications.models import EmailDelivery
from tests.conftest import next_weekday
from tests.factories import ALWAYS_OPEN

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


@pytest.fixture
def rq_app(app, redis_url, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    assert jobs.backend_name(app) == "rq"
    return app


def queued(app) -> Queue:
    return rq_backend.queue(app.config["REDIS_URL"])


def queued_calls(app) -> list[tuple]:
    return [tuple(j.args) for j in queued(app).get_jobs()]


class World:
    def __init__(self, factories):
        self.org = factories.org()
        self.manager = factories.manager(self.org, locale="en")
        self.resident = factories.user(locale="en")
        self.space = factories.space(owner=self.org, hours=ALWAYS_OPEN)
        self.start = next_weekday(2, 10)

    def request(self, n: int = 0):
        start = self.start + timedelta(hours=2 * n)
        return services.create_booking(self.space, self.resident, start=start,
                                       end=start + timedelta(hours=1), purpose="모임",
                                       attendees=5)


def test_a_commit_enqueues_its_deliveries_and_a_rollback_nothing(rq_app, factories):
    w = World(factories)
    db.session.commit()
    w.request()
    db.session.flush()
    db.session.rollback()
    assert jobs.run_deferred() == 0
    assert queued(rq_app).count == 0

    w = World(factories)
    w.request()
    db.session.commit()
    rows = db.session.scalars(select(EmailDelivery).order_by(EmailDelivery.id)).all()
    assert len(rows) == 2
    assert queued(rq_app).count == 0  # handed over after the commit, by run_deferred
    assert jobs.run_deferred() == 2
    jobs_ = queued(rq_app).get_jobs()
    assert [j.func_name for j in jobs_] == ["app.jobs.execute"] * 2
    assert sorted(tuple(j.args) for j in jobs_) == sorted(
        ("notifications.deliver", [r.id]) for r in rows)
    # Only queued: nothing was sent in this process.
    db.session.expire_all()
    assert {r.status for r in db.session.scalars(select(EmailDelivery))} == {"pending"}


def test_tick_enqueues_the_periodic_jobs_instead_of_running_them(rq_app, monkeypatch):
    def must_not_run(name, *args):
        raise AssertionError(f"{name} ran in the scheduler")

    monkeypatch.setattr(jobs, "run", must_not_run)
    names = [p.job for p in jobs.PERIODIC]
    now = utcnow()
    assert jobs.tick(now) == names
    assert sorted(queued_calls(rq_app)) == sorted((name, []) for name in names)
    assert jobs.tick(now + timedelta(seconds=30)) == []
    assert queued(rq_app).count == len(names)


def _worker(name: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [FLASK, "jobs", "worker", "--burst", "--name", name],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _finish(procs: list[subprocess.Popen], timeout: float) -> list[str]:
    """Wait for `procs` (killing whichever is still running after `timeout` seconds in all);
    returns their output."""
    deadline = time.monotonic() + timeout
    outputs = []
    for proc in procs:
        try:
            out, _ = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate(timeout=10)
            out = f"[killed after {timeout} s]\n{out}"
        outputs.append(out)
    return outputs


def test_two_workers_drain_a_queue_of_duplicates_and_send_each_email_once(
    rq_app, factories, smtp_server, redis_url
):
    w = World(factories)
    for n in range(15):  # each request owes two emails: the resident's and the manager's
        w.request(n)
    db.session.commit()
    assert jobs.run_deferred() == 30
    rows = db.session.scalars(select(EmailDelivery).order_by(EmailDelivery.id)).all()
    assert len(rows) == 30
    for row in reversed(rows):  # every row enqueued a second time
        rq_backend.enqueue("notifications.deliver", [row.id])
    assert queued(rq_app).count == 60
    db.session.rollback()  # hold no transaction while the workers write

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "REDIS_"))}
    env.update(
        FLASK_APP="wsgi", GONGGAN_CONFIG="development",
        DATABASE_URL=os.environ["TEST_DATABASE_URL"], REDIS_URL=redis_url,
        MAIL_SERVER=smtp_server.host, MAIL_PORT=str(smtp_server.port), MAIL_USE_TLS="0",
        BASE_URL=rq_app.config["BASE_URL"], GEOCODER="none",
    )
    workers = []
    try:
        workers = [_worker(f"test-worker-{n}-{os.getpid()}", env) for n in (1, 2)]
        outputs = _finish(workers, timeout=30)
    finally:
        for proc in workers:  # never leave a worker behind, whatever happened
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    assert [proc.returncode for proc in workers] == [0, 0], outputs
    assert not any("Traceback" in out for out in outputs), outputs

    assert queued(rq_app).count == 0
    assert queued(rq_app).failed_job_registry.count == 0
    db.session.expire_all()
    rows = db.session.scalars(select(EmailDelivery).order_by(EmailDelivery.id)).all()
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}
    received = smtp_server.messages
    assert len(received) == 30
    assert sorted(m.message["Message-ID"] for m in received) == sorted(
        r.message_id for r in rows)
    assert sorted(m.rcpt_tos[0] for m in received) == sorted(r.to_address for r in rows)
