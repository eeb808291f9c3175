"""Paying for bookings end to end: the real stripe library, the Stripe double over HTTP, the
app's pages and webhooks."""

from __future__ import annotations

from datetime import UTC, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app import jobs
from app.bookings import services as booking_services
from app.bookings import sweeps
from app.bookings.models import Booking
from app.payments import work
from app.payments.models import Payment, PaymentLog, StripeEvent
from tests.payments.conftest import flashes

SEOUL = ZoneInfo("Asia/Seoul")


def _request(factories, space, slot, user=None, **kw):
    start, end = slot
    return factories.booking(space, user or factories.user(), start=start, end=end, **kw)


def _approve(db, booking, manager):
    booking_services.approve(booking, manager)
    db.session.commit()
    jobs.run_deferred()
    db.session.expire_all()


def _approved(db, factories, space, slot, manager=None):
    """A request for `space` at `slot`, approved by a manager of the owner, freshly read."""
    booking = _request(factories, space, slot)
    db.session.commit()
    _approve(db, booking, manager or factories.manager(space.owner))
    return db.session.get(Booking, booking.id)


def _checkout(client, login, booking):
    login(booking.user)
    response = client.post(f"/bookings/{booking.id}/pay")
    assert response.status_code == 303, flashes(client)
    return response.headers["Location"]


def _return(client, redirect):
    parts = urlsplit(redirect)
    return client.get(f"{parts.path}?{parts.query}")


def test_pay_after_approval_from_request_to_receipt(
    db, factories, paid_space, slot, stripe_double, client, login, now
):
    space = paid_space()
    manager = factories.manager(space.owner)
    booking = _request(factories, space, slot)
    assert booking.price_amount == 20_000 and booking.payment_status == "after_approval"
    db.session.commit()

    _approve(db, booking, manager)
    booking = db.session.get(Booking, booking.id)
    assert booking.status == "approved" and booking.payment_status == "due"
    assert now + timedelta(hours=47) < booking.payment_due_at <= now + timedelta(hours=49)

    url = _checkout(client, login, booking)
    session_id = url.rsplit("/", 1)[-1]
    session = stripe_double.get(session_id)
    assert session["amount_total"] == 20_000 and session["currency"] == "krw"
    assert session["metadata"]["booking_id"] == str(booking.id)

    paid = stripe_double.pay(url)
    assert paid.status_code in (302, 303)
    assert f"/bookings/{booking.id}/payment/return?session_id={session_id}" in \
        paid.headers["Location"]
    landing = _return(client, paid.headers["Location"])
    assert landing.status_code == 302 and landing.headers["Location"].endswith(
        f"/bookings/{booking.id}/receipt")

    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.payment_status == "paid" and booking.status == "approved"
    payment = booking.payments[-1]
    assert payment.status == "succeeded" and payment.amount == 20_000
    assert payment.card_last4 == "4242"
    receipt = client.get(f"/bookings/{booking.id}/receipt").get_data(as_text=True)
    assert "₩20,000" in receipt and "4242" in receipt

    # The webhooks arrive after the redirect, twice and in reverse order: nothing changes.
    stripe_double.deliver(reverse=True, twice=True)
    booking = db.session.get(Booking, booking.id)
    assert booking.payment_status == "paid"
    assert len(booking.payments) == 1
    actions = db.session.scalars(
        select(PaymentLog.action).where(PaymentLog.booking_id == booking.id)
    ).all()
    assert actions.count("paid") == 1


