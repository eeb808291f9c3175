"""Email delivery over a real SMTP conversation (aiosmtpd on localhost): what arrives, retries
with back-off on temporary refusals and connection trouble, permanent refusals, rows left
`sending` by a worker that died, the development backend, and the outbox's atomicity (nothing is
sent for a change that rolled back)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import jobs
from app.bookings import services
from app.bookings.models import Booking
from app.db import utcnow
from app.extensions import db
from app.notifications import delivery
from app.notifications.models import EmailDelivery, Notification
from tests.conftest import next_weekday
from tests.notifications.conftest import PERMANENT, TEMPORARY, free_port

MINUTE = timedelta(minutes=1)
SEOUL = ZoneInfo("Asia/Seoul")


class World:
    def __init__(self, factories):
        self.org = factories.org()
        self.manager = factories.manager(self.org, locale="en")
        self.resident = factories.user(name="김주민", locale="en")
        self.space = factories.space(owner=self.org, name="체육관")
        self.start = next_weekday(2, 10)

    def request(self, *, quiet: bool = True, weeks: int = 1) -> Booking:
        """A committed request; `quiet`: without the emails its creation sends (request received,
        approval requested), so the outbox holds only what the test makes."""
        start = next_weekday(2, 10, weeks=weeks)
        db.session.info["notifications.off"] = quiet
        try:
            booking = services.create_booking(
                self.space, self.resident, start=start, end=start + timedelta(hours=1),
                purpose="배드민턴 동호회", attendees=5,
            )
            db.session.commit()
        finally:
            db.session.info.pop("notifications.off", None)
        jobs.run_deferred()
        return booking

    def approve(self, booking: Booking) -> EmailDelivery:
        """Approve `booking` (commit, nothing dispatched yet); returns the resident's email."""
        services.approve(booking, self.manager)
        db.session.commit()
        return outbox_row("booking_approved")


@pytest.fixture
def w(factories) -> World:
    world = World(factories)
    db.session.commit()
    return world


def outbox_row(kind: str) -> EmailDelivery:
    db.session.expire_all()
    return db.session.scalars(select(EmailDelivery).where(EmailDelivery.kind == kind)).one()


def fresh(row: EmailDelivery) -> EmailDelivery:
    db.session.expire_all()
    return db.session.get(EmailDelivery, row.id)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------- what arrives
def test_an_approval_arrives_with_text_html_and_calendar_file(w, use_smtp, client, login):
    booking = w.request(quiet=False)
    login(w.manager)  # the login request's end dispatches what the request queued
    response = client.post(f"/manage/bookings/{booking.id}/approve")
    assert response.status_code == 302
    row = outbox_row("booking_approved")
    assert (row.status, row.last_error) == ("sent", None)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    assert row.to_address == w.resident.email

    received = [m for m in use_smtp.to(w.resident.email)
                if m.message["Message-ID"] == row.message_id]
    assert len(received) == 1
    got = received[0]
    assert got.rcpt_tos == [w.resident.email]
    msg = got.message
    assert msg["To"] == w.resident.email
    assert msg["Subject"] == row.subject and row.subject.strip()
    assert msg["Auto-Submitted"] == "auto-generated"
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().strip() and "<" in html.get_content()
    assert plain.get_content().strip() == row.body_text.strip()
    calendars = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(calendars) == 1
    assert calendars[0].get_filename() == f"booking-{booking.id}.ics"
    assert calendars[0].get_param("charset") == "utf-8"  # the file has Korean in it
    ics = calendars[0].get_content()
    assert "BEGIN:VEVENT" in ics and "체육관" in ics and "김주민" in ics
    # The emails of the request itself went out too: the manager heard of it.
    assert len(use_smtp.to(w.manager.email)) == 1
    assert all(r.status == "sent" for r in db.session.scalars(select(EmailDelivery)))


def test_a_service_approval_is_sent_once_its_transaction_commits(w, use_smtp):
    booking = w.request()
    row = w.approve(booking)
    assert row.status == "pending" and use_smtp.messages == []
    assert jobs.run_deferred() == 1
    assert fresh(row).status == "sent"
    assert [m.message["Message-ID"] for m in use_smtp.messages] == [row.message_id]
    # Dispatching again (a duplicate from the queue, a sweep) sends nothing more.
    assert delivery.deliver(row.id) == "skipped"
    assert delivery.deliver_due(utcnow() + MINUTE) == {}
    assert len(use_smtp.messages) == 1


