"""The JSON API, `/api/v1`. Thin: read input -> load or 404 -> check access -> call the same
services as the pages -> commit once -> serialize. Domain errors become JSON errors in
`app.error_pages`; the document describing all of this is at `/api/v1/openapi.json`."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts.services import require_verified
from app.api import bp, paging
from app.api.auth import authenticate_request, token_required
from app.api.document import build, errors
from app.api.paging import paginate
from app.api.parsing import (
    MAX_INT,
    query_args,
)
from app.api.schemas.answers import (
    AvailabilitySchema,
    BookingPageSchema,
    BookingSchema,
    SpaceDetailSchema,
    SpacePageSchema,
)
from app.api.schemas.dumping import dump_context, dumps_in_context
from app.api.schemas.requests import (
    BOOKING_REQUEST_EXAMPLE,
    ApproveSchema,
    BookingListQuery,
    BookingRequestSchema,
    DatesQuery,
    ReasonSchema,
    ResubmitRequestSchema,
    ReturnRequestSchema,
    SpaceSearchQuery,
)
from app.bookings import services as booking_services
from app.bookings.models import Booking, BookingStage, BookingTransition
from app.bookings.search import parse_search_args, search_spaces
from app.db import utcnow
from app.errors import NotAllowed, ValidationFailed
from app.extensions import db
from app.payments.models import Payment
from app.security import limits
from app.spaces import surge
from app.spaces.availability import local_instant, week_window
from app.spaces.models import Space, SpacePhoto

MAX_AVAILABILITY_DAYS = 62

SPACE_OPTIONS = (
    selectinload(Space.owner),
    selectinload(Space.jurisdictions),
    selectinload(Space.amenity_rows),
    selectinload(Space.opening_hours),
    selectinload(Space.photos),
)
BOOKING_OPTIONS = (
    selectinload(Booking.space).selectinload(Space.jurisdictions),
    selectinload(Booking.user),
    selectinload(Booking.transitions).selectinload(BookingTransition.actor),
    selectinload(Booking.stages).selectinload(BookingStage.jurisdiction),
    selectinload(Booking.group),
    selectinload(Booking.payments).selectinload(Payment.refunds),
)


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


def load_photos(spaces: list[Space]) -> None:
    """Load the photos of `spaces` in one query (the search loads the spaces itself)."""
    if not spaces:
        return
    by_space: dict[int, list[SpacePhoto]] = {s.id: [] for s in spaces}
    rows = db.session.scalars(
        select(SpacePhoto)
        .where(SpacePhoto.space_id.in_(by_space))
        .order_by(SpacePhoto.space_id, SpacePhoto.position, SpacePhoto.id)
    )
    for photo in rows:
        by_space[photo.space_id].append(photo)
    for space in spaces:
        set_committed_value(space, "photos", by_space[space.id])


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


def request_facts(body: dict) -> dict:
    """The rule facts of a request body (`RequestFactsSchema`): purpose category (community
    when absent, as before categories existed), fee waiver and resident group."""
    return {name: body.get(name) for name in ("purpose_category", "waiver", "group_id")}


# --- Spaces -------------------------------------------------------------------------------


@bp.get("/spaces", tags=["spaces"])
@dumps_in_context
@bp.arguments(SpaceSearchQuery, location="query")
@bp.response(200, SpacePageSchema, description="One page of results.")
@bp.doc(tags=["spaces"], responses=errors(422))
def spaces(_args: dict):
    """Search published spaces"""
    # The search reads the query string itself (as the search page does); the schema has
    # checked that times carry an offset, which the search form does not ask for.
    params = parse_search_args(
        query_args(),
        per_page_default=current_app.config["SEARCH_PER_PAGE"],
        per_page_max=current_app.config["API_MAX_PER_PAGE"],
    )
    result = search_spaces(params)
    load_photos(result.items)
    dump_context()["distances"] = result.distances
    return paging.page(result.items, page=result.page, per_page=result.per_page, total=result.total)


@bp.get("/spaces/<int:space_id>", tags=["spaces"])
@bp.response(200, SpaceDetailSchema, description="The space.")
@bp.doc(tags=["spaces"], responses=errors(404))
def space(space_id: int):
    """A space with its opening hours and rules of use

    Unpublished spaces only for their managers and officers."""
    return _viewable_space(space_id)


@bp.get("/spaces/<int:space_id>/availability", tags=["spaces"])
@dumps_in_context
@bp.arguments(DatesQuery, location="query")
@bp.response(200, AvailabilitySchema, description="Open, free and busy spans.")
@bp.doc(tags=["spaces"], responses=errors(404, 422))
def availability(args: dict, space_id: int):
    """Free and busy time of a space

    Dates are local to the space; `to` is included. Without either, the current week (Monday to
    Sunday); with one, seven days."""
    space = _viewable_space(space_id)
    zone = dump_context()["zone"] = space.zone
    first: date | None = args.get("first")
    last: date | None = args.get("last")
    if first is None:
        if last is None:
            first, _start, _end = week_window(utcnow().astimezone(zone).date(), zone)
        else:
            first = last - timedelta(days=6)
    if last is None:
        last = first + timedelta(days=6)
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
        "open": result.open,
        "free": result.free,
        "busy": result.busy,
    }


# --- Bookings -----------------------------------------------------------------------------


def _booking_response(booking_id: int, status: int = 200, headers=None):
    """Reload after the commit with everything the schema reads, in a bounded number of
    queries, and answer with it."""
    booking = _get(Booking, booking_id, BOOKING_OPTIONS)
    return booking, status, headers or {}


@bp.post("/bookings", tags=["bookings"])
@dumps_in_context
@token_required
@limits.booking_per_account
@limits.booking_per_ip
@bp.arguments(BookingRequestSchema, example=BOOKING_REQUEST_EXAMPLE)
@bp.response(201, BookingSchema, description="The booking, with its history.")
@bp.doc(tags=["bookings"], responses=errors(403, 409))
def create_booking(body: dict):
    """Book a space

    The rules in force decide: instant spaces answer `confirmed`, others `requested` (its
    approval stages decide), `approved` (the rules approve it) or `entered` (a lottery draws
    it). A request the rules refuse answers 422 `rule_violation` with `reasons`, each citing its
    rule set. Two bookings never overlap, buffers included: of requests racing for the same time
    exactly one succeeds, the others get 409 `slot_taken`."""
    # An unconfirmed address answers 403 `email_unverified` before anything is logged.
    require_verified(current_user)
    space_id = body["space_id"]
    start, end = body["start"], body["end"]
    purpose, attendees = body["purpose"], body["attendees"]
    facts = request_facts(body)
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


@bp.get("/bookings", tags=["bookings"])
@dumps_in_context
@token_required
@bp.arguments(BookingListQuery, location="query")
@bp.response(200, BookingPageSchema, description="A page of bookings.")
@bp.doc(tags=["bookings"], responses=errors(403, 422))
def bookings(args: dict):
    """My bookings, or the bookings of the spaces I manage

    Latest start first."""
    scope, statuses = args["scope"], args["status"]
    page, per_page = args["page"], args["per_page"]

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
    rows, total = paginate(query, page=page, per_page=per_page)
    return paging.page(rows, page=page, per_page=per_page, total=total)


@bp.get("/bookings/<int:booking_id>", tags=["bookings"])
@dumps_in_context
@token_required
@bp.response(200, BookingSchema, description="The booking, with its history.")
@bp.doc(tags=["bookings"], responses=errors(404))
def booking(booking_id: int):
    """One booking

    For the person who booked, the space's managers and officers."""
    return _viewable_booking(booking_id)