def test_the_webhook_alone_confirms_an_instant_booking(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space(booking_mode="instant")
    booking = _request(factories, space, slot)
    assert booking.status == "awaiting_payment" and booking.payment_status == "due"
    db.session.commit()
    url = _checkout(client, login, booking)
    stripe_double.new_events()
    assert stripe_double.pay(url).status_code in (302, 303)

    # The resident closes the tab before the redirect; the webhook confirms the booking.
    types = stripe_double.deliver()
    assert "checkout.session.completed" in types
    booking = db.session.get(Booking, booking.id)
    assert booking.status == "confirmed" and booking.payment_status == "paid"


def test_the_slot_is_held_during_checkout_and_released_when_it_lapses(
    db, factories, paid_space, slot, stripe_double, client, login, now
):
    space = paid_space(booking_mode="instant")
    booking = _request(factories, space, slot)
    db.session.commit()
    url = _checkout(client, login, booking)
    session_id = url.rsplit("/", 1)[-1]

    other = factories.user()
    db.session.expire_all()
    try:
        _request(factories, space, slot, other)
        raise AssertionError("the held slot was booked twice")
    except booking_services.SlotTaken:
        db.session.rollback()

    counts = work.sweep(now=now + timedelta(minutes=16))
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert counts["unpaid_expired"] == 1
    assert booking.status == "expired" and booking.payment_status == "void"
    assert stripe_double.get(session_id)["status"] == "expired"
    # The time can be booked again.
    again = _request(factories, space, slot, factories.user())
    assert again.status == "awaiting_payment"


def test_an_unpaid_approved_booking_expires_at_its_deadline(
    db, factories, paid_space, slot, stripe_double, now
):
    space = paid_space()
    booking = _approved(db, factories, space, slot)

    assert work.sweep(now=booking.payment_due_at - timedelta(minutes=1))["unpaid_expired"] == 0
    assert work.sweep(now=booking.payment_due_at + timedelta(minutes=1))["unpaid_expired"] == 1
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.status == "expired"
    assert booking.transitions[-1].reason


def test_the_payment_deadline_is_never_after_the_start(
    db, factories, paid_space, stripe_double, now
):
    space = paid_space()
    # Tomorrow 14:00 in Seoul: open, and 14 to 38 hours away whatever the time now, so well
    # before the usual 48-hour deadline.
    start = (now + timedelta(days=1)).astimezone(SEOUL).replace(
        hour=14, minute=0, second=0, microsecond=0).astimezone(UTC)
    booking = _request(factories, space, (start, start + timedelta(hours=1)))
    db.session.commit()
    _approve(db, booking, factories.manager(space.owner))
    assert db.session.get(Booking, booking.id).payment_due_at == start


def test_a_payment_completing_as_the_deadline_passes_is_kept_not_expired(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    booking = _approved(db, factories, space, slot)
    url = _checkout(client, login, booking)
    stripe_double.pay(url)  # paid, but neither the redirect nor the webhook reached us

    counts = work.sweep(now=booking.payment_due_at + timedelta(minutes=1))
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert counts["unpaid_expired"] == 0
    assert booking.status == "approved" and booking.payment_status == "paid"


def test_money_arriving_for_an_expired_booking_is_refunded_in_full(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    booking = _approved(db, factories, space, slot)
    url = _checkout(client, login, booking)
    session_id = url.rsplit("/", 1)[-1]
    # The booking expired (say the sweep ran while Stripe was unreachable for the session)...
    booking_services.transition(booking, "expired", None, reason="test")
    booking.payments[-1].pending_action = None  # ...and the session could not be expired
    db.session.commit()
    stripe_double.pay(url)
    stripe_double.deliver()

    booking = db.session.get(Booking, booking.id)
    payment = booking.payments[-1]
    assert payment.status == "succeeded"
    assert payment.refunded_amount == payment.amount
    assert booking.payment_status == "refunded"
    charge = stripe_double.get(stripe_double.get(session_id)["payment_intent"])["latest_charge"]
    assert stripe_double.get(charge)["amount_refunded"] == payment.amount


def test_a_declined_card_leaves_the_booking_payable(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    booking = _approved(db, factories, space, slot)
    url = _checkout(client, login, booking)
    page = stripe_double.pay(url, card="4000000000000002")
    assert page.status_code == 402 and "declined" in page.text
    stripe_double.deliver()
    booking = db.session.get(Booking, booking.id)
    assert booking.payment_status == "due"
    assert booking.payments[-1].last_error == "Your card was declined."
    # The same checkout is offered again, and a good card pays.
    assert _checkout(client, login, booking) == url
    stripe_double.pay(url)
    stripe_double.deliver()
    assert db.session.get(Booking, booking.id).payment_status == "paid"


def test_free_and_fully_waived_bookings_skip_payment(db, factories, slot, paid_space):
    free = factories.space(price_per_hour=0)
    booking = _request(factories, free, slot)
    assert booking.payment_status == "none" and booking.price_amount == 0
    assert booking.payments == []


def test_unsigned_and_forged_webhooks_are_refused(db, stripe_double, client):
    event = {"id": "evt_forged", "type": "checkout.session.completed",
             "data": {"object": {"id": "cs_x", "object": "checkout.session"}}}
    import json

    body = json.dumps(event)
    assert client.post("/stripe/webhook", data=body,
                       content_type="application/json").status_code == 400
    assert stripe_double.post_event(event, secret="whsec_wrong").status_code == 400
    assert client.post("/stripe/webhook", data=b"\xff\xfe",
                       headers={"Stripe-Signature": "t=1,v1=00"}).status_code == 400
    assert db.session.get(StripeEvent, "evt_forged") is None


def test_each_event_is_stored_once(db, factories, paid_space, slot, stripe_double, client,
                                   login):
    space = paid_space(booking_mode="instant")
    booking = _request(factories, space, slot)
    db.session.commit()
    url = _checkout(client, login, booking)
    stripe_double.new_events()
    stripe_double.pay(url)
    events = stripe_double.new_events()
    completed = next(e for e in events if e["type"] == "checkout.session.completed")
    first = stripe_double.post_event(completed)
    second = stripe_double.post_event(completed)
    assert first.get_json() == {"received": True}
    assert second.get_json() == {"received": True, "duplicate": True}
    assert db.session.scalar(select(StripeEvent).where(StripeEvent.id == completed["id"]))


def test_no_stripe_configured_means_offline_payment_only(
    db, factories, paid_space, slot, client, login, now
):
    space = paid_space(booking_mode="instant")
    booking = _request(factories, space, slot)
    # No 15-minute hold without online payment: the manager collects within the deadline.
    assert booking.status == "awaiting_payment"
    assert booking.payment_due_at > now + timedelta(hours=40)
    db.session.commit()
    login(booking.user)
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "/pay\"" not in page
    response = client.post(f"/bookings/{booking.id}/pay")
    assert response.status_code == 302
    assert db.session.scalar(select(Payment).where(Payment.booking_id == booking.id)) is None


def test_a_signed_event_for_an_object_stripe_does_not_know_is_acknowledged(
    db, stripe_double
):
    event = {"id": "evt_unknown_object", "type": "checkout.session.completed",
             "data": {"object": {"id": "cs_test_nobody", "object": "checkout.session"}}}
    response = stripe_double.post_event(event)
    assert response.status_code == 200
    stored = db.session.get(StripeEvent, "evt_unknown_object")
    assert stored.processed_at and "No such" in stored.error


def test_a_webhook_stripe_cannot_be_asked_about_is_not_stored_so_its_retry_applies(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space(booking_mode="instant")
    booking = _request(factories, space, slot)
    db.session.commit()
    url = _checkout(client, login, booking)
    stripe_double.new_events()
    stripe_double.pay(url)
    completed = next(e for e in stripe_double.new_events()
                     if e["type"] == "checkout.session.completed")
    stripe_double.double.fail_next("/v1/checkout/sessions", 500)
    assert stripe_double.post_event(completed).status_code == 503
    assert db.session.get(StripeEvent, completed["id"]) is None
    assert stripe_double.post_event(completed).status_code == 200
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "confirmed"


def test_an_auto_approved_paid_request_is_payable_at_once(db, factories, paid_space, slot):
    from tests.approvals import MANAGER_STAGE, add_rules

    space = paid_space()
    add_rules(body={"stages": [MANAGER_STAGE], "auto_approve": [{"purposes": ["community"]}]},
              space_id=space.id)
    booking = _request(factories, space, slot)
    assert booking.status == "approved"
    assert booking.payment_status == "due" and booking.payment_due_at is not None


def test_two_reconciliations_at_once_confirm_and_log_once(
    app, db, factories, paid_space, slot, stripe_double, client, login
):
    import threading

    from app.db import serialized_writes
    from app.payments import gateway
    from app.payments import services as payments

    space = paid_space(booking_mode="instant")
    booking = _request(factories, space, slot)
    db.session.commit()
    url = _checkout(client, login, booking)
    stripe_double.pay(url)
    session_id = url.rsplit("/", 1)[-1]
    db.session.rollback()  # the test's own transaction holds no lock while the threads race
    barrier = threading.Barrier(2)
    errors = []

    def reconcile():
        with app.app_context(), serialized_writes():
            try:
                session = gateway.client().v1.checkout.sessions.retrieve(session_id)
                barrier.wait(timeout=5)
                payments.sync_session(session)
                db.session.commit()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=reconcile) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.status == "confirmed"
    assert [t.to_status for t in booking.transitions].count("confirmed") == 1
    actions = db.session.scalars(
        select(PaymentLog.action).where(PaymentLog.booking_id == booking.id)
    ).all()
    assert actions.count("paid") == 1


def test_a_booking_paid_twice_gives_the_second_payment_back(
    db, factories, paid_space, slot, stripe_double, client, login
):
    from app.payments import services as payments

    space = paid_space()
    manager = factories.manager(space.owner)
    booking = _request(factories, space, slot)
    db.session.commit()
    _approve(db, booking, manager)
    booking = db.session.get(Booking, booking.id)
    url = _checkout(client, login, booking)
    stripe_double.pay(url)  # paid by card; the webhook has not come yet...
    payments.record_offline(booking, manager, method="cash", amount=booking.price_amount,
                            reference="현금 영수증 1")  # ...when the manager records cash
    db.session.commit()
    jobs.run_deferred()
    stripe_double.deliver()
    booking = db.session.get(Booking, booking.id)
    card = next(p for p in booking.payments if p.method == "card")
    assert card.status == "succeeded" and card.refunded_amount == card.amount
    assert booking.payment_status == "paid"
    assert sum(p.amount - p.refunded_amount for p in booking.payments) == booking.price_amount


def test_an_unpaid_booking_is_expired_not_completed_by_the_sweeps(
    db, factories, paid_space, stripe_double, now
):
    space = paid_space()
    start = (now + timedelta(days=2)).replace(hour=5, minute=0, second=0)
    booking = _request(factories, space, (start, start + timedelta(hours=1)))
    db.session.commit()
    _approve(db, booking, factories.manager(space.owner))
    later = start + timedelta(days=5)
    sweeps.sweep(now=later)
    db.session.commit()
    work.sweep(now=later)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "expired"
