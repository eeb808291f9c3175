"""An account closed by an administrator (accounts.signals.account_deactivated): its bookings
still to come are cancelled through the normal transition, so every consequence follows as for
any cancellation: the slot is freed, approvers' open stages close, payments are released and
what was paid is refunded in full (the platform, not the person, called the booking off), and
the change is in each booking's history with the administrator as its actor.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts import signals as account_signals
from app.bookings.models import Booking
from app.bookings.services import transition
from app.bookings.states import ACTIVE, BookingStatus
from app.db import utcnow
from app.extensions import db

# What a closed account still holds or waits for: slots held, requests undecided, lottery
# entries not drawn yet.
OPEN_STATES = (*ACTIVE, BookingStatus.ENTERED)


def cancel_future_bookings(user, *, actor, now: datetime | None = None) -> int:
    """Cancel every booking of `user` that has not started yet. Returns how many."""
    now = now or utcnow()
    bookings = db.session.scalars(
        select(Booking).where(
            Booking.user_id == user.id,
            Booking.status.in_(OPEN_STATES),
            Booking.start_at > now,
        ).order_by(Booking.start_at, Booking.id)
    ).all()
    reason = _("The account was closed by an administrator.")
    for booking in bookings:
        transition(booking, BookingStatus.CANCELLED, actor, reason=reason, now=now)
    return len(bookings)


def _closed(user, *, actor, now: datetime | None = None, **_extra) -> None:
    cancel_future_bookings(user, actor=actor, now=now)


def subscribe() -> None:
    account_signals.account_deactivated.connect(_closed)
