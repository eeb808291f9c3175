"""The payments API: the resident's checkout link, offline payments and refunds by the space's
managers, and an owner's payout report.

Thin like `app.api.routes`: the same services as the payment pages (`app.payments.services`,
`app.payments.report`) do the work. Calls owed to Stripe after a commit (a refund, expiring a
superseded checkout) are made by the app's `after_request` hook (`app.payments.work`), so the
routes only commit; a booking answered here may show such a refund as `pending` still.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import abort, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.api import bp
from app.api import serializers as out
from app.api.auth import token_required
from app.api.inputs import Fields, json_body, query_args, query_date, query_int
from app.api.routes import _booking_response, _get, _viewable_booking
from app.db import utcnow
from app.errors import NotAllowed, ValidationFailed
from app.extensions import db
from app.orgs.models import Organisation
from app.payments import connect, report, services
from app.payments.models import OFFLINE_METHODS

# Longest reference and refund reason accepted (the columns and the payment forms).
MAX_REFERENCE = 120
MAX_REASON = 500
# The longest period of one payout report, as on the payouts page.
MAX_REPORT_DAYS = 3660


def _managed_booking(booking_id: int):
    """A booking of a space the user manages: 404 for those who may not see it, 403 for those
    who see it but do not manage the space (the resident, an overseeing officer)."""
    booking = _viewable_booking(booking_id)
    if not booking.can_decide(current_user):
        raise NotAllowed(_("Only the space's managers can record payments and refunds."))
    return booking


def _bounded_text(fields: Fields, name: str, limit: int, *, required: bool) -> str | None:
    value = fields.text(name, required=required)
    if value is not None and len(value) > limit:
        fields.error(name, _("Enter at most %(n)d characters.", n=limit))
        return None
    return value


# --- The resident pays ----------------------------------------------------------------------


@bp.post("/bookings/<int:booking_id>/checkout")
@token_required
def checkout(booking_id: int):
    """A Checkout Session for the booking (the open one, or a new one), as the booking page's
    Pay button makes it; the client sends the resident to `checkout_url`."""
    Fields(json_body()).done()  # no fields; a body that is not a JSON object is refused
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
    return {
        "checkout_url": payment.checkout_url,
        "expires_at": out.iso(payment.expires_at, booking.space.zone),
        "payment_id": payment.id,
    }, 201


# --- Managers record money ------------------------------------------------------------------


@bp.post("/bookings/<int:booking_id>/payments")
@token_required
def record_payment(booking_id: int):
    """Cash, a bank transfer or a local-currency voucher paid to the manager."""
    fields = Fields(json_body())
    method = fields.choice("method", OFFLINE_METHODS)
    if method is None and "method" not in fields.errors:
        fields.error("method", _("This field is required."))
    amount = fields.integer("amount")
    reference = _bounded_text(fields, "reference", MAX_REFERENCE, required=True)
    fields.done()
    booking = _managed_booking(booking_id)
    services.record_offline(
        booking, current_user, method=method, amount=amount, reference=reference
    )
    db.session.commit()
    return _booking_response(booking_id, 201)


@bp.post("/bookings/<int:booking_id>/refunds")
@token_required
def refund(booking_id: int):
    """Part or all of what was paid back to the resident: card payments through Stripe (after
    the commit), offline payments handed back as `reference` says."""
    fields = Fields(json_body())
    amount = fields.integer("amount")
    reason = _bounded_text(fields, "reason", MAX_REASON, required=True)
    reference = _bounded_text(fields, "reference", MAX_REFERENCE, required=False)
    fields.done()
    booking = _managed_booking(booking_id)
    services.refund(booking, current_user, amount=amount, reason=reason, reference=reference)
    db.session.commit()
    return _booking_response(booking_id, 201)


# --- Owners: the payout report --------------------------------------------------------------


def _row_json(row: report.Row) -> dict:
    return {
        "kind": row.kind,
        "booking_id": row.booking_id,
        "space": row.space,
        "paid_at": out.iso(row.paid_at, report.ZONE),
        "method": row.method,
        "currency": row.currency,
        "gross": row.gross,
        "fee": row.fee,
        "refunded": row.refunded,
        "fee_refunded": row.fee_refunded,
        "net": row.net,
    }


@bp.get("/organisations/<int:org_id>/payouts")
@token_required
def payouts(org_id: int):
    """What was paid for the organisation's spaces in a period (Korean dates, both included):
    the platform's fees, refunds and the net, per currency and per payment."""
    org = _get(Organisation, org_id)
    if not connect.can_manage_payouts(current_user, org):
        abort(404)
    args = query_args()
    errors: dict = {}
    first, last = query_date(args, "from", errors), query_date(args, "to", errors)
    page = query_int(args, "page", 1, 1, 100000, errors)
    if errors:
        raise ValidationFailed(errors)
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
    return {
        "organisation": out.ref(org),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "totals": result.totals,
        "rows": [_row_json(r) for r in result.rows],
        "page": result.page,
        "pages": result.pages,
        "per_page": report.PER_PAGE,
        "total_rows": result.total_rows,
    }
