"""Stripe calls owed after a commit, and the payment part of the sweep.

A change that owes Stripe a call (capture at approval, releasing a hold, expiring a checkout,
a refund) writes it on the payment (`pending_action`) or as a pending refund, in the same
transaction as the change, and queues a job for after the commit (app.jobs: a worker, or this
process once the response is sent — the resident never waits for Stripe); if Stripe fails or
times out, the row stays pending and `flask bookings sweep` tries again with
the same idempotency key, so the call is made once however often it is tried.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import stripe
from flask_babel import gettext as _
from sqlalchemy import select

from app.bookings.models import Booking
from app.bookings.services import transition
from app.bookings.states import BookingStatus, PaymentState
from app.db import utcnow
from app.extensions import db
from app.jobs import job, run_deferred
from app.payments import connect, gateway, keys, reconcile, services
from app.payments.models import Payment, Refund
from app.payments.states import (
    PaymentStatus,
    RefundStatus,
    StripeSessionStatus,
)

if TYPE_CHECKING:
    from stripe.params import PaymentIntentCaptureParams, RefundCreateParams

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- after commit
@job("payments.perform_payment")
def perform_payment(payment_id: int | None) -> int:
    """The Stripe call a payment owes (capture, cancel, release, expire), after the commit
    that owed it: on a worker, or in this process once the response is sent."""
    payment = db.session.get(Payment, payment_id) if payment_id is not None else None
    return perform(payment) if payment is not None else 0


@job("payments.perform_refund")
def perform_refund(refund_id: int | None) -> int:
    """A pending refund's Stripe call, after the commit that made it."""
    refund = db.session.get(Refund, refund_id) if refund_id is not None else None
    return perform(refund) if refund is not None else 0


def perform(obj, now: datetime | None = None) -> int:
    """Make the Stripe call `obj` owes and commit the result. Returns 1 when it got through.

    Never raises for Stripe trouble: the row keeps its pending state and the error, for the
    sweep to retry.
    """
    now = now or utcnow()
    try:
        ok = _refund(obj, now) if isinstance(obj, Refund) else _payment_action(obj, now)
        db.session.commit()
        return int(ok)
    except Exception:
        db.session.rollback()
        log.exception("payment work on %r failed", obj)
        return 0


def _remember(obj, exc: Exception) -> None:
    obj.last_error = gateway.describe(exc)


def _payment_action(payment: Payment, now: datetime) -> bool:
    if payment.pending_action and payment.key_round:
        # The last try's outcome is unknown (Stripe answered a 5xx): read the object first,
        # it may have been done.
        _reconcile(payment, now)
    action = payment.pending_action
    if action is None:
        return True
    client = gateway.client()
    if action == "expire" and not payment.stripe_session_id:
        # An attempt Stripe never answered: no one holds a link to pay it; should Stripe have
        # made its session, that session's events find the row by its attempt.
        payment.status = PaymentStatus.EXPIRED
        payment.pending_action = None
        return True
    key = keys.payment_action(payment, action)
    try:
        if action == "capture":
            assert payment.stripe_intent_id is not None  # only a hold is captured
            client.v1.payment_intents.capture(
                payment.stripe_intent_id, _capture_params(payment), {"idempotency_key": key}
            )
        elif action in ("cancel", "release"):
            assert payment.stripe_intent_id is not None  # only a hold is cancelled or released
            client.v1.payment_intents.cancel(
                payment.stripe_intent_id,
                {"cancellation_reason": "abandoned" if action == "release"
                 else "requested_by_customer"},
                {"idempotency_key": key},
            )
        elif action == "expire":
            assert payment.stripe_session_id is not None  # only an open checkout expires
            client.v1.checkout.sessions.expire(payment.stripe_session_id, {},
                                               {"idempotency_key": key})
    except stripe.StripeError as exc:
        if gateway.is_transient(exc):
            _remember(payment, exc)
            if gateway.key_used_up(exc):
                payment.key_round += 1
            return False
        # Stripe refused because the object moved on (already captured, canceled, completed):
        # read it again and reconcile instead of failing.
        _remember(payment, exc)
    return _reconcile(payment, now)


