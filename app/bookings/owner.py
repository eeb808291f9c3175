"""An owner's bookings still to come (what its managers see, and whom a suspension concerns)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.bookings.models import Booking
from app.bookings.states import ACTIVE
from app.extensions import db
from app.spaces.models import Space

MAX_UPCOMING = 200


def upcoming_bookings(org_id: int, now: datetime, limit: int = MAX_UPCOMING) -> list[Booking]:
    """Bookings of `org_id`'s spaces that hold their slot and have not ended, soonest first."""
    return list(db.session.scalars(
        select(Booking).join(Booking.space)
        .where(Space.owner_id == org_id, Booking.status.in_(ACTIVE), Booking.end_at > now)
        .options(joinedload(Booking.space), joinedload(Booking.user))
        .order_by(Booking.start_at, Booking.id).limit(limit)
    ))
