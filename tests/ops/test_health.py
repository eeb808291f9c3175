"""/healthz and /readyz: what a monitor and a load balancer see when everything works, when the
database or Redis cannot be reached, and when work piles up."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import create_app
from app.db import utcnow
from app.extensions import db
from app.jobs.models import JobRun
from app.notifications.models import EmailDelivery
from tests.ops.conftest import free_port


def closed_port() -> int:
    return free_port()  # bound and released: nothing listens there


def outbox_row(user, **kw) -> EmailDelivery:
    row = EmailDelivery(user=user, kind="booking_received", to_address=user.email, **kw)
    db.session.add(row)
    db.session.commit()
    return row


def test_healthz_reports_every_check_and_is_not_cached(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    body = response.get_json()
    assert body["status"] == "ok"
    checks = body["checks"]
    assert checks["database"]["ok"] is True
    assert checks["redis"] == {"ok": True, "configured": False}
    assert checks["queue"] == {"ok": True, "backend": "inline"}
    assert checks["outbox"] == {"ok": True, "pending": 0, "retrying": 0, "overdue": 0,
                                "failed_24h": 0}
    assert checks["periodic"] == {"ok": True, "late": []}


def test_readyz_says_the_schema_is_at_the_migration_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["migrations"]["ok"] is True
    assert body["checks"]["migrations"]["database"] == body["checks"]["migrations"]["code"]


def test_readyz_answers_503_when_the_code_expects_a_newer_schema(app, client, monkeypatch):
    monkeypatch.setitem(app.extensions, "health.heads", {"9999"})
    response = client.get("/readyz")
    assert response.status_code == 503
    migrations = response.get_json()["checks"]["migrations"]
    assert migrations["ok"] is False
    assert migrations["code"] == ["9999"]


def test_both_answer_503_when_the_database_cannot_be_reached():
    url = f"postgresql+psycopg://gonggan@127.0.0.1:{closed_port()}/gonggan?connect_timeout=2"
    down = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    client = down.test_client()

    health = client.get("/healthz")
    assert health.status_code == 503
    body = health.get_json()
    assert body["status"] == "fail"
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    # What depends on the database is unknown, not "fine".
    assert body["checks"]["outbox"]["ok"] is False
    assert body["checks"]["periodic"]["ok"] is False
    assert "127.0.0.1" not in health.get_data(as_text=True)  # details go to the log only

    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"]["ok"] is False


def test_healthz_answers_503_when_redis_cannot_be_reached(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["redis"]["ok"] is False
    assert checks["redis"]["error"] in ("ConnectionError", "TimeoutError")
    assert checks["queue"] == {"ok": False, "error": "RedisUnavailable"}
    assert checks["database"]["ok"] is True
    # Serving pages does not need Redis: the load balancer keeps this server.
    assert client.get("/readyz").status_code == 200


def test_healthz_counts_the_rq_queue_and_fails_when_no_worker_takes_jobs(
    app, client, redis_url, monkeypatch, time_machine
):
    from app.jobs import rq_backend

    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    time_machine.move_to(utcnow(), tick=False)
    rq_backend.enqueue("bookings.sweep", [])
    checks = client.get("/healthz").get_json()["checks"]
    assert checks["redis"]["ok"] is True
    assert checks["queue"]["backend"] == "rq"
    assert checks["queue"]["waiting"] == 1
    assert checks["queue"]["ok"] is True

    time_machine.shift(timedelta(minutes=11))  # nobody took it
    response = client.get("/healthz")
    assert response.status_code == 503
    queue = response.get_json()["checks"]["queue"]
    assert queue["ok"] is False
    assert queue["oldest_waiting_minutes"] == pytest.approx(11, abs=0.2)


def test_an_email_nobody_delivers_makes_healthz_fail(client, factories, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    user = factories.user()
    outbox_row(user, next_attempt_at=utcnow() - timedelta(minutes=5))
    assert client.get("/healthz").status_code == 200  # a few minutes late: still fine

    outbox_row(user, next_attempt_at=utcnow() - timedelta(minutes=11))
    response = client.get("/healthz")
    assert response.status_code == 503
    outbox = response.get_json()["checks"]["outbox"]
    assert outbox == {"ok": False, "pending": 2, "retrying": 0, "overdue": 1, "failed_24h": 0}
    assert user.email not in response.get_data(as_text=True)


def test_emails_failing_again_and_again_mean_the_mail_server_is_down(client, factories):
    user = factories.user()
    outbox_row(user, attempts=2, next_attempt_at=utcnow() + timedelta(minutes=2))
    assert client.get("/healthz").status_code == 200  # one or two failures happen

    outbox_row(user, attempts=3, next_attempt_at=utcnow() + timedelta(minutes=4))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["outbox"]["retrying"] == 1


def test_emails_failed_for_good_are_reported_without_failing(client, factories):
    user = factories.user()
    outbox_row(user, status="failed", attempts=1, claimed_at=utcnow() - timedelta(hours=1))
    outbox_row(user, status="failed", attempts=1, claimed_at=utcnow() - timedelta(days=3))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["outbox"]["failed_24h"] == 1


def test_a_periodic_job_that_stopped_running_makes_healthz_fail(client):
    now = utcnow()
    db.session.add(JobRun(name="bookings.sweep", last_started_at=now - timedelta(minutes=4),
                          runs=10))
    db.session.add(JobRun(name="calendars.sync", last_started_at=now - timedelta(hours=2),
                          runs=3))
    db.session.commit()
    assert client.get("/healthz").status_code == 200  # within three periods

    db.session.get(JobRun, "bookings.sweep").last_started_at = now - timedelta(minutes=11)
    db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["periodic"] == {"ok": False,
                                                         "late": ["bookings.sweep"]}


def test_healthz_runs_a_bounded_number_of_queries(client, factories, count_queries):
    user = factories.user()
    for _ in range(30):
        outbox_row(user)
    client.get("/healthz")
    with count_queries() as few:
        client.get("/healthz")
    for _ in range(30):
        outbox_row(user, status="failed", claimed_at=utcnow())
    with count_queries() as many:
        client.get("/healthz")
    assert many.count == few.count <= 7

