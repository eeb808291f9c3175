"""Connect realism: destination charges' transfers and application fees, refunds that reverse
them, and payouts to the connected account."""

from __future__ import annotations

import pytest
import requests
import stripe

from devtools.stripe_double import StripeDoubleError
from tests.stripe_double.helpers import onboarded_account, pay, session_params


def destination_payment(client, account, amount=10000, fee=3001, **extra):
    return client.v1.payment_intents.create({
        "amount": amount, "currency": "krw", "confirm": True, "payment_method": "pm_card_visa",
        "application_fee_amount": fee, "transfer_data": {"destination": account.id}, **extra})


@pytest.fixture
def account(client):
    return onboarded_account(client)


def test_destination_charge_carries_transfer_and_destination(double, client, account,
                                                             receiver):
    session = client.v1.checkout.sessions.create(session_params(payment_intent_data={
        "application_fee_amount": 3000, "transfer_data": {"destination": account.id}}))
    pay(session)
    intent = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.destination == account.id and charge.transfer.startswith("tr_")
    transfer = client.v1.transfers.retrieve(charge.transfer)
    assert (transfer.amount, transfer.destination) == (27000, account.id)
    assert transfer.source_transaction == charge.id and transfer.amount_reversed == 0
    fee = client.v1.application_fees.retrieve(charge.application_fee)
    assert (fee.amount, fee.account, fee.charge) == (3000, account.id, charge.id)
    assert receiver.wait_for("transfer.created").data.object.id == transfer.id

    plain = client.v1.payment_intents.create({"amount": 1000, "currency": "krw",
                                              "confirm": True, "payment_method": "pm_card_visa"})
    plain_charge = client.v1.charges.retrieve(plain.latest_charge)
    assert plain_charge.transfer is None and plain_charge.destination is None


def test_manual_capture_transfers_what_was_captured(client, account):
    intent = destination_payment(client, account, capture_method="manual")
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.destination == account.id and charge.transfer is None  # not captured yet
    client.v1.payment_intents.capture(intent.id, {"amount_to_capture": 8000,
                                                  "application_fee_amount": 2000})
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert client.v1.transfers.retrieve(charge.transfer).amount == 6000


def test_refunds_reverse_the_transfer_and_refund_the_fee_in_proportion(double, client, account,
                                                                       receiver):
    intent = destination_payment(client, account)  # 10,000 paid: fee 3,001, transfer 6,999
    charge = client.v1.charges.retrieve(intent.latest_charge)
    first = client.v1.refunds.create({"payment_intent": intent.id, "amount": 5000,
                                      "reverse_transfer": True, "refund_application_fee": True})
    assert first.reverse_transfer is True and first.refund_application_fee is True
    assert first.transfer_reversal.startswith("trr_")
    assert first.application_fee_refunded == 1500  # floor(3,001 × 5,000 / 10,000)
    reversal = client.v1.transfers.reversals.retrieve(charge.transfer, first.transfer_reversal)
    assert (reversal.amount, reversal.source_refund) == (3499, first.id)  # floor(6,999 / 2)
    assert client.v1.transfers.retrieve(charge.transfer).amount_reversed == 3499

    rest = client.v1.refunds.create({"charge": charge.id, "reverse_transfer": True,
                                     "refund_application_fee": True})
    assert rest.amount == 5000 and rest.application_fee_refunded == 1501
    assert rest.transfer_reversal not in (None, first.transfer_reversal)
    transfer = client.v1.transfers.retrieve(charge.transfer)
    assert (transfer.amount_reversed, transfer.reversed) == (6999, True)  # shares add up
    fee = client.v1.application_fees.retrieve(charge.application_fee)
    assert (fee.amount_refunded, fee.refunded) == (3001, True)
    assert double.connected_balance(account.id) == 0
    receiver.wait_for("transfer.reversed")
    receiver.wait_for("application_fee.refunded")