REASON_EXAMPLE = {"reason": "서류를 확인했습니다."}


@bp.post("/bookings/<int:booking_id>/approve", tags=["bookings"])
@dumps_in_context
@token_required
@bp.arguments(ApproveSchema, required=False, example=REASON_EXAMPLE)
@bp.response(200, BookingSchema, description="The booking, with its history.")
@bp.doc(tags=["bookings"], responses=errors(403, 404, 409))
def approve(body: dict, booking_id: int):
    """Approve the current stage of a request

    Whoever decides the request's current stage (the owner's managers, its head, or the
    jurisdiction's officers; 403 for others who can see the request). The last deciding stage's
    approval approves the booking. Optional reason; `evidence_seen` prices in a fee waiver
    claimed on the request (see `waiver_state`)."""
    reason = body.get("reason")
    booking = _decidable_booking(booking_id)
    booking_services.approve(booking, current_user, reason=reason,
                             evidence_seen=bool(body.get("evidence_seen")))
    db.session.commit()
    return _booking_response(booking_id)


@bp.post("/bookings/<int:booking_id>/reject", tags=["bookings"])
@dumps_in_context
@token_required
@bp.arguments(ReasonSchema, required=False, example=REASON_EXAMPLE)
@bp.response(200, BookingSchema, description="The booking, with its history.")
@bp.doc(tags=["bookings"], responses=errors(403, 404, 409))
def reject(body: dict, booking_id: int):
    """Reject a request

    Whoever decides the request's current stage; a reason is required."""
    reason = body.get("reason")
    booking = _decidable_booking(booking_id)
    booking_services.reject(booking, current_user, reason=reason or "")
    db.session.commit()
    return _booking_response(booking_id)


