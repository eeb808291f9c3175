"""Notifications that ask the reader to act are done once the act is done.

"Payment due" is marked read when the booking is paid, "returned for changes" when the changed
request is sent again, and every such request when the booking stops holding its slot
(cancelled, expired, rejected, over): nothing is left in the inbox asking for what cannot or
need not be done any more. Called from `events` at the flush of the change, so the inbox and
the unread count in the header change in the same transaction as the booking.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.bookings.states import ACTIVE, BookingStatus
from app.db import utcnow
from app.extensions import db
from app.notifications.models import Notification

# The kinds that ask the resident to do something (the inbox shows them first while unread).
ACTION_KINDS = ("payment_due", "booking_returned", "closure_conflict")


def resolved_by_transition(tr) -> tuple[str, ...]:
    """The action kinds a booking transition settles. Only a booking that held its slot can
    have been asked for anything (a lottery entry, say, never was: no query for its draw)."""
    if tr.from_status not in ACTIVE:
        return ()
    if tr.to_status not in ACTIVE:
        return ACTION_KINDS  # no longer holds its slot: nothing is left to do about it
    if tr.from_status == BookingStatus.RETURNED:
        return ("booking_returned",)  # the changed request was sent again
    return ()


def resolve(done: dict[int, set[str]], now: datetime | None = None) -> int:
    """Mark read the unread notifications of `done` ({booking id: kinds settled}); one query
    for all of them. Returns how many changed."""
    done = {booking_id: kinds for booking_id, kinds in done.items() if booking_id and kinds}
    if not done:
        return 0
    kinds = sorted(set().union(*done.values()))
    rows = db.session.scalars(
        select(Notification).where(
            Notification.booking_id.in_(sorted(done)),
            Notification.kind.in_(kinds),
            Notification.read_at.is_(None),
        )
    ).all()
    when = now or utcnow()
    changed = 0
    for note in rows:
        if note.booking_id is not None and note.kind in done.get(note.booking_id, ()):
            note.read_at = when
            changed += 1
    return changed
