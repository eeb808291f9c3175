"""The JSON API, `/api/v1`. Thin: read input -> load or 404 -> check access -> call the same
services as the pages -> commit once -> serialize. Domain errors become JSON errors in
`app.error_pages`; the document describing all of this is at `/api/v1/openapi.json`."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api import bp
from app.api import serializers as out
from app.api.auth import authenticate_request, token_required
from app.api.inputs import (
    MAX_INT,
    Fields,
    json_body,
    parse_instant,
    query_args,
    query_date,
    query_int,
)
from app.api.openapi import build_document
from app.bookings import services as booking_services
from app.bookings.models import STATUS_LABELS, Booking, BookingStage, BookingTransition
from app.bookings.search import parse_search_args, search_spaces
from app.db import utcnow
from app.errors import NotAllowed, ValidationFailed
from app.extensions import db
from app.payments.models import Payment
from app.rules.schema import PURPOSES, WAIVER_CATEGORIES
from app.security import limits
from app.spaces import surge
from app.spaces.availability import local_instant, week_window
from app.spaces.models import Space

MAX_AVAILABILITY_DAYS = 62

SPACE_OPTIONS = (
    selectinload(Space.owner),
    selectinload(Space.jurisdictions),
    selectinload(Space.amenity_rows),
    selectinload(Space.opening_hours),
)
BOOKING_OPTIONS = (
    selectinload(Booking.space).selectinload(Space.jurisdictions),
    selectinload(Booking.user),
    selectinload(Booking.transitions).selectinload(BookingTransition.actor),
    selectinload(Booking.stages).selectinload(BookingStage.jurisdiction),
    selectinload(Booking.group),
    selectinload(Booking.payments).selectinload(Payment.refunds),
)
# Bodies may hold at most this many ids (bulk decisions).
MAX_BULK = 100


@bp.before_request
def _authenticate():
    authenticate_request()


@bp.after_request
def _language(response):
    # Messages follow Accept-Language (Korean by default); say which language was used.
    response.headers["Content-Language"] = str(get_locale() or "ko")
    response.vary.add("Accept-Language")
    return response


def _get(model, ident: int, options=()):
    """The row with this id, loaded with `options`, or 404 (ids beyond the column type too)."""
    if not 0 < ident <= MAX_INT:
        abort(404)
    row = db.session.scalars(select(model).where(model.id == ident).options(*options)).first()
    if row is None:
        abort(404)
    return row


def _viewable_space(space_id: int) -> Space:
    space = _get(Space, space_id, SPACE_OPTIONS)
    if not space.can_view(current_user):
        abort(404)
    return space


def _viewable_booking(booking_id: int) -> Booking:
    booking = _get(Booking, booking_id, BOOKING_OPTIONS)
    if not booking.can_view(current_user):
        abort(404)  # whether it exists is none of this user's business
    return booking


def _decidable_booking(booking_id: int) -> Booking:
    """A booking whose current approval stage the user decides: 404 for those who may not see
    it, 403 for those who see it but do not decide now (a manager and an officer's stage)."""
    booking = _viewable_booking(booking_id)
    if not booking.can_decide_now(current_user):
        raise NotAllowed(_("You do not decide the current stage of this request."))
    return booking


def request_facts(fields: Fields) -> dict:
    """The rule facts of a request body: purpose category (community when absent, as before
    categories existed), fee waiver and resident group."""
    return {
        "purpose_category": fields.choice("purpose_category", PURPOSES, default="community"),
        "waiver": fields.choice("waiver", WAIVER_CATEGORIES),
        "group_id": fields.integer("group_id", required=False),
    }


# --- Spaces -------------------------------------------------------------------------------


@bp.get("/spaces")
def spaces():
    args = query_args()
    # The API asks for explicit offsets everywhere; the search form may send wall-clock times.
    errors = {}
    for name in ("free_from", "free_to"):
        if args.get(name):
            try:
                parse_instant(args[name])
            except ValueError as exc:
                errors[name] = [str(exc)]
    if errors:
        raise ValidationFailed(errors)
    params = parse_search_args(
        args,
        per_page_default=current_app.config["SEARCH_PER_PAGE"],
        per_page_max=current_app.config["API_MAX_PER_PAGE"],
    )
    result = search_spaces(params)
    items = [out.space_summary(s, result.distances.get(s.id)) for s in result.items]
    return out.page(items, page=result.page, per_page=result.per_page, total=result.total)


@bp.get("/spaces/<int:space_id>")
def space(space_id: int):
    return out.space_detail(_viewable_space(space_id))


@bp.get("/spaces/<int:space_id>/availability")
def availability(space_id: int):
    space = _viewable_space(space_id)
    zone = space.zone
    args = query_args()
    errors: dict = {}
    first, last = query_date(args, "from", errors), query_date(args, "to", errors)
    if errors:
        raise ValidationFailed(errors)
    if first is None and last is None:
        first, _start, _end = week_window(utcnow().astimezone(zone).date(), zone)
    first = first or last - timedelta(days=6)
    last = last or first + timedelta(days=6)
    if last < first:
        raise ValidationFailed.single(_("The end date must not be before the start date."), "to")
    if (last - first).days + 1 > MAX_AVAILABILITY_DAYS:
        raise ValidationFailed.single(
            _("Ask for at most %(n)d days at a time.", n=MAX_AVAILABILITY_DAYS), "to"
        )
    result = booking_services.space_availability(
        space,
        local_instant(first, 0, zone),
        local_instant(last + timedelta(days=1), 0, zone),
        now=utcnow(),
    )
    return {
        "space_id": space.id,
        "timezone": space.timezone,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "open": out.spans(result.open, zone),
        "free": out.spans(result.free, zone),
        "busy": out.spans(result.busy, zone),
    }


# --- Bookings -----------------------------------------------------------------------------


def _booking_response(booking_id: int, status: int = 200, headers=None):
    """Reload after the commit with everything the serializer reads, in a bounded number of
    queries, and answer with it."""
    booking = _get(Booking, booking_id, BOOKING_OPTIONS)
    return out.booking_json(booking, current_user), status, headers or {}


@bp.post("/bookings")
@token_required
@limits.booking_per_account
@limits.booking_per_ip
def create_booking():
    fields = Fields(json_body())
    space_id = fields.integer("space_id")
    start, end = fields.instant("start"), fields.instant("end")
    purpose = fields.text("purpose")
    attendees = fields.integer("attendees")
    facts = request_facts(fields)
    fields.done()
    space = db.session.get(Space, space_id) if 0 < space_id <= MAX_INT else None
    if space is None or not space.can_view(current_user):
        raise ValidationFailed.single(_("There is no such space."), "space_id")
    # Logged (and counted towards the space's surge) before sending, committed at once so a
    # refused request counts too. Token holders are never asked for the proof of work.
    surge.note_request(space, current_user, now=utcnow(), via="api")
    db.session.commit()
    booking = booking_services.create_booking(
        space, current_user, start=start, end=end, purpose=purpose, attendees=attendees, **facts
    )
    db.session.commit()
    location = url_for("api.booking", booking_id=booking.id)
    return _booking_response(booking.id, 201, {"Location": location})


@bp.get("/bookings")
@token_required
def bookings():
    args = query_args()
    errors: dict = {}
    scope = args.get("scope") or "mine"
    if scope not in ("mine", "managed"):
        errors["scope"] = [_("Choose mine or managed.")]
    statuses = [s.strip() for s in (args.get("status") or "").split(",") if s.strip()]
    unknown = [s for s in statuses if s not in STATUS_LABELS]
    if unknown:
        errors["status"] = [_("Unknown status: %(name)s.", name=", ".join(unknown))]
    page = query_int(args, "page", 1, 1, 100000, errors)
    per_page_max = current_app.config["API_MAX_PER_PAGE"]
    per_page = query_int(
        args, "per_page", current_app.config["SEARCH_PER_PAGE"], 1, per_page_max, errors
    )
    if errors:
        raise ValidationFailed(errors)

    query = select(Booking).options(*BOOKING_OPTIONS)
    if scope == "managed":
        if not (current_user.is_manager or current_user.is_admin):
            raise NotAllowed(_("Only facility managers can list the bookings of their spaces."))
        if not current_user.is_admin:
            query = query.join(Booking.space).where(
                Space.owner_id.in_(current_user.managed_org_ids)
            )
    else:
        query = query.where(Booking.user_id == current_user.id)
    if statuses:
        query = query.where(Booking.status.in_(statuses))
    query = query.order_by(Booking.start_at.desc(), Booking.id.desc())
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    items = [out.booking_json(b, current_user) for b in result.items]
    return out.page(items, page=page, per_page=per_page, total=result.total)


@bp.get("/bookings/<int:booking_id>")
@token_required
def booking(booking_id: int):
    return out.booking_json(_viewable_booking(booking_id), current_user)


def _reason() -> str | None:
    fields = Fields(json_body())
    reason = fields.text("reason", required=False)
    fields.done()
    return reason


@bp.post("/bookings/<int:booking_id>/approve")
@token_required
def approve(booking_id: int):
    reason = _reason()
    booking = _decidable_booking(booking_id)
    booking_services.approve(booking, current_user, reason=reason)
    db.session.commit()
    return _booking_response(booking_id)


@bp.post("/bookings/<int:booking_id>/reject")
@token_required
def reject(booking_id: int):
    reason = _reason()
    booking = _decidable_booking(booking_id)
    booking_services.reject(booking, current_user, reason=reason or "")
    db.session.commit()
    return _booking_response(booking_id)


@bp.post("/bookings/<int:booking_id>/return")
@token_required
def return_booking(booking_id: int):
    fields = Fields(json_body())
    reason = fields.text("reason")
    fields.done()
    booking = _decidable_booking(booking_id)
    booking_services.return_to_resident(booking, current_user, reason=reason)
    db.session.commit()
    return _booking_response(booking_id)


@bp.post("/bookings/<int:booking_id>/resubmit")
@token_required
def resubmit(booking_id: int):
    """The resident answers a returned request. A field left out keeps the request's value;
    `waiver` and `group_id` sent as null are cleared."""
    data = json_body()
    fields = Fields(data)
    purpose = fields.text("purpose", required=False)
    attendees = fields.integer("attendees", required=False)
    category = fields.choice("purpose_category", PURPOSES)
    waiver = fields.choice("waiver", WAIVER_CATEGORIES)
    group_id = fields.integer("group_id", required=False)
    fields.done()
    booking = _viewable_booking(booking_id)
    booking_services.resubmit(
        booking,
        current_user,
        purpose=booking.purpose if purpose is None else purpose,
        attendees=booking.attendees if attendees is None else attendees,
        purpose_category=category or booking.purpose_category,
        waiver=waiver if "waiver" in data else booking.waiver_category,
        group_id=group_id if "group_id" in data else booking.group_id,
    )
    db.session.commit()
    return _booking_response(booking_id)


@bp.post("/bookings/<int:booking_id>/cancel")
@token_required
def cancel(booking_id: int):
    booking = _viewable_booking(booking_id)
    booking_services.cancel(booking, current_user, reason=_reason())
    db.session.commit()
    return _booking_response(booking_id)


# --- The document -------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi():
    return build_document()
