"""Fee waivers: one verified on the profile applies at once, everywhere; one claimed on the
request alone is priced in only when an approver ticks "evidence seen" (approving without it
keeps the full price); instant booking applies verified waivers only, and confirming a claim
later refunds the difference through the refund service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.bookings import services
from app.bookings.models import Booking
from app.bookings.states import BookingStatus, WaiverState
from app.extensions import db
from app.payments import services as payments
from app.payments.models import Refund
from app.payments.states import RefundStatus
from tests.approvals import make_principal
from tests.verification import NOW, TUESDAY, town

pytestmark = pytest.mark.usefixtures("english")


def lines(booking) -> list[tuple[str, int]]:
    return [(line["code"], line["amount"]) for line in booking.price_breakdown["lines"]]


def fresh(booking_id: int) -> Booking:
    db.session.expire_all()
    return db.session.get(Booking, booking_id)


def test_a_verified_waiver_is_priced_in_at_once(factories):
    t = town(factories)
    person = t.person(verified=True)
    factories.verified_waiver(person, "nonprofit")
    booking = t.request(person, waiver="nonprofit")
    assert booking.waiver_state == WaiverState.VERIFIED
    assert booking.price_amount == 10000
    assert lines(booking) == [("base", 20000), ("waiver", -10000)]


def test_a_claimed_waiver_is_charged_in_full_until_seen(factories):
    t = town(factories)
    booking = t.request(t.person(verified=True), waiver="senior")
    assert booking.waiver_state == WaiverState.CLAIMED
    assert (booking.waiver_category, booking.price_amount) == ("senior", 20000)
    assert lines(booking) == [("base", 20000)]


def _queue_world(factories):
    t = town(factories)
    booking = t.request(t.person("김어르신", verified=True), waiver="nonprofit")
    db.session.commit()
    return t, booking.id


def test_the_approval_screen_shows_the_claim_and_asks_for_the_evidence(factories, login, client):
    t, booking_id = _queue_world(factories)
    login(t.manager)
    page = client.get("/manage/queue").get_data(as_text=True)
    assert "data-waiver-claim" in page
    assert 'name="evidence_seen"' in page


def test_approving_with_evidence_seen_applies_the_waiver(factories, login, client):
    t, booking_id = _queue_world(factories)
    login(t.manager)
    client.post(f"/manage/bookings/{booking_id}/approve", data={"evidence_seen": "1"})
    booking = fresh(booking_id)
    assert booking.status == BookingStatus.APPROVED
    assert booking.waiver_state == WaiverState.CONFIRMED
    assert booking.price_amount == 10000
    assert lines(booking) == [("base", 20000), ("waiver", -10000)]


def test_approving_without_evidence_seen_keeps_the_full_price(factories, login, client):
    t, booking_id = _queue_world(factories)
    login(t.manager)
    client.post(f"/manage/bookings/{booking_id}/approve", data={"note": "승인합니다"})
    booking = fresh(booking_id)
    assert booking.status == BookingStatus.APPROVED
    assert booking.waiver_state == WaiverState.NOT_APPLIED
    assert booking.price_amount == 20000
    assert lines(booking) == [("base", 20000)]


def test_the_evidence_seen_at_an_earlier_stage_counts_at_the_last(factories):
    t = town(factories, rules={"stages": [{"approver": "owner_manager"},
                                          {"approver": "owner_principal"}]})
    principal = make_principal(factories, t.org)
    booking = t.request(t.person(verified=True), waiver="nonprofit")
    services.approve(booking, t.manager, evidence_seen=True, now=NOW)
    assert booking.status == BookingStatus.REQUESTED
    services.approve(booking, principal, now=NOW)
    assert booking.status == BookingStatus.APPROVED
    assert (booking.waiver_state, booking.price_amount) == (WaiverState.CONFIRMED, 10000)


def test_instant_booking_applies_only_verified_waivers_and_a_later_confirmation_refunds(
    factories, login, client
):
    t = town(factories, mode="instant")
    person = t.person(verified=True)
    booking = t.request(person, waiver="nonprofit")
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert (booking.waiver_state, booking.price_amount) == (WaiverState.CLAIMED, 20000)
    payments.record_offline(booking, t.manager, method="cash", amount=20000,
                            reference="영수증 7", now=NOW)
    assert booking.status == BookingStatus.CONFIRMED
    booking_id = booking.id
    db.session.commit()
    login(t.manager)
    page = client.get(f"/bookings/{booking_id}").get_data(as_text=True)
    assert "/waiver" in page and 'name="evidence_seen"' in page
    # Without the box ticked nothing changes.
    client.post(f"/manage/bookings/{booking_id}/waiver", data={})
    assert fresh(booking_id).price_amount == 20000
    assert db.session.scalars(select(Refund)).all() == []
    client.post(f"/manage/bookings/{booking_id}/waiver", data={"evidence_seen": "1"})
    booking = fresh(booking_id)
    assert (booking.waiver_state, booking.price_amount) == (WaiverState.CONFIRMED, 10000)
    [refund] = db.session.scalars(select(Refund)).all()
    assert (refund.amount, refund.payment.booking_id) == (10000, booking_id)
    # Paid in cash: the manager hands the difference back and records it.
    assert refund.status == RefundStatus.PENDING
    payments.record_offline_refund(refund, t.manager, reference="현금 반환")
    assert booking.payment_status == "paid"
    # Confirmed once: the form is gone and a second post changes nothing.
    db.session.commit()
    assert 'name="evidence_seen"' not in client.get(f"/bookings/{booking_id}").get_data(
        as_text=True)
    client.post(f"/manage/bookings/{booking_id}/waiver", data={"evidence_seen": "1"})
    assert len(db.session.scalars(select(Refund)).all()) == 1


def test_confirming_before_payment_lowers_what_is_due(factories):
    t = town(factories, mode="instant")
    booking = t.request(t.person(verified=True), waiver="senior",
                        day=TUESDAY + timedelta(days=7))
    from app.bookings import waivers

    assert waivers.confirm(booking, t.manager) == 20000
    assert booking.price_amount == 0
    assert booking.payments == []


def test_instant_booking_with_a_verified_waiver_is_priced_in(factories):
    t = town(factories, mode="instant")
    person = t.person(verified=True)
    factories.verified_waiver(person, "senior")
    booking = t.request(person, waiver="senior")
    assert (booking.waiver_state, booking.price_amount) == (WaiverState.VERIFIED, 0)
    assert booking.status == BookingStatus.CONFIRMED


def test_only_the_spaces_managers_confirm_a_waiver(factories, login, client):
    t = town(factories, mode="instant")
    person = t.person(verified=True)
    booking = t.request(person, waiver="nonprofit")
    booking_id = booking.id
    db.session.commit()
    login(person)
    assert client.post(f"/manage/bookings/{booking_id}/waiver",
                       data={"evidence_seen": "1"}).status_code == 403
    assert fresh(booking_id).price_amount == 20000


def test_the_api_approves_with_the_evidence_seen(factories, client, api_token):
    t, booking_id = _queue_world(factories)
    headers = api_token(t.manager)
    response = client.post(f"/api/v1/bookings/{booking_id}/approve",
                           json={"evidence_seen": True}, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["waiver_state"], body["price"]["amount"]) == ("confirmed", 10000)


def test_the_api_refuses_evidence_seen_that_is_not_a_boolean(factories, client, api_token):
    t, booking_id = _queue_world(factories)
    response = client.post(f"/api/v1/bookings/{booking_id}/approve",
                           json={"evidence_seen": "yes"}, headers=api_token(t.manager))
    assert response.status_code == 422
    assert fresh(booking_id).status == BookingStatus.REQUESTED


def test_the_request_forms_preview_charges_an_unverified_waiver_in_full(
    factories, login, client
):
    t = town(factories)
    person = t.person(verified=True)
    db.session.commit()
    login(person)
    start = TUESDAY
    form = {"date": start.isoformat(), "start_time": "18:00", "end_time": "20:00",
            "attendees": "5", "purpose_category": "community", "purpose": "주민 모임",
            "waiver": "nonprofit", "check": "1"}
    page = client.post(f"/spaces/{t.room.id}/book", data=form).get_data(as_text=True)
    assert "₩20,000" in page and "-₩10,000" not in page
    assert "Waiver: Registered nonprofit" not in page
    assert db.session.scalars(select(Booking)).all() == []
