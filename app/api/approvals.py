"""The approval queue of the API: the requests whose current stage the caller decides (the same
query as the web queue, `app.bookings.queue.queue_query`) and bulk decisions on them."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api import bp
from app.api import serializers as out
from app.api.auth import token_required
from app.api.inputs import (
    MAX_INT,
    Fields,
    json_body,
    query_args,
    query_choice,
    query_date,
    query_int,
)
from app.api.routes import BOOKING_OPTIONS, MAX_BULK
from app.bookings import decisions
from app.bookings.models import Booking, BookingStage, BookingTransition
from app.bookings.queue import SORTS, QueueFilters, queue_query
from app.errors import NotAllowed, ValidationFailed
from app.extensions import db
from app.payments.models import Payment
from app.rules.schema import APPROVERS, PURPOSES

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


@bp.get("/approvals")
@token_required
def approvals():
    args = query_args()
    errors: dict = {}
    space_id = query_int(args, "space", 0, 1, MAX_INT, errors) or None
    approver = query_choice(args, "approver", APPROVERS, errors)
    purpose = query_choice(args, "purpose", PURPOSES, errors)
    first, last = query_date(args, "from", errors), query_date(args, "to", errors)
    sort = query_choice(args, "sort", SORTS, errors) or "requested"
    overdue = query_choice(args, "overdue", ("0", "1"), errors) == "1"
    page = query_int(args, "page", 1, 1, 100000, errors)
    per_page_max = current_app.config["API_MAX_PER_PAGE"]
    per_page = query_int(
        args, "per_page", current_app.config["SEARCH_PER_PAGE"], 1, per_page_max, errors
    )
    if first and last and last < first:
        errors.setdefault("to", []).append(_("The end date must not be before the start date."))
    if errors:
        raise ValidationFailed(errors)
    _require_approver()
    filters = QueueFilters(
        space_id=space_id,
        approver=approver,
        purpose=purpose,
        date_from=first,
        date_to=last,
        overdue=overdue,
        sort=sort,
    )
    query = filters.order(queue_query(current_user, filters)).options(*QUEUE_EXTRA_OPTIONS)
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    items = [out.booking_json(b, current_user) for b in result.items]
    return out.page(items, page=page, per_page=per_page, total=result.total)


def _failure(code: str, message: str) -> dict:
    return {"code": code, "message": message}


@bp.post("/approvals/bulk")
@token_required
def bulk_decide():
    """Approve or reject several requests; each is decided in its own savepoint, so one that
    cannot be decided does not undo or stop the others. Answers 200 with a result per id."""
    fields = Fields(json_body())
    action = fields.choice("action", ("approve", "reject"))
    if action is None and "action" not in fields.errors:
        fields.error("action", _("This field is required."))
    ids = fields.ids("ids", limit=MAX_BULK)
    reason = fields.text("reason", required=False)
    if action == "reject" and not (reason or "").strip() and "reason" not in fields.errors:
        fields.error("reason", _("Please give a reason for the rejection."))
    fields.done()
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
            results[booking_id] = _result(booking_id, None,
                                          _failure("not_found", _("No such request.")))
        else:
            visible.append(booking)
    approve = action == "approve"
    for outcome in decisions.decide_many(visible, current_user, approve=approve,
                                         reason=reason if approve else reason or ""):
        booking = outcome.booking
        error = outcome.error
        results[booking.id] = _result(booking.id, booking.status if error is None else None,
                                      None if error is None else _failure(error.code,
                                                                          error.message))
    results = [results[booking_id] for booking_id in ids]
    db.session.commit()
    done = sum(1 for r in results if r["ok"])
    return {"action": action, "done": done, "failed": len(results) - done, "results": results}


def _result(booking_id: int, status: str | None, error: dict | None) -> dict:
    return {"id": booking_id, "ok": error is None, "status": status, "error": error}