def test_refund_without_the_flags_leaves_transfer_and_fee_alone(double, client, account):
    intent = destination_payment(client, account)
    refund = client.v1.refunds.create({"payment_intent": intent.id, "amount": 4000,
                                       "reverse_transfer": False})
    assert refund.reverse_transfer is False and refund.refund_application_fee is False
    assert refund.transfer_reversal is None and refund.application_fee_refunded == 0
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert client.v1.transfers.retrieve(charge.transfer).amount_reversed == 0
    assert client.v1.application_fees.retrieve(charge.application_fee).amount_refunded == 0
    assert double.connected_balance(account.id) == 6999


def test_flags_on_a_charge_without_destination_change_nothing(client):
    intent = client.v1.payment_intents.create({"amount": 1000, "currency": "krw",
                                               "confirm": True, "payment_method": "pm_card_visa"})
    refund = client.v1.refunds.create({"payment_intent": intent.id, "reverse_transfer": True,
                                       "refund_application_fee": True})
    assert refund.amount == 1000 and refund.status == "succeeded"
    assert refund.transfer_reversal is None and refund.application_fee_refunded == 0


def test_refund_flags_must_be_booleans(double, client):
    intent = client.v1.payment_intents.create({"amount": 1000, "currency": "krw",
                                               "confirm": True, "payment_method": "pm_card_visa"})
    resp = requests.post(f"{double.url}/v1/refunds", timeout=5,
                         headers={"Authorization": "Bearer sk_test_double"},
                         data={"payment_intent": intent.id, "reverse_transfer": "yes"})
    assert resp.status_code == 400
    assert resp.json()["error"]["param"] == "reverse_transfer"
    assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 0


def test_pay_out_sends_the_net_transfers_and_a_connect_event(double, client, account, receiver,
                                                            connect_receiver):
    first = destination_payment(client, account)  # transfer 6,999
    destination_payment(client, account, amount=20000, fee=2000)  # transfer 18,000
    client.v1.refunds.create({"payment_intent": first.id, "amount": 5000,
                              "reverse_transfer": True})  # reverses 3,499
    assert double.connected_balance(account.id) == 6999 + 18000 - 3499

    payout = double.pay_out(account.id)
    assert payout["id"].startswith("po_") and payout["status"] == "paid"
    assert (payout["amount"], payout["currency"]) == (21500, "krw")
    assert double.connected_balance(account.id) == 0
    event = connect_receiver.wait_for("payout.paid")
    assert event.account == account.id and event.data.object.id == payout["id"]
    assert connect_receiver.wait_for("payout.created").account == account.id
    # Connect events reach the Connect endpoint only, signed with its secret.
    assert "payout.paid" not in receiver.types()
    assert receiver.rejected == connect_receiver.rejected == 0
    fetched = client.v1.payouts.retrieve(payout["id"], options={"stripe_account": account.id})
    assert fetched.amount == 21500

    with pytest.raises(StripeDoubleError) as err:
        double.pay_out(account.id)  # nothing new to pay out
    assert err.value.body["code"] == "balance_insufficient"
    destination_payment(client, account, amount=5000, fee=500)
    assert double.pay_out(account.id)["amount"] == 4500  # only what came in since


def test_refund_after_payout_still_succeeds_and_the_balance_goes_negative(double, client,
                                                                          account):
    intent = destination_payment(client, account)
    double.pay_out(account.id)
    refund = client.v1.refunds.create({"payment_intent": intent.id, "reverse_transfer": True,
                                       "refund_application_fee": True})
    assert refund.status == "succeeded" and refund.amount == 10000
    assert refund.transfer_reversal.startswith("trr_")
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert client.v1.transfers.retrieve(charge.transfer).reversed is True
    assert double.connected_balance(account.id) == -6999
    with pytest.raises(StripeDoubleError):
        double.pay_out(account.id)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create({"payment_intent": intent.id, "reverse_transfer": True})
    assert err.value.code == "charge_already_refunded"
