"""Payments through the API: the booking's `payment`, the resident's checkout link (paid on the
Stripe double's hosted page, reported by webhooks), offline payments and refunds by managers,
the payout report, and every way these refuse."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import jobs
from app.bookings import services as booking_services
from app.payments.models import Payment, Refund
from tests.api.helpers import assert_error, validate_against
from tests.conftest import next_weekday

SEOUL = ZoneInfo("Asia/Seoul")
PRICE = 24_000  # two hours of the API tests' space at ₩12,000
CARD = "4242424242424242"


def _request(factories, space, user, *, day: int = 0, hour: int = 14):
    start = next_weekday(2, hour) + timedelta(days=day)
    return factories.booking(space, user, start=start, end=start + timedelta(hours=2))


def _approved(db, factories, space, resident, manager, **kw):
    booking = _request(factories, space, resident, **kw)
    booking_services.approve(booking, manager)
    db.session.commit()
    jobs.run_deferred()
    return booking


def _payment(api, booking, user) -> dict:
    response = api.get(f"/api/v1/bookings/{booking.id}", user=user)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["payment"]


def _checkout(api, booking, user):
    return api.post(f"/api/v1/bookings/{booking.id}/checkout", user=user)


@pytest.fixture
def document(api):
    return api.get("/api/v1/openapi.json").get_json()


@pytest.fixture
def officer(factories, space):
    district = factories.jurisdiction(name="강북구")
    space.jurisdictions = [district]
    return factories.officer(district)


# --- What the booking shows -------------------------------------------------------------------


def test_a_request_shows_what_it_will_owe(api, factories, space, resident, document):
    booking = _request(factories, space, resident)
    response = api.get(f"/api/v1/bookings/{booking.id}", user=resident)
    validate_against(document, "Booking", response.get_json())
    assert response.get_json()["payment"] == {
        "status": "after_approval",
        "label": "승인 후 결제",
        "amount": PRICE,
        "currency": "KRW",
        "due_at": None,
        "payments": [],
        "refunds": [],
        "checkout_url": None,
    }


def test_a_free_booking_owes_nothing(api, factories, resident):
    free = factories.space(price_per_hour=0)
    booking = _request(factories, free, resident)
    payment = _payment(api, booking, resident)
    assert (payment["status"], payment["amount"], payment["payments"]) == ("none", 0, [])


def test_an_approved_booking_is_due_by_its_deadline(
    api, db, factories, space, resident, manager, now
):
    booking = _approved(db, factories, space, resident, manager)
    payment = _payment(api, booking, resident)
    assert payment["status"] == "due"
    due = datetime.fromisoformat(payment["due_at"])
    assert due.utcoffset() == timedelta(hours=9)
    assert now + timedelta(hours=47) < due.astimezone(UTC) <= now + timedelta(hours=49)
    # Without online payment there is no link: the resident pays the manager.
    assert payment["checkout_url"] is None


# --- Checkout ---------------------------------------------------------------------------------


def test_the_resident_gets_a_checkout_link_for_an_approved_booking(
    api, db, factories, space, resident, manager, stripe_double, document
):
    booking = _approved(db, factories, space, resident, manager)
    response = _checkout(api, booking, resident)

    assert response.status_code == 201, response.get_json()
    link = response.get_json()
    validate_against(document, "CheckoutLink", link)
    assert link["checkout_url"].startswith(stripe_double.double.url)
    assert datetime.fromisoformat(link["expires_at"]).utcoffset() == timedelta(hours=9)
    session = stripe_double.get(link["checkout_url"].rsplit("/", 1)[-1])
    assert session["amount_total"] == PRICE and session["currency"] == "krw"
    assert session["metadata"]["booking_id"] == str(booking.id)
    assert session["success_url"] == (
        f"http://localhost/bookings/{booking.id}/payment/return?session_id={{CHECKOUT_SESSION_ID}}"
    )
    assert session["cancel_url"] == f"http://localhost/bookings/{booking.id}/payment/cancelled"

    shown = api.get(f"/api/v1/bookings/{booking.id}", user=resident).get_json()
    validate_against(document, "Booking", shown)
    payment = shown["payment"]
    assert payment["status"] == "due" and payment["checkout_url"] == link["checkout_url"]
    assert payment["payments"] == [
        {
            "id": link["payment_id"],
            "method": "card",
            "status": "open",
            "amount": PRICE,
            "refunded_amount": 0,
            "paid_at": None,
            "card_last4": None,
            "wallet": None,
            "reference": None,
            "test_mode": True,
        }
    ]
    # The link is the resident's alone.
    assert _payment(api, booking, manager)["checkout_url"] is None
    # Asking again answers the same open session.
    again = _checkout(api, booking, resident)
    assert again.status_code == 201
    assert again.get_json() == link
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_paying_on_the_hosted_page_shows_the_booking_paid(
    api, db, factories, space, resident, manager, stripe_double
):
    booking = _approved(db, factories, space, resident, manager)
    url = _checkout(api, booking, resident).get_json()["checkout_url"]
    stripe_double.new_events()

    paid = stripe_double.pay(url, card=CARD)
    assert paid.status_code in (302, 303)
    assert f"/bookings/{booking.id}/payment/return?session_id=" in paid.headers["Location"]
    # The resident's browser never comes back; Stripe's webhooks tell the app.
    assert "checkout.session.completed" in stripe_double.deliver()

    payment = _payment(api, booking, resident)
    assert payment["status"] == "paid" and payment["label"] == "결제 완료"
    assert payment["due_at"] is None and payment["checkout_url"] is None
    (card,) = payment["payments"]
    assert card["status"] == "succeeded" and card["card_last4"] == "4242"
    assert datetime.fromisoformat(card["paid_at"]).utcoffset() == timedelta(hours=9)
    # Nothing is left to pay.
    assert_error(_checkout(api, booking, resident), 409, "invalid_transition")


def test_an_instant_booking_is_confirmed_when_paid(
    api, db, factories, org, resident, stripe_double
):
    instant = factories.space(owner=org, booking_mode="instant", price_per_hour=10_000)
    booking = _request(factories, instant, resident)
    assert booking.status == "awaiting_payment"
    link = _checkout(api, booking, resident).get_json()
    assert _payment(api, booking, resident)["checkout_url"] == link["checkout_url"]
    stripe_double.pay(link["checkout_url"])
    stripe_double.deliver()
    shown = api.get(f"/api/v1/bookings/{booking.id}", user=resident).get_json()
    assert (shown["status"], shown["payment"]["status"]) == ("confirmed", "paid")


def test_only_the_resident_opens_a_checkout(
    api, db, factories, space, resident, manager, officer, stripe_double
):
    booking = _approved(db, factories, space, resident, manager)
    assert_error(_checkout(api, booking, manager), 403, "forbidden")
    assert_error(_checkout(api, booking, officer), 403, "forbidden")
    assert_error(_checkout(api, booking, factories.user()), 404, "not_found")
    assert_error(_checkout(api, booking, None), 401, "unauthorized")
    assert_error(api.post("/api/v1/bookings/2147483648/checkout", user=resident), 404, "not_found")
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_nothing_to_pay_answers_409(api, db, factories, space, resident, manager, stripe_double):
    requested = _request(factories, space, resident)
    assert_error(_checkout(api, requested, resident), 409, "invalid_transition")
    free = _request(factories, factories.space(price_per_hour=0), resident, day=1)
    assert_error(_checkout(api, free, resident), 409, "invalid_transition")
    cancelled = _approved(db, factories, space, resident, manager, day=2)
    booking_services.cancel(cancelled, resident, reason="일정 변경")
    assert_error(_checkout(api, cancelled, resident), 409, "invalid_transition")
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_without_stripe_checkout_answers_503(api, db, factories, space, resident, manager):
    booking = _approved(db, factories, space, resident, manager)
    error = assert_error(_checkout(api, booking, resident), 503, "payments_unavailable")
    assert error["message"]
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


@pytest.mark.parametrize("status", [500, 400])
def test_a_stripe_failure_answers_502_and_keeps_nothing(
    api, db, factories, space, resident, manager, stripe_double, status
):
    booking = _approved(db, factories, space, resident, manager)
    stripe_double.double.fail_next("/v1/checkout/sessions", status=status)
    assert_error(_checkout(api, booking, resident), 502, "payment_provider_error")
    db.session.expire_all()
    # Only the failed attempt is kept (its idempotency key is used up); nothing is open.
    assert db.session.scalars(select(Payment.status)).all() == ["failed"]
    assert _payment(api, booking, resident)["status"] == "due"
    assert _payment(api, booking, resident)["payments"] == []
    # Stripe answers again: the resident can pay.
    assert _checkout(api, booking, resident).status_code == 201


@pytest.mark.parametrize(
    ("raw", "status"), [(b"{", 400), (b"[]", 422), (b"null", 422), (b'"pay"', 422)]
)
def test_checkout_bodies_never_500(api, factories, space, resident, raw, status):
    booking = _request(factories, space, resident)
    response = api.post(
        f"/api/v1/bookings/{booking.id}/checkout",
        user=resident,
        data=raw,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == status, response.get_data(as_text=True)[:300]


# --- Offline payments -------------------------------------------------------------------------


def _record(api, booking, user, **changes):
    body = {"method": "cash", "amount": PRICE, "reference": "영수증 0042"}
    body.update(changes)
    body = {k: v for k, v in body.items() if v is not ...}
    return api.post(f"/api/v1/bookings/{booking.id}/payments", body, user=user)


def test_a_manager_records_an_offline_payment(
    api, db, factories, space, resident, manager, document
):
    booking = _approved(db, factories, space, resident, manager)
    response = _record(api, booking, manager, method="bank_transfer", reference="이체 7731")

    assert response.status_code == 201, response.get_json()
    validate_against(document, "Booking", response.get_json())
    payment = response.get_json()["payment"]
    assert payment["status"] == "paid" and payment["due_at"] is None
    (offline,) = payment["payments"]
    assert offline["method"] == "bank_transfer" and offline["status"] == "succeeded"
    assert offline["amount"] == PRICE and offline["reference"] == "이체 7731"
    assert offline["test_mode"] is False and offline["paid_at"]
    # The resident sees the payment, not the manager's reference.
    mine = _payment(api, booking, resident)
    assert mine["status"] == "paid" and mine["payments"][0]["reference"] is None
    # Recording it twice is refused.
    assert_error(_record(api, booking, manager), 409, "invalid_transition")


def test_an_offline_payment_confirms_an_instant_booking(api, factories, org, resident, manager):
    instant = factories.space(owner=org, booking_mode="instant", price_per_hour=10_000)
    booking = _request(factories, instant, resident)
    response = _record(api, booking, manager, amount=20_000, method="voucher")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "confirmed"


def test_a_request_can_be_paid_before_approval(api, factories, space, resident, manager):
    booking = _request(factories, space, resident)
    response = _record(api, booking, manager)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["status"], body["payment"]["status"]) == ("requested", "paid")


def test_only_managers_record_payments(api, db, factories, space, resident, manager, officer):
    booking = _approved(db, factories, space, resident, manager)
    assert_error(_record(api, booking, resident), 403, "forbidden")
    assert_error(_record(api, booking, officer), 403, "forbidden")
    assert_error(_record(api, booking, factories.manager(factories.org())), 404, "not_found")
    assert_error(_record(api, booking, None), 401, "unauthorized")
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_nothing_to_record_for_a_free_booking(api, factories, resident, org, manager):
    free = _request(factories, factories.space(owner=org, price_per_hour=0), resident)
    assert_error(_record(api, free, manager, amount=1), 409, "invalid_transition")


NASTY_OFFLINE = [
    ("method", ...),
    ("method", None),
    ("method", "card"),
    ("method", "bitcoin"),
    ("method", ["cash"]),
    ("method", 1),
    ("amount", ...),
    ("amount", None),
    ("amount", "24000"),
    ("amount", 24000.5),
    ("amount", True),
    ("amount", 10**30),
    ("amount", -(10**30)),
    ("amount", 0),
    ("amount", -PRICE),
    ("amount", PRICE - 1),
    ("amount", 2**31 - 1),
    ("reference", ...),
    ("reference", None),
    ("reference", ""),
    ("reference", "   "),
    ("reference", 42),
    ("reference", "x" * 121),
    ("reference", "영수증\x00"),
    ("reference", "\ud800"),
]


@pytest.mark.parametrize(("field", "value"), NASTY_OFFLINE, ids=lambda v: repr(v)[:20])
def test_nasty_offline_payments_answer_422(
    api, db, factories, space, resident, manager, field, value
):
    booking = _approved(db, factories, space, resident, manager)
    response = _record(api, booking, manager, **{field: value})
    error = assert_error(response, 422, "invalid")
    assert field in error["details"], error
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


# --- Refunds ----------------------------------------------------------------------------------


def _refund(api, booking, user, **changes):
    body = {"amount": 5_000, "reason": "냉방기 고장", "reference": "이체 환불 1"}
    body.update(changes)
    body = {k: v for k, v in body.items() if v is not ...}
    return api.post(f"/api/v1/bookings/{booking.id}/refunds", body, user=user)


@pytest.fixture
def paid_offline(api, db, factories, space, resident, manager):
    booking = _approved(db, factories, space, resident, manager)
    assert _record(api, booking, manager).status_code == 201
    return booking


def test_a_manager_refunds_an_offline_payment(api, paid_offline, manager, resident, document):
    response = _refund(api, paid_offline, manager)
    assert response.status_code == 201, response.get_json()
    validate_against(document, "Booking", response.get_json())
    payment = response.get_json()["payment"]
    assert payment["status"] == "partially_refunded"
    assert payment["payments"][0]["refunded_amount"] == 5_000
    (refund,) = payment["refunds"]
    assert refund["amount"] == 5_000 and refund["status"] == "succeeded"
    assert (
        refund["reason"] == "냉방기 고장" and refund["payment_id"] == payment["payments"][0]["id"]
    )
    assert refund["created_at"] and refund["done_at"]
    assert _payment(api, paid_offline, resident)["refunds"] == payment["refunds"]

    # The rest, and then nothing more.
    rest = _refund(api, paid_offline, manager, amount=PRICE - 5_000)
    assert rest.get_json()["payment"]["status"] == "refunded"
    assert_error(_refund(api, paid_offline, manager, amount=1), 422, "invalid")


def test_a_manager_refunds_a_card_payment_through_stripe(
    api, db, factories, space, resident, manager, stripe_double
):
    booking = _approved(db, factories, space, resident, manager)
    url = _checkout(api, booking, resident).get_json()["checkout_url"]
    stripe_double.pay(url)
    stripe_double.deliver()

    response = _refund(api, booking, manager, amount=10_000, reference=None)
    assert response.status_code == 201, response.get_json()
    # Stripe is asked just after the answer was made.
    assert response.get_json()["payment"]["refunds"][0]["status"] in ("pending", "succeeded")
    payment = _payment(api, booking, resident)
    assert payment["status"] == "partially_refunded"
    assert payment["refunds"][0]["status"] == "succeeded"
    assert payment["payments"][0]["refunded_amount"] == 10_000
    intent = stripe_double.get(stripe_double.get(url.rsplit("/", 1)[-1])["payment_intent"])
    assert stripe_double.get(intent["latest_charge"])["amount_refunded"] == 10_000
    # Webhooks about the refund change nothing more.
    stripe_double.deliver()
    assert _payment(api, booking, resident)["payments"][0]["refunded_amount"] == 10_000


def test_only_managers_refund(api, db, paid_offline, resident, officer, factories):
    assert_error(_refund(api, paid_offline, resident), 403, "forbidden")
    assert_error(_refund(api, paid_offline, officer), 403, "forbidden")
    assert_error(_refund(api, paid_offline, factories.user()), 404, "not_found")
    assert_error(_refund(api, paid_offline, None), 401, "unauthorized")
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0


def test_nothing_paid_nothing_to_refund(api, db, factories, space, resident, manager):
    booking = _approved(db, factories, space, resident, manager)
    assert_error(_refund(api, booking, manager), 409, "invalid_transition")


NASTY_REFUNDS = [
    ("amount", ...),
    ("amount", None),
    ("amount", "5000"),
    ("amount", 5000.5),
    ("amount", False),
    ("amount", 10**30),
    ("amount", 0),
    ("amount", -5_000),
    ("amount", PRICE + 1),
    ("amount", 2**31 - 1),
    ("reason", ...),
    ("reason", None),
    ("reason", ""),
    ("reason", "  "),
    ("reason", 7),
    ("reason", "사유\x00"),
    ("reason", "x" * 501),
    # An offline payment's refund says how the money went back.
    ("reference", ...),
    ("reference", None),
    ("reference", " "),
    ("reference", ["이체"]),
    ("reference", "x" * 121),
]


@pytest.mark.parametrize(("field", "value"), NASTY_REFUNDS, ids=lambda v: repr(v)[:20])
def test_nasty_refunds_answer_422(api, db, paid_offline, manager, field, value):
    response = _refund(api, paid_offline, manager, **{field: value})
    error = assert_error(response, 422, "invalid")
    assert field in error["details"], error
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0


@pytest.mark.parametrize("path", ["payments", "refunds"])
@pytest.mark.parametrize(
    "raw", [b"{", b"[]", b"null", b'{"amount": 1e999}', b'{"amount": NaN}', b"[" * 20000]
)
def test_money_bodies_never_500(api, db, paid_offline, manager, path, raw):
    response = api.post(
        f"/api/v1/bookings/{paid_offline.id}/{path}",
        user=manager,
        data=raw,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422), response.get_data(as_text=True)[:300]
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0


# --- Payouts ----------------------------------------------------------------------------------


def _today() -> str:
    return datetime.now(SEOUL).date().isoformat()


def test_the_payout_report(api, db, factories, org, space, resident, manager, document):
    first = _approved(db, factories, space, resident, manager)
    second = _approved(db, factories, space, resident, manager, day=1)
    assert _record(api, first, manager).status_code == 201
    assert _record(api, second, manager, method="voucher", reference="상품권 9").status_code == 201
    assert _refund(api, second, manager, amount=4_000).status_code == 201
    # Another owner's money is not in the report.
    elsewhere = factories.space(price_per_hour=10_000)
    other = _approved(db, factories, elsewhere, resident, factories.manager(elsewhere.owner))
    assert _record(api, other, factories.manager(elsewhere.owner), amount=20_000).status_code == 201

    today = _today()
    response = api.get(
        f"/api/v1/organisations/{org.id}/payouts?from={today}&to={today}", user=manager
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    validate_against(document, "PayoutReport", body)
    assert body["organisation"] == {"id": org.id, "name": org.name}
    assert (body["from"], body["to"]) == (today, today)
    assert body["totals"] == {
        "KRW": {
            "gross": 2 * PRICE,
            "fee": 0,
            "refunded": 4_000,
            "fee_refunded": 0,
            "net": 2 * PRICE - 4_000,
        }
    }
    # A ledger: both payments and the refund, each on the day the money moved.
    assert (body["page"], body["pages"], body["total_rows"]) == (1, 1, 3)
    rows = {(r["kind"], r["booking_id"]): r for r in body["rows"]}
    assert rows["payment", first.id]["method"] == "cash"
    assert rows["payment", first.id]["net"] == PRICE
    assert rows["payment", second.id]["net"] == PRICE
    assert rows["refund", second.id]["refunded"] == 4_000
    assert rows["refund", second.id]["net"] == -4_000
    assert sum(r["net"] for r in body["rows"]) == body["totals"]["KRW"]["net"]
    assert rows["payment", second.id]["space"] == space.name
    rows = {r["booking_id"]: r for r in body["rows"] if r["kind"] == "payment"}
    assert datetime.fromisoformat(rows[first.id]["paid_at"]).utcoffset() == timedelta(hours=9)

    # Without dates: this month so far.
    default = api.get(f"/api/v1/organisations/{org.id}/payouts", user=manager).get_json()
    assert default["to"] == today and default["from"] == today[:8] + "01"
    assert default["total_rows"] == 3
    # A period without payments.
    empty = api.get(
        f"/api/v1/organisations/{org.id}/payouts?from=2020-01-01&to=2020-01-31", user=manager
    ).get_json()
    assert (empty["totals"], empty["rows"], empty["pages"]) == ({}, [], 1)


def test_the_organisations_principal_sees_the_report(api, db, factories, org):
    from app.orgs.models import OrgMembership

    principal = factories.user()
    db.session.add(OrgMembership(user=principal, organisation=org, role="principal"))
    assert api.get(f"/api/v1/organisations/{org.id}/payouts", user=principal).status_code == 200


def test_only_the_owners_people_see_payouts(api, factories, org, resident, officer):
    path = f"/api/v1/organisations/{org.id}/payouts"
    assert_error(api.get(path), 401, "unauthorized")
    for user in (resident, officer, factories.manager(factories.org())):
        assert_error(api.get(path, user=user), 404, "not_found")
    assert api.get(path, user=factories.user(is_admin=True)).status_code == 200
    manager = factories.manager(org)
    for missing in ("2147483647", "2147483648", "99999999999999999999"):
        assert_error(
            api.get(f"/api/v1/organisations/{missing}/payouts", user=manager), 404, "not_found"
        )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=yesterday", "from"),
        ("from=2026-02-30", "from"),
        ("to=2026-13-01", "to"),
        ("to=" + "9" * 5000, "to"),
        ("from=0001-01-01", "from"),
        ("from=2026-03-01&to=2026-02-01", "to"),
        ("from=2000-01-01&to=2026-01-01", "to"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("page=99999999999999999999", "page"),
        ("from=%00", "from"),
    ],
)
def test_nasty_payout_queries_answer_422(api, org, manager, query, field):
    response = api.get(f"/api/v1/organisations/{org.id}/payouts?{query}", user=manager)
    error = assert_error(response, 422, "invalid")
    assert field in error["details"], error


def test_a_page_past_the_end_shows_the_last(api, org, manager):
    body = api.get(f"/api/v1/organisations/{org.id}/payouts?page=7", user=manager).get_json()
    assert (body["page"], body["pages"], body["rows"]) == (1, 1, [])


# --- Bounded queries --------------------------------------------------------------------------


def _paid_bookings(api, db, factories, n: int):
    """`n` bookings of one resident at one space, each paid offline and partly refunded."""
    org = factories.org()
    manager = factories.manager(org)
    resident = factories.user()
    space = factories.space(owner=org, price_per_hour=12_000)
    for i in range(n):
        booking = _request(factories, space, resident, day=i)
        if i % 2:
            booking_services.approve(booking, manager)
        assert _record(api, booking, manager).status_code == 201
        assert _refund(api, booking, manager, amount=1_000 + i).status_code == 201
    return resident, manager


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/api/v1/bookings?per_page=100", "resident"),
        ("/api/v1/bookings?scope=managed&per_page=100", "manager"),
        ("/api/v1/approvals?per_page=100", "manager"),
    ],
)
def test_listing_bookings_with_payments_runs_a_fixed_number_of_queries(
    api, db, factories, count_queries, path, who
):
    counts = []
    for n in (1, 5):
        resident, manager = _paid_bookings(api, db, factories, n)
        user = {"resident": resident, "manager": manager}[who]
        headers = api.headers(user)
        db.session.commit()
        db.session.expunge_all()
        with count_queries() as q:
            response = api.client.get(path, headers=headers)
        assert response.status_code == 200, response.get_json()
        items = response.get_json()["items"]
        assert items and all(b["payment"]["refunds"] for b in items), "measure with payments"
        counts.append(q.count)
    assert counts[0] == counts[1], counts


def test_the_payout_report_runs_a_fixed_number_of_queries(api, db, factories, count_queries):
    counts = []
    for n in (1, 5):
        _resident, manager = _paid_bookings(api, db, factories, n)
        org_id = manager.org_memberships[0].organisation_id
        headers = api.headers(manager)
        db.session.commit()
        db.session.expunge_all()
        with count_queries() as q:
            response = api.client.get(f"/api/v1/organisations/{org_id}/payouts", headers=headers)
        assert response.get_json()["total_rows"] == 2 * n  # a payment and a refund each
        counts.append(q.count)
    assert counts[0] == counts[1], counts


def test_the_refund_body_is_json(api, paid_offline, manager):
    """A form post is not JSON: 400, nothing refunded."""
    response = api.client.post(
        f"/api/v1/bookings/{paid_offline.id}/refunds",
        data=json.dumps({"amount": 1}) + "}",
        headers={**api.headers(manager), "Content-Type": "application/json"},
    )
    assert_error(response, 400, "bad_request")
