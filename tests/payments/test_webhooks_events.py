"""The two webhook endpoints and their secrets, refunds Stripe finishes later (pending, then
succeeded / failed / canceled), closed disputes, and the events arriving late, twice and out of
order."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app import jobs
from app.bookings.models import Booking
from app.payments import services as payments
from app.payments import work
from app.payments.models import Payment, PaymentLog, PayoutAccount, Refund, StripeEvent
from devtools.stripe_double import sign_payload
from devtools.stripe_double.common import CARD_REFUND_PENDING
from tests.payments.conftest import CONNECT_SECRET, SECRET
from tests.payments.test_flows import _approved, _checkout
from tests.payments.test_notifications import told


def _paid(db, factories, space, slot, stripe_double, client, login, card=CARD_REFUND_PENDING):
    booking = _approved(db, factories, space, slot)
    stripe_double.pay(_checkout(client, login, booking), card=card)
    stripe_double.deliver()
    booking = db.session.get(Booking, booking.id)
    assert booking.payment_status == "paid"
    return booking


def _refund(db, booking, manager, amount=5_000):
    payments.refund(booking, manager, amount=amount, reason="에어컨 고장")
    db.session.commit()
    jobs.run_deferred()
    db.session.expire_all()
    return db.session.scalars(select(Refund).order_by(Refund.id.desc())).first()


def _creates(stripe_double) -> int:
    return sum(1 for r in stripe_double.double.api_requests
               if r["method"] == "POST" and r["path"] == "/v1/refunds")


# --------------------------------------------------------------------------- two endpoints
def test_each_endpoint_verifies_with_its_own_secret_only(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    booking = _approved(db, factories, space, slot)
    stripe_double.new_events()
    stripe_double.pay(_checkout(client, login, booking))
    completed = next(e for e in stripe_double.new_events()
                     if e["type"] == "checkout.session.completed")
    # A platform event signed with the Connect endpoint's secret: refused, nothing changes.
    assert stripe_double.post_event(completed, secret=CONNECT_SECRET).status_code == 400
    assert db.session.get(StripeEvent, completed["id"]) is None
    assert db.session.get(Booking, booking.id).payment_status == "due"
    # With the platform secret at the platform endpoint: applied.
    assert stripe_double.post_event(completed).status_code == 200
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).payment_status == "paid"


def test_connect_events_arrive_at_the_connect_endpoint_signed_with_its_secret(
    db, factories, stripe_double, client, login
):
    org = factories.space().owner
    org.country = "JP"
    manager = factories.manager(org)
    db.session.commit()
    login(manager)
    response = client.post(f"/manage/organisations/{org.id}/payments/onboard")
    account = db.session.query(PayoutAccount).one()
    stripe_double.new_events()
    import requests

    requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    [updated] = [e for e in stripe_double.new_events() if e["type"] == "account.updated"]
    assert updated["account"] == account.stripe_account_id
    payload = json.dumps(updated)
    # Signed with the platform secret, at either endpoint: refused, the account unchanged.
    for url in ("/stripe/webhook/connect", "/stripe/webhook"):
        bad = client.post(url, data=payload, content_type="application/json",
                          headers={"Stripe-Signature": sign_payload(payload, "whsec_wrong")})
        assert bad.status_code == 400
    wrong = client.post("/stripe/webhook/connect", data=payload,
                        content_type="application/json",
                        headers={"Stripe-Signature": sign_payload(payload, SECRET)})
    assert wrong.status_code == 400
    db.session.expire_all()
    assert not account.charges_enabled
    assert db.session.get(StripeEvent, updated["id"]) is None
    # As Stripe sends it: to the Connect endpoint with the Connect secret.
    assert stripe_double.post_event(updated).status_code == 200
    db.session.expire_all()
    assert account.charges_enabled and account.payouts_enabled


def test_an_event_at_the_wrong_endpoint_is_stored_not_applied(
    db, factories, paid_space, slot, stripe_double, client, login
):
    org = factories.space().owner
    org.country = "JP"
    manager = factories.manager(org)
    db.session.commit()
    login(manager)
    response = client.post(f"/manage/organisations/{org.id}/payments/onboard")
    stripe_double.new_events()
    import requests

    requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    [updated] = [e for e in stripe_double.new_events() if e["type"] == "account.updated"]
    # A Connect event at the platform endpoint (an endpoint registered for the wrong events),
    # signed with that endpoint's secret: acknowledged so Stripe stops there, not applied and
    # not stored (so its delivery to the Connect endpoint is no duplicate).
    answer = stripe_double.post_event(updated, secret=SECRET, endpoint="/stripe/webhook")
    assert answer.status_code == 200 and answer.get_json()["ignored"]
    assert db.session.get(StripeEvent, updated["id"]) is None
    assert not db.session.query(PayoutAccount).one().charges_enabled
    assert stripe_double.post_event(updated).get_json() == {"received": True}
    db.session.expire_all()
    assert db.session.query(PayoutAccount).one().charges_enabled

    space = paid_space()
    booking = _approved(db, factories, space, slot)
    stripe_double.new_events()
    stripe_double.pay(_checkout(client, login, booking))
    completed = next(e for e in stripe_double.new_events()
                     if e["type"] == "checkout.session.completed")
    answer = stripe_double.post_event(completed, secret=CONNECT_SECRET,
                                      endpoint="/stripe/webhook/connect")
    assert answer.status_code == 200 and answer.get_json()["ignored"]
    assert db.session.get(StripeEvent, completed["id"]) is None
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).payment_status == "due"
    assert stripe_double.post_event(completed).get_json() == {"received": True}
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).payment_status == "paid"


def test_the_connect_endpoint_is_off_without_its_secret(app, stripe_double, client,
                                                        monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_CONNECT_WEBHOOK_SECRET", None)
    event = {"id": "evt_x", "type": "account.updated", "account": "acct_X",
             "data": {"object": {"id": "acct_X", "object": "account"}}}
    assert stripe_double.post_event(event).status_code == 503


# --------------------------------------------------------------------------- refunds
def test_a_refund_stripe_reports_pending_stays_pending_until_it_succeeds(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    booking = _paid(db, factories, space, slot, stripe_double, client, login)
    manager = factories.manager(space.owner)
    stripe_double.new_events()
    refund = _refund(db, booking, manager)
    assert stripe_double.get(refund.stripe_refund_id)["status"] == "pending"
    assert refund.status == "pending" and refund.done_at is None
    booking = db.session.get(Booking, booking.id)
    assert booking.payments[-1].refunded_amount == 0 and booking.payment_status == "paid"
    assert told(db, booking.user, "payment_refunded") == []
    # refund.created and charge.refunded (Stripe counts the pending refund on the charge).
    stripe_double.deliver(twice=True)
    work.sweep()  # the catch-up reads the refund; it never creates it again
    db.session.expire_all()
    assert refund.status == "pending" and _creates(stripe_double) == 1
    assert db.session.get(Booking, booking.id).payments[-1].refunded_amount == 0

    stripe_double.double.update_refund(refund.stripe_refund_id, "succeeded")
    types = stripe_double.deliver(reverse=True, twice=True)
    assert {"refund.updated", "charge.refund.updated"} <= set(types)
    booking = db.session.get(Booking, booking.id)
    assert refund.status == "succeeded" and refund.done_at is not None
    assert booking.payments[-1].refunded_amount == 5_000
    assert booking.payment_status == "partially_refunded"
    [message] = told(db, booking.user, "payment_refunded")
    assert message.params["refunded"] == 5_000
    assert db.session.query(Refund).count() == 1


def test_the_sweep_finishes_a_pending_refund_whose_events_never_came(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    booking = _paid(db, factories, space, slot, stripe_double, client, login)
    refund = _refund(db, booking, factories.manager(space.owner), amount=20_000)
    stripe_double.double.update_refund(refund.stripe_refund_id, "succeeded")
    stripe_double.new_events()  # lost
    work.sweep()
    db.session.expire_all()
    assert refund.status == "succeeded" and _creates(stripe_double) == 1
    assert db.session.get(Booking, booking.id).payment_status == "refunded"


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize("outcome", ["failed", "canceled"])
def test_a_failed_refund_is_flagged_for_the_managers_and_the_resident_told(
    outcome, db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    booking = _paid(db, factories, space, slot, stripe_double, client, login)
    manager = factories.manager(space.owner)
    refund = _refund(db, booking, manager)
    stripe_double.double.update_refund(refund.stripe_refund_id, outcome)
    types = stripe_double.deliver(reverse=True, twice=True)
    assert "charge.refund.updated" in types
    assert ("refund.failed" in types) == (outcome == "failed")
    booking = db.session.get(Booking, booking.id)
    assert refund.status == "failed" and refund.last_error
    assert booking.payments[-1].refunded_amount == 0 and booking.payment_status == "paid"
    logged = db.session.scalars(select(PaymentLog.action).where(
        PaymentLog.refund_id == refund.id)).all()
    assert logged.count("refund_failed") == 1
    [resident_told] = told(db, booking.user, "refund_failed")
    assert resident_told.params["refunded"] == 5_000
    [manager_told] = told(db, manager, "refund_failed_owner")
    assert manager_told.params["booking"]["resident"] == booking.user.name
    # Not retried to the same card on its own: the manager refunds again (or hands it back).
    work.sweep()
    assert _creates(stripe_double) == 1
    again = _refund(db, booking, manager)
    assert again.id != refund.id and again.amount == 5_000


def test_a_refund_failing_after_it_succeeded_stops_counting(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    booking = _paid(db, factories, space, slot, stripe_double, client, login,
                    card="4242424242424242")
    refund = _refund(db, booking, factories.manager(space.owner))
    assert refund.status == "succeeded"
    assert db.session.get(Booking, booking.id).payment_status == "partially_refunded"
    stripe_double.new_events()
    stripe_double.double.update_refund(refund.stripe_refund_id, "failed")
    stripe_double.deliver(twice=True)
    booking = db.session.get(Booking, booking.id)
    assert refund.status == "failed"
    assert booking.payments[-1].refunded_amount == 0 and booking.payment_status == "paid"


def test_the_double_moves_refunds_only_as_stripe_does(stripe_double, db, factories,
                                                      paid_space, slot, client, login):
    space = paid_space()
    booking = _paid(db, factories, space, slot, stripe_double, client, login)
    refund = _refund(db, booking, factories.manager(space.owner))
    stripe_double.double.update_refund(refund.stripe_refund_id, "canceled")
    from devtools.stripe_double import StripeDoubleError

    with pytest.raises(StripeDoubleError):
        stripe_double.double.update_refund(refund.stripe_refund_id, "succeeded")
    charge = stripe_double.get(stripe_double.get(refund.stripe_refund_id)["charge"])
    assert charge["amount_refunded"] == 0


# --------------------------------------------------------------------------- disputes
@pytest.mark.usefixtures("english")
@pytest.mark.parametrize("won", [True, False])
def test_a_closed_dispute_is_recorded_and_the_managers_told(
    won, db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    booking = _paid(db, factories, space, slot, stripe_double, client, login,
                    card="4242424242424242")
    manager = factories.manager(space.owner)
    payment = booking.payments[-1]
    stripe_double.new_events()
    dispute = stripe_double.double.create_dispute(payment.stripe_intent_id)
    stripe_double.double.close_dispute(dispute["id"], won=won)
    # Late, twice and out of order: the closed outcome is final.
    types = stripe_double.deliver(reverse=True, twice=True)
    assert types[0] == "charge.dispute.closed"
    payment = db.session.get(Payment, payment.id)
    outcome = "won" if won else "lost"
    assert payment.dispute_id == dispute["id"] and payment.dispute_status == outcome
    logged = db.session.scalars(select(PaymentLog.action).where(
        PaymentLog.payment_id == payment.id)).all()
    assert logged.count(f"dispute_{outcome}") == 1 and logged.count("dispute_opened") == 1
    [message] = told(db, manager, "dispute_closed")
    assert message.params["outcome"] == outcome
    login(manager)
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert ("Dispute closed: won" if won else "Dispute closed: lost") in page


# --------------------------------------------------------------------------- holds
def test_a_hold_canceled_as_expired_is_a_lapse(
    db, factories, paid_space, slot, stripe_double, client, login
):
    """payment_intent.canceled with cancellation_reason "expired" (as "automatic"): the
    booking falls back to paying after approval instead of being voided."""
    space = paid_space()
    space.owner.card_holds = True
    db.session.commit()
    from tests.payments.test_holds_refunds import _authorised

    booking = _authorised(db, factories, space, slot, stripe_double, client, login)
    intent = booking.payments[-1].stripe_intent_id
    stripe_double.double.expire_authorization(intent, reason="expired")
    assert "payment_intent.canceled" in stripe_double.deliver()
    booking = db.session.get(Booking, booking.id)
    assert stripe_double.get(intent)["cancellation_reason"] == "expired"
    assert booking.payments[-1].status == "canceled"
    assert booking.payment_status == "after_approval"
    actions = db.session.scalars(select(PaymentLog.action).where(
        PaymentLog.booking_id == booking.id)).all()
    assert "hold_lapsed" in actions and "hold_canceled" not in actions


# --------------------------------------------------------------------------- wallets
@pytest.fixture
def wallets(app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_WALLETS", ("kakao_pay", "naver_pay"))


def _session_of(stripe_double, payment) -> dict:
    return stripe_double.get(payment.stripe_session_id)


def test_pay_now_offers_only_cards_unless_wallets_are_turned_on(
    db, factories, paid_space, slot, stripe_double, client, login
):
    booking = _approved(db, factories, paid_space(), slot)
    _checkout(client, login, booking)
    payment = db.session.get(Booking, booking.id).payments[-1]
    assert _session_of(stripe_double, payment)["payment_method_types"] == ["card"]


@pytest.mark.usefixtures("wallets")
def test_a_hold_is_a_card_even_with_wallets_on(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    space.owner.card_holds = True
    db.session.commit()
    from tests.payments.test_holds_refunds import _authorised

    booking = _authorised(db, factories, space, slot, stripe_double, client, login)
    payment = booking.payments[-1]
    assert _session_of(stripe_double, payment)["payment_method_types"] == ["card"]
    assert payment.card_last4 == "4242" and payment.capture_before is not None


@pytest.mark.usefixtures("wallets", "english")
@pytest.mark.parametrize(("wallet", "name"), [("kakao_pay", "KakaoPay"),
                                              ("naver_pay", "Naver Pay")])
def test_a_wallet_payment_has_no_card_and_shows_the_wallet(
    wallet, name, db, factories, paid_space, slot, stripe_double, client, login, api_token
):
    space = paid_space()
    manager = factories.manager(space.owner)
    booking = _approved(db, factories, space, slot, manager)
    url = _checkout(client, login, booking)
    payment = db.session.get(Booking, booking.id).payments[-1]
    assert _session_of(stripe_double, payment)["payment_method_types"] == [
        "card", "kakao_pay", "naver_pay"]
    assert stripe_double.pay(url, method=wallet).status_code == 303
    stripe_double.deliver()
    booking = db.session.get(Booking, booking.id)
    payment = booking.payments[-1]
    charge = stripe_double.get(payment.stripe_charge_id)
    assert charge["payment_method_details"]["type"] == wallet
    assert "card" not in charge["payment_method_details"]
    assert booking.payment_status == "paid" and booking.status == "approved"
    assert payment.wallet == wallet
    assert payment.card_last4 is None and payment.capture_before is None
    # Shown with the wallet's name, never as a card.
    for page_url in (f"/bookings/{booking.id}", f"/bookings/{booking.id}/receipt"):
        page = client.get(page_url).get_data(as_text=True)
        assert "····" not in page, page_url
        assert name in page, page_url
    answer = client.get(f"/api/v1/bookings/{booking.id}", headers=api_token(booking.user))
    [shown] = answer.get_json()["payment"]["payments"]
    assert shown["wallet"] == wallet and shown["card_last4"] is None
    [received] = told(db, booking.user, "payment_received")
    assert received.params["method"] == wallet and received.params["card_last4"] is None
    # Refunds go back through Stripe as for a card.
    refund = _refund(db, booking, manager)
    assert refund.status == "succeeded"


# --------------------------------------------------------------------------- Connect accounts
def _start_onboarding(db, factories, client, login):
    org = factories.space().owner
    org.country = "JP"
    manager = factories.manager(org)
    db.session.commit()
    login(manager)
    return org, client.post(f"/manage/organisations/{org.id}/payments/onboard")


def _account_creations(stripe_double) -> list[dict]:
    return [r for r in stripe_double.double.api_requests
            if r["method"] == "POST" and r["path"] == "/v1/accounts"]


def test_an_account_creation_stripe_failed_is_retried_by_the_sweep(
    db, factories, stripe_double, client, login
):
    stripe_double.double.fail_next("/v1/accounts", 500)
    org, response = _start_onboarding(db, factories, client, login)
    assert response.status_code == 302  # back to the settings page, with the error
    account = db.session.query(PayoutAccount).one()
    assert account.stripe_account_id is None and account.last_error and account.key_round == 1
    page = client.get(f"/manage/organisations/{org.id}/payments").get_data(as_text=True)
    assert "acct_" not in page
    assert work.sweep()["retried"] == 1
    db.session.expire_all()
    assert account.stripe_account_id and account.last_error is None
    keys = [r["idempotency_key"] for r in _account_creations(stripe_double)]
    assert len(keys) == 2 and keys[1] == keys[0] + "-r1"  # Stripe replays the 500 for the key
    assert stripe_double.get(account.stripe_account_id)["country"] == "JP"
    # The next click goes straight to onboarding with that account.
    again = client.post(f"/manage/organisations/{org.id}/payments/onboard")
    assert again.status_code == 303 and len(_account_creations(stripe_double)) == 2


def test_an_account_creation_whose_answer_was_lost_gets_the_same_account(
    app, db, factories, stripe_double, client, login, monkeypatch
):
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT", 0.5)
    app.extensions.pop("gonggan_stripe", None)
    stripe_double.double.delay_next("/v1/accounts", 1.5, after=True)
    org, response = _start_onboarding(db, factories, client, login)
    assert response.status_code == 302
    account = db.session.query(PayoutAccount).one()
    assert account.stripe_account_id is None and account.key_round == 0
    stripe_double.double.wait_idle()
    made = [o for o in stripe_double.double.events if False]  # (accounts emit no event)
    assert made == []
    work.sweep()
    db.session.expire_all()
    creations = _account_creations(stripe_double)
    assert len(creations) == 2
    assert creations[0]["idempotency_key"] == creations[1]["idempotency_key"]
    accounts = {o["id"] for o in stripe_double.double._objects.values()
                if o["object"] == "account"}
    assert accounts == {account.stripe_account_id}  # one account at Stripe, ours
    app.extensions.pop("gonggan_stripe", None)


def test_an_account_stripe_refuses_is_not_kept_for_retries(
    db, factories, stripe_double, client, login
):
    stripe_double.double.fail_next("/v1/accounts", 400, "Invalid email address")
    org, response = _start_onboarding(db, factories, client, login)
    assert response.status_code == 302
    assert db.session.query(PayoutAccount).count() == 0
    work.sweep()
    assert len(_account_creations(stripe_double)) == 1


def test_after_a_5xx_the_refund_stripe_made_is_found_and_kept_pending(
    db, factories, paid_space, slot, stripe_double, client, login
):
    """A 5xx leaves the outcome unknown: before a new key, the sweep looks for the refund by
    its metadata; found pending, it stays pending and no second refund is made."""
    from app.payments import keys

    space = paid_space()
    booking = _paid(db, factories, space, slot, stripe_double, client, login)
    stripe_double.double.fail_next("/v1/refunds", 500)
    refund = _refund(db, booking, factories.manager(space.owner))
    assert refund.status == "pending" and refund.key_round == 1
    # As if the failed try had made it after all.
    from tests.stripe_double.helpers import make_client

    made = make_client(stripe_double.double.url).v1.refunds.create({
        "payment_intent": booking.payments[-1].stripe_intent_id, "amount": 5_000,
        "metadata": {"refund_id": str(refund.id), "installation": keys.installation_id()}})
    assert made.status == "pending"
    work.sweep()
    db.session.expire_all()
    assert refund.status == "pending" and refund.stripe_refund_id == made.id
    assert db.session.get(Booking, booking.id).payments[-1].refunded_amount == 0
    stripe_double.double.update_refund(made.id, "succeeded")
    work.sweep()
    db.session.expire_all()
    assert refund.status == "succeeded"
    assert db.session.get(Booking, booking.id).payment_status == "partially_refunded"
    assert _creates(stripe_double) == 2  # the failed try and ours above; none by the sweep
