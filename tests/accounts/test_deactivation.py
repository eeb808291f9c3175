"""An administrator closes an account: every log-in and API token ends, the person cannot log
in or reset the password, and their bookings still to come are cancelled as any cancellation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.bookings.models import Booking
from app.bookings.states import BookingStatus
from tests.conftest import next_weekday


def test_deactivation_revokes_everything_and_cancels_future_bookings(
    app, client, db, factories, login, api_token
):
    admin = factories.user(email="admin@example.org", is_admin=True)
    person = factories.user(email="kim@example.org")
    space = factories.space()
    instant = factories.space(booking_mode="instant")
    start = next_weekday(3, 18)
    requested = factories.booking(space, person, start=start, end=start + timedelta(hours=1))
    confirmed = factories.booking(instant, person, start=start, end=start + timedelta(hours=1))
    past = factories.booking(space, person, start=start - timedelta(days=30),
                             end=start - timedelta(days=30, hours=-1), status="completed",
                             now=start - timedelta(days=31))
    db.session.commit()
    headers = api_token(person)
    theirs = app.test_client()
    assert theirs.post("/login", data={"email": person.email, "password": "password123",
                                       "remember": "y"}).status_code == 302

    login(admin)
    page = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "cancels their bookings still to come" in page
    assert client.post(f"/admin/users/{person.id}/deactivate").status_code == 302

    assert "/login" in theirs.get("/account").headers.get("Location", "")
    assert app.test_client().get("/api/v1/bookings", headers=headers).status_code == 401
    assert theirs.post("/login", data={"email": person.email,
                                       "password": "password123"}).status_code == 401
    db.session.expire_all()
    states = {b.id: b.status for b in db.session.scalars(select(Booking))}
    assert states[requested.id] == states[confirmed.id] == BookingStatus.CANCELLED
    assert states[past.id] == BookingStatus.COMPLETED  # history stays
    # Cancelled through the normal transition, by the administrator, with the reason.
    last = sorted(db.session.get(Booking, requested.id).transitions, key=lambda t: t.id)[-1]
    assert last.actor_id == admin.id
    assert "closed by an administrator" in (last.reason or "")
    # The slot is free again for others.
    other = factories.user()
    db.session.commit()
    client.post("/logout")
    login(other)
    form_start = start.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Seoul"))
    response = client.post(f"/spaces/{space.id}/book", data={
        "date": form_start.date().isoformat(), "start_time": f"{form_start:%H:%M}",
        "end_time": f"{form_start + timedelta(hours=1):%H:%M}", "purpose": "모임",
        "attendees": "3"})
    assert response.status_code == 302


def test_what_was_paid_for_a_cancelled_booking_is_refunded_in_full(client, db, factories,
                                                                   login):
    from app.payments import services as payment_services
    from app.payments.models import Refund

    admin = factories.user(email="admin@example.org", is_admin=True)
    org = factories.org()
    manager = factories.manager(org)
    person = factories.user(email="kim@example.org")
    space = factories.space(owner=org, price_per_hour=10_000)
    start = next_weekday(3, 18)
    booking = factories.booking(space, person, start=start, end=start + timedelta(hours=2))
    payment_services.record_offline(booking, manager, method="cash",
                                    amount=booking.price_amount, reference="영수증 1")
    db.session.commit()
    login(admin)
    client.post(f"/admin/users/{person.id}/deactivate")
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.CANCELLED
    refunds = db.session.scalars(select(Refund)).all()
    assert [r.amount for r in refunds] == [20_000]