# --------------------------------------------------------------------------- failures
def test_a_temporary_refusal_is_retried_after_a_minute_and_sent_once(w, use_smtp):
    row = w.approve(w.request())
    t0 = utcnow()
    use_smtp.refuse(TEMPORARY)
    assert delivery.deliver(row.id, t0) == "retry"
    row = fresh(row)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "451" in row.last_error and "try later" in row.last_error
    assert row.next_attempt_at == t0 + MINUTE
    assert use_smtp.messages == []

    # Not due yet: nothing happens.
    assert delivery.deliver_due(t0 + timedelta(seconds=30)) == {}
    assert delivery.deliver(row.id, t0 + timedelta(seconds=30)) == "skipped"
    # Due: sent, exactly once however often the sweep runs.
    assert delivery.deliver_due(t0 + MINUTE) == {"sent": 1}
    assert delivery.deliver_due(t0 + 2 * MINUTE) == {}
    assert delivery.deliver_due(t0 + timedelta(days=1)) == {}
    row = fresh(row)
    assert (row.status, row.attempts) == ("sent", 2)
    assert "451" in row.last_error  # kept: the row shows it needed another try
    assert [m.message["Message-ID"] for m in use_smtp.messages] == [row.message_id]


def test_a_server_that_is_down_is_tried_again(w, app, use_smtp, monkeypatch):
    row = w.approve(w.request())
    t0 = utcnow()
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    assert delivery.deliver(row.id, t0) == "retry"
    row = fresh(row)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "refused" in row.last_error.lower()
    assert row.next_attempt_at == t0 + MINUTE
    # Down for the second attempt too: the wait doubles.
    assert delivery.deliver_due(t0 + MINUTE) == {"retry": 1}
    assert fresh(row).next_attempt_at == t0 + 3 * MINUTE
    monkeypatch.setitem(app.config, "MAIL_PORT", use_smtp.port)
    assert delivery.deliver_due(t0 + 3 * MINUTE) == {"sent": 1}
    assert fresh(row).attempts == 3
    assert len(use_smtp.messages) == 1


def test_a_permanent_refusal_fails_at_once(w, use_smtp):
    row = w.approve(w.request())
    t0 = utcnow()
    use_smtp.refuse(PERMANENT)
    assert delivery.deliver(row.id, t0) == "failed"
    row = fresh(row)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550" in row.last_error and "no such user" in row.last_error
    assert row.sent_at is None
    assert delivery.deliver_due(t0 + timedelta(days=2)) == {}
    assert use_smtp.messages == []


