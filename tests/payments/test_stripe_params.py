"""The check of what the app sends against the stripe library's parameter definitions."""

from __future__ import annotations

from tests.payments.stripe_params import problems


def test_a_parameter_stripe_does_not_know_is_found_at_any_depth():
    sent = {
        "mode": "payment",
        "success_url": "http://app.test/ok",
        "payment_intent_data": {"capture_method": "manual", "aplication_fee_amount": "0",
                                "transfer_data": {"destination": "acct_1"}},
        "line_items": [{"quantity": "1", "price_data": {
            "currency": "krw", "unit_amount": "1000", "product_data": {"name": "강당"},
            "colour": "red"}}],
    }
    assert problems("POST", "/v1/checkout/sessions", sent) == [
        "POST /v1/checkout/sessions: payment_intent_data[aplication_fee_amount]: Stripe knows "
        "no such parameter",
        "POST /v1/checkout/sessions: line_items[0][price_data][colour]: Stripe knows no such "
        "parameter",
    ]


def test_enum_values_and_unknown_endpoints_are_checked_too():
    assert problems("POST", "/v1/payment_intents/pi_1/cancel",
                    {"cancellation_reason": "abandoned"}) == []
    assert problems("POST", "/v1/payment_intents/pi_1/cancel",
                    {"cancellation_reason": "bored"})[0].endswith(
        "cancellation_reason: 'bored' is not one of ['abandoned', 'duplicate', "
        "'fraudulent', 'requested_by_customer']")
    assert problems("POST", "/v1/payment_intents/pi_1/refund", {}) == [
        "POST /v1/payment_intents/pi_1/refund: no typed definition known (add it to ENDPOINTS)"]


def test_what_the_app_sends_is_known():
    """(The payments fixture runs this check on every request after each test.)"""
    sent = {"type": "express", "country": "US", "email": "a@b.test",
            "capabilities": {"card_payments": {"requested": "true"},
                             "transfers": {"requested": "true"}},
            "metadata": {"organisation_id": "1"}}
    assert problems("POST", "/v1/accounts", sent) == []
    assert problems("GET", "/v1/payment_intents/pi_1", {"expand": ["latest_charge"]}) == []
