"""Card holds (authorise at request, capture at approval), refunds by the rules' tiers, offline
payments, and Stripe failing in the middle of a flow."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import jobs
from app.bookings import services as booking_services
from app.bookings import sweeps
from app.bookings.models import Booking
from app.errors import ValidationFailed
from app.payments import services as payments
from app.payments import work
from app.payments.models import PaymentLog, Refund
from tests.approvals import add_rules
from tests.payments.test_flows import _approve, _approved, _checkout, _request


@pytest.fixture
def hold_space(paid_space, db):
    space = paid_space()
    space.owner.card_holds = True
    db.session.flush()
    return space


def _authorised(db, factories, space, slot, stripe_double, client, login):
    booking = _request(factories, space, slot)
    assert booking.status == "awaiting_payment" and booking.payment_status == "hold_pending"
    db.session.commit()
    url = _checkout(client, login, booking)
    stripe_double.pay(url)
    stripe_double.deliver()
    booking = db.session.get(Booking, booking.id)
    assert stripe_double.get(booking.payments[-1].stripe_intent_id)["capture_method"] == "manual"
    assert booking.status == "requested" and booking.payment_status == "authorized"
    return booking


def test_a_hold_is_captured_at_the_final_approval(
    db, factories, hold_space, slot, stripe_double, client, login
):
    booking = _authorised(db, factories, hold_space, slot, stripe_double, client, login)
    payment = booking.payments[-1]
    assert payment.capture_before is not None
    intent = payment.stripe_intent_id
    assert stripe_double.get(intent)["status"] == "requires_capture"

    _approve(db, booking, factories.manager(hold_space.owner))
    booking = db.session.get(Booking, booking.id)
    assert booking.status == "approved" and booking.payment_status == "paid"
    assert stripe_double.get(intent)["status"] == "succeeded"
    assert stripe_double.get(intent)["amount_received"] == booking.price_amount


def test_a_second_capture_is_reconciled_not_failed(
    db, factories, hold_space, slot, stripe_double, client, login
):
    booking = _authorised(db, factories, hold_space, slot, stripe_double, client, login)
    _approve(db, booking, factories.manager(hold_space.owner))
    payment = db.session.get(Booking, booking.id).payments[-1]
    # As if a second worker had not seen the first capture: Stripe says it is done already.
    payment.pending_action = "capture"
    db.session.commit()
    assert work.perform(payment) == 1
    db.session.expire_all()
    assert payment.status == "succeeded" and payment.pending_action is None
    captures = [e for e in stripe_double.double.events
                if e["type"] == "charge.captured"
                and e["data"]["object"]["payment_intent"] == payment.stripe_intent_id]
    assert len(captures) == 1


@pytest.mark.parametrize("ending", ["reject", "withdraw", "expire"])
def test_a_hold_is_released_when_the_booking_does_not_happen(
    ending, db, factories, hold_space, slot, stripe_double, client, login, now
):
    booking = _authorised(db, factories, hold_space, slot, stripe_double, client, login)
    intent = booking.payments[-1].stripe_intent_id
    manager = factories.manager(hold_space.owner)
    if ending == "reject":
        booking_services.reject(booking, manager, reason="행사와 겹칩니다")
    elif ending == "withdraw":
        booking_services.cancel(booking, booking.user)
    else:
        sweeps.sweep(now=booking.start_at + timedelta(minutes=1))
    db.session.commit()
    jobs.run_deferred()
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.payments[-1].status == "canceled"
    assert booking.payment_status == "void"
    assert stripe_double.get(intent)["status"] == "canceled"


@pytest.mark.parametrize("reason", ["automatic", "expired"])
def test_a_lapsed_hold_falls_back_to_paying_after_approval(
    db, factories, hold_space, slot, stripe_double, client, login, reason
):
    booking = _authorised(db, factories, hold_space, slot, stripe_double, client, login)
    stripe_double.double.expire_authorization(booking.payments[-1].stripe_intent_id,
                                              reason=reason)
    stripe_double.deliver()
    booking = db.session.get(Booking, booking.id)
    assert booking.payments[-1].status == "canceled"
    assert booking.payment_status == "after_approval" and booking.status == "requested"
    _approve(db, booking, factories.manager(hold_space.owner))
    booking = db.session.get(Booking, booking.id)
    assert booking.payment_status == "due" and booking.payment_due_at is not None


def test_a_hold_about_to_lapse_is_released_by_the_sweep(
    db, factories, hold_space, slot, stripe_double, client, login, now
):
    booking = _authorised(db, factories, hold_space, slot, stripe_double, client, login)
    payment = booking.payments[-1]
    counts = work.sweep(now=payment.capture_before - timedelta(minutes=30))
    db.session.expire_all()
    assert counts["holds_released"] == 1
    booking = db.session.get(Booking, booking.id)
    assert booking.payment_status == "after_approval"
    assert stripe_double.get(payment.stripe_intent_id)["status"] == "canceled"


def test_bookings_beyond_the_hold_window_pay_after_approval(
    db, factories, hold_space, now
):
    start = (now + timedelta(days=9)).replace(hour=5, minute=0, second=0)
    booking = _request(factories, hold_space, (start, start + timedelta(hours=1)))
    assert booking.status == "requested" and booking.payment_status == "after_approval"


def test_stripe_failing_at_capture_keeps_the_approval_and_the_sweep_finishes(
    db, factories, hold_space, slot, stripe_double, client, login
):
    booking = _authorised(db, factories, hold_space, slot, stripe_double, client, login)
    stripe_double.double.fail_next("/v1/payment_intents", 500)
    _approve(db, booking, factories.manager(hold_space.owner))
    booking = db.session.get(Booking, booking.id)
    payment = booking.payments[-1]
    assert booking.status == "approved"  # the decision stands
    assert payment.status == "authorized" and payment.pending_action == "capture"
    assert payment.last_error

    assert work.sweep()["retried"] == 1
    db.session.expire_all()
    assert payment.status == "succeeded" and payment.pending_action is None
    assert db.session.get(Booking, booking.id).payment_status == "paid"


def test_a_capture_timing_out_is_completed_once(
    app, db, factories, hold_space, slot, stripe_double, client, login
):
    booking = _authorised(db, factories, hold_space, slot, stripe_double, client, login)
    app.config["STRIPE_TIMEOUT"] = 0.5
    app.extensions.pop("gonggan_stripe", None)
    try:
        stripe_double.double.delay_next("/v1/payment_intents", 1.5, after=True)
        _approve(db, booking, factories.manager(hold_space.owner))
    finally:
        app.config["STRIPE_TIMEOUT"] = 5.0
        app.extensions.pop("gonggan_stripe", None)
    stripe_double.double.wait_idle()
    payment = db.session.get(Booking, booking.id).payments[-1]
    assert payment.pending_action == "capture"  # we do not know yet; Stripe has captured
    work.sweep()
    db.session.expire_all()
    assert payment.status == "succeeded"
    captures = [e for e in stripe_double.double.events if e["type"] == "charge.captured"]
    assert len(captures) == 1


def _paid(db, factories, space, slot, stripe_double, client, login):
    booking = _approved(db, factories, space, slot)
    stripe_double.pay(_checkout(client, login, booking))
    stripe_double.deliver()
    booking = db.session.get(Booking, booking.id)
    assert booking.payment_status == "paid"
    return booking


TIERS = {"refund_tiers": [{"days_before": 7, "percent": 100}, {"days_before": 2, "percent": 50}]}


def test_a_residents_cancellation_refunds_by_the_tiers(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    add_rules(body=TIERS, space_id=space.id)
    booking = _paid(db, factories, space, slot, stripe_double, client, login)  # 3 days ahead
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "50%(₩10,000)" in page

    response = client.post(f"/bookings/{booking.id}/cancel", data={"reason": "", "confirm": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    payment = booking.payments[-1]
    assert booking.status == "cancelled"
    assert payment.refunded_amount == 10_000
    assert booking.payment_status == "partially_refunded"
    charge = stripe_double.get(stripe_double.get(payment.stripe_intent_id)["latest_charge"])
    assert charge["amount_refunded"] == 10_000
    # charge.refunded and refund events change nothing more.
    stripe_double.deliver(twice=True)
    assert db.session.get(Booking, booking.id).payments[-1].refunded_amount == 10_000


def test_the_owner_cancelling_refunds_in_full(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    add_rules(body=TIERS, space_id=space.id)
    booking = _paid(db, factories, space, slot, stripe_double, client, login)
    manager = factories.manager(space.owner)
    booking_services.cancel(booking, manager, reason="누수 공사")
    db.session.commit()
    jobs.run_deferred()
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.payments[-1].refunded_amount == 20_000
    assert booking.payment_status == "refunded"


def test_a_manager_refunds_part_and_cannot_refund_more_than_was_paid(
    db, factories, paid_space, slot, stripe_double, client, login, english
):
    space = paid_space()
    booking = _paid(db, factories, space, slot, stripe_double, client, login)
    manager = factories.manager(space.owner)
    payments.refund(booking, manager, amount=5_000, reason="에어컨 고장")
    db.session.commit()
    jobs.run_deferred()
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.payment_status == "partially_refunded"
    with pytest.raises(ValidationFailed) as err:
        payments.refund(booking, manager, amount=15_001, reason="더")
    assert "between 1 and ₩15,000" in err.value.errors["amount"][0]
    db.session.rollback()
    assert db.session.query(Refund).count() == 1


def test_a_refund_stripe_cannot_take_now_is_retried_by_the_sweep(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    booking = _paid(db, factories, space, slot, stripe_double, client, login)
    stripe_double.double.fail_next("/v1/refunds", 503)
    booking_services.cancel(booking, factories.manager(space.owner), reason="휴관")
    db.session.commit()
    jobs.run_deferred()
    db.session.expire_all()
    refund = db.session.query(Refund).one()
    assert refund.status == "pending" and refund.last_error
    assert db.session.get(Booking, booking.id).status == "cancelled"
    work.sweep()
    db.session.expire_all()
    assert refund.status == "succeeded" and refund.stripe_refund_id
    assert db.session.get(Booking, booking.id).payment_status == "refunded"


def test_offline_payment_is_recorded_and_audited(
    db, factories, paid_space, slot, client, login, english
):
    space = paid_space(booking_mode="instant")
    booking = _request(factories, space, slot)
    manager = factories.manager(space.owner)
    db.session.commit()
    login(manager)
    bad = client.post(f"/bookings/{booking.id}/payments/offline",
                      data={"method": "cash", "amount": 1, "reference": "R-1"})
    assert bad.status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).payment_status == "due"
    ok = client.post(f"/bookings/{booking.id}/payments/offline",
                     data={"method": "voucher", "amount": 20_000, "reference": "강북사랑 123"})
    assert ok.status_code == 302
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.status == "confirmed" and booking.payment_status == "paid"
    entry = db.session.query(PaymentLog).one()
    assert (entry.action, entry.actor_id, entry.amount) == ("offline_recorded", manager.id,
                                                             20_000)
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "강북사랑 123" in page and "Payment recorded offline" in page


def test_an_offline_refund_waits_until_the_manager_hands_the_money_back(
    db, factories, paid_space, slot, client, login
):
    space = paid_space()
    booking = _request(factories, space, slot)
    manager = factories.manager(space.owner)
    payments.record_offline(booking, manager, method="cash", amount=20_000, reference="영수증 7")
    booking_services.reject(booking, manager, reason="행사")
    db.session.commit()
    refund = db.session.query(Refund).one()
    assert refund.status == "pending" and refund.amount == 20_000
    login(manager)
    client.post(f"/refunds/{refund.id}/handed-back", data={"reference": "계좌 환불 0012"})
    db.session.expire_all()
    assert refund.status == "succeeded" and refund.reference == "계좌 환불 0012"
    assert db.session.get(Booking, booking.id).payment_status == "refunded"
