"""Payment pages: bounded queries, Stripe down when opening Checkout, who sees what."""

from __future__ import annotations

from sqlalchemy import select

from app.bookings.models import Booking
from app.payments import services as payments
from app.payments.models import Payment
from tests.payments.conftest import flashes
from tests.payments.test_flows import _approved, _request


def test_stripe_down_when_opening_checkout_changes_nothing(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    booking = _approved(db, factories, space, slot)
    stripe_double.double.fail_next("/v1/checkout/sessions", 500)
    login(booking.user)
    response = client.post(f"/bookings/{booking.id}/pay")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/bookings/{booking.id}")
    assert any(kind == "error" for kind, _ in flashes(client))
    # Stripe answered, so the attempt is closed (its key would only get the 500 again) and
    # nothing is open to pay.
    attempts = db.session.scalars(select(Payment).where(Payment.booking_id == booking.id)).all()
    assert [p.status for p in attempts] == ["failed"]
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert 'class="payments"' not in page  # the resident sees no payment, failed or open
    # Trying again works, as a new attempt.
    assert client.post(f"/bookings/{booking.id}/pay").status_code == 303
    db.session.expire_all()
    attempts = db.session.scalars(
        select(Payment).where(Payment.booking_id == booking.id).order_by(Payment.attempt)
    ).all()
    assert [(p.attempt, p.status) for p in attempts] == [(1, "failed"), (2, "open")]


def test_only_the_resident_pays_and_only_managers_record_money(
    db, factories, paid_space, slot, stripe_double, client, login
):
    space = paid_space()
    booking = _approved(db, factories, space, slot)
    stranger = factories.user()
    db.session.commit()
    login(stranger)
    assert client.post(f"/bookings/{booking.id}/pay").status_code == 404
    assert client.post(f"/bookings/{booking.id}/payments/offline",
                       data={"method": "cash", "amount": 20000, "reference": "x"}
                       ).status_code == 404
    login(booking.user)
    assert client.post(f"/bookings/{booking.id}/payments/offline",
                       data={"method": "cash", "amount": 20000, "reference": "x"}
                       ).status_code == 403
    assert db.session.get(Booking, booking.id).payment_status == "due"


def test_the_booking_page_reads_a_fixed_number_of_queries_whatever_the_payments(
    db, factories, paid_space, slot, client, login, queries_of_get
):
    space = paid_space()
    manager = factories.manager(space.owner)
    one = _request(factories, space, slot)
    payments.record_offline(one, manager, method="cash", amount=one.price_amount, reference="a")
    start, end = slot
    from datetime import timedelta

    many = _request(factories, space, (start + timedelta(days=1), end + timedelta(days=1)))
    paid = payments.record_offline(many, manager, method="cash", amount=many.price_amount,
                                   reference="b")
    for i in range(3):
        payments.refund(many, manager, amount=1000, reason=f"r{i}", reference=f"back {i}")
    assert len(paid.refunds) == 3
    db.session.commit()
    login(manager)
    assert queries_of_get(f"/bookings/{one.id}") == queries_of_get(f"/bookings/{many.id}")
    login(one.user)
    assert client.get(f"/bookings/{one.id}/receipt").status_code == 200
    other = factories.user()
    db.session.commit()
    login(other)
    assert client.get(f"/bookings/{one.id}/receipt").status_code == 404


def test_booking_an_instant_paid_space_goes_straight_to_checkout(
    db, factories, paid_space, slot, stripe_double, client, login
):
    from tests.approvals.test_pages import form_for

    space = paid_space(booking_mode="instant")
    resident = factories.user()
    db.session.commit()
    login(resident)
    response = client.post(f"/spaces/{space.id}/book", data=form_for(slot[0]))
    assert response.status_code == 303
    assert response.headers["Location"].startswith(stripe_double.double.url + "/checkout/")
    booking = db.session.scalars(select(Booking)).one()
    assert booking.status == "awaiting_payment"
    assert booking.payments[-1].checkout_url == response.headers["Location"]


def test_card_hold_request_asks_for_the_card_before_it_is_sent(
    db, factories, paid_space, slot, stripe_double, client, login
):
    from tests.approvals.test_pages import form_for

    space = paid_space()
    space.owner.card_holds = True
    resident = factories.user()
    db.session.commit()
    login(resident)
    response = client.post(f"/spaces/{space.id}/book", data=form_for(slot[0]))
    assert response.status_code == 303
    booking = db.session.scalars(select(Booking)).one()
    assert (booking.status, booking.payment_status) == ("awaiting_payment", "hold_pending")
    session = stripe_double.get(booking.payments[-1].stripe_session_id)
    assert session["status"] == "open"


def test_the_payout_page_reads_a_fixed_number_of_queries(
    db, factories, paid_space, now, login, queries_of_get
):
    from datetime import timedelta

    space = paid_space()
    manager = factories.manager(space.owner)
    counts = []
    for n in (1, 4):
        for i in range(n):
            start = (now + timedelta(days=2 + i + 10 * n)).replace(hour=5, minute=0, second=0)
            booking = _request(factories, space, (start, start + timedelta(hours=1)))
            payments.record_offline(booking, manager, method="cash",
                                    amount=booking.price_amount, reference=f"{n}-{i}")
            payments.refund(booking, manager, amount=100, reason="r", reference="back")
        db.session.commit()
        login(manager)
        counts.append(queries_of_get(f"/manage/organisations/{space.owner.id}/payouts"))
    assert counts[0] == counts[1]


def test_the_booking_history_links_the_receipt(db, factories, paid_space, slot, client,
                                               login):
    space = paid_space()
    booking = _request(factories, space, slot)
    payments.record_offline(booking, factories.manager(space.owner), method="bank_transfer",
                            amount=booking.price_amount, reference="이체 1")
    db.session.commit()
    login(booking.user)
    page = client.get("/bookings/").get_data(as_text=True)
    assert f"/bookings/{booking.id}/receipt" in page


def test_huge_ids_in_payment_urls_are_plain_404s(db, factories, client, login):
    huge = "9" * 25
    manager = factories.manager(factories.org())
    db.session.commit()
    login(manager)
    for method, url in (
        ("post", f"/bookings/{huge}/pay"),
        ("get", f"/bookings/{huge}/receipt"),
        ("get", f"/bookings/{huge}/payment/return?session_id=cs_x"),
        ("get", f"/bookings/{huge}/payment/cancelled"),
        ("post", f"/bookings/{huge}/payments/offline"),
        ("post", f"/bookings/{huge}/refunds"),
        ("post", f"/refunds/{huge}/handed-back"),
        ("get", f"/manage/organisations/{huge}/payments"),
        ("get", f"/manage/organisations/{huge}/payouts"),
        ("post", f"/manage/organisations/{huge}/payments/onboard"),
    ):
        assert getattr(client, method)(url).status_code == 404, url
