"""Payment pages: paying through Checkout and coming back, the receipt, offline payments and
refunds for managers, payout set-up and the payout report for owners."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import stripe
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import access, csvfile
from app.bookings.states import BookingStatus
from app.db import db_int, utcnow
from app.errors import DomainError
from app.extensions import db
from app.orgs.models import Organisation
from app.payments import connect, gateway, report, services, settlement
from app.payments.models import Refund
from app.payments.states import COLLECTED, METHOD_LABELS, PaymentStatus
from app.web.helpers import load_booking, writes_on_get
from app.web.payments.forms import OfflinePaymentForm, OrgPaymentSettingsForm, RefundForm
from app.web.payments.webhooks import webhook_bp  # noqa: F401  (registered by the app factory)

bp = Blueprint("payments", __name__)


def _detail(booking_id: int):
    return redirect(url_for("bookings.detail", booking_id=booking_id))


def _form_errors(form) -> str:
    return " ".join(e for errors in form.errors.values() for e in errors)


# --------------------------------------------------------------------------- residents
@bp.post("/bookings/<int:booking_id>/pay")
@login_required
def pay(booking_id: int):
    booking = load_booking(booking_id)
    if booking.user_id != current_user.id:
        abort(403)  # only the resident pays for their booking
    try:
        payment = start_checkout(booking)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _detail(booking_id)
    db.session.commit()
    return redirect(payment.checkout_url, code=303)


def start_checkout(booking):
    return services.open_checkout(
        booking,
        current_user,
        success_url=url_for("payments.checkout_return", booking_id=booking.id, _external=True)
        + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=url_for("payments.checkout_cancelled", booking_id=booking.id,
                           _external=True),
        locale=str(get_locale() or "ko"),
    )


@bp.get("/bookings/<int:booking_id>/payment/return")
@writes_on_get  # races the webhook: one serialized transaction
@login_required
def checkout_return(booking_id: int):
    """Back from Checkout: read the session (the webhook may not have come yet)."""
    booking = load_booking(booking_id)
    session_id = (request.args.get("session_id") or "")[:255]
    payment = next((p for p in booking.payments if p.stripe_session_id == session_id), None)
    if payment is None:
        flash(_("That payment does not belong to this booking."), "error")
        return _detail(booking_id)
    try:
        services.sync_session(gateway.client().v1.checkout.sessions.retrieve(session_id))
        db.session.commit()
    except (stripe.StripeError, DomainError):
        db.session.rollback()
        flash(_("Your payment is being confirmed; this page will show it shortly."), "info")
        return _detail(booking_id)
    if payment.status == PaymentStatus.SUCCEEDED:
        flash(_("Payment received. Thank you!"), "success")
        return redirect(url_for("payments.receipt", booking_id=booking_id))
    if payment.status == PaymentStatus.AUTHORIZED:
        flash(_("Your card was authorised. It is charged only if the request is approved."),
              "success")
    else:
        flash(_("The payment is not complete yet."), "info")
    return _detail(booking_id)


@bp.get("/bookings/<int:booking_id>/payment/cancelled")
@login_required
def checkout_cancelled(booking_id: int):
    booking = load_booking(booking_id)
    if booking.status == BookingStatus.AWAITING_PAYMENT and booking.payment_due_at:
        flash(_("The payment was not completed. The time stays reserved for you until "
                "%(time)s; pay now, or cancel the booking to give the time back.",
                time=booking.payment_due_at.astimezone(booking.space.zone).strftime("%H:%M")),
              "info")
    else:
        flash(_("The payment was not completed."), "info")
    return _detail(booking_id)


@bp.get("/bookings/<int:booking_id>/receipt")
@login_required
def receipt(booking_id: int):
    booking = load_booking(booking_id)
    paid = [p for p in booking.payments if p.status in COLLECTED]
    if not paid:
        abort(404)
    return render_template("payments/receipt.html", booking=booking, payments=paid,
                           zone=booking.space.zone, now=utcnow())


# --------------------------------------------------------------------------- managers
def _managed(booking_id: int):
    return access.require(load_booking(booking_id), "can_decide")


def _run(action, done: str, booking_id: int):
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(_("Nothing was changed: %(message)s", message=exc.message), "error")
    else:
        db.session.commit()
        flash(done, "success")
    return _detail(booking_id)


def _with_form(booking_id: int, form_class, action, done: str):
    """A manager's form about a booking's money: validate, run the service, say the outcome."""
    booking = _managed(booking_id)
    form = form_class()
    if not form.validate_on_submit():
        flash(_form_errors(form), "error")
        return _detail(booking_id)
    return _run(lambda: action(booking, form), done, booking_id)


@bp.post("/bookings/<int:booking_id>/payments/offline")
@login_required
def offline(booking_id: int):
    return _with_form(
        booking_id, OfflinePaymentForm,
        lambda booking, form: services.record_offline(
            booking, current_user, method=form.method.data, amount=form.amount.data,
            reference=form.reference.data),
        _("The payment was recorded."))


@bp.post("/bookings/<int:booking_id>/refunds")
@login_required
def refund(booking_id: int):
    return _with_form(
        booking_id, RefundForm,
        lambda booking, form: services.refund(
            booking, current_user, amount=form.amount.data, reason=form.reason.data,
            reference=form.reference.data),
        _("The refund was started."))


@bp.post("/refunds/<int:refund_id>/handed-back")
@login_required
def handed_back(refund_id: int):
    row = db.session.get(Refund, refund_id)
    if row is None:
        abort(404)
    booking = _managed(row.payment.booking_id)
    return _run(
        lambda: services.record_offline_refund(row, current_user,
                                               reference=request.form.get("reference", "")),
        _("The refund was recorded."), booking.id)


# --------------------------------------------------------------------------- owners
def _organisation(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None or not connect.can_manage_payouts(current_user, org):
        abort(404)
    return org


@bp.route("/manage/organisations/<int:org_id>/payments", methods=["GET", "POST"])
@login_required
def org_settings(org_id: int):
    org = _organisation(org_id)
    form = OrgPaymentSettingsForm(obj=org)
    if request.method == "POST":
        account = services.payout_account(org.id)
        if account is not None and form.country.data != org.country:
            # A Stripe account's country is fixed when it is made.
            form.country.errors = [_("The country cannot change once a payout account exists.")]
        elif form.validate_on_submit():
            org.card_holds = bool(form.card_holds.data)
            org.country = form.country.data
            db.session.commit()
            flash(_("Payment settings saved."), "success")
            return redirect(url_for(".org_settings", org_id=org.id))
        flash(_form_errors(form), "error")
    return render_template(
        "payments/org_settings.html", org=org, form=form,
        account=services.payout_account(org.id), online=gateway.configured(),
        test_mode=gateway.test_mode(), fee_bps=_fee_bps(org),
        connect_available=gateway.connect_available(org),
        connect_refused=connect.not_available_message(org),
    )


def _fee_bps(org) -> int:
    from flask import current_app

    return org.platform_fee_bps if org.platform_fee_bps is not None else \
        current_app.config["PLATFORM_FEE_BPS"]


@bp.post("/manage/organisations/<int:org_id>/payments/onboard")
@login_required
def onboard(org_id: int):
    org = _organisation(org_id)
    back = url_for(".onboard_return", org_id=org.id, _external=True)
    try:
        url = connect.onboarding_link(org, current_user, return_url=back,
                                      refresh_url=url_for(".org_settings", org_id=org.id,
                                                          _external=True))
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".org_settings", org_id=org.id))
    return redirect(url, code=303)


@bp.get("/manage/organisations/<int:org_id>/payments/return")
@writes_on_get
@login_required
def onboard_return(org_id: int):
    org = _organisation(org_id)
    account = services.payout_account(org.id)
    if account is not None:
        try:
            connect.refresh(account)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
    return redirect(url_for(".org_settings", org_id=org.id))


def _period(today: date) -> tuple[date, date]:
    def day(name: str, default: date) -> date:
        try:
            return date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return default

    start = day("from", today.replace(day=1))
    end = day("to", today)
    if end < start:
        start, end = end, start
    if (end - start).days > 3660:
        start = end - timedelta(days=3660)
    return start, end


@bp.get("/manage/organisations/<int:org_id>/payouts")
@login_required
def payouts(org_id: int):
    org = _organisation(org_id)
    zone = report.ZONE
    start, end = _period(utcnow().astimezone(zone).date())
    since = datetime.combine(start, time(), zone)
    until = datetime.combine(end + timedelta(days=1), time(), zone)
    result = report.payout_report(org.id, since, until,
                                  page=request.args.get("page", 1, type=db_int))
    if request.args.get("format") == "csv":
        return _csv(org, result, start, end)
    return render_template("payments/payouts.html", org=org, result=result, start=start,
                           end=end, zone=zone, method_labels=METHOD_LABELS,
                           transfers=settlement.transfers_between(org.id, start, end))


def _csv(org, result, start: date, end: date) -> Response:
    body = csvfile.to_csv(
        ["kind", "booking", "space", "at", "method", "settled_by", "statement_fee", "currency",
         "gross", "platform_fee", "refunded", "fee_refunded", "net"],
        ([row.kind, row.booking_id, row.space, row.paid_at.isoformat(), row.method,
          row.settled_by, "" if row.statement_fee is None else row.statement_fee,
          row.currency, row.gross, row.fee, row.refunded, row.fee_refunded, row.net]
         for row in result.all_rows()),
    )
    name = f"payouts-{org.slug}-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}"})

