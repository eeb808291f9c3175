"""What the booking page shows about money (shared by the resident's and the manager's view)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.bookings.states import ACTIVE, PAYABLE, BookingStatus
from app.db import utcnow
from app.extensions import db
from app.payments import gateway, services
from app.payments.models import LOG_LABELS, PaymentLog
from app.payments.states import PaymentStatus
from app.web.payments.forms import OfflinePaymentForm, RefundForm


def booking_payment_context(booking, user) -> dict:
    now = utcnow()
    is_owner = getattr(user, "id", None) == booking.user_id
    manages = booking.can_decide(user)
    paid = [p for p in booking.payments if p.status == PaymentStatus.SUCCEEDED]
    refundable = sum(p.amount - p.refunded_amount - p.pending_refund_amount for p in paid)
    cancel_refund = None
    if is_owner and paid and booking.start_at > now and booking.status in ACTIVE:
        cancel_refund = services.refund_on_cancel(booking, now)
    offline_form = None
    if (
        manages
        and booking.payment_status in PAYABLE
        and booking.status in ACTIVE
        and booking.status != BookingStatus.CONFIRMED
    ):
        offline_form = OfflinePaymentForm(formdata=None, data={"amount": booking.price_amount})
    log: Sequence[PaymentLog] = []
    if booking.payments:
        log = db.session.scalars(
            select(PaymentLog).where(PaymentLog.booking_id == booking.id)
            .options(joinedload(PaymentLog.actor)).order_by(PaymentLog.at, PaymentLog.id)
        ).all()
    return {
        "online": gateway.configured(),
        "test_mode": gateway.test_mode() if gateway.configured() else False,
        "can_pay": is_owner and services.can_pay(booking, user, now),
        "cancel_refund": cancel_refund,
        "offline_form": offline_form,
        "refund_form": RefundForm(formdata=None, data={"amount": refundable})
        if manages and refundable > 0 else None,
        "manages_money": manages,
        "payment_log": log,
        "log_labels": LOG_LABELS,
    }