def _capture_params(payment: Payment) -> PaymentIntentCaptureParams:
    """What a capture sends: only the row's fields, so a retry under the same key sends the
    same parameters. A hold whose price went down captures the new price (and, on a
    destination charge, the fee on it); the rest of the hold is released by Stripe."""
    params: PaymentIntentCaptureParams = {}
    if payment.capture_amount is not None and payment.capture_amount < payment.amount:
        params["amount_to_capture"] = payment.capture_amount
        if payment.destination_account and payment.application_fee_amount:
            params["application_fee_amount"] = payment.application_fee_amount
    return params


def _reconcile(payment: Payment, now: datetime) -> bool:
    client = gateway.client()
    if (payment.status == PaymentStatus.OPEN and not payment.stripe_session_id
            and payment.expires_at is not None and payment.expires_at <= now):
        payment.status = PaymentStatus.EXPIRED  # an unanswered attempt past its end (see above)
    try:
        if payment.stripe_intent_id:
            services.sync_intent(services.retrieve_intent(payment.stripe_intent_id), now,
                                 payment=payment)
        elif payment.stripe_session_id:
            services.sync_session(client.v1.checkout.sessions.retrieve(
                payment.stripe_session_id, {"expand": ["payment_intent"]}), now)
    except stripe.StripeError as exc:
        _remember(payment, exc)
        return False
    done = {"capture": (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED),
            "cancel": (PaymentStatus.CANCELED, PaymentStatus.SUCCEEDED),
            "release": (PaymentStatus.CANCELED, PaymentStatus.SUCCEEDED),
            "expire": (PaymentStatus.EXPIRED, PaymentStatus.SUCCEEDED, PaymentStatus.AUTHORIZED,
                       PaymentStatus.CANCELED)}
    if payment.pending_action and payment.status in done[payment.pending_action]:
        if payment.pending_action == "expire" and payment.status == PaymentStatus.AUTHORIZED:
            # Completed at the last moment for a booking that is gone: release the hold.
            payment.pending_action = "cancel"
            return False
        payment.pending_action = None
    if payment.pending_action is None:
        payment.last_error = None
    return payment.pending_action is None


def _refund(refund: Refund, now: datetime) -> bool:
    payment = refund.payment
    if refund.status != RefundStatus.PENDING or payment.is_offline:
        return True
    assert payment.stripe_intent_id is not None  # an online payment is refunded through its intent
    params: RefundCreateParams = {
        "payment_intent": payment.stripe_intent_id,
        "amount": refund.amount,
        "metadata": {"booking_id": str(payment.booking_id), "refund_id": str(refund.id),
                     "installation": keys.installation_id()},
    }
    if payment.destination_account:
        params["reverse_transfer"] = True
        params["refund_application_fee"] = True
    try:
        if refund.stripe_refund_id:
            # Stripe made it and reported it pending: read it (the sweep's catch-up when its
            # refund.updated event never came); never create it again.
            reconcile.sync_refund(
                gateway.client().v1.refunds.retrieve(refund.stripe_refund_id), now,
                refund=refund)
            return True
        if refund.key_round and _refunded_at_stripe(refund, now):
            return True
        result = gateway.client().v1.refunds.create(
            params, {"idempotency_key": keys.refund(refund)}
        )
    except stripe.StripeError as exc:
        _remember(refund, exc)
        if gateway.is_transient(exc):
            if gateway.key_used_up(exc):
                refund.key_round += 1
            return False
        reconcile.refund_failed(refund, now, detail=refund.last_error)
        return True
    # `succeeded` is done; `pending` (or `requires_action`) stays pending, with Stripe's id,
    # until Stripe reports the outcome; `failed` / `canceled` is flagged for the managers.
    reconcile.sync_refund(result, now, refund=refund)
    return True


def _refunded_at_stripe(refund: Refund, now: datetime) -> bool:
    """Before a refund is tried with a new key (Stripe answered the last try with a 5xx, whose
    outcome is unknown): look for the refund the last try may have made, by the refund id in
    its metadata, and take Stripe's word for its status (a pending one stays pending) rather
    than refund twice."""
    payment = refund.payment
    if payment.stripe_intent_id is None:  # never reached Stripe: nothing refunded there
        return False
    listed = gateway.client().v1.refunds.list(
        {"payment_intent": payment.stripe_intent_id, "limit": 100}
    )
    for data in listed.data:
        metadata = data.get("metadata") or {}
        if metadata.get("refund_id") == str(refund.id) and services._ours(metadata):
            reconcile.sync_refund(data, now, refund=refund)
            return True
    return False


