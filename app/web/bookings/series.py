"""The page of a repeating request: every date with its own state; the resident cancels one
date or this and all later ones, approvers decide the whole series at once."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.bookings import series as series_services
from app.bookings.models import Booking, BookingSeries, BookingStage
from app.bookings.states import BookingStatus
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.web.bookings import bp
from app.web.helpers import load_booking


def _load(series_id: int):
    series = db.session.get(BookingSeries, series_id)
    if series is None:
        abort(404)
    bookings = db.session.scalars(
        select(Booking).where(Booking.series_id == series.id).order_by(Booking.start_at)
        .options(joinedload(Booking.space), joinedload(Booking.user),
                 selectinload(Booking.stages).joinedload(BookingStage.jurisdiction))
    ).all()
    if not bookings or not any(b.can_view(current_user) for b in bookings):
        abort(404)
    return series, bookings


@bp.get("/series/<int:series_id>")
@login_required
def series(series_id: int):
    series, bookings = _load(series_id)
    space = bookings[0].space
    decidable = [b for b in bookings if b.status == BookingStatus.REQUESTED
                 and b.can_decide_now(current_user)]
    return render_template(
        "bookings/series.html", series=series, bookings=bookings, space=space,
        zone=space.zone, decidable=decidable,
        is_resident=series.user_id == current_user.id, now=utcnow(),
    )


@bp.post("/series/<int:series_id>/decide")
@login_required
def decide_series(series_id: int):
    series, bookings = _load(series_id)
    if not any(b.can_decide_now(current_user) for b in bookings):
        abort(403)
    approve = request.form.get("action") == "approve"
    reason = (request.form.get("reason") or "").strip()[:2000] or None
    try:
        result = series_services.decide_series(series, current_user, approve=approve,
                                               reason=reason)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        n = result["done"]
        flash((ngettext("Approved %(num)d date.", "Approved %(num)d dates.", n) if approve
               else ngettext("Rejected %(num)d date.", "Rejected %(num)d dates.", n)),
              "success")
        for booking, message in result["failed"]:
            flash(f"{booking.start_at:%Y-%m-%d}: {message}", "error")
    return redirect(url_for(".series", series_id=series_id))


@bp.post("/<int:booking_id>/cancel-from")
@login_required
def cancel_from(booking_id: int):
    booking = load_booking(booking_id)
    if not booking.can_cancel(current_user):
        abort(403)
    try:
        n = series_services.cancel_from(booking, current_user,
                                        reason=(request.form.get("reason") or "")[:2000])
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(ngettext("Cancelled %(num)d date.", "Cancelled %(num)d dates.", n), "success")
    return redirect(url_for(".series", series_id=booking.series_id) if booking.series_id
                    else url_for(".detail", booking_id=booking_id))
