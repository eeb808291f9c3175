"""A fee waiver confirmed on a booking whose card is held (authorised at request, captured at
the final approval): before the capture only the new price is captured and the rest of the
hold is released; after it, the difference is refunded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import jobs
from app.bookings import services as booking_services
from app.bookings import waivers
from app.bookings.models import Booking
from app.bookings.states import WaiverState
from app.payments import report, settlement, work
from app.payments.models import Payment, PaymentLog, Refund
from tests.approvals import add_rules
from tests.payments.test_flows import _checkout

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def hold_space(paid_space, db):
    space = paid_space()  # ₩10,000 an hour: two hours cost ₩20,000, ₩10,000 with the waiver
    space.owner.card_holds = True
    add_rules(organisation_id=space.owner_id, body={"waivers": {"nonprofit": 50}})
    db.session.flush()
    return space


def _held(db, factories, space, slot, stripe_double, client, login, now) -> Booking:
    """A request claiming the nonprofit waiver (charged in full until seen), card authorised."""
    start, end = slot
    booking = booking_services.create_booking(
        space, factories.user(), start=start, end=end, purpose="주민 모임", attendees=5,
        waiver="nonprofit", now=now)
    assert (booking.waiver_state, booking.price_amount) == (WaiverState.CLAIMED, 20000)
    assert booking.payment_status == "hold_pending"
    db.session.commit()
    stripe_double.pay(_checkout(client, login, booking))
    stripe_double.deliver()
    booking = db.session.get(Booking, booking.id)
    assert booking.payment_status == "authorized"
    assert stripe_double.get(booking.payments[-1].stripe_intent_id)["amount_capturable"] == 20000
    return booking


def _approve(db, booking, manager, **kw) -> Booking:
    booking_services.approve(booking, manager, **kw)
    db.session.commit()
    jobs.run_deferred()
    db.session.expire_all()
    return db.session.get(Booking, booking.id)


def _captures(double) -> list[dict]:
    return [r for r in double.api_requests if r["path"].endswith("/capture")]


def test_confirmed_before_the_capture_captures_only_the_new_price(
    db, factories, hold_space, slot, stripe_double, client, login, now
):
    booking = _held(db, factories, hold_space, slot, stripe_double, client, login, now)
    booking = _approve(db, booking, factories.manager(hold_space.owner), evidence_seen=True)
    assert (booking.status, booking.price_amount) == ("approved", 10000)
    payment = booking.payments[-1]
    intent = stripe_double.get(payment.stripe_intent_id)
    assert (intent["status"], intent["amount_received"]) == ("succeeded", 10000)
    charge = stripe_double.get(intent["latest_charge"])
    # The rest of the hold is released (Stripe counts it in the charge's amount_refunded).
    assert (charge["amount_captured"], charge["amount_refunded"]) == (10000, 10000)
    [sent] = _captures(stripe_double.double)
    assert sent["params"]["amount_to_capture"] in (10000, "10000")
    # What we record is what was captured: nothing to refund, nothing "refunded in Stripe".
    stripe_double.deliver()
    payment = db.session.get(Payment, payment.id)
    assert (payment.status, payment.amount, payment.refunded_amount) == ("succeeded", 10000, 0)
    assert db.session.scalars(select(Refund)).all() == []
    assert db.session.get(Booking, booking.id).payment_status == "paid"
    captured = db.session.scalars(select(PaymentLog).where(PaymentLog.action == "captured")).one()
    assert captured.amount == 10000
    # The receipt and the payout report show the captured amount.
    login(booking.user)
    page = client.get(f"/bookings/{booking.id}/receipt").get_data(as_text=True)
    paid = page.split('class="payments"', 1)[1]
    assert "₩10,000" in paid and "₩20,000" not in paid and "refund-row" not in paid
    found = report.payout_report(hold_space.owner_id, now - timedelta(days=30),
                                 now + timedelta(days=30))
    assert [(r.kind, r.gross, r.refunded) for r in found.rows] == [("payment", 10000, 0)]
    # The platform settles with an owner Stripe does not pay out to: its line is the capture.
    draft = settlement._unsettled(now + timedelta(days=30))[hold_space.owner_id]
    assert [line.amount for line in draft.lines] == [10000]


def test_confirmed_after_the_capture_refunds_the_difference(
    db, factories, hold_space, slot, stripe_double, client, login, now
):
    booking = _held(db, factories, hold_space, slot, stripe_double, client, login, now)
    manager = factories.manager(hold_space.owner)
    booking = _approve(db, booking, manager)
    payment = booking.payments[-1]
    assert (payment.status, payment.amount) == ("succeeded", 20000)
    waivers.confirm(booking, manager, now=now)
    db.session.commit()
    jobs.run_deferred()
    db.session.expire_all()
    [refund] = db.session.scalars(select(Refund)).all()
    assert (refund.amount, refund.status) == (10000, "succeeded")
    payment = db.session.get(Payment, payment.id)
    assert (payment.amount, payment.refunded_amount, payment.capture_amount) == (20000, 10000,
                                                                                 None)
    assert [r["params"].get("amount_to_capture") for r in _captures(stripe_double.double)] \
        == [None]
    assert db.session.get(Booking, booking.id).payment_status == "paid"


def test_a_capture_whose_answer_was_lost_is_retried_with_the_same_amount(
    app, db, factories, hold_space, slot, stripe_double, client, login, now
):
    booking = _held(db, factories, hold_space, slot, stripe_double, client, login, now)
    app.config["STRIPE_TIMEOUT"] = 0.5
    app.extensions.pop("gonggan_stripe", None)
    try:
        stripe_double.double.delay_next("/v1/payment_intents", 1.5, after=True)
        booking = _approve(db, booking, factories.manager(hold_space.owner), evidence_seen=True)
    finally:
        app.config["STRIPE_TIMEOUT"] = 5.0
        app.extensions.pop("gonggan_stripe", None)
    stripe_double.double.wait_idle()
    payment = booking.payments[-1]
    assert payment.pending_action == "capture" and payment.capture_amount == 10000
    work.sweep()
    db.session.expire_all()
    assert (payment.status, payment.amount) == ("succeeded", 10000)
    sent = _captures(stripe_double.double)
    assert len(sent) == 2
    assert len({r["idempotency_key"] for r in sent}) == 1
    assert {str(r["params"].get("amount_to_capture")) for r in sent} == {"10000"}
    captures = [e for e in stripe_double.double.events if e["type"] == "charge.captured"]
    assert len(captures) == 1
    assert db.session.scalars(select(Refund)).all() == []


def test_a_price_lowered_after_a_capture_was_keyed_goes_out_under_the_next_key(
    db, factories, hold_space, slot, stripe_double, client, login, now
):
    booking = _held(db, factories, hold_space, slot, stripe_double, client, login, now)
    manager = factories.manager(hold_space.owner)
    stripe_double.double.fail_next("/v1/payment_intents", 500)  # stored against the key
    booking = _approve(db, booking, manager)
    payment = booking.payments[-1]
    assert payment.pending_action == "capture" and payment.key_round == 1
    waivers.confirm(booking, manager, now=now)
    db.session.commit()
    jobs.run_deferred()
    db.session.expire_all()
    payment = db.session.get(Payment, payment.id)
    assert (payment.status, payment.amount, payment.key_round) == ("succeeded", 10000, 2)
    sent = _captures(stripe_double.double)
    assert [str(r["params"].get("amount_to_capture")) for r in sent] == ["None", "10000"]
    assert sent[-1]["idempotency_key"] == sent[0]["idempotency_key"] + "-r2"
    assert db.session.scalars(select(Refund)).all() == []


def test_a_waiver_that_makes_the_booking_free_releases_the_hold(
    db, factories, hold_space, slot, stripe_double, client, login, now
):
    add_rules(organisation_id=hold_space.owner_id, version=2,
              body={"waivers": {"nonprofit": 100}})
    booking = _held(db, factories, hold_space, slot, stripe_double, client, login, now)
    booking = _approve(db, booking, factories.manager(hold_space.owner), evidence_seen=True)
    assert (booking.status, booking.price_amount) == ("approved", 0)
    payment = booking.payments[-1]
    assert payment.status == "canceled"
    assert stripe_double.get(payment.stripe_intent_id)["status"] == "canceled"
    assert _captures(stripe_double.double) == []
    assert booking.payment_status == "none"


def test_a_price_lowered_while_a_full_capture_went_through_unseen_refunds_the_difference(
    app, db, factories, hold_space, slot, stripe_double, client, login, now
):
    booking = _held(db, factories, hold_space, slot, stripe_double, client, login, now)
    manager = factories.manager(hold_space.owner)
    app.config["STRIPE_TIMEOUT"] = 0.5
    app.extensions.pop("gonggan_stripe", None)
    try:
        stripe_double.double.delay_next("/v1/payment_intents", 1.5, after=True)
        booking = _approve(db, booking, manager)  # Stripe captures ₩20,000; the answer is lost
    finally:
        app.config["STRIPE_TIMEOUT"] = 5.0
        app.extensions.pop("gonggan_stripe", None)
    stripe_double.double.wait_idle()
    payment = booking.payments[-1]
    assert payment.status == "authorized" and payment.pending_action == "capture"
    waivers.confirm(booking, manager, now=now)
    db.session.commit()
    jobs.run_deferred()
    db.session.expire_all()
    payment = db.session.get(Payment, payment.id)
    assert (payment.status, payment.amount, payment.pending_action) == ("succeeded", 20000, None)
    assert len(_captures(stripe_double.double)) == 1  # read first: not captured twice
    [refund] = db.session.scalars(select(Refund)).all()
    assert (refund.amount, refund.status) == (10000, "succeeded")
    assert db.session.get(Booking, booking.id).payment_status == "paid"
