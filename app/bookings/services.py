"""The booking verbs: create, approve, reject, cancel, complete, mark no-show, sweep.

Services take the acting user explicitly, flush but never commit, and raise domain errors
(`ValidationFailed`, `SlotTaken`, `NotAllowed`, `InvalidTransition`) for the edges to translate.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from app.bookings.models import ACTIVE_STATUSES, TRANSITIONS, Booking, BookingTransition
from app.db import utcnow
from app.errors import InvalidTransition, NotAllowed, SlotTaken, ValidationFailed
from app.extensions import db
from app.spaces.availability import Availability, WeeklyHours, compute_availability
from app.spaces.models import Closure, Space

OVERLAP_CONSTRAINT = "ex_bookings_no_overlap"
MAX_PURPOSE_LENGTH = 2000
MAX_DAYS_AHEAD = 366


def space_availability(
    space: Space,
    window_start: datetime,
    window_end: datetime,
    *,
    now: datetime | None = None,
) -> Availability:
    """Availability of `space` in a window, from three queries (hours, closures, bookings)."""
    closures = db.session.execute(
        select(Closure.start_at, Closure.end_at).where(
            Closure.space_id == space.id,
            Closure.start_at < window_end,
            Closure.end_at > window_start,
        )
    ).all()
    pad = timedelta(minutes=space.buffer_minutes)
    bookings = db.session.execute(
        select(Booking.start_at, Booking.end_at).where(
            Booking.space_id == space.id,
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.hold_start < window_end + pad,
            Booking.hold_end > window_start - pad,
        )
    ).all()
    return compute_availability(
        hours=[WeeklyHours(h.weekday, h.open_minute, h.close_minute) for h in space.opening_hours],
        zone=space.zone,
        window_start=window_start,
        window_end=window_end,
        closures=[(c.start_at, c.end_at) for c in closures],
        bookings=[(b.start_at, b.end_at) for b in bookings],
        buffer_minutes=space.buffer_minutes,
        not_before=now,
    )


def quote_price(space: Space, start: datetime, end: datetime) -> int:
    """Fee in minor units: the hourly price pro rata to the minute."""
    minutes = int((end - start).total_seconds() // 60)
    return space.price_per_hour * minutes // 60


def _validate_request(
    space: Space, user, start: datetime, end: datetime, purpose: str, attendees: int, now: datetime
) -> None:
    errors: dict[str | None, list[str]] = {}

    def add(field: str | None, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not space.published and not space.can_manage(user):
        raise NotAllowed(_("This space is not open for booking."))
    if start.tzinfo is None or end.tzinfo is None:
        add("start", _("Times must include a time zone."))
        raise ValidationFailed(errors)
    if end <= start:
        add("end", _("The end must be after the start."))
    if start < now:
        add("start", _("The start is in the past."))
    elif start > now + timedelta(days=MAX_DAYS_AHEAD):
        add("start", _("Bookings can be made at most %(days)d days ahead.", days=MAX_DAYS_AHEAD))
    minutes = (end - start).total_seconds() / 60
    if end > start:
        if minutes < space.min_minutes:
            add("end", _("The booking must last at least %(n)d minutes.", n=space.min_minutes))
        elif minutes > space.max_minutes:
            add("end", _("The booking may last at most %(n)d minutes.", n=space.max_minutes))
    if attendees < 1:
        add("attendees", _("At least one person must attend."))
    elif attendees > space.capacity:
        add(
            "attendees",
            _("This space holds at most %(n)d people.", n=space.capacity),
        )
    purpose = purpose.strip()
    if not purpose:
        add("purpose", _("Please describe the purpose of the booking."))
    elif len(purpose) > MAX_PURPOSE_LENGTH:
        add("purpose", _("The purpose may be at most %(n)d characters.", n=MAX_PURPOSE_LENGTH))
    if errors:
        raise ValidationFailed(errors)


def _check_slot(space: Space, start: datetime, end: datetime) -> None:
    """Opening hours, closures and other bookings, with a message that says which one failed."""
    availability = space_availability(space, start - timedelta(days=1), end + timedelta(days=1))
    closure = db.session.scalars(
        select(Closure)
        .where(Closure.space_id == space.id, Closure.start_at < end, Closure.end_at > start)
        .limit(1)
    ).first()
    if closure is not None:
        reason = closure.reason or _("closed")
        raise ValidationFailed.single(
            _("The space is closed at that time (%(reason)s).", reason=reason), "start"
        )
    if not availability.is_open(start, end):
        raise ValidationFailed.single(_("The space is not open for the whole time."), "start")
    if not availability.is_free(start, end):
        raise SlotTaken(_("This time was just taken. Please choose another time."))


def hold_range(space: Space, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    half = timedelta(seconds=space.buffer_minutes * 30)
    return start - half, end + half


def create_booking(
    space: Space,
    user,
    *,
    start: datetime,
    end: datetime,
    purpose: str,
    attendees: int,
    now: datetime | None = None,
) -> Booking:
    """Request (or, for instant spaces, confirm) `space` for `user` from `start` to `end`.

    The database guarantees no overlap: on PostgreSQL an exclusion constraint, on SQLite a
    serialized write transaction around the check and the insert (see `app.db`).
    """
    now = now or utcnow()
    _validate_request(space, user, start, end, purpose, attendees, now)
    _check_slot(space, start, end)
    hold_start, hold_end = hold_range(space, start, end)
    to = "confirmed" if space.booking_mode == "instant" else "requested"
    booking = Booking(
        space=space,
        user=user,
        start_at=start,
        end_at=end,
        hold_start=hold_start,
        hold_end=hold_end,
        purpose=purpose.strip(),
        attendees=attendees,
        status=to,
        price_amount=quote_price(space, start, end),
        currency=space.currency,
        created_at=now,
    )
    booking.transitions.append(
        BookingTransition(from_status=None, to_status=to, actor=user, at=now)
    )
    try:
        with db.session.begin_nested():
            db.session.add(booking)
    except IntegrityError as exc:
        if OVERLAP_CONSTRAINT in str(exc.orig):
            raise SlotTaken(_("This time was just taken. Please choose another time.")) from exc
        raise
    return booking


def transition(
    booking: Booking, to: str, actor, *, reason: str | None = None, now: datetime | None = None
) -> Booking:
    """Move `booking` to state `to` if the transition table allows it, and record it."""
    now = now or utcnow()
    if to not in TRANSITIONS.get(booking.status, frozenset()):
        raise InvalidTransition(
            _(
                "A booking that is %(status)s cannot be changed that way.",
                status=booking.status_label,
            )
        )
    booking.transitions.append(
        BookingTransition(
            from_status=booking.status, to_status=to, actor=actor, at=now, reason=reason
        )
    )
    if to in ("approved", "rejected"):
        booking.decided_at = now
        booking.decided_by = actor
    if reason:
        booking.reason = reason
    booking.status = to
    db.session.flush()
    return booking


def _require(condition: bool) -> None:
    if not condition:
        raise NotAllowed(_("You are not allowed to do this."))


def approve(
    booking: Booking, actor, *, reason: str | None = None, now: datetime | None = None
) -> Booking:
    """Approve a request; a request whose time has begun is left for the sweep to expire."""
    now = now or utcnow()
    _require(booking.can_decide(actor))
    if booking.status == "requested" and booking.start_at <= now:
        raise InvalidTransition(
            _("The requested time has already begun, so the request can no longer be approved.")
        )
    return transition(booking, "approved", actor, reason=(reason or "").strip() or None, now=now)


def reject(booking: Booking, actor, *, reason: str) -> Booking:
    _require(booking.can_decide(actor))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.single(_("Please give a reason for the rejection."), "reason")
    return transition(booking, "rejected", actor, reason=reason)


def cancel(booking: Booking, actor, *, reason: str | None = None, now=None) -> Booking:
    now = now or utcnow()
    _require(booking.can_cancel(actor))
    is_manager = booking.can_decide(actor)
    if booking.end_at <= now or (not is_manager and booking.start_at <= now):
        raise InvalidTransition(_("A booking that has already started cannot be cancelled."))
    reason = (reason or "").strip() or None
    if reason is None and booking.user_id != getattr(actor, "id", None):
        # The owner cancelling someone else's booking owes them an explanation.
        raise ValidationFailed.single(
            _("Please tell the resident why the booking is cancelled."), "reason"
        )
    return transition(booking, "cancelled", actor, reason=reason, now=now)


def mark_attendance(booking: Booking, actor, *, showed_up: bool, now=None) -> Booking:
    """After the start, a manager records whether the booking was used (completed) or not."""
    now = now or utcnow()
    _require(booking.can_decide(actor))
    if booking.start_at > now:
        raise InvalidTransition(_("Attendance can be recorded once the booking has started."))
    return transition(booking, "completed" if showed_up else "no_show", actor, now=now)


def sweep(now: datetime | None = None, complete_after: timedelta = timedelta(days=3)) -> dict:
    """Expire requests nobody decided before their start; complete bookings long finished.

    Idempotent: a second run finds nothing left to do. Returns counts per action.
    """
    now = now or utcnow()
    stale = db.session.scalars(
        select(Booking).where(Booking.status == "requested", Booking.start_at <= now)
    ).all()
    for booking in stale:
        transition(booking, "expired", None, reason=_("Not decided before the start."), now=now)
    done = db.session.scalars(
        select(Booking).where(
            and_(
                Booking.status.in_(("approved", "confirmed")),
                Booking.end_at <= now - complete_after,
            )
        )
    ).all()
    for booking in done:
        transition(booking, "completed", None, now=now)
    return {"expired": len(stale), "completed": len(done)}
