"""The payments API: the resident's checkout link, offline payments and refunds by the space's
managers, and an owner's payout report.

Thin like `app.api.routes`: the same services as the payment pages (`app.payments.services`,
`app.payments.report`) do the work. Calls owed to Stripe after a commit (a refund, expiring a
superseded checkout) go through the job interface (`app.payments.work`) once the commit is done,
so the routes only commit; a booking answered here may show such a refund as `pending` still.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import abort, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.api import bp
from app.api.auth import token_required
from app.api.document import errors
from app.api.routes import _booking_response, _get, _viewable_booking
from app.api.schemas.answers import (
    BookingSchema,
    CheckoutLinkSchema,
    PayoutReportSchema,
)
from app.api.schemas.dumping import dump_context, dumps_in_context
from app.api.schemas.requests import (
    EmptySchema,
    OfflinePaymentRequestSchema,
    PayoutQuery,
    RefundRequestSchema,
)
from app.db import utcnow
from app.errors import NotAllowed, ValidationFailed
from app.extensions import db
from app.orgs.models import Organisation
from app.payments import connect, report, services

# The longest period of one payout report, as on the payouts page.
MAX_REPORT_DAYS = 3660


def _managed_booking(booking_id: int):
    """A booking of a space the user manages: 404 for those who may not see it, 403 for those
    who see it but do not manage the space (the resident, an overseeing officer)."""
    booking = _viewable_booking(booking_id)
    if not booking.can_decide(current_user):
        raise NotAllowed(_("Only the space's managers can record payments and refunds."))
    return booking


# --- The resident pays ----------------------------------------------------------------------


@bp.post("/bookings/<int:booking_id>/checkout")
@dumps_in_context
@token_required
@bp.arguments(EmptySchema, required=False, example={})
@bp.response(201, CheckoutLinkSchema, description="The checkout link.")
@bp.doc(tags=["payments"], responses=errors(400, 403, 404, 409, 413, 422, 502, 503))
def checkout(_body: dict, booking_id: int):
    """A checkout link to pay for a booking

    The person who booked (403 for others who can see the booking), while the booking has
    something to pay: approved and `due`, or an instant booking or card hold holding its time
    (409 `invalid_transition` otherwise). Answers the open Checkout Session when there is one,
    else opens a new one; send the resident to `checkout_url`. Stripe reports the payment to the
    app, and the booking's `payment` shows it. No body."""
    booking = _viewable_booking(booking_id)
    payment = services.open_checkout(
        booking,
        current_user,
        success_url=url_for("payments.checkout_return", booking_id=booking.id, _external=True)
        + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=url_for("payments.checkout_cancelled", booking_id=booking.id, _external=True),
        locale=str(get_locale() or "ko"),
    )
    db.session.commit()
    dump_context()["zone"] = booking.space.zone
    return {
        "checkout_url": payment.checkout_url,
        "expires_at": payment.expires_at,
        "payment_id": payment.id,
    }, 201


# --- Managers record money ------------------------------------------------------------------


@bp.post("/bookings/<int:booking_id>/payments")
@dumps_in_context
@token_required
@bp.arguments(
    OfflinePaymentRequestSchema,
    example={"method": "bank_transfer", "amount": 24000, "reference": "국민 123-45"},
)
@bp.response(201, BookingSchema, description="The booking, with its payment.")
@bp.doc(tags=["payments"], responses=errors(403, 404, 409))
def record_payment(body: dict, booking_id: int):
    """Record a payment made to the manager

    The space's managers (403 for others who can see the booking): cash, a bank transfer or a
    local-currency voucher for the whole price. The booking is then paid (an instant booking
    awaiting payment is confirmed) and any open checkout is closed. 409 `invalid_transition`
    when nothing is left to pay."""
    method, amount, reference = body["method"], body["amount"], body["reference"]
    booking = _managed_booking(booking_id)
    services.record_offline(
        booking, current_user, method=method, amount=amount, reference=reference
    )
    db.session.commit()
    return _booking_response(booking_id, 201)


@bp.post("/bookings/<int:booking_id>/refunds")
@dumps_in_context
@token_required
@bp.arguments(RefundRequestSchema, example={"amount": 12000, "reason": "행사 취소"})
@bp.response(201, BookingSchema, description="The booking, with its payment.")
@bp.doc(tags=["payments"], responses=errors(403, 404, 409))
def refund(body: dict, booking_id: int):
    """Refund part or all of a payment

    The space's managers (403 for others who can see the booking), from the latest payment. Card
    payments are refunded through Stripe just after the answer, so the refund may still show
    `pending`; an offline payment's refund is done when `reference` says how the money was
    handed back. 409 `invalid_transition` when nothing was paid."""
    amount, reason, reference = body["amount"], body["reason"], body.get("reference")
    booking = _managed_booking(booking_id)
    services.refund(booking, current_user, amount=amount, reason=reason, reference=reference)
    db.session.commit()
    return _booking_response(booking_id, 201)


# --- Owners: the payout report --------------------------------------------------------------


@bp.get("/organisations/<int:org_id>/payouts")
@dumps_in_context
@token_required
@bp.arguments(PayoutQuery, location="query")
@bp.response(200, PayoutReportSchema, description="The report.")
@bp.doc(tags=["payments"], responses=errors(404, 422))
def payouts(args: dict, org_id: int):
    """An owner's payout report

    For the organisation's managers and principals (404 for everyone else): payments for its
    spaces made in the period, platform fees, refunds and the net, per currency, and the
    payments page by page (50 a page). Dates are Korean days, both included; without them, this
    month so far (`from` alone runs to today, `to` alone from the first of its month)."""
    org = _get(Organisation, org_id)
    if not connect.can_manage_payouts(current_user, org):
        abort(404)
    first, last, page = args.get("first"), args.get("last"), args["page"]
    # Without dates, this month so far; `from` alone runs to today, `to` alone from the first
    # of its month.
    today = utcnow().astimezone(report.ZONE).date()
    if first is None:
        first = (last or today).replace(day=1)
    if last is None:
        last = max(today, first)
    if last < first:
        raise ValidationFailed.single(_("The end date must not be before the start date."), "to")
    if (last - first).days >= MAX_REPORT_DAYS:
        raise ValidationFailed.single(
            _("Ask for at most %(n)d days at a time.", n=MAX_REPORT_DAYS), "to"
        )
    since = datetime.combine(first, time(), report.ZONE)
    until = datetime.combine(last + timedelta(days=1), time(), report.ZONE)
    result = report.payout_report(org.id, since, until, page=page)
    dump_context()["zone"] = report.ZONE
    return {
        "organisation": org,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "totals": result.totals,
        "rows": result.rows,
        "page": result.page,
        "pages": result.pages,
        "per_page": report.PER_PAGE,
        "total_rows": result.total_rows,
    }
