"""Refunds and disputes as Stripe reports them later: a refund's status moving on after its
creation (refund.updated, refund.failed, charge.refund.updated) and a dispute's outcome
(charge.dispute.created / closed).

Like `services.sync_intent`, every function here is given the object freshly read from Stripe
and only moves our rows forward, so events arriving late, twice or out of order change nothing
twice. A refund is done when Stripe says `succeeded`; until then it stays `pending` and is not
counted in what was refunded.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from app.payments import services
from app.payments import signals as payment_signals
from app.payments.models import Payment, Refund
from app.payments.states import DisputeOutcome, PaymentStatus, RefundStatus

# Stripe's refund statuses that end a refund without the money going back.
REFUND_FAILED = ("failed", "canceled")


def refund_row(data) -> Refund | None:
    """Our refund of a Stripe refund: by its id, else by the metadata our request put on it
    (the answer to the creation was lost). None for a refund made in the Stripe dashboard
    (`charge.refunded` accounts for those, see services._sync_refunded)."""
    found = db.session.scalar(select(Refund).where(Refund.stripe_refund_id == data.id))
    if found is not None:
        return found
    metadata = data.get("metadata") or {}
    if not services._ours(metadata) or not metadata.get("refund_id"):
        return None
    try:
        found = db.session.get(Refund, int(metadata["refund_id"]))
    except (TypeError, ValueError):
        return None
    if found is None or found.stripe_refund_id is not None:
        return None
    if found.payment.stripe_intent_id not in (None, data.get("payment_intent")):
        return None
    return found


def sync_refund(data, now: datetime | None = None, *, refund: Refund | None = None
                ) -> Refund | None:
    """Bring our refund up to date with a Refund freshly read from Stripe."""
    now = now or utcnow()
    refund = refund or refund_row(data)
    if refund is None:
        return None
    services.lock(refund.payment)
    db.session.refresh(refund)
    refund.stripe_refund_id = refund.stripe_refund_id or data.id
    status = data.get("status")
    if status == "succeeded" and refund.status == RefundStatus.PENDING:
        payment = refund.payment
        fee = payment.application_fee_amount * refund.amount // payment.amount
        refund.last_error = None
        services._refund_done(refund, now, stripe_id=data.id,
                              fee_refunded=fee if payment.destination_account else 0)
    elif status in REFUND_FAILED and refund.status != RefundStatus.FAILED:
        reason = data.get("failure_reason") or status
        refund_failed(refund, now, detail=str(reason))
    return refund


def refund_failed(refund: Refund, now: datetime, *, detail: str | None) -> None:
    """Stripe could not give the money back (the card was closed, the bank refused) or the
    refund was canceled. A failed refund is not retried to the same card (it would fail the
    same way): it is flagged for the space's managers, who refund again or hand the money back
    another way, and the resident is told. A refund that had counted as done (Stripe can fail
    a refund after reporting it succeeded) stops counting."""
    payment = refund.payment
    was_done = refund.status == RefundStatus.SUCCEEDED
    refund.status = RefundStatus.FAILED
    refund.done_at = now
    refund.last_error = detail
    if was_done:
        payment.refunded_amount = max(0, payment.refunded_amount - refund.amount)
        services.refresh_state(payment.booking)
    services.add_log(payment.booking, "refund_failed", payment=payment, refund=refund,
                     amount=refund.amount, now=now, detail=detail)
    payment_signals.refund_moved.send(refund, to=refund.status, now=now)


def sync_dispute(dispute, now: datetime | None = None) -> Payment | None:
    """Record a dispute on its payment, and its outcome once Stripe closes it (won: the money
    stays; lost: it went back to the resident's bank). The space's managers are told of the
    outcome."""
    now = now or utcnow()
    payment = db.session.scalar(
        select(Payment).where(
            (Payment.stripe_charge_id == dispute.get("charge"))
            | (Payment.stripe_intent_id == dispute.get("payment_intent"))
        )
    )
    if payment is None or payment.status != PaymentStatus.SUCCEEDED:
        return None
    services.lock(payment)
    status = dispute.get("status")
    if payment.dispute_id != dispute.id:
        if payment.dispute_status in set(DisputeOutcome) and status not in set(DisputeOutcome):
            return payment  # an older dispute's late event; the outcome stays
        payment.dispute_id = dispute.id
        payment.dispute_status = None
        services.add_log(payment.booking, "dispute_opened", payment=payment,
                         amount=dispute.get("amount"), now=now, detail=dispute.get("reason"))
    if payment.dispute_status in set(DisputeOutcome):
        return payment  # closed: final
    payment.dispute_status = status
    if status in set(DisputeOutcome):
        services.add_log(payment.booking, f"dispute_{status}", payment=payment,
                         amount=dispute.get("amount"), now=now, detail=dispute.get("reason"))
        payment_signals.dispute_closed.send(payment, outcome=status,
                                            amount=dispute.get("amount"), now=now)
    return payment
