"""What Stripe accepts, kept by the app: Checkout's 30-minute to 24-hour window, the smallest
and largest amount one charge takes, and no zero fee on a destination charge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.errors import InvalidTransition, ValidationFailed
from app.payments import services
from app.payments.models import Payment
from app.spaces import services as space_services
from tests.payments.conftest import flashes
from tests.payments.test_connect import _onboard
from tests.payments.test_flows import _approve, _approved, _checkout, _request


def _frozen(time_machine, now):
    instant = now.replace(microsecond=0)
    time_machine.move_to(instant, tick=False)
    return instant


def test_a_checkout_for_a_48_hour_deadline_ends_inside_stripes_24_hours(
    db, factories, paid_space, slot, stripe_double, client, login, time_machine, now
):
    booking = _approved(db, factories, paid_space(), slot)
    at = _frozen(time_machine, now)
    url = _checkout(client, login, booking)
    session = stripe_double.get(url.rsplit("/", 1)[-1])
    assert session["expires_at"] == int((at + timedelta(hours=23, minutes=55)).timestamp())
    payment = db.session.scalars(select(Payment)).one()
    assert payment.expires_at == at + timedelta(hours=23, minutes=55)


def test_a_15_minute_hold_still_gets_a_checkout_of_31_minutes(
    db, factories, paid_space, slot, stripe_double, client, login, time_machine, now
):
    booking = _request(factories, paid_space(booking_mode="instant"), slot)
    db.session.commit()
    at = _frozen(time_machine, now)
    url = _checkout(client, login, booking)
    session = stripe_double.get(url.rsplit("/", 1)[-1])
    assert session["expires_at"] == int((at + timedelta(minutes=31)).timestamp())


@pytest.mark.parametrize(
    ("due", "expected"),
    [(None, timedelta(minutes=31)), (timedelta(minutes=5), timedelta(minutes=31)),
     (timedelta(hours=3), timedelta(hours=3)),
     (timedelta(hours=24), timedelta(hours=23, minutes=55)),
     (timedelta(days=2), timedelta(hours=23, minutes=55))],
)
def test_checkout_expiry_is_clamped_to_stripes_window_with_margins(due, expected):
    now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    assert services.checkout_expiry(now + due if due else None, now) == now + expected


def test_a_paid_space_charges_at_least_1000_won_an_hour(db, factories):
    org = factories.org()
    manager = factories.manager(org)
    with pytest.raises(ValidationFailed) as err:
        space_services.create_space(manager, org, name="강당", type="meeting_room",
                                    capacity=20, price_per_hour=500)
    assert "시간당 최소 ₩1,000" in err.value.errors["price_per_hour"][0]
    free = space_services.create_space(manager, org, name="강당", type="meeting_room",
                                       capacity=20, price_per_hour=0)
    paid = space_services.create_space(manager, org, name="소강당", type="meeting_room",
                                       capacity=20, price_per_hour=1_000)
    assert (free.price_per_hour, paid.price_per_hour) == (0, 1_000)


def test_a_booking_costing_more_than_one_payment_can_take_is_refused_clearly(
    db, factories, paid_space, now
):
    space = paid_space(price_per_hour=10_000_000, max_minutes=24 * 60,
                       hours={d: [(0, 24 * 60)] for d in range(7)})
    start = (now + timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    with pytest.raises(ValidationFailed) as err:
        _request(factories, space, (start, start + timedelta(hours=10)))
    message = err.value.errors["end"][0]
    assert "₩100,000,000" in message and "₩99,999,999" in message
    booking = _request(factories, space, (start, start + timedelta(hours=9)))
    assert booking.price_amount == 90_000_000


def test_a_price_too_small_for_a_card_is_paid_to_the_manager(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space(price_per_hour=1_000, min_minutes=15)
    start, _ = slot
    booking = _approved(db, factories, space, (start, start + timedelta(minutes=30)))
    assert booking.price_amount == 500
    with pytest.raises(InvalidTransition) as err:
        services.open_checkout(booking, booking.user, success_url="http://x/ok",
                               cancel_url="http://x/no")
    assert "₩700" in err.value.message
    db.session.rollback()
    login(booking.user)
    assert client.post(f"/bookings/{booking.id}/pay").status_code == 302
    assert any("₩700" in text for _, text in flashes(client))
    assert not [r for r in stripe_double.double.api_requests
                if r["path"] == "/v1/checkout/sessions"]


def test_a_destination_charge_without_a_fee_sends_no_fee_parameter(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    space.owner.platform_fee_bps = 0  # a public body pays no platform fee
    manager, account = _onboard(db, factories, space.owner, stripe_double, client, login)
    booking = _request(factories, space, slot)
    db.session.commit()
    _approve(db, booking, manager)
    _checkout(client, login, booking)
    sent = next(r["params"] for r in stripe_double.double.api_requests
                if r["path"] == "/v1/checkout/sessions")
    assert sent["payment_intent_data"]["transfer_data"] == {
        "destination": account.stripe_account_id}
    assert "application_fee_amount" not in sent["payment_intent_data"]
