"""The Stripe double, exercised through the real ``stripe`` library (no network)."""

from __future__ import annotations

import json

import pytest
import requests
import stripe

from devtools.stripe_double import StripeDouble, StripeDoubleError, decode, sign_payload
from tests.stripe_double.helpers import SECRET, make_client, pay, session_params


def test_form_decoder_nests_dicts_and_lists():
    assert decode("a[b][c]=1&l[0][x]=2&l[1][x]=3&e[]=p&e[]=q&m[k]=") == {
        "a": {"b": {"c": "1"}}, "l": [{"x": "2"}, {"x": "3"}], "e": ["p", "q"], "m": {"k": ""},
    }


def test_checkout_paid_through_hosted_page_sends_signed_webhooks(double, client, receiver):
    session = client.v1.checkout.sessions.create(session_params())
    assert session.id.startswith("cs_") and session.object == "checkout.session"
    assert session.status == "open" and session.amount_total == 30000
    assert session.livemode is False and session.url.startswith(double.url)

    resp = pay(session)
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"http://app.test/pay/done?session_id={session.id}"

    session = client.v1.checkout.sessions.retrieve(session.id)
    assert (session.status, session.payment_status) == ("complete", "paid")
    intent = client.v1.payment_intents.retrieve(session.payment_intent)
    assert intent.status == "succeeded" and intent.amount_received == 30000
    assert intent.latest_charge.startswith("ch_")

    completed = receiver.wait_for("checkout.session.completed")
    assert completed.data.object.id == session.id
    assert completed.data.object.metadata["booking_id"] == "42"
    assert completed.data.object.client_reference_id == "booking-42"
    receiver.wait_for("payment_intent.succeeded")
    assert client.v1.events.retrieve(completed.id).type == "checkout.session.completed"
    assert receiver.rejected == 0


def test_signature_header_verifies_and_wrong_secret_fails():
    header = sign_payload('{"id": "evt_1", "object": "event"}', SECRET)
    event = stripe.Webhook.construct_event('{"id": "evt_1", "object": "event"}', header, SECRET)
    assert event.id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event('{"id": "evt_1"}', header, "whsec_other")


def test_manual_capture_then_second_capture_fails(double, client, receiver):
    session = client.v1.checkout.sessions.create(session_params(
        payment_intent_data={"capture_method": "manual"}))
    assert pay(session).status_code == 303
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert (session.status, session.payment_status) == ("complete", "unpaid")
    intent = client.v1.payment_intents.retrieve(session.payment_intent)
    assert intent.status == "requires_capture" and intent.amount_capturable == 30000
    receiver.wait_for("payment_intent.amount_capturable_updated")

    intent = client.v1.payment_intents.capture(intent.id)
    assert intent.status == "succeeded" and intent.amount_received == 30000
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.payment_intents.capture(intent.id)
    assert err.value.code == "payment_intent_unexpected_state"
    assert err.value.http_status == 400


def test_cancel_a_hold(double, client, receiver):
    intent = client.v1.payment_intents.create({
        "amount": 5000, "currency": "krw", "capture_method": "manual",
        "confirm": True, "payment_method": "pm_card_visa"})
    assert intent.status == "requires_capture"
    intent = client.v1.payment_intents.cancel(intent.id)
    assert intent.status == "canceled"
    receiver.wait_for("payment_intent.canceled")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.capture(intent.id)


def test_partial_full_and_over_refund(double, client, receiver):
    intent = client.v1.payment_intents.create({
        "amount": 10000, "currency": "krw", "confirm": True, "payment_method": "pm_card_visa"})
    assert intent.status == "succeeded"
    first = client.v1.refunds.create({"payment_intent": intent.id, "amount": 3000})
    assert first.id.startswith("re_") and first.amount == 3000 and first.status == "succeeded"
    assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 3000
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 8000})
    assert err.value.code == "amount_too_large"
    rest = client.v1.refunds.create({"charge": intent.latest_charge})
    assert rest.amount == 7000
    assert client.v1.refunds.retrieve(rest.id).charge == intent.latest_charge
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.refunded is True and charge.amount_refunded == 10000
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 1})
    assert err.value.code == "charge_already_refunded"
    double.deliver_pending()
    assert receiver.types().count("charge.refunded") == 2


def test_declined_card_keeps_session_open(double, client, receiver):
    session = client.v1.checkout.sessions.create(session_params())
    resp = pay(session, card="4000000000000002")
    assert resp.status_code == 402 and "declined" in resp.text
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert session.status == "open" and session.payment_status == "unpaid"
    assert client.v1.payment_intents.retrieve(
        session.payment_intent).status == "requires_payment_method"
    receiver.wait_for("payment_intent.payment_failed")
    assert pay(session).status_code == 303  # a retry with a good card succeeds

    with pytest.raises(stripe.CardError) as err:
        client.v1.payment_intents.create({"amount": 1000, "currency": "krw", "confirm": True,
                                          "payment_method": "pm_card_chargeDeclined"})
    assert err.value.http_status == 402 and err.value.code == "card_declined"


def test_cancel_button_and_expire(double, client, receiver):
    session = client.v1.checkout.sessions.create(session_params())
    resp = requests.post(f"{session.url}/cancel", allow_redirects=False, timeout=5)
    assert resp.status_code == 303 and resp.headers["Location"] == "http://app.test/pay/cancelled"
    session = client.v1.checkout.sessions.expire(session.id)
    assert session.status == "expired"
    receiver.wait_for("checkout.session.expired")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)


def test_unknown_object_is_404(client):
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.payment_intents.retrieve("pi_missing")
    assert err.value.http_status == 404 and err.value.code == "resource_missing"