@bp.post("/bookings/<int:booking_id>/return", tags=["bookings"])
@dumps_in_context
@token_required
@bp.arguments(ReturnRequestSchema, example={"reason": "참석 인원을 다시 확인해 주세요."})
@bp.response(200, BookingSchema, description="The booking, with its history.")
@bp.doc(tags=["bookings"], responses=errors(403, 404, 409))
def return_booking(body: dict, booking_id: int):
    """Return a request to the resident for changes

    Whoever decides the current stage; the reason says what to change. The request keeps its
    time until the resident resubmits or the answer is overdue."""
    reason = body["reason"]
    booking = _decidable_booking(booking_id)
    booking_services.return_to_resident(booking, current_user, reason=reason)
    db.session.commit()
    return _booking_response(booking_id)


@bp.post("/bookings/<int:booking_id>/resubmit", tags=["bookings"])
@dumps_in_context
@token_required
@bp.arguments(ResubmitRequestSchema, required=False, example={"attendees": 8, "waiver": None})
@bp.response(200, BookingSchema, description="The booking, with its history.")
@bp.doc(tags=["bookings"], responses=errors(403, 404, 409))
def resubmit(data: dict, booking_id: int):
    """Change a returned request and send it again

    The person who booked; the same stage decides again. The request is judged again by the
    rule-set versions it was first judged by (422 `rule_violation` with reasons when they refuse
    it)."""
    purpose, attendees = data.get("purpose"), data.get("attendees")
    category, waiver, group_id = (data.get(k) for k in ("purpose_category", "waiver", "group_id"))
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


@bp.post("/bookings/<int:booking_id>/cancel", tags=["bookings"])
@dumps_in_context
@token_required
@bp.arguments(ReasonSchema, required=False, example=REASON_EXAMPLE)
@bp.response(200, BookingSchema, description="The booking, with its history.")
@bp.doc(tags=["bookings"], responses=errors(403, 404, 409))
def cancel(body: dict, booking_id: int):
    """Cancel a booking

    The person who booked (before the start) or a manager; optional reason."""
    booking = _viewable_booking(booking_id)
    booking_services.cancel(booking, current_user, reason=body.get("reason"))
    db.session.commit()
    return _booking_response(booking_id)


# --- The document -------------------------------------------------------------------------


@bp.get("/openapi.json", tags=["meta"])
@bp.doc(
    responses={
        "200": {
            "description": "OpenAPI 3.1 document.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    }
)
def openapi():
    """This document"""
    return build()