# --------------------------------------------------------------------------- the sweep
def sweep(now: datetime | None = None) -> dict[str, int]:
    """Expire unpaid bookings, release holds about to lapse, catch up with sessions and
    intents whose webhooks never came, and retry the Stripe calls still owed. Commits per item;
    idempotent."""

    now = now or utcnow()
    counts = {"unpaid_expired": 0, "holds_released": 0, "synced": 0, "retried": 0}
    online = gateway.configured()

    unpaid = db.session.scalars(
        select(Booking.id).where(
            Booking.payment_status.in_((PaymentState.DUE, PaymentState.HOLD_PENDING)),
            Booking.payment_due_at <= now,
            Booking.status.in_((BookingStatus.APPROVED, BookingStatus.AWAITING_PAYMENT)),
        ).order_by(Booking.id)
    ).all()
    for booking_id in unpaid:
        booking = db.session.get_one(Booking, booking_id)
        if online and not _close_checkouts(booking, now):
            db.session.commit()  # keep what the reconciling learnt; try the rest next time
            continue
        if booking.payment_status in (
            PaymentState.DUE, PaymentState.HOLD_PENDING
        ) and booking.status in (BookingStatus.APPROVED, BookingStatus.AWAITING_PAYMENT):
            transition(booking, BookingStatus.EXPIRED, None, reason=_("Not paid by the deadline."),
                       now=now)
        # (closing its checkout may already have expired an instant booking)
        counts["unpaid_expired"] += booking.status == BookingStatus.EXPIRED
        db.session.commit()
    run_deferred()  # the Stripe calls those expiries owe, before the retries below

    if online:
        lapsing = db.session.scalars(
            select(Payment).join(Booking).where(
                Payment.status == PaymentStatus.AUTHORIZED,
                Payment.pending_action.is_(None),
                Payment.capture_before <= now + services.HOLD_MARGIN,
                Booking.status.in_((BookingStatus.REQUESTED, BookingStatus.RETURNED)),
            )
        ).all()
        for payment in lapsing:
            payment.pending_action = "release"
            counts["holds_released"] += perform(payment, now)
        stale = db.session.scalars(
            select(Payment).where(
                Payment.pending_action.is_(None),
                ((Payment.status == PaymentStatus.OPEN) & (Payment.expires_at <= now))
                | ((Payment.status == PaymentStatus.AUTHORIZED) & (Payment.capture_before <= now)),
            )
        ).all()
        for payment in stale:
            counts["synced"] += int(_reconcile(payment, now))
            db.session.commit()
        owed = db.session.scalars(
            select(Payment).where(Payment.pending_action.is_not(None)).order_by(Payment.id)
        ).all()
        for payment in owed:
            counts["retried"] += perform(payment, now)
        refunds = db.session.scalars(
            select(Refund).join(Payment).where(
                Refund.status == RefundStatus.PENDING, Payment.method == "card"
            ).order_by(Refund.id)
        ).all()
        for refund in refunds:
            counts["retried"] += perform(refund, now)
        # Connect accounts whose creation did not get through (same idempotency key).
        counts["retried"] += connect.retry_accounts()
    return counts


def _close_checkouts(booking, now: datetime) -> bool:
    """Before expiring an unpaid booking, make sure no checkout is completing: read open
    sessions again and expire those still open. False when Stripe could not be asked."""
    client = gateway.client()
    for payment in list(booking.payments):
        if payment.status != PaymentStatus.OPEN or not payment.stripe_session_id:
            continue
        try:
            session = client.v1.checkout.sessions.retrieve(payment.stripe_session_id)
            if session.status == StripeSessionStatus.OPEN:
                session = client.v1.checkout.sessions.expire(
                    payment.stripe_session_id, {},
                    {"idempotency_key": keys.payment_action(payment, "expire")},
                )
            services.sync_session(session, now)
        except stripe.StripeError as exc:
            if gateway.is_transient(exc):
                _remember(payment, exc)
                if gateway.key_used_up(exc):
                    payment.key_round += 1
                return False
            try:
                services.sync_session(
                    client.v1.checkout.sessions.retrieve(payment.stripe_session_id), now
                )
            except stripe.StripeError:
                return False
    return True

