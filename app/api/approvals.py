"""The approval queue of the API: the requests whose current stage the caller decides (the same
query as the web queue, `app.bookings.queue.queue_query`) and bulk decisions on them."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api import bp, paging
from app.api.auth import token_required
from app.api.document import errors
from app.api.paging import paginate
from app.api.routes import BOOKING_OPTIONS
from app.api.schemas.answers import (
    ApprovalPageSchema,
    BulkResultSchema,
)
from app.api.schemas.dumping import dumps_in_context
from app.api.schemas.requests import (
    ApprovalQuery,
    BulkRequestSchema,
)
from app.bookings import decisions
from app.bookings.models import Booking, BookingStage, BookingTransition
from app.bookings.queue import QueueFilters, queue_query
from app.errors import NotAllowed
from app.extensions import db
from app.payments.models import Payment

# What the queue's query does not load but the booking serializer reads.
QUEUE_EXTRA_OPTIONS = (
    selectinload(Booking.transitions).selectinload(BookingTransition.actor),
    selectinload(Booking.stages).selectinload(BookingStage.jurisdiction),
    selectinload(Booking.payments).selectinload(Payment.refunds),
)


def _require_approver() -> None:
    if not (current_user.is_manager or current_user.is_officer or current_user.is_admin):
        raise NotAllowed(
            _("Only facility managers, heads of organisations and officers have a queue.")
        )


@bp.get("/approvals", tags=["approvals"])
@dumps_in_context
@token_required
@bp.arguments(ApprovalQuery, location="query")
@bp.response(200, ApprovalPageSchema, description="A page of the queue.")
@bp.doc(tags=["approvals"], responses=errors(403, 422))
def approvals(args: dict):
    """My approval queue

    Requests whose current stage I decide (facility managers, heads of organisations, officers),
    as in the web queue. Oldest request first unless `sort` says otherwise."""
    page, per_page = args["page"], args["per_page"]
    _require_approver()
    filters = QueueFilters(
        space_id=args.get("space"),
        approver=args.get("approver"),
        purpose=args.get("purpose"),
        date_from=args.get("first"),
        date_to=args.get("last"),
        overdue=args.get("overdue") == "1",
        sort=args["sort"],
    )
    query = filters.order(queue_query(current_user, filters)).options(*QUEUE_EXTRA_OPTIONS)
    rows, total = paginate(query, page=page, per_page=per_page)
    return paging.page(rows, page=page, per_page=per_page, total=total)


def _failure(code: str, message: str) -> dict:
    return {"code": code, "message": message}


@bp.post("/approvals/bulk")
@token_required
@bp.arguments(BulkRequestSchema, example={"action": "approve", "ids": [12, 15]})
@bp.response(200, BulkResultSchema, description="One result per id.")
@bp.doc(tags=["approvals"], responses=errors(403))
def bulk_decide(body: dict):
    """Approve or reject several requests

    Each request is decided on its own: one that cannot be decided (not yours to decide, already
    decided, time begun) does not undo or stop the others. Answers 200 with a result per id."""
    action, ids, reason = body["action"], body["ids"], body.get("reason")
    _require_approver()
    found = {
        b.id: b
        for b in db.session.scalars(
            select(Booking).where(Booking.id.in_(ids)).options(*BOOKING_OPTIONS)
        )
    }
    results: dict[int, dict] = {}
    visible = []
    for booking_id in ids:
        booking = found.get(booking_id)
        if booking is None or not booking.can_view(current_user):
            results[booking_id] = _result(
                booking_id, None, _failure("not_found", _("No such request."))
            )
        else:
            visible.append(booking)
    approve = action == "approve"
    for outcome in decisions.decide_many(
        visible, current_user, approve=approve, reason=reason if approve else reason or ""
    ):
        booking = outcome.booking
        error = outcome.error
        results[booking.id] = _result(
            booking.id,
            booking.status if error is None else None,
            None if error is None else _failure(error.code, error.message),
        )
    ordered = [results[booking_id] for booking_id in ids]
    db.session.commit()
    done = sum(1 for r in ordered if r["ok"])
    return {"action": action, "done": done, "failed": len(ordered) - done, "results": ordered}


def _result(booking_id: int, status: str | None, error: dict | None) -> dict:
    return {"id": booking_id, "ok": error is None, "status": status, "error": error}
