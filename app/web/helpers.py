"""Small helpers shared by the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from sqlalchemy.orm import joinedload, selectinload

from app import access
from app.bookings.models import Booking, BookingStage, BookingTransition
from app.db import db_int
from app.extensions import db
from app.payments.models import Payment
from app.spaces.models import Space

T = TypeVar("T")
View = TypeVar("View", bound=Callable[..., Any])


def required(data: T | None) -> T:
    """A value validation guarantees, typically the data of a field its validators require
    (DataRequired, InputRequired): WTForms types every field's data as optional, but after
    `validate_on_submit()` such a field has a value."""
    assert data is not None, "a value validation guarantees is missing"
    return data


def writes_on_get(view: View) -> View:
    """Mark a page that writes although it answers GET (place it right under the route), so its
    request runs as one serialized write transaction like any POST (app.register_request_hooks)."""
    view.__dict__["writes_on_get"] = True
    return view


def paginate(query, *, per_page: int, count: bool = True):
    """`db.paginate` for the pages: the page number comes from the query string through
    `db_int`, so a number nobody means gives an empty page rather than a database error."""
    page = request.args.get("page", 1, type=db_int)
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=count)


def load_booking(booking_id: int) -> Booking:
    """The booking with everything its page shows; 404 also when the user may not see it (the
    same answer whether it does not exist or is someone else's)."""
    return access.load(Booking, booking_id, "can_view", visible=None, options=(
        joinedload(Booking.space).selectinload(Space.jurisdictions),
        joinedload(Booking.space).joinedload(Space.owner),
        joinedload(Booking.user),
        joinedload(Booking.decided_by),
        selectinload(Booking.transitions).joinedload(BookingTransition.actor),
        selectinload(Booking.stages).joinedload(BookingStage.jurisdiction),
        selectinload(Booking.stages).joinedload(BookingStage.decided_by),
        joinedload(Booking.group),
        selectinload(Booking.payments).selectinload(Payment.refunds),
    ))
