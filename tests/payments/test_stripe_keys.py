"""Idempotency keys against Stripe's rules: one installation's keys never meet another's, a
request sent again after a lost answer is the same request under the same key, and an error
Stripe stored against a key is not retried under it."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from app import jobs
from app.payments import keys, work
from app.payments.models import Installation, Payment, PaymentLog
from tests.payments.conftest import flashes
from tests.payments.test_flows import _approve, _approved, _checkout, _request
from tests.payments.test_holds_refunds import _authorised


@contextmanager
def _impatient(app):
    """The app gives Stripe half a second and does not retry by itself: a slow answer is lost."""
    old = {k: app.config[k] for k in ("STRIPE_TIMEOUT", "STRIPE_MAX_NETWORK_RETRIES")}
    app.config.update(STRIPE_TIMEOUT=0.5, STRIPE_MAX_NETWORK_RETRIES=0)
    app.extensions.pop("gonggan_stripe", None)
    try:
        yield
    finally:
        app.config.update(old)
        app.extensions.pop("gonggan_stripe", None)


def _keys(double, path: str) -> list[str]:
    return [r["idempotency_key"] for r in double.api_requests
            if r["method"] == "POST" and r["path"] == path]


def test_every_key_carries_the_installation_id(app, db, factories, paid_space, slot,
                                                stripe_double, client, login):
    booking = _approved(db, factories, paid_space(), slot)
    _checkout(client, login, booking)
    installation = db.session.get(Installation, 1).installation_id
    assert len(installation) == 16
    assert _keys(stripe_double.double, "/v1/checkout/sessions") == [
        f"gg-{installation}-booking-{booking.id}-checkout-1"]
    # Written once: asking again gives the same id.
    app.extensions.pop("gonggan_installation_id", None)
    assert keys.installation_id() == installation


def test_two_installations_on_one_stripe_account_do_not_collide(
    app, db, factories, paid_space, slot, stripe_double, client, login
):
    booking = _approved(db, factories, paid_space(), slot)
    first = _checkout(client, login, booking)
    # A second installation (say staging next to production) whose booking 1 is another one:
    # same booking id, same attempt, another installation id.
    db.session.execute(delete(PaymentLog))
    db.session.execute(delete(Payment))
    db.session.execute(delete(Installation))
    db.session.commit()
    app.extensions.pop("gonggan_installation_id", None)
    second = _checkout(client, login, booking)
    assert second != first  # its own session, not the other installation's replayed
    sent = _keys(stripe_double.double, "/v1/checkout/sessions")
    assert len(set(sent)) == 2 and all(k.startswith("gg-") for k in sent)


def test_a_checkout_sent_again_after_a_lost_answer_is_the_same_request(
    app, db, factories, paid_space, slot, stripe_double, client, login, time_machine
):
    booking = _approved(db, factories, paid_space(), slot)
    double = stripe_double.double
    with _impatient(app):
        double.delay_next("/v1/checkout/sessions", 1.5, after=True)  # made, answer lost
        login(booking.user)
        response = client.post(f"/bookings/{booking.id}/pay")
        assert response.status_code == 302 and any(k == "error" for k, _ in flashes(client))
    double.wait_idle()
    pending = db.session.scalars(select(Payment)).one()
    assert pending.status == "open" and pending.stripe_session_id is None
    planned = pending.expires_at

    # The resident clicks again a little later.
    time_machine.move_to(datetime.now(UTC) + timedelta(minutes=3), tick=True)
    url = _checkout(client, login, booking)
    requests = [r for r in double.api_requests if r["path"] == "/v1/checkout/sessions"]
    assert len(requests) == 2
    assert requests[0]["idempotency_key"] == requests[1]["idempotency_key"]
    assert requests[0]["params"] == requests[1]["params"]  # expires_at included
    assert int(requests[1]["params"]["expires_at"]) == int(planned.timestamp())
    sessions = [o for o in double._objects.values() if o["object"] == "checkout.session"]
    assert [s["url"] for s in sessions] == [url]  # one session: the first one, picked up
    db.session.expire_all()
    payment = db.session.scalars(select(Payment)).one()
    assert payment.stripe_session_id == sessions[0]["id"] and payment.attempt == 1


def test_a_checkout_stripe_answered_with_a_500_is_tried_again_as_a_new_attempt(
    app, db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space(booking_mode="instant")
    booking = _request(factories, space, slot)
    db.session.commit()
    with _impatient(app):
        stripe_double.double.fail_next("/v1/checkout/sessions", 500)
        login(booking.user)
        assert client.post(f"/bookings/{booking.id}/pay").status_code == 302
    _checkout(client, login, booking)
    db.session.expire_all()
    attempts = db.session.scalars(select(Payment).order_by(Payment.attempt)).all()
    assert [(p.attempt, p.status) for p in attempts] == [(1, "failed"), (2, "open")]
    sent = _keys(stripe_double.double, "/v1/checkout/sessions")
    assert sent[0].endswith("-checkout-1") and sent[-1].endswith("-checkout-2")


def test_a_capture_stripe_answered_with_a_500_is_retried_under_a_new_key(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    space.owner.card_holds = True
    db.session.commit()
    booking = _authorised(db, factories, space, slot, stripe_double, client, login)
    double = stripe_double.double
    double.fail_next("/v1/payment_intents", 500)
    _approve(db, booking, factories.manager(space.owner))
    payment = db.session.scalars(select(Payment)).one()
    assert payment.pending_action == "capture" and payment.key_round == 1
    work.sweep()
    jobs.run_deferred()
    db.session.expire_all()
    assert payment.status == "succeeded"
    captures = [r["idempotency_key"] for r in double.api_requests
                if r["path"].endswith("/capture")]
    # The sweep's try is under the next key (the first one would only get the 500 again).
    assert captures[-1] == captures[0] + "-r1"
    assert len(set(captures)) == 2


def test_another_installations_payment_for_its_booking_1_is_not_taken_for_ours(
    db, factories, paid_space, slot, stripe_double
):
    """Stripe sends every event of the account to every endpoint: a payment the other
    installation took for its own booking with our booking's id must not pay ours."""
    import stripe

    booking = _approved(db, factories, paid_space(), slot)
    other = stripe.StripeClient("sk_test_other", base_addresses={"api": stripe_double.double.url})
    metadata = {"booking_id": str(booking.id), "attempt": "1", "installation": "0123456789abcdef"}
    session = other.v1.checkout.sessions.create({
        "mode": "payment", "success_url": "http://other.test/ok", "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "line_items": [{"quantity": 1, "price_data": {
            "currency": "krw", "unit_amount": booking.price_amount,
            "product_data": {"name": "다른 설치의 예약"}}}],
    }, {"idempotency_key": "gg-0123456789abcdef-booking-1-checkout-1"})
    stripe_double.pay(session.url)
    assert "checkout.session.completed" in stripe_double.deliver()
    assert db.session.scalars(select(Payment)).all() == []
    assert db.session.get(type(booking), booking.id).payment_status == "due"


