"""Bookings that collide with a space's closures: listed for the manager, never cancelled
behind anyone's back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from app.bookings.models import Booking
from app.bookings.states import ACTIVE
from app.extensions import db
from app.spaces.models import Closure, Space


# --- Closures ---------------------------------------------------------------------------------
def active_bookings_between(space: Space, start: datetime, end: datetime) -> list[Booking]:
    """Bookings that hold the space (requested, approved, confirmed) and overlap [start, end)."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.space_id == space.id,
                Booking.status.in_(ACTIVE),
                Booking.start_at < end,
                Booking.end_at > start,
            )
            .options(selectinload(Booking.user))
            .order_by(Booking.start_at, Booking.id)
        )
    )


def closure_conflicts(closures: list[Closure]) -> dict[int, list[Booking]]:
    """For each closure, the active bookings of its space that overlap it (one query)."""
    result: dict[int, list[Booking]] = {c.id: [] for c in closures}
    if not closures:
        return result
    rows = db.session.execute(
        select(Closure.id, Booking)
        .join(
            Booking,
            and_(
                Booking.space_id == Closure.space_id,
                Booking.start_at < Closure.end_at,
                Booking.end_at > Closure.start_at,
            ),
        )
        .where(Closure.id.in_(list(result)), Booking.status.in_(ACTIVE))
        .options(selectinload(Booking.user))
        .order_by(Booking.start_at, Booking.id)
    ).all()
    for closure_id, booking in rows:
        result[closure_id].append(booking)
    return result
