"""The bookings' part of the periodic sweep: deadlines, expiries, lottery draws, completion."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, select

from app.bookings import approvals, signals
from app.bookings.lottery import run_due_draws
from app.bookings.models import Booking, BookingStage
from app.bookings.services import transition
from app.bookings.states import (
    GRANTED,
    STAGE_OPEN,
    UNDECIDED,
    BookingStatus,
    PaymentState,
    StageState,
)
from app.db import utcnow
from app.extensions import db


def sweep(now: datetime | None = None, complete_after: timedelta = timedelta(days=3)) -> dict:
    """Run every deadline: expire requests nobody decided before their start or their stage's
    deadline, pass overdue stages on or approve them (as each stage says), expire returned
    requests the resident did not answer, draw lotteries that are due, complete bookings long
    finished.

    Idempotent and safe to run every minute: a second run finds nothing left to do.
    Returns counts per action.
    """
    now = now or utcnow()
    counts = {"expired": 0, "escalated": 0, "auto_approved": 0, "drawn": 0, "completed": 0}
    stale = db.session.scalars(
        select(Booking).where(
            Booking.status.in_(UNDECIDED), Booking.start_at <= now
        )
    ).all()
    for booking in stale:
        transition(
            booking, BookingStatus.EXPIRED, None, reason=_("Not decided before the start."), now=now
        )
    counts["expired"] += len(stale)
    counts["drawn"] = run_due_draws(now)
    overdue = db.session.scalars(
        select(Booking)
        .join(
            BookingStage,
            and_(
                BookingStage.booking_id == Booking.id,
                BookingStage.position == Booking.stage_position,
            ),
        )
        .where(
            Booking.status.in_(UNDECIDED),
            BookingStage.state.in_(STAGE_OPEN),
            BookingStage.due_at <= now,
        )
        .order_by(Booking.id)
    ).all()
    for booking in overdue:
        counts[_stage_deadline(booking, now)] += 1
    done = db.session.scalars(
        select(Booking).where(
            and_(
                Booking.status.in_(GRANTED),
                Booking.end_at <= now - complete_after,
                # an unpaid booking is not completed: the payment sweep expires it
                Booking.payment_status.not_in((PaymentState.DUE, PaymentState.HOLD_PENDING)),
            )
        )
    ).all()
    for booking in done:
        transition(booking, BookingStatus.COMPLETED, None, now=now)
    counts["completed"] = len(done)
    return counts


def _stage_deadline(booking: Booking, now: datetime) -> str:
    """Apply what the overdue current stage says; returns the counter it belongs to."""
    stage = booking.current_stage
    assert stage is not None  # the sweep found the booking through its current stage
    if booking.status == BookingStatus.RETURNED or stage.on_deadline == "expire":
        reason = (
            _("The resident did not answer in time.")
            if booking.status == BookingStatus.RETURNED
            else _("Not decided in time by: %(who)s.", who=approvals.stage_who(stage))
        )
        transition(booking, BookingStatus.EXPIRED, None, reason=reason, now=now)
        return "expired"
    stage.decided_at = now
    if stage.on_deadline == "approve":
        stage.state = StageState.AUTO_APPROVED
        counter = "auto_approved"
    else:
        stage.state = StageState.ESCALATED
        counter = "escalated"
    signals.stage_moved.send(stage, state=stage.state, booking=booking)
    if approvals.advance(booking, now) is None:
        if counter == "escalated":
            # Nobody is left to pass it to: the request cannot be decided, so it expires.
            stage.state = StageState.EXPIRED
            transition(
                booking, BookingStatus.EXPIRED, None, reason=_("No stage left to decide."), now=now
            )
            return "expired"
        reason = _("Approved when the deadline passed.")
        transition(booking, BookingStatus.APPROVED, None, reason=reason, now=now)
    db.session.flush()
    return counter
