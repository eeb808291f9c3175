"""The double refuses what Stripe refuses: a Checkout Session ending outside 30 minutes to 24
hours from its creation, and amounts below the currency's smallest charge or above 8 digits."""

from __future__ import annotations

import pytest
import stripe

from tests.stripe_double.helpers import session_params


@pytest.fixture
def frozen(double, time_machine):
    time_machine.move_to(1_800_000_000, tick=False)
    return double.now()


@pytest.mark.parametrize(("offset", "ok"), [(30 * 60 - 1, False), (30 * 60, True),
                                            (24 * 3600, True), (24 * 3600 + 1, False)])
def test_expires_at_is_held_to_stripes_window_with_no_slack(client, frozen, offset, ok):
    params = session_params(expires_at=frozen + offset)
    if ok:
        assert client.v1.checkout.sessions.create(params).expires_at == frozen + offset
        return
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(params)
    assert err.value.http_status == 400 and err.value.param == "expires_at"


@pytest.mark.parametrize(("amount", "code"), [(699, "amount_too_small"), (700, None),
                                              (99_999_999, None),
                                              (100_000_000, "amount_too_large")])
def test_charges_stay_within_stripes_amount_limits(client, amount, code):
    params = {"amount": amount, "currency": "krw"}
    checkout = session_params(line_items=[{
        "price_data": {"currency": "krw", "unit_amount": amount,
                       "product_data": {"name": "강당"}}, "quantity": 1}])
    if code is None:
        assert client.v1.payment_intents.create(params).amount == amount
        assert client.v1.checkout.sessions.create(checkout).amount_total == amount
        return
    for call in (lambda: client.v1.payment_intents.create(params),
                 lambda: client.v1.checkout.sessions.create(checkout)):
        with pytest.raises(stripe.InvalidRequestError) as err:
            call()
        assert err.value.code == code and err.value.http_status == 400


def test_no_connected_account_in_a_country_stripe_does_not_serve(client):
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.accounts.create({"type": "express", "country": "KR"})
    assert err.value.http_status == 400 and err.value.code == "country_unsupported"
    assert err.value.param == "country"
    assert client.v1.accounts.create({"type": "express", "country": "JP"}).country == "JP"