def test_temporary_failures_give_up_after_the_last_attempt(w, app, use_smtp, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    row = w.approve(w.request())
    use_smtp.refuse(TEMPORARY, 5)
    when = utcnow()
    outcomes = []
    for _ in range(4):
        outcomes.append(delivery.deliver_due(when))
        when = max(when, fresh(row).next_attempt_at)
    assert outcomes == [{"retry": 1}, {"retry": 1}, {"failed": 1}, {}]
    row = fresh(row)
    assert (row.status, row.attempts) == ("failed", 3)
    assert "451" in row.last_error
    assert use_smtp.messages == []


def test_a_row_left_sending_is_sent_again_with_the_same_message_id(w, app, use_smtp,
                                                                 monkeypatch):
    row = w.approve(w.request())
    t0 = utcnow()
    # The worker dies after the SMTP server accepted the message, before recording it.
    finish = delivery._finish

    def crash(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(delivery, "_finish", crash)
    with pytest.raises(SystemExit):
        delivery.deliver(row.id, t0)
    db.session.rollback()
    monkeypatch.setattr(delivery, "_finish", finish)
    row = fresh(row)
    assert (row.status, row.attempts) == ("sending", 1)
    assert len(use_smtp.messages) == 1

    stale = timedelta(minutes=app.config["MAIL_SENDING_STALE_MINUTES"])
    # Another worker leaves it alone while it may still be in progress…
    assert delivery.deliver_due(t0 + stale - MINUTE) == {}
    # …and sends it once it is stale, as the same message.
    assert delivery.deliver_due(t0 + stale) == {"sent": 1}
    row = fresh(row)
    assert (row.status, row.attempts) == ("sent", 2)
    ids = [m.message["Message-ID"] for m in use_smtp.messages]
    assert ids == [row.message_id, row.message_id]
    subjects = {m.message["Subject"] for m in use_smtp.messages}
    assert subjects == {row.subject}


def test_a_claimed_row_that_never_sent_is_picked_up_when_stale(w, app, use_smtp):
    row = w.approve(w.request())
    t0 = utcnow()
    assert delivery.claim(row.id, t0)  # claimed, then the worker vanished
    assert not delivery.claim(row.id, t0)  # nobody else may claim it meanwhile
    stale = timedelta(minutes=app.config["MAIL_SENDING_STALE_MINUTES"])
    assert delivery.deliver_due(t0 + stale - MINUTE) == {}
    assert delivery.deliver_due(t0 + stale) == {"sent": 1}
    assert [m.message["Message-ID"] for m in use_smtp.messages] == [fresh(row).message_id]


def test_the_dev_backend_keeps_the_message_and_sends_nothing(w, app, smtp_server):
    assert app.config["MAIL_BACKEND"] == "dev"
    row = w.approve(w.request())
    assert row.subject is None
    assert jobs.run_deferred() == 1
    row = fresh(row)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    assert row.subject and row.body_text and row.body_html
    assert smtp_server.messages == []


# --------------------------------------------------------------------------- atomicity
def test_a_rolled_back_change_leaves_no_notification_and_sends_nothing(w, use_smtp):
    start = next_weekday(3, 10)
    # create_booking inserts inside a savepoint of its own: releasing it is no commit.
    services.create_booking(
        w.space, w.resident, start=start, end=start + timedelta(hours=1),
        purpose="배드민턴", attendees=5,
    )
    db.session.flush()
    assert count(Notification) > 0 and count(EmailDelivery) > 0  # written with the change
    db.session.rollback()
    assert count(Booking) == 0
    assert (count(Notification), count(EmailDelivery)) == (0, 0)
    assert jobs.run_deferred() == 0
    assert delivery.deliver_due(utcnow() + timedelta(days=1)) == {}
    assert use_smtp.messages == []


def test_a_rolled_back_savepoint_leaves_no_notification_and_sends_nothing(w, use_smtp,
                                                                         factories):
    booking = w.request()
    savepoint = db.session.begin_nested()
    services.approve(booking, w.manager)
    db.session.flush()
    assert count(EmailDelivery) == 1
    savepoint.rollback()
    factories.user()  # the outer transaction goes on and commits something else
    db.session.commit()
    assert (count(Notification), count(EmailDelivery)) == (0, 0)
    assert db.session.get(Booking, booking.id).status == "requested"
    jobs.run_deferred()  # whatever was queued finds no row to send
    assert delivery.deliver_due(utcnow() + timedelta(days=1)) == {}
    assert use_smtp.messages == []


def test_a_bulk_decision_sends_the_emails_of_the_requests_it_decided(w, use_smtp, client,
                                                                      login):
    """Each request of a bulk decision is decided in a savepoint; one that cannot be decided
    rolls back its own savepoint, not the emails of the others."""
    a, b, c = (w.request(weeks=n) for n in (1, 2, 3))
    services.reject(b, w.manager, reason="겹치는 행사")
    db.session.commit()
    jobs.run_deferred()
    assert len(use_smtp.messages) == 1  # the rejection
    login(w.manager)
    response = client.post("/manage/queue/bulk",
                           data={"action": "approve", "ids": [a.id, b.id, c.id]})
    assert response.status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(select(EmailDelivery).where(
        EmailDelivery.kind == "booking_approved").order_by(EmailDelivery.id)).all()
    assert [r.notification.booking_id for r in rows] == [a.id, c.id]
    assert [r.status for r in rows] == ["sent", "sent"]
    assert {m.message["Message-ID"] for m in use_smtp.messages[1:]} == {
        r.message_id for r in rows}


def test_a_request_refused_by_validation_sends_nothing(w, use_smtp, client, login):
    login(w.resident)
    start = next_weekday(3, 10)
    local = start.astimezone(SEOUL)
    response = client.post(f"/spaces/{w.space.id}/book", data={
        "date": f"{local:%Y-%m-%d}", "start_time": f"{local:%H:%M}",
        "end_time": f"{local + timedelta(hours=1):%H:%M}",
        "attendees": "500",  # more than the space holds
        "purpose": "배드민턴 동호회", "purpose_category": "sports", "waiver": "",
        "send": "1",
    })
    assert response.status_code == 422
    assert (count(Booking), count(Notification), count(EmailDelivery)) == (0, 0, 0)
    assert delivery.deliver_due(utcnow() + timedelta(days=1)) == {}
    assert use_smtp.messages == []


# --------------------------------------------------------------------------- back-off
def test_backoff_doubles_from_a_minute_up_to_its_cap(app):
    waits = [delivery.backoff(n) for n in range(0, 16)]
    assert waits[:6] == [MINUTE, MINUTE, 2 * MINUTE, 4 * MINUTE, 8 * MINUTE, 16 * MINUTE]
    assert all(a <= b for a, b in zip(waits, waits[1:], strict=False))
    cap = timedelta(seconds=app.config["MAIL_RETRY_MAX_SECONDS"])
    assert cap == timedelta(hours=6)
    assert waits[-1] == cap and delivery.backoff(1000) == cap
    assert waits[9] == timedelta(minutes=256) and waits[10] == cap  # 512 min > 6 h
