"""Idempotency keys, injected failures and slow answers, through the real ``stripe`` library."""

from __future__ import annotations

import pytest
import stripe

from tests.stripe_double.helpers import make_client, session_params

INTENT = {"amount": 1000, "currency": "krw"}


def intents_created(double) -> list[str]:
    return [e["data"]["object"]["id"] for e in double.events_of("payment_intent.created")]


def test_idempotent_create_and_key_reuse(double, client):
    opts = {"idempotency_key": "booking-42-checkout"}
    first = client.v1.checkout.sessions.create(session_params(), opts)
    assert "Idempotent-Replayed" not in first.last_response.headers
    again = client.v1.checkout.sessions.create(session_params(), opts)
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert sum(1 for o in double._objects.values() if o["object"] == "checkout.session") == 1
    with pytest.raises(stripe.IdempotencyError) as err:
        client.v1.checkout.sessions.create(session_params(client_reference_id="other"), opts)
    assert err.value.http_status == 400
    assert err.value.user_message == (
        "Keys for idempotent requests can only be used with the same parameters they were "
        "first used with. Try using a key other than 'booking-42-checkout' if you meant to "
        "execute a different request.")
    assert err.value.error.type == "idempotency_error"


def test_same_key_on_another_endpoint_is_refused(client):
    opts = {"idempotency_key": "one-key"}
    client.v1.payment_intents.create(INTENT, opts)
    with pytest.raises(stripe.IdempotencyError) as err:
        client.v1.checkout.sessions.create(session_params(), opts)
    assert err.value.http_status == 400 and "same parameters" in err.value.user_message


def test_fail_next_raises_api_error(double, client):
    double.fail_next("/v1/checkout/sessions", status=500)
    with pytest.raises(stripe.APIError):
        client.v1.checkout.sessions.create(session_params())
    assert client.v1.checkout.sessions.create(session_params()).status == "open"


def test_an_injected_500_is_replayed_for_its_key_as_stripe_does(double, client):
    """Stripe stores a 5xx against the idempotency key and answers it again to every retry with
    that key for 24 hours: the outcome is unknown, and only a new key runs the call again."""
    opts = {"idempotency_key": "booking-7-intent"}
    double.fail_next("/v1/payment_intents", status=500)
    with pytest.raises(stripe.APIError) as err:
        client.v1.payment_intents.create(INTENT, opts)
    assert err.value.http_status == 500
    assert intents_created(double) == []
    with pytest.raises(stripe.APIError) as err:
        client.v1.payment_intents.create(INTENT, opts)
    assert err.value.http_status == 500
    assert err.value.headers["Idempotent-Replayed"] == "true"
    assert intents_created(double) == []
    intent = client.v1.payment_intents.create(INTENT, {"idempotency_key": "booking-7-intent-r1"})
    assert intent.status == "requires_payment_method"
    assert intents_created(double) == [intent.id]


def test_injected_503_is_a_retryable_api_error(double, client):
    double.fail_next("/v1/refunds", status=503, message="Stripe is down (injected).")
    with pytest.raises(stripe.APIError) as err:
        client.v1.refunds.create({"payment_intent": "pi_whatever"})
    assert err.value.http_status == 503 and err.value.user_message == "Stripe is down (injected)."
    assert err.value.headers["Stripe-Should-Retry"] == "true"


def test_delay_next_times_out(double):
    slow_client = make_client(double.url, timeout=0.3)
    double.delay_next("/v1/payment_intents", 1.0)
    with pytest.raises(stripe.APIConnectionError):
        slow_client.v1.payment_intents.create(INTENT)


def test_lost_response_then_retry_with_the_same_key_returns_the_object(double):
    """Stripe finished the request but the answer never arrived (the client timed out): the
    object exists, and retrying with the same idempotency key hands it back."""
    slow_client = make_client(double.url, timeout=1.0)
    opts = {"idempotency_key": "booking-9-intent"}
    double.delay_next("/v1/payment_intents", 2.0, after=True)
    with pytest.raises(stripe.APIConnectionError) as err:
        slow_client.v1.payment_intents.create(INTENT, opts)
    assert err.value.should_retry is True
    [created] = intents_created(double)  # created server-side although the client saw a timeout
    assert double.get(created)["status"] == "requires_payment_method"
    again = slow_client.v1.payment_intents.create(INTENT, opts)
    assert again.id == created
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert intents_created(double) == [created]
    # Without the key, a "retry" is a new request: a second PaymentIntent.
    double.delay_next("/v1/payment_intents", 2.0, after=True)
    with pytest.raises(stripe.APIConnectionError):
        slow_client.v1.payment_intents.create(INTENT)
    assert len(intents_created(double)) == 2
    slow_client.v1.payment_intents.create(INTENT)
    assert len(intents_created(double)) == 3


def test_slow_request_holds_its_key_until_it_finishes(double):
    """delay_next before handling: the client times out while the request is still going; a
    retry meanwhile gets Stripe's 409 (another request with this key is in progress); once the
    slow request has finished, the retry returns what it created."""
    slow_client = make_client(double.url, timeout=1.0)
    opts = {"idempotency_key": "booking-10-intent"}
    double.delay_next("/v1/payment_intents", 2.0)
    with pytest.raises(stripe.APIConnectionError):
        slow_client.v1.payment_intents.create(INTENT, opts)
    with pytest.raises(stripe.APIError) as err:  # 409 is an APIError in the library, not an
        slow_client.v1.payment_intents.create(INTENT, opts)  # IdempotencyError
    assert err.value.http_status == 409
    assert err.value.error.code == "idempotency_key_in_use"
    double.wait_idle()
    [created] = intents_created(double)
    again = slow_client.v1.payment_intents.create(INTENT, opts)
    assert again.id == created and again.last_response.headers["Idempotent-Replayed"] == "true"


def test_library_retries_reuse_their_own_key(double):
    """With max_network_retries the library sends one generated Idempotency-Key for all its
    attempts, so a timed-out create that it retries comes back as one object."""
    retrying = make_client(double.url, timeout=1.0, retries=1)
    double.delay_next("/v1/payment_intents", 2.0, after=True)
    intent = retrying.v1.payment_intents.create(INTENT)
    assert intent.last_response.headers["Idempotent-Replayed"] == "true"
    assert intents_created(double) == [intent.id]
    assert double.requests.count(("POST", "/v1/payment_intents")) == 2