def test_a_lost_checkout_too_close_to_its_end_to_send_again_becomes_a_new_attempt(
    app, db, factories, paid_space, slot, stripe_double, client, login, time_machine
):
    booking = _request(factories, paid_space(booking_mode="instant"), slot)  # 15-minute hold
    db.session.commit()
    with _impatient(app):
        stripe_double.double.delay_next("/v1/checkout/sessions", 1.5, after=True)
        login(booking.user)
        assert client.post(f"/bookings/{booking.id}/pay").status_code == 302
    stripe_double.double.wait_idle()
    # Sent again unchanged, its expires_at (31 minutes after the first click) would be under
    # Stripe's 30 minutes were the first request lost on the way: a new attempt it is.
    time_machine.move_to(datetime.now(UTC) + timedelta(minutes=2), tick=True)
    url = _checkout(client, login, booking)
    db.session.expire_all()
    attempts = db.session.scalars(select(Payment).order_by(Payment.attempt)).all()
    assert [(p.attempt, p.status) for p in attempts] == [(1, "failed"), (2, "open")]
    assert attempts[1].checkout_url == url
    assert attempts[1].expires_at > attempts[0].expires_at


def test_two_processes_starting_together_agree_on_one_installation_id(app, db, monkeypatch):
    """The other process writes its id between our look and our insert: ours loses the race
    and takes the winner's id."""
    from sqlalchemy import insert

    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serializes the two writers: the loser's request fails with 'database "
                    "is locked' and its next one reads the winner's row")

    def other_process_wins(n):
        with db.engine.begin() as conn:
            conn.execute(insert(Installation).values(id=1, installation_id="feedfacecafebeef",
                                                     created_at=datetime.now(UTC)))
        return "0000000000000000"

    app.extensions.pop("gonggan_installation_id", None)
    db.session.commit()  # no transaction of ours holds the database
    monkeypatch.setattr(keys.secrets, "token_hex", other_process_wins)
    assert keys.installation_id() == "feedfacecafebeef"
    db.session.commit()
    assert db.session.scalars(select(Installation.installation_id)).all() == ["feedfacecafebeef"]


def test_closing_a_checkout_stripe_answered_with_a_500_is_retried_under_a_new_key(
    db, factories, paid_space, slot, stripe_double, client, login, now
):
    from app.bookings.models import Booking

    booking = _request(factories, paid_space(booking_mode="instant"), slot)
    db.session.commit()
    session_id = _checkout(client, login, booking).rsplit("/", 1)[-1]
    double = stripe_double.double
    double.fail_next(f"/v1/checkout/sessions/{session_id}/expire", 500)
    work.sweep(now=now + timedelta(minutes=16))  # the 15-minute hold is over
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "awaiting_payment"  # not known yet
    work.sweep(now=now + timedelta(minutes=17))
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "expired"
    assert double.get(session_id)["status"] == "expired"
    sent = [r["idempotency_key"] for r in double.api_requests if r["path"].endswith("/expire")]
    assert sent[-1] == sent[0] + "-r1"
