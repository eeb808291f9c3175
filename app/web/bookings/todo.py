"""My bookings as a to-do list: what needs the resident's action, what is coming, what is over.

Each group is one query (whatever the number of bookings), plus one query for the closures that
meet the bookings shown, so a card can say which closure affects it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.bookings.models import Booking
from app.bookings.states import ACTIVE, CALLED_OFF, BookingStatus, PaymentState
from app.extensions import db
from app.payments.models import Payment
from app.spaces.models import Closure, Space
from app.web.bookings import bp

# More than this many bookings needing action at once is not a to-do list any more; the rest
# still show under "Upcoming".
ACTION_LIMIT = 50


def _closed_meanwhile():
    """SQL: a closure of the booking's space meets its time."""
    return exists().where(
        Closure.space_id == Booking.space_id,
        Closure.start_at < Booking.end_at,
        Closure.end_at > Booking.start_at,
    )


def needs_action(now: datetime):
    """SQL: the resident has something to do — pay (before the deadline), change a request
    that came back, or decide what to do about a closure that meets the booking."""
    pay = and_(
        Booking.status.in_((BookingStatus.APPROVED, BookingStatus.AWAITING_PAYMENT)),
        Booking.payment_status.in_((PaymentState.DUE, PaymentState.HOLD_PENDING)),
        or_(Booking.payment_due_at.is_(None), Booking.payment_due_at > now),
    )
    return or_(
        pay,
        Booking.status == BookingStatus.RETURNED,
        and_(Booking.status.in_(ACTIVE), _closed_meanwhile()),
    )


def _mine(user):
    return select(Booking).where(Booking.user_id == user.id).options(
        joinedload(Booking.space).joinedload(Space.owner),
        # The badge of a booking called off after payment says where its refund stands.
        selectinload(Booking.payments).selectinload(Payment.refunds),
    )


def current(user, now: datetime):
    """Bookings still to come and not called off (rejected, cancelled, expired, not drawn)."""
    return _mine(user).where(Booking.end_at > now, Booking.status.not_in(CALLED_OFF))


def action_list(user, now: datetime) -> Sequence[Booking]:
    """The bookings that need the resident, the most pressing (payment deadline, start) first."""
    query = current(user, now).where(needs_action(now)).order_by(
        Booking.payment_due_at.is_(None), Booking.payment_due_at, Booking.start_at, Booking.id
    )
    return db.session.scalars(query.limit(ACTION_LIMIT)).unique().all()


def upcoming_query(user, now: datetime, skip: Sequence[Booking]):
    """Upcoming bookings that need nothing from the resident (soonest first), paged."""
    query = current(user, now)
    if skip:
        query = query.where(Booking.id.not_in([b.id for b in skip]))
    return query.order_by(Booking.start_at, Booking.id)


def past_query(user, now: datetime):
    """Bookings that are over or will not take place, the latest first."""
    return _mine(user).where(
        or_(Booking.end_at <= now, Booking.status.in_(CALLED_OFF))
    ).order_by(Booking.start_at.desc(), Booking.id.desc())


def closures_meeting(bookings: Sequence[Booking]) -> dict[int, Closure]:
    """{booking id: the first closure that meets it}, for bookings still holding their slot;
    one query for all of them."""
    held = [b for b in bookings if b.status in ACTIVE]
    if not held:
        return {}
    rows = db.session.scalars(
        select(Closure).where(
            Closure.space_id.in_(sorted({b.space_id for b in held})),
            Closure.start_at < max(b.end_at for b in held),
            Closure.end_at > min(b.start_at for b in held),
        ).order_by(Closure.start_at, Closure.id)
    ).all()
    found: dict[int, Closure] = {}
    for booking in held:
        for closure in rows:
            if (closure.space_id == booking.space_id and closure.start_at < booking.end_at
                    and closure.end_at > booking.start_at):
                found[booking.id] = closure
                break
    return found




def closure_meeting(booking: Booking) -> Closure | None:
    """The closure that meets `booking` (the booking page's note), or None."""
    return closures_meeting([booking]).get(booking.id)


@bp.app_template_global("closure_meeting")
def _closure_meeting_global(booking: Booking) -> Closure | None:
    return closure_meeting(booking)
