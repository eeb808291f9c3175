"""Manual capture: the hold's capture_before, holds that lapse, partial capture and refunds."""

from __future__ import annotations

import pytest
import stripe

from devtools.stripe_double import StripeDoubleError
from tests.stripe_double.helpers import pay, session_params

WEEK = 7 * 86400


def hold(client, amount=10000):
    intent = client.v1.payment_intents.create({
        "amount": amount, "currency": "krw", "capture_method": "manual", "confirm": True,
        "payment_method": "pm_card_visa"})
    assert intent.status == "requires_capture"
    return intent


def test_authorised_charge_carries_capture_before(double, client):
    session = client.v1.checkout.sessions.create(session_params(
        payment_intent_data={"capture_method": "manual"}))
    pay(session)
    intent = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.captured is False
    assert abs(charge.payment_method_details.card.capture_before - (double.now() + WEEK)) <= 5

    paid = client.v1.payment_intents.create({"amount": 1000, "currency": "krw",
                                             "confirm": True, "payment_method": "pm_card_visa"})
    card = client.v1.charges.retrieve(paid.latest_charge).payment_method_details.card
    assert "capture_before" not in card  # only authorisations awaiting capture have one


def test_expire_authorization_cancels_like_a_lapsed_hold(double, client, receiver):
    intent = hold(client)
    expired = double.expire_authorization(intent.id)
    assert expired["status"] == "canceled" and expired["cancellation_reason"] == "automatic"

    intent = client.v1.payment_intents.retrieve(intent.id)
    assert (intent.status, intent.cancellation_reason) == ("canceled", "automatic")
    assert intent.amount_capturable == 0 and intent.canceled_at is not None
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.refunded is True and charge.amount_refunded == charge.amount == 10000
    assert receiver.wait_for("charge.expired").data.object.id == charge.id
    canceled = receiver.wait_for("payment_intent.canceled")
    assert canceled.data.object.cancellation_reason == "automatic"

    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.payment_intents.capture(intent.id)
    assert err.value.code == "payment_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create({"payment_intent": intent.id})
    assert err.value.code == "charge_not_refundable"
    with pytest.raises(StripeDoubleError):
        double.expire_authorization(intent.id)  # only a requires_capture intent can lapse


def test_the_clock_lapses_holds_at_capture_before(double, client, receiver):
    kept, lapsed = hold(client), hold(client)
    client.v1.payment_intents.capture(kept.id)
    double.advance_clock(WEEK - 60)
    assert client.v1.payment_intents.retrieve(lapsed.id).status == "requires_capture"
    double.advance_clock(120)
    lapsed = client.v1.payment_intents.retrieve(lapsed.id)
    assert (lapsed.status, lapsed.cancellation_reason) == ("canceled", "automatic")
    assert client.v1.payment_intents.retrieve(kept.id).status == "succeeded"
    receiver.wait_for("charge.expired")


def test_partial_capture_then_refund_the_captured_part(double, client):
    intent = hold(client)
    intent = client.v1.payment_intents.capture(intent.id, {"amount_to_capture": 6000})
    assert intent.amount_received == 6000
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_captured, charge.amount_refunded, charge.refunded) == (6000, 4000,
                                                                                 False)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 6001})
    assert err.value.code == "amount_too_large"
    refund = client.v1.refunds.create({"payment_intent": intent.id})
    assert refund.amount == 6000
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (10000, True)


def test_a_partial_capture_releases_the_rest_and_never_takes_more_than_held(double, client):
    intent = hold(client, 20000)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.payment_intents.capture(intent.id, {"amount_to_capture": 20001})
    assert err.value.code == "amount_too_large"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"
    captured = client.v1.payment_intents.capture(
        intent.id, {"amount_to_capture": 10000}, {"idempotency_key": "cap-1"})
    assert (captured.status, captured.amount_received, captured.amount_capturable) == (
        "succeeded", 10000, 0)
    charge = client.v1.charges.retrieve(captured.latest_charge)
    assert (charge.amount, charge.amount_captured, charge.amount_refunded) == (20000, 10000,
                                                                               10000)
    # The same key gives the same answer; the same key with another amount is refused.
    again = client.v1.payment_intents.capture(
        intent.id, {"amount_to_capture": 10000}, {"idempotency_key": "cap-1"})
    assert again.amount_received == 10000
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.capture(
            intent.id, {"amount_to_capture": 9000}, {"idempotency_key": "cap-1"})
