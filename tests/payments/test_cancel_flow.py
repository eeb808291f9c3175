"""Cancelling a paid booking as a resident sees it: a confirmation step with the refund and
when it arrives, badges and refund rows that agree, a message (and email) about the cancellation
and another when the refund is done; the owner cancelling, or a closure on the booking, refunds
everything."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import jobs
from app.bookings import services as booking_services
from app.bookings.models import Booking
from app.extensions import db as _db
from app.notifications import render
from app.payments.models import Refund
from app.spaces.models import Closure
from devtools.stripe_double.common import CARD_REFUND_PENDING
from tests.approvals import add_rules
from tests.payments.test_flows import _approved, _checkout
from tests.payments.test_notifications import told

TIERS = {"refund_tiers": [{"days_before": 7, "percent": 100}, {"days_before": 2, "percent": 50}]}

pytestmark = pytest.mark.usefixtures("english")


def _paid(db, factories, space, slot, stripe_double, client, login, card=None):
    """₩20,000 paid by card for a booking three days ahead (50% back under TIERS)."""
    booking = _approved(db, factories, space, slot)
    url = _checkout(client, login, booking)
    if card:
        stripe_double.pay(url, card=card)
    else:
        stripe_double.pay(url)
    stripe_double.deliver()
    booking = db.session.get(Booking, booking.id)
    assert booking.payment_status == "paid"
    return booking


def _cancel(client, booking, **data):
    return client.post(f"/bookings/{booking.id}/cancel", data={"reason": "", **data})


def test_cancelling_asks_first_and_says_what_comes_back_and_when(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    add_rules(body=TIERS, space_id=space.id)
    booking = _paid(db, factories, space, slot, stripe_double, client, login)

    detail = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert f'href="/bookings/{booking.id}/cancel"' in detail  # a link to the step, no form

    page = client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "You get back ₩10,000 (50% of ₩20,000) under the cancellation policy." in page
    assert "3–5 business days" in page
    assert "Cancel and refund ₩10,000" in page and "Keep the booking" in page

    # A post without the confirmation (an old one-click form) only shows the step.
    response = _cancel(client, booking)
    assert response.status_code == 200 and "Cancel and refund ₩10,000" in response.get_data(
        as_text=True)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "approved"

    assert _cancel(client, booking, confirm="1").status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "cancelled"


def test_after_cancelling_the_badges_follow_the_refund_and_the_resident_is_told_twice(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    add_rules(body=TIERS, space_id=space.id)
    booking = _paid(db, factories, space, slot, stripe_double, client, login,
                    card=CARD_REFUND_PENDING)
    _cancel(client, booking, confirm="1")
    jobs.run_deferred()
    db.session.expire_all()
    refund = db.session.query(Refund).one()
    assert refund.status == "pending" and refund.amount == 10_000

    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert '<span class="badge refund-pending">Refund in progress</span>' in page
    assert "badge payment-paid" not in page
    assert "Cancelled by the resident: 50% refund under the cancellation policy." in page
    assert "refunded by the rules" not in page  # no "done" words on a refund in progress

    [note] = told(db, booking.user, "cancellation_confirmed")
    assert note.channel == "email"
    assert note.params["refund"] == {"percent": 50, "amount": 10_000, "card": True}
    with render.email_context("en"):
        mail = render.render_email(note, user=booking.user)
    assert "You are refunded ₩10,000 (50% under the cancellation policy)." in mail.text
    assert "3–5 business days" in mail.text
    assert told(db, booking.user, "booking_cancelled") == []  # not "cancelled by the owner"
    assert told(db, booking.user, "payment_refunded") == []

    stripe_double.double.update_refund(refund.stripe_refund_id, "succeeded")
    stripe_double.deliver(twice=True)
    db.session.expire_all()
    [done] = told(db, booking.user, "payment_refunded")
    assert done.params["refunded"] == 10_000 and done.channel == "email"
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert '<span class="badge refund-done">Refund done</span>' in page
    assert "Refund in progress" not in page


def test_the_owner_cancelling_refunds_everything_and_says_so(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    add_rules(body=TIERS, space_id=space.id)
    booking = _paid(db, factories, space, slot, stripe_double, client, login)
    manager = factories.manager(space.owner)
    login(manager)
    page = client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "The resident gets back ₩20,000: the full amount paid." in page
    booking_services.cancel(booking, manager, reason="누수 공사")
    db.session.commit()
    jobs.run_deferred()
    db.session.expire_all()
    assert db.session.query(Refund).one().amount == 20_000
    [note] = told(db, booking.user, "booking_cancelled")
    assert note.params["refund"] == {"percent": 100, "amount": 20_000, "card": True}
    with render.email_context("en"):
        mail = render.render_email(note, user=booking.user)
    assert "You are refunded in full: ₩20,000." in mail.text


def test_a_closure_on_the_booking_refunds_the_resident_in_full(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    add_rules(body=TIERS, space_id=space.id)
    booking = _paid(db, factories, space, slot, stripe_double, client, login)
    _db.session.add(Closure(space_id=space.id, start_at=slot[0] - timedelta(hours=1),
                            end_at=slot[1], reason="보일러 공사"))
    db.session.commit()
    page = client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "You get back ₩20,000: the full amount you paid." in page
    assert "The space is closed during this booking" in page
    _cancel(client, booking, confirm="1")
    jobs.run_deferred()
    db.session.expire_all()
    assert db.session.query(Refund).one().amount == 20_000
    [note] = told(db, booking.user, "cancellation_confirmed")
    assert note.params["refund"]["percent"] == 100


def test_payment_due_stands_out_at_the_top_and_unlike_paid(
    db, factories, paid_space, slot, stripe_double, client, login
):
    booking = _approved(db, factories, paid_space(), slot)
    login(booking.user)
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert '<span class="badge payment-due">Payment due</span>' in page
    callout = page.index('class="pay-callout"')
    assert callout < page.index('id="facts-title"')  # above the booking's facts
    assert page.count('class="primary pay-button"') == 1
    assert "Approved: pay ₩20,000 to confirm the booking." in page


def test_the_confirmation_step_is_only_for_who_may_cancel(
    db, factories, paid_space, slot, client, login
):
    booking = factories.booking(paid_space(), factories.user(), start=slot[0], end=slot[1])
    db.session.commit()
    login(factories.user())
    assert client.get(f"/bookings/{booking.id}/cancel").status_code in (403, 404)
    login(booking.user)
    booking_services.cancel(booking, booking.user)
    db.session.commit()
    response = client.get(f"/bookings/{booking.id}/cancel")
    assert response.status_code == 302  # nothing left to cancel: back to the booking
