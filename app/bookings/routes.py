"""A resident's bookings: the list, one booking with its history, cancelling."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.bookings import bp
from app.bookings import services as booking_services
from app.bookings.forms import CancelForm
from app.bookings.models import STATUS_LABELS, TRANSITIONS, Booking, BookingTransition
from app.db import paginate, utcnow
from app.errors import InvalidTransition
from app.extensions import db
from app.spaces.models import Space


@bp.get("/", strict_slashes=False)
@login_required
def mine():
    now = utcnow()
    when = "past" if request.args.get("when") == "past" else "upcoming"
    query = (
        select(Booking)
        .where(Booking.user_id == current_user.id)
        .options(joinedload(Booking.space).joinedload(Space.owner))
    )
    if when == "past":
        query = query.where(Booking.end_at <= now).order_by(
            Booking.start_at.desc(), Booking.id.desc()
        )
    else:
        query = query.where(Booking.end_at > now).order_by(Booking.start_at, Booking.id)
    page = paginate(query, per_page=current_app.config["SEARCH_PER_PAGE"])
    return render_template("bookings/mine.html", page=page, when=when)


def load_booking(booking_id: int) -> Booking:
    """The booking with everything its page shows; 404 also when the user may not see it."""
    booking = db.session.scalars(
        select(Booking)
        .where(Booking.id == booking_id)
        .options(
            joinedload(Booking.space).selectinload(Space.jurisdictions),
            joinedload(Booking.space).joinedload(Space.owner),
            joinedload(Booking.user),
            joinedload(Booking.decided_by),
            selectinload(Booking.transitions).joinedload(BookingTransition.actor),
        )
    ).first()
    if booking is None or not booking.can_view(current_user):
        abort(404)  # the same answer whether it does not exist or is someone else's
    return booking


def offers_cancel(booking: Booking, user, now) -> bool:
    """Whether to show the cancel form; the service has the final word."""
    if not booking.can_cancel(user) or "cancelled" not in TRANSITIONS[booking.status]:
        return False
    return booking.start_at > now or (booking.can_decide(user) and booking.end_at > now)


@bp.get("/<int:booking_id>")
@login_required
def detail(booking_id: int):
    booking = load_booking(booking_id)
    return render_template(
        "bookings/detail.html",
        booking=booking,
        zone=booking.space.zone,
        status_labels=STATUS_LABELS,
        cancel_form=CancelForm() if offers_cancel(booking, current_user, utcnow()) else None,
    )


@bp.post("/<int:booking_id>/cancel")
@login_required
def cancel(booking_id: int):
    booking = load_booking(booking_id)
    form = CancelForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("bookings.detail", booking_id=booking.id))
    try:
        booking_services.cancel(booking, current_user, reason=form.reason.data)
    except InvalidTransition as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("The booking was cancelled."), "success")
    return redirect(url_for("bookings.detail", booking_id=booking_id))
