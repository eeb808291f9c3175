"""Request ids and log lines: every request gets an id, echoed in X-Request-ID; every record
made while it runs carries it, and so do the jobs it queued, beside their own job id; production
prints one JSON object per line, development readable text."""

from __future__ import annotations

import io
import json
import logging

import pytest

from app import jobs, logs
from app.jobs import rq_backend

HEADER = "X-Request-ID"


def log_inside_the_home_page(monkeypatch, message="inside the view"):
    """The home page logs `message` while it renders (as any service might)."""
    import app.web.main.routes as home

    real = home.render_template

    def render(*args, **kwargs):
        logging.getLogger("gonggan.probe").warning(message)
        return real(*args, **kwargs)

    monkeypatch.setattr(home, "render_template", render)


@pytest.fixture
def lines(app, monkeypatch):
    """The process's log, as production prints it (one JSON object per line), in a buffer."""
    monkeypatch.setitem(app.config, "LOG_FORMAT", "json")
    monkeypatch.setitem(app.config, "LOG_REQUESTS", True)
    buffer = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = logs.configure(app, stream=buffer)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_every_request_gets_its_own_id_in_the_response(client):
    first = client.get("/")
    second = client.get("/static/css/app.css")
    assert len(first.headers[HEADER]) == 32
    assert second.headers[HEADER] != first.headers[HEADER]


def test_an_id_sent_by_a_client_is_not_trusted_without_a_proxy(client):
    response = client.get("/", headers={HEADER: "chosen-by-the-visitor"})
    assert response.headers[HEADER] != "chosen-by-the-visitor"


def test_the_id_of_a_trusted_proxy_is_kept_unless_it_is_malformed(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PROXY_FIX_X_FOR", 1)
    sent = "8f14e45f-ceea-467f-a0e6-4e2b4a1c9d01"
    assert client.get("/", headers={HEADER: sent}).headers[HEADER] == sent
    for bad in ('x" forged="1', "a" * 200, ""):
        echoed = client.get("/", headers={HEADER: bad}).headers[HEADER]
        assert echoed != bad and len(echoed) == 32


def test_every_record_made_during_a_request_carries_its_id(client, monkeypatch, caplog):
    log_inside_the_home_page(monkeypatch)
    caplog.set_level(logging.INFO)
    response = client.get("/")
    inside = [r for r in caplog.records if r.getMessage() == "inside the view"]
    assert [r.request_id for r in inside] == [response.headers[HEADER]]

    logging.getLogger("gonggan.probe").warning("after the request")
    after = [r for r in caplog.records if r.getMessage() == "after the request"]
    assert not hasattr(after[0], "request_id")  # the id does not outlive its request


def test_production_prints_one_json_object_per_line(client, monkeypatch, lines):
    log_inside_the_home_page(monkeypatch)
    response = client.get("/")
    request_id = response.headers[HEADER]
    logging.getLogger("gonggan.probe").error("broke", exc_info=ValueError("multi\nline"))

    records = lines()  # every line parsed as JSON, or the fixture fails
    ours = [r for r in records if r.get("request_id") == request_id]
    assert [(r["logger"], r["level"], r["message"]) for r in ours] == [
        ("gonggan.probe", "WARNING", "inside the view"),
        ("gonggan.request", "INFO", "GET / 200"),
    ]
    access = ours[1]
    assert access["route"] == "/" and access["status"] == 200 and access["method"] == "GET"
    assert access["duration_ms"] >= 0
    assert access["time"].endswith("+00:00")
    error = records[-1]
    assert error["message"] == "broke" and "ValueError: multi" in error["exc_info"]
    assert "request_id" not in error


def test_the_request_line_names_the_route_not_the_path_with_its_secrets(client, lines):
    client.get("/calendars/secret-token-123.ics")
    client.get("/no/such/page")
    text = "\n".join(json.dumps(r) for r in lines())
    assert "secret-token-123" not in text
    assert '"route": "/calendars/<token>.ics"' in text
    assert '"route": null' in text  # the unmatched path is not printed either


def test_development_prints_readable_lines_with_the_request_id(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOG_FORMAT", "text")
    log_inside_the_home_page(monkeypatch)
    buffer = io.StringIO()
    handler = logs.configure(app, stream=buffer)
    try:
        request_id = client.get("/").headers[HEADER]
    finally:
        logging.getLogger().removeHandler(handler)
    line = buffer.getvalue().strip().splitlines()[-1]
    assert line.endswith(f"WARNING gonggan.probe [request={request_id[:12]}]: inside the view")


def test_jobs_log_with_their_own_id(monkeypatch, caplog):
    def noisy():
        logging.getLogger("gonggan.probe").warning("working")

    monkeypatch.setitem(jobs.JOBS, "test.noisy", noisy)
    caplog.set_level(logging.INFO)
    jobs.run("test.noisy")
    jobs.run("test.noisy")
    working = [r for r in caplog.records if r.getMessage() == "working"]
    done = [r for r in caplog.records if r.getMessage() == "job test.noisy done"]
    assert [r.job for r in working] == ["test.noisy", "test.noisy"]
    assert working[0].job_id != working[1].job_id
    assert [r.job_id for r in done] == [r.job_id for r in working]
    assert all(r.duration_ms >= 0 for r in done)


def test_jobs_a_request_queued_log_with_the_request_id(app, client, factories, caplog):
    from app.notifications.models import EmailDelivery

    user = factories.user()
    row = EmailDelivery(user=user, kind="booking_received", to_address=user.email)
    from app.extensions import db

    db.session.add(row)
    db.session.commit()
    caplog.set_level(logging.INFO)
    admin = factories.user(is_admin=True)
    db.session.commit()
    client.post("/login", data={"email": admin.email, "password": "password123"})
    # Sending an email again from the outbox page queues its delivery for after the commit.
    row.status = "failed"
    db.session.commit()
    response = client.post(f"/admin/outbox/{row.id}/retry")
    assert response.status_code == 302
    done = [r for r in caplog.records if r.getMessage() == "job notifications.deliver done"]
    assert [r.request_id for r in done] == [response.headers[HEADER]]
    assert done[0].job_id


def test_an_rq_job_logs_with_the_rq_job_id_and_the_request_that_queued_it(
    app, redis_url, monkeypatch, caplog
):
    def noisy():
        logging.getLogger("gonggan.probe").warning("on the worker")

    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(jobs.JOBS, "test.noisy", noisy)
    caplog.set_level(logging.INFO)
    with logs.request_context("req-42"):
        queued = rq_backend.enqueue("test.noisy", [])
    rq_backend.work(burst=True)
    [record] = [r for r in caplog.records if r.getMessage() == "on the worker"]
    assert (record.job_id, record.job, record.request_id) == (queued.id, "test.noisy", "req-42")


def test_health_probes_are_logged_only_when_they_fail(app, client, lines, monkeypatch):
    client.get("/healthz")
    monkeypatch.setitem(app.extensions, "health.heads", {"9999"})
    client.get("/readyz")
    assert [r["message"] for r in lines() if r["logger"] == "gonggan.request"] == [
        "GET /readyz 503"]
