"""Money messages: payment due with its deadline (mandatory), payment received, refunds."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.bookings import services as booking_services
from app.notifications.models import Notification
from app.notifications.services import set_preferences
from app.payments import services as payments


def told(db, user, kind=None):
    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query.order_by(Notification.id)))


@pytest.mark.usefixtures("english")
def test_due_received_and_refunded(db, factories, paid_space, slot, now):
    space = paid_space()
    manager = factories.manager(space.owner)
    resident = factories.user()
    booking = factories.booking(space, resident, start=slot[0], end=slot[1])
    db.session.commit()
    booking_services.approve(booking, manager)
    db.session.commit()
    # The approval and the payment now due are one message; it cannot be turned off.
    [due] = told(db, resident, "payment_due")
    assert due.params["approved"] is True and due.params["amount"] == 20_000
    assert told(db, resident, "booking_approved") == []
    with pytest.raises(ValueError):
        set_preferences(resident, {"payment_due": "off"})

    payments.record_offline(booking, manager, method="bank_transfer", amount=20_000,
                            reference="농협 123")
    db.session.commit()
    [received] = told(db, resident, "payment_received")
    assert (received.params["paid"], received.params["method"]) == (20_000, "bank_transfer")

    payments.refund(booking, manager, amount=5_000, reason="조명 고장", reference="현금 반환")
    db.session.commit()
    [refunded] = told(db, resident, "payment_refunded")
    assert refunded.params["refunded"] == 5_000 and refunded.params["reason"] == "조명 고장"


def _emails(db, user, kind):
    from app.notifications.models import EmailDelivery

    return list(db.session.scalars(select(EmailDelivery).where(
        EmailDelivery.user_id == user.id, EmailDelivery.kind == kind)))


@pytest.mark.usefixtures("english")
def test_the_space_team_hears_when_a_resident_pays_online(
    db, factories, paid_space, slot, stripe_double, client, login
):
    from app.bookings.models import Booking
    from tests.payments.test_flows import _approved, _checkout

    space = paid_space()
    manager = factories.manager(space.owner)
    staff = factories.manager(space.owner)
    outsider = factories.manager(factories.org(name="다른 학교"))
    set_preferences(staff, {"booking_paid": "in_app"})
    booking = _approved(db, factories, space, slot, manager)
    assert told(db, manager, "booking_paid") == []
    stripe_double.pay(_checkout(client, login, booking))
    stripe_double.deliver()
    booking = db.session.get(Booking, booking.id)
    assert booking.payment_status == "paid"
    [notice] = told(db, manager, "booking_paid")
    assert notice.booking_id == booking.id and notice.params["paid"] == 20_000
    assert len(_emails(db, manager, "booking_paid")) == 1
    # As each prefers: the inbox only for this one; nothing for another organisation.
    assert len(told(db, staff, "booking_paid")) == 1 and _emails(db, staff, "booking_paid") == []
    assert told(db, outsider, "booking_paid") == []
    assert told(db, booking.user, "booking_paid") == []


def test_a_payment_recorded_by_a_manager_is_no_news_to_the_team(db, factories, paid_space, slot):
    space = paid_space()
    manager = factories.manager(space.owner)
    booking = factories.booking(space, factories.user(), start=slot[0], end=slot[1])
    db.session.commit()
    booking_services.approve(booking, manager)
    payments.record_offline(booking, manager, method="cash", amount=booking.price_amount,
                            reference="영수증 1")
    db.session.commit()
    assert told(db, manager, "booking_paid") == []