def test_account_and_onboarding_link(double, client, receiver, connect_receiver):
    account = client.v1.accounts.create({"type": "express", "country": "JP",
                                         "email": "host@example.kr"})
    assert account.id.startswith("acct_") and account.charges_enabled is False
    link = client.v1.account_links.create({
        "account": account.id, "type": "account_onboarding",
        "refresh_url": "http://app.test/connect/refresh",
        "return_url": "http://app.test/connect/done"})
    resp = requests.get(link.url, allow_redirects=False, timeout=5)
    assert resp.status_code == 303 and resp.headers["Location"] == "http://app.test/connect/done"
    account = client.v1.accounts.retrieve(account.id)
    assert account.charges_enabled is True and account.payouts_enabled is True
    assert connect_receiver.wait_for("account.updated").data.object.id == account.id
    # Links are single use: a second visit goes to refresh_url.
    resp = requests.get(link.url, allow_redirects=False, timeout=5)
    assert resp.headers["Location"] == "http://app.test/connect/refresh"

    session = client.v1.checkout.sessions.create(session_params(payment_intent_data={
        "application_fee_amount": 3000, "transfer_data": {"destination": account.id}}))
    pay(session)
    intent = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    assert intent.application_fee_amount == 3000
    assert intent.transfer_data.destination == account.id


def test_manual_delivery_out_of_order_and_duplicates(receiver):
    with StripeDouble(webhook_url=receiver.url, webhook_secret=SECRET,
                      webhook_mode="manual") as double:
        client = make_client(double.url)
        session = client.v1.checkout.sessions.create(session_params())
        pay(session)
        assert receiver.types() == []
        sent = double.deliver_pending(reverse=True)
        assert receiver.types() == [double.get(e)["type"] for e in sent]
        assert receiver.types()[0] == "checkout.session.completed"
        completed = receiver.events[0]
        double.resend(completed.id)
        assert [e.id for e in receiver.events].count(completed.id) == 2

        intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
        dispute = double.create_dispute(intent_id)
        double.deliver_pending()
        assert receiver.types()[-1] == "charge.dispute.created"
        assert dispute["id"].startswith("dp_") and dispute["payment_intent"] == intent_id


def test_sync_mode_delivers_before_the_response(receiver):
    with StripeDouble(webhook_url=receiver.url, webhook_secret=SECRET,
                      webhook_mode="sync") as double:
        client = make_client(double.url)
        intent = client.v1.payment_intents.create({
            "amount": 1000, "currency": "krw", "confirm": True,
            "payment_method": "pm_card_visa"})
        assert "payment_intent.succeeded" in receiver.types()
        assert all(d["status"] == 200 for d in double.deliveries)
        assert json.loads(json.dumps(double.get(intent.id)))["status"] == "succeeded"


def test_module_level_api_base_configuration(double):
    old = (stripe.api_key, stripe.api_base, stripe.max_network_retries)
    try:
        stripe.api_key, stripe.api_base, stripe.max_network_retries = (
            "sk_test_double", double.url, 0)
        session = stripe.checkout.Session.create(**session_params())
        assert stripe.checkout.Session.retrieve(session.id).status == "open"
    finally:
        stripe.api_key, stripe.api_base, stripe.max_network_retries = old


def test_wallet_sessions_krw_only_and_paid_without_a_card(double, client, receiver):
    usd = session_params(payment_method_types=["card", "kakao_pay"])
    usd["line_items"][0]["price_data"]["currency"] = "usd"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(usd)
    assert "kakao_pay" in str(err.value)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(session_params(payment_method_types=["kakaopay"]))

    session = client.v1.checkout.sessions.create(
        session_params(payment_method_types=["card", "naver_pay"]))
    assert session.payment_method_types == ["card", "naver_pay"]
    page = requests.get(session.url, timeout=5).text
    assert "Naver Pay" in page and "KakaoPay" not in page
    refused = requests.post(f"{session.url}/pay", data={"method": "kakao_pay"},
                            allow_redirects=False, timeout=5)
    assert refused.status_code == 402  # not offered on this session
    paid = requests.post(f"{session.url}/pay", data={"method": "naver_pay"},
                         allow_redirects=False, timeout=5)
    assert paid.status_code == 303
    intent = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session.id).payment_intent,
        {"expand": ["latest_charge"]})
    details = intent.latest_charge.payment_method_details
    assert details.type == "naver_pay" and details.get("card") is None
    assert intent.payment_method_types == ["card", "naver_pay"]


def test_pending_refunds_move_on_with_their_events(double, client, receiver):
    session = client.v1.checkout.sessions.create(session_params())
    pay(session, card="4000000000007726")
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    refund = client.v1.refunds.create({"payment_intent": intent_id, "amount": 1000})
    assert refund.status == "pending"
    double.update_refund(refund.id, "failed")
    assert receiver.wait_for("refund.failed").data.object.status == "failed"
    receiver.wait_for("charge.refund.updated")
    refreshed = client.v1.refunds.retrieve(refund.id)
    assert refreshed.status == "failed" and refreshed.failure_reason
    assert client.v1.charges.retrieve(refreshed.charge).amount_refunded == 0
    with pytest.raises(StripeDoubleError):
        double.update_refund(refund.id, "succeeded")  # failed is final


def test_disputes_close_won_or_lost(double, client, receiver):
    session = client.v1.checkout.sessions.create(session_params())
    pay(session)
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    dispute = double.create_dispute(intent_id)
    double.close_dispute(dispute["id"], won=False)
    event = receiver.wait_for("charge.dispute.closed")
    assert event.data.object.status == "lost"
    assert client.v1.disputes.retrieve(dispute["id"]).status == "lost"
