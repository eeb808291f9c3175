"""Payouts to owners: Express onboarding, destination charges with the platform fee, refunds
that reverse the transfer, disputes, and the payout report."""

from __future__ import annotations

from datetime import timedelta

import requests

from app import jobs
from app.bookings import services as booking_services
from app.bookings.models import Booking
from app.payments.models import PayoutAccount
from tests.payments.conftest import flashes
from tests.payments.test_flows import _approve, _checkout, _request


def _onboard(db, factories, org, stripe_double, client, login):
    org.country = "JP"  # Stripe offers no connected accounts to Korean organisations
    manager = factories.manager(org)
    db.session.commit()
    login(manager)
    response = client.post(f"/manage/organisations/{org.id}/payments/onboard")
    assert response.status_code == 303
    account = db.session.query(PayoutAccount).one()
    assert not account.charges_enabled
    assert stripe_double.get(account.stripe_account_id)["country"] == "JP"
    stripe_double.new_events()
    back = requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    assert back.headers["Location"].endswith(f"/manage/organisations/{org.id}/payments/return")
    assert "account.updated" in stripe_double.deliver()
    db.session.expire_all()
    assert account.charges_enabled and account.payouts_enabled and account.requirements == []
    return manager, account


def test_an_owner_onboards_and_is_paid_through_destination_charges(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    space.owner.platform_fee_bps = 500  # 5 %
    manager, account = _onboard(db, factories, space.owner, stripe_double, client, login)
    page = client.get(f"/manage/organisations/{space.owner.id}/payments").get_data(as_text=True)
    assert account.stripe_account_id in page

    booking = _request(factories, space, slot)
    db.session.commit()
    _approve(db, booking, manager)
    booking = db.session.get(Booking, booking.id)
    stripe_double.pay(_checkout(client, login, booking))
    stripe_double.deliver()
    booking = db.session.get(Booking, booking.id)
    payment = booking.payments[-1]
    intent = stripe_double.get(payment.stripe_intent_id)
    assert intent["transfer_data"] == {"destination": account.stripe_account_id}
    assert intent["application_fee_amount"] == payment.application_fee_amount == 1_000
    assert stripe_double.double.connected_balance(account.stripe_account_id) == 19_000

    # Paid out to the owner's bank; then the resident's booking is cancelled by the owner.
    stripe_double.double.pay_out(account.stripe_account_id)
    booking_services.cancel(booking, manager, reason="정전")
    db.session.commit()
    jobs.run_deferred()
    db.session.expire_all()
    refund = booking.payments[-1].refunds[-1]
    assert refund.status == "succeeded" and refund.fee_refunded == 1_000
    stripe_refund = stripe_double.get(refund.stripe_refund_id)
    assert stripe_refund["transfer_reversal"]
    assert stripe_double.double.connected_balance(account.stripe_account_id) == -19_000

    # The payout report of the period: gross 20,000, fee 1,000, refunded 20,000, fee back.
    login(manager)
    report = client.get(f"/manage/organisations/{space.owner.id}/payouts")
    text = report.get_data(as_text=True)
    assert report.status_code == 200 and "₩20,000" in text and "₩1,000" in text
    csv = client.get(f"/manage/organisations/{space.owner.id}/payouts?format=csv")
    lines = csv.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("\ufeffkind,booking,space,at")  # a BOM: Excel reads UTF-8
    assert lines[1].startswith("payment,") and lines[1].endswith(",KRW,20000,1000,0,0,19000")
    assert lines[2].startswith("refund,") and lines[2].endswith(",KRW,0,0,20000,1000,-19000")
    assert len(lines) == 3


def test_a_dispute_is_shown_on_the_payment(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    manager = factories.manager(space.owner)
    booking = _request(factories, space, slot)
    db.session.commit()
    _approve(db, booking, manager)
    booking = db.session.get(Booking, booking.id)
    stripe_double.pay(_checkout(client, login, booking))
    stripe_double.deliver()
    payment = db.session.get(Booking, booking.id).payments[-1]
    stripe_double.double.create_dispute(payment.stripe_intent_id)
    assert "charge.dispute.created" in stripe_double.deliver()
    assert payment.dispute_id and payment.dispute_status
    login(manager)
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "dispute" in page.lower() or "분쟁" in page


def test_the_payout_report_counts_only_the_period_and_the_owner(
    db, factories, paid_space, now, client, login
):
    from app.payments import services as payments

    space = paid_space()
    manager = factories.manager(space.owner)
    other_space = paid_space(owner=factories.org(slug="other", name="다른 기관"))
    for i, target in enumerate((space, space, other_space)):
        start = (now + timedelta(days=2 + i)).replace(hour=5, minute=0, second=0)
        booking = _request(factories, target, (start, start + timedelta(hours=1)))
        payments.record_offline(booking, factories.manager(target.owner), method="cash",
                                amount=booking.price_amount, reference=f"R{i}")
    db.session.commit()
    login(manager)
    text = client.get(f"/manage/organisations/{space.owner.id}/payouts").get_data(as_text=True)
    assert "₩20,000" in text  # two bookings of ₩10,000 for this owner, not the third
    assert text.count('<tr><td data-label=') == 2  # two payment rows in the ledger
    last_year = client.get(f"/manage/organisations/{space.owner.id}/payouts"
                           "?from=2020-01-01&to=2020-01-31").get_data(as_text=True)
    assert "₩20,000" not in last_year
    assert client.get(f"/manage/organisations/{other_space.owner.id}/payouts").status_code == 404
    assert client.get(f"/manage/organisations/{space.owner.id}/payouts?from=x&to=2020-13-45"
                      "&page=99999999999").status_code == 200


def test_a_korean_owner_is_not_offered_stripe_payouts_and_the_platform_is_paid(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    org = space.owner
    assert org.country == "KR"
    manager = factories.manager(org)
    db.session.commit()
    login(manager)
    page = client.get(f"/manage/organisations/{org.id}/payments").get_data(as_text=True)
    assert "payments/onboard" not in page
    assert "대한민국 (KR)" in page and "Stripe" in page
    response = client.post(f"/manage/organisations/{org.id}/payments/onboard")
    assert response.status_code == 302
    assert any(kind == "error" and "KR" in text for kind, text in flashes(client))
    assert not [r for r in stripe_double.double.api_requests if r["path"] == "/v1/accounts"]

    # Even with a payout account from before (made when the double still allowed it), a
    # Korean owner's booking is a plain charge: the platform is the merchant of record.
    db.session.add(PayoutAccount(organisation_id=org.id, stripe_account_id="acct_OLD",
                                 charges_enabled=True))
    db.session.commit()
    booking = _request(factories, space, slot)
    db.session.commit()
    _approve(db, booking, manager)
    booking = db.session.get(Booking, booking.id)
    _checkout(client, login, booking)
    sent = next(r["params"] for r in stripe_double.double.api_requests
                if r["path"] == "/v1/checkout/sessions")
    assert "transfer_data" not in sent["payment_intent_data"]
    payment = db.session.get(Booking, booking.id).payments[-1]
    assert payment.destination_account is None and payment.application_fee_amount == 0


def test_the_owner_sets_its_country_until_a_payout_account_exists(
    db, factories, stripe_double, client, login
):
    org = factories.org()
    manager = factories.manager(org)
    db.session.commit()
    login(manager)
    url = f"/manage/organisations/{org.id}/payments"
    assert client.post(url, data={"country": "JP"}).status_code == 302
    db.session.expire_all()
    assert org.country == "JP"
    assert "payments/onboard" in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"country": "XX"}).status_code == 200  # not a choice
    db.session.add(PayoutAccount(organisation_id=org.id, stripe_account_id="acct_JP"))
    db.session.commit()
    assert client.post(url, data={"country": "US"}).status_code == 200
    db.session.expire_all()
    assert org.country == "JP"
