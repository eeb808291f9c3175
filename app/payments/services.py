"""What a booking owes and how it is paid, held, captured, refunded.

The booking services call `on_create` and `on_transition`; they only write rows. Calls to
Stripe that follow a change (capture at approval, releasing a hold, a refund) are recorded as
work on the payment or refund in the same transaction and performed after the commit (see
`app.payments.work`); the sweep retries what did not get through, with the same idempotency
keys, so a Stripe outage in the middle of a flow leaves nothing inconsistent.

Every state change from Stripe goes through `sync_intent` / `sync_session`, which re-read the
object and only ever move a payment forward; webhooks, the return from Checkout and the sweep
all use them, in whatever order they arrive.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import stripe
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.bookings import signals
from app.bookings.models import Booking
from app.bookings.services import transition
from app.bookings.states import (
    CALLED_OFF,
    PAYABLE,
    SETTLED,
    BookingStatus,
    PaymentState,
)
from app.db import utcnow
from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.extensions import db
from app.formatting import money
from app.jobs import enqueue_after_commit
from app.payments import gateway, keys
from app.payments import signals as payment_signals
from app.payments.models import (
    OFFLINE_METHODS,
    PAYMENT_RANK,
    Payment,
    PaymentLog,
    PayoutAccount,
    Refund,
)
from app.payments.states import (
    LIVE,
    PaymentStatus,
    RefundStatus,
    StripeIntentStatus,
    StripeSessionStatus,
    Wallet,
)
from app.rules import engine
from app.rules import services as rule_services
from app.spaces.models import Closure

if TYPE_CHECKING:
    from stripe.params.checkout import (
        SessionCreateParams,
        SessionCreateParamsPaymentIntentData,
    )


log = logging.getLogger(__name__)

# Stripe Checkout Sessions live between 30 minutes and 24 hours after their creation, by
# Stripe's clock on receipt: keep a margin on both sides for clock skew and the request's way.
SESSION_MIN = timedelta(minutes=31)
SESSION_MAX = timedelta(hours=23, minutes=55)
# A Checkout request whose answer was lost is sent again unchanged only while its `expires_at`
# still fits Stripe's window (were the first one lost before reaching Stripe).
RESEND_MIN = timedelta(minutes=30, seconds=30)
MAX_REFERENCE = 120
MAX_REASON = 500
# The cancellation reasons Stripe gives a hold that lapsed (not captured in time).
LAPSED_REASONS = ("automatic", "expired")
# Release a hold this long before Stripe would let it lapse.
HOLD_MARGIN = timedelta(hours=1)


def _cfg(name: str):
    return current_app.config[name]


# --------------------------------------------------------------------------- small helpers
def add_log(booking, action: str, *, payment=None, refund=None, amount=None, actor=None,
            now=None, detail=None) -> None:
    db.session.add(PaymentLog(
        booking_id=booking.id, payment_id=getattr(payment, "id", None),
        refund_id=getattr(refund, "id", None), action=action, amount=amount,
        actor_id=getattr(actor, "id", None), at=now or utcnow(), detail=detail,
    ))


def queue_work(obj) -> None:
    """Perform the Stripe call `obj` (a Payment with a pending action, a pending Refund) owes
    once the current transaction has committed (see app.payments.work)."""
    name = "payments.perform_refund" if isinstance(obj, Refund) else "payments.perform_payment"
    enqueue_after_commit(name, obj)


def fee_for(organisation, amount: int) -> int:
    bps = organisation.platform_fee_bps
    if bps is None:
        bps = _cfg("PLATFORM_FEE_BPS")
    return amount * int(bps) // 10_000


def payout_account(organisation_id: int) -> PayoutAccount | None:
    return db.session.scalar(
        select(PayoutAccount).where(PayoutAccount.organisation_id == organisation_id)
    )


def due_after_approval(now: datetime, start: datetime) -> datetime:
    """The payment deadline of an approved booking: PAYMENT_DUE_HOURS, never after the start."""
    return min(now + timedelta(hours=_cfg("PAYMENT_DUE_HOURS")), start)


def card_hold_applies(booking, now: datetime) -> bool:
    """Authorise at request when the owner wants it, online payment works and any approval
    (which always comes before the start) comes before the hold could lapse."""
    owner = booking.space.owner
    return (
        bool(owner.card_holds)
        and gateway.configured()
        and booking.start_at <= now + timedelta(days=_cfg("CARD_HOLD_DAYS")) - HOLD_MARGIN
    )


def refresh_state(booking) -> None:
    """The booking's payment state from its payments (after money moved)."""
    paid = [p for p in booking.payments if p.status == PaymentStatus.SUCCEEDED]
    if paid:
        kept = sum(p.amount - p.refunded_amount for p in paid)
        if kept <= 0:
            booking.payment_status = PaymentState.REFUNDED
        elif kept < booking.price_amount:
            booking.payment_status = PaymentState.PARTIALLY_REFUNDED
        else:
            booking.payment_status = PaymentState.PAID
        booking.payment_due_at = None
    elif any(p.status == PaymentStatus.AUTHORIZED for p in booking.payments):
        booking.payment_status = PaymentState.AUTHORIZED


# --------------------------------------------------------------------------- booking hooks
def on_create(booking, to: str, now: datetime) -> str:
    """Decide what the new booking owes; returns the status it starts in (a receiver of
    bookings.signals.booking_requested)."""
    if booking.price_amount <= 0:
        booking.payment_status = PaymentState.NONE
        return to
    if to == BookingStatus.ENTERED:
        booking.payment_status = PaymentState.AFTER_APPROVAL
        return to
    if to == BookingStatus.CONFIRMED:  # instant booking: paying confirms it
        booking.payment_status = PaymentState.DUE
        if gateway.configured():
            booking.payment_due_at = now + timedelta(minutes=_cfg("CHECKOUT_HOLD_MINUTES"))
        else:  # paid to the manager, offline
            booking.payment_due_at = due_after_approval(now, booking.start_at)
        return BookingStatus.AWAITING_PAYMENT
    if to == BookingStatus.APPROVED:  # approved by the rules at once
        booking.payment_status = PaymentState.DUE
        booking.payment_due_at = due_after_approval(now, booking.start_at)
        return to
    if card_hold_applies(booking, now):
        booking.payment_status = PaymentState.HOLD_PENDING
        booking.payment_due_at = now + timedelta(minutes=_cfg("CHECKOUT_HOLD_MINUTES"))
        return BookingStatus.AWAITING_PAYMENT
    booking.payment_status = PaymentState.AFTER_APPROVAL
    return to


def on_transition(booking, from_status: str | None, to: str, actor, now: datetime) -> None:
    """Money consequences of a state change (receives bookings.signals.booking_transitioned)."""
    # Only these states can have payments; the others skip loading them (lottery draws and
    # sweeps move many bookings at once).
    if booking.payment_status in (PaymentState.NONE, PaymentState.VOID):
        return
    if booking.payment_status == PaymentState.AFTER_APPROVAL:
        if to == BookingStatus.APPROVED:
            booking.payment_status = PaymentState.DUE
            booking.payment_due_at = due_after_approval(now, booking.start_at)
        elif to in CALLED_OFF:
            booking.payment_status = PaymentState.VOID
        return
    if to == BookingStatus.APPROVED:
        _on_approved(booking, now)
    elif to in CALLED_OFF:
        by_resident = (to == BookingStatus.CANCELLED
                       and getattr(actor, "id", None) == booking.user_id)
        _release(booking, now, actor=actor, by_resident=by_resident)


def _on_approved(booking, now: datetime) -> None:
    held = [p for p in booking.payments if p.status == PaymentStatus.AUTHORIZED
            and p.pending_action in (None, "capture")]  # (not a hold being let go)
    if held:
        for payment in held:
            payment.pending_action = "capture"
            queue_work(payment)
        return
    if booking.payment_status in SETTLED:
        return
    if booking.price_amount > 0:
        booking.payment_status = PaymentState.DUE
        booking.payment_due_at = due_after_approval(now, booking.start_at)


def refund_share(booking, now: datetime) -> int:
    """Percent of the price refunded when the resident cancels now (the booking's stored rule
    versions' refund tiers; everything when the rules say nothing, or when the space is closed
    during the booking: the owner, not the resident, called it off)."""

    if closed_during(booking):
        return 100
    found = rule_services.rule_sets_by_ids(booking.space, list(booking.rule_version_ids or []))
    effective = engine.combine([(source, rules) for source, rules, _ in found])
    tiers = effective.refund_tiers[1] if effective.refund_tiers else None
    return engine.refund_percent(tiers, booking.start_at, now)


def refund_on_cancel(booking, now: datetime, *, by_resident: bool = True) -> tuple[int, int]:
    """(percent, amount) given back when the booking is cancelled now: the cancellation
    policy's share when the resident cancels, everything when the owner or the platform does
    (or a closure falls on it). The amount leaves out what was refunded before."""
    paid = [p for p in booking.payments if p.status == PaymentStatus.SUCCEEDED]
    if not paid:
        return 0, 0
    percent = refund_share(booking, now) if by_resident else 100
    amount = sum(max(0, p.amount * percent // 100 - p.refunded_amount) for p in paid)
    return percent, amount


def card_paid(booking) -> bool:
    """Whether the money paid went through Stripe (a card or a wallet), not to a manager."""
    return any(p.status == PaymentStatus.SUCCEEDED and not p.is_offline for p in booking.payments)


def closed_during(booking) -> bool:
    """Whether a closure of the space overlaps the booking."""
    return db.session.scalar(
        select(Closure.id).where(
            Closure.space_id == booking.space_id,
            Closure.start_at < booking.end_at,
            Closure.end_at > booking.start_at,
        ).limit(1)
    ) is not None


def _release(booking, now: datetime, *, actor, by_resident: bool) -> None:
    """The booking will not happen: close checkouts, release holds, refund what was paid."""
    percent = refund_share(booking, now) if by_resident else 100
    for payment in booking.payments:
        if payment.status == PaymentStatus.OPEN:
            payment.pending_action = "expire"
            queue_work(payment)
        elif payment.status == PaymentStatus.AUTHORIZED:
            payment.pending_action = "cancel"
            queue_work(payment)
        elif payment.status == PaymentStatus.SUCCEEDED:
            owed = payment.amount * percent // 100
            amount = owed - payment.refunded_amount - payment.pending_refund_amount
            if amount > 0:
                # Says what is owed, not that it is done: the row shows its own state.
                reason = (
                    _("Cancelled by the resident: %(percent)d%% refund under the "
                      "cancellation policy.", percent=percent)
                    if by_resident and percent < 100
                    else _("Full refund: the booking did not go ahead.")
                )
                start_refund(payment, amount, reason=reason, actor=actor, now=now)
    if booking.payment_status in (PaymentState.AFTER_APPROVAL, PaymentState.DUE,
                                  PaymentState.HOLD_PENDING, PaymentState.AUTHORIZED):
        booking.payment_status = PaymentState.VOID
        booking.payment_due_at = None


def start_refund(payment: Payment, amount: int, *, reason: str | None, actor, now: datetime,
                 reference: str | None = None) -> Refund:
    """Write a refund; card refunds go to Stripe after the commit, offline ones wait for the
    manager to record the money handed back (or are done now when `reference` says how)."""
    refund = Refund(payment=payment, amount=amount, reason=reason, actor=actor, created_at=now)
    db.session.add(refund)
    db.session.flush()
    add_log(payment.booking, "refund_requested", payment=payment, refund=refund, amount=amount,
            actor=actor, now=now, detail=reason)
    if payment.is_offline:
        if reference:
            _refund_done(refund, now, reference=reference)
    else:
        queue_work(refund)
    return refund


def _refund_done(refund: Refund, now: datetime, *, reference=None, stripe_id=None,
                 fee_refunded=0) -> None:
    if refund.status == RefundStatus.SUCCEEDED:
        return
    refund.status = RefundStatus.SUCCEEDED
    refund.done_at = now
    payment_signals.refund_moved.send(refund, to=refund.status, now=now)
    refund.reference = reference or refund.reference
    refund.stripe_refund_id = stripe_id or refund.stripe_refund_id
    refund.fee_refunded = fee_refunded
    payment = refund.payment
    payment.refunded_amount = min(payment.amount, payment.refunded_amount + refund.amount)
    add_log(payment.booking, "refunded", payment=payment, refund=refund, amount=refund.amount,
            now=now, detail=reference)
    refresh_state(payment.booking)


# --------------------------------------------------------------------------- user actions
def refund(booking, actor, *, amount: int, reason: str, reference: str | None = None,
           now: datetime | None = None) -> Refund:
    """A manager refunds part or all of what was paid (goodwill, a problem with the space)."""
    now = now or utcnow()
    if not booking.can_decide(actor):
        raise NotAllowed(_("You are not allowed to do this."))
    reason = (reason or "").strip()
    errors: dict[str | None, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Please give a reason for the refund.")]
    if len(reason) > MAX_REASON:
        errors["reason"] = [_("The reason may be at most %(n)d characters.", n=MAX_REASON)]
    if len((reference or "").strip()) > MAX_REFERENCE:
        errors["reference"] = [_("The reference may be at most 120 characters.")]

    def left_on(p: Payment) -> int:
        return p.amount - p.refunded_amount - p.pending_refund_amount

    paid = [p for p in booking.payments if p.status == PaymentStatus.SUCCEEDED]
    if not paid:
        raise InvalidTransition(_("Nothing has been paid for this booking."))
    payment = max(paid, key=lambda p: (left_on(p), p.id))  # the one with the most left
    left = left_on(payment)
    if amount is None or amount < 1 or amount > left:
        errors["amount"] = [_("The refund must be between 1 and %(left)s.",
                              left=_money(left, payment.currency))]
    if payment.is_offline and not (reference or "").strip():
        errors["reference"] = [_("Say how the money was handed back (e.g. transfer number).")]
    if errors:
        raise ValidationFailed(errors)
    return start_refund(payment, amount, reason=reason, actor=actor, now=now,
                        reference=(reference or "").strip() or None)


def record_offline_refund(refund_row: Refund, actor, *, reference: str,
                          now: datetime | None = None) -> Refund:
    """The manager handed back money owed on an offline payment."""
    now = now or utcnow()
    if not refund_row.payment.booking.can_decide(actor):
        raise NotAllowed(_("You are not allowed to do this."))
    if not refund_row.payment.is_offline or refund_row.status != RefundStatus.PENDING:
        raise InvalidTransition(_("This refund is not waiting to be handed back."))
    reference = (reference or "").strip()
    if not reference:
        raise ValidationFailed.single(
            _("Say how the money was handed back (e.g. transfer number)."), "reference")
    if len(reference) > MAX_REFERENCE:
        raise ValidationFailed.single(
            _("The reference may be at most 120 characters."), "reference")
    refund_row.actor = actor
    _refund_done(refund_row, now, reference=reference)
    return refund_row


def record_offline(booking, actor, *, method: str, amount: int, reference: str,
                   now: datetime | None = None) -> Payment:
    """A manager records cash, a bank transfer or a local-currency voucher."""

    now = now or utcnow()
    if not booking.can_decide(actor):
        raise NotAllowed(_("You are not allowed to do this."))
    if booking.payment_status not in PAYABLE or (
        booking.status not in (BookingStatus.REQUESTED, BookingStatus.APPROVED,
                               BookingStatus.AWAITING_PAYMENT, BookingStatus.RETURNED)
    ):
        raise InvalidTransition(_("This booking has nothing left to pay."))
    errors: dict[str | None, list[str]] = {}
    if method not in OFFLINE_METHODS:
        errors["method"] = [_("Choose how the money was paid.")]
    if amount != booking.price_amount:
        errors["amount"] = [_("The amount must be the booking's price, %(price)s.",
                              price=_money(booking.price_amount, booking.currency))]
    reference = (reference or "").strip()
    if not reference:
        errors["reference"] = [_("Give a reference: receipt, transfer or voucher number.")]
    elif len(reference) > 120:
        errors["reference"] = [_("The reference may be at most 120 characters.")]
    if errors:
        raise ValidationFailed(errors)
    payment = Payment(
        booking=booking, attempt=_next_attempt(booking), method=method, amount=amount,
        currency=booking.currency, status=PaymentStatus.SUCCEEDED, reference=reference,
        recorded_by=actor, test_mode=False, created_at=now, paid_at=now,
    )
    db.session.add(payment)
    payment_signals.payment_moved.send(payment, from_status=None, to=payment.status, now=now)
    for other in booking.payments:
        if other is not payment and other.status in (PaymentStatus.OPEN, PaymentStatus.AUTHORIZED):
            other.pending_action = "expire" if other.status == PaymentStatus.OPEN else "cancel"
            queue_work(other)
    db.session.flush()
    add_log(booking, "offline_recorded", payment=payment, amount=amount, actor=actor, now=now,
            detail=f"{method}: {reference}")
    was_hold = booking.payment_status == PaymentState.HOLD_PENDING
    booking.payment_status = PaymentState.PAID
    booking.payment_due_at = None
    if booking.status == BookingStatus.AWAITING_PAYMENT:
        transition(booking, BookingStatus.REQUESTED if was_hold else BookingStatus.CONFIRMED, actor,
                   reason=_("Paid offline."), now=now)
    return payment


def _next_attempt(booking) -> int:
    return max((p.attempt for p in booking.payments), default=0) + 1


def _money(amount: int, currency: str) -> str:

    return money(amount, currency)


# --------------------------------------------------------------------------- Checkout
def can_pay(booking, user, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (
        user is not None and getattr(user, "id", None) == booking.user_id
        and booking.payment_status in (PaymentState.DUE, PaymentState.HOLD_PENDING)
        and booking.status in (BookingStatus.APPROVED, BookingStatus.AWAITING_PAYMENT)
        and (booking.payment_due_at is None or booking.payment_due_at > now)
    )


def open_checkout(booking, user, *, success_url: str, cancel_url: str, locale: str = "ko",
                  now: datetime | None = None) -> Payment:
    """The resident's Checkout Session for the booking (the open one, or a new one).

    The attempt (its number, amount and `expires_at`) is committed before Stripe is asked, so
    that a click after a lost answer sends the same request under the same idempotency key and
    gets the session Stripe made the first time, instead of a second session or Stripe's
    refusal of a key reused with other parameters."""
    now = now or utcnow()
    if getattr(user, "id", None) != booking.user_id:
        raise NotAllowed(_("You are not allowed to do this."))
    if not can_pay(booking, user, now):
        raise InvalidTransition(_("This booking has nothing to pay now."))
    for payment in booking.payments:
        if payment.status == PaymentStatus.OPEN and payment.checkout_url and \
                payment.expires_at > now + timedelta(minutes=1):
            return payment
    if booking.price_amount < gateway.min_charge(booking.currency):
        raise InvalidTransition(_(
            "Card payment needs at least %(min)s. Please pay the facility manager directly.",
            min=_money(gateway.min_charge(booking.currency), booking.currency)))
    client = gateway.client()  # PaymentsUnavailable before anything is written
    payment = _checkout_attempt(booking, now)
    params = _checkout_params(booking, payment, success_url=success_url,
                              cancel_url=cancel_url, locale=locale)
    try:
        session = client.v1.checkout.sessions.create(
            params, {"idempotency_key": keys.checkout(payment)}
        )
    except stripe.StripeError as exc:
        if gateway.key_used_up(exc) or not gateway.is_transient(exc):
            # Stripe answered: nothing to pick up under this key; the next click is a new
            # attempt. (A lost answer keeps the attempt for the next click to send again.)
            payment.status = PaymentStatus.FAILED
            payment.last_error = gateway.describe(exc)
        db.session.commit()
        raise gateway.provider_error(exc) from exc
    lock(payment)
    if payment.stripe_session_id is None:
        payment.stripe_session_id = session.id
    if payment.status == PaymentStatus.OPEN:
        payment.checkout_url = session.url
    payment.expires_at = datetime.fromtimestamp(session.expires_at, UTC)
    payment.last_error = None
    add_log(booking, "checkout_opened", payment=payment, amount=payment.amount, actor=user,
            now=now)
    return payment


def checkout_expiry(due_at: datetime | None, now: datetime) -> datetime:
    """When a new Checkout Session ends: the payment deadline, kept inside Stripe's window with
    a margin on both sides (Stripe measures from its own clock, on receipt)."""
    return min(max(due_at or now + SESSION_MIN, now + SESSION_MIN), now + SESSION_MAX)


def _checkout_attempt(booking, now: datetime) -> Payment:
    """The attempt row the next Checkout request belongs to, committed: the one whose answer
    was lost when it can still be sent again unchanged, else a new one."""
    hold = booking.payment_status == PaymentState.HOLD_PENDING
    for payment in booking.payments:
        if payment.method != "card" or payment.status != PaymentStatus.OPEN \
                or payment.stripe_session_id:
            continue
        if (payment.expires_at and payment.expires_at >= now + RESEND_MIN
                and payment.amount == booking.price_amount
                and payment.capture == ("manual" if hold else "automatic")):
            return payment
        payment.status = PaymentStatus.FAILED  # too late to send unchanged: give the attempt up
    space = booking.space
    account = payout_account(space.owner_id)
    # A destination charge only to an owner Stripe serves; otherwise the platform is the
    # merchant of record and settles with the owner itself.
    destination = (account.stripe_account_id
                   if account and account.charges_enabled
                   and gateway.connect_available(space.owner) else None)
    payment = Payment(
        booking_id=booking.id, attempt=_next_attempt(booking), method="card",
        capture="manual" if hold else "automatic", amount=booking.price_amount,
        currency=booking.currency, status=PaymentStatus.OPEN,
        expires_at=checkout_expiry(booking.payment_due_at, now),
        application_fee_amount=fee_for(space.owner, booking.price_amount) if destination else 0,
        destination_account=destination, test_mode=gateway.test_mode(), created_at=now,
    )
    booking_id = booking.id
    try:
        with db.session.begin_nested():
            db.session.add(payment)
    except IntegrityError:  # a second click raced us to the same attempt: share its row
        db.session.expire_all()
        booking = db.session.get(Booking, booking_id)
        payment = max((p for p in booking.payments if p.method == "card"),
                      key=lambda p: p.attempt)
    db.session.commit()
    return payment


def _checkout_params(booking, payment: Payment, *, success_url: str, cancel_url: str,
                     locale: str) -> SessionCreateParams:
    """The Checkout request of an attempt: only what the attempt row and the booking say, so
    sending it again gives the same parameters."""
    space = booking.space
    when = booking.local_start.strftime("%Y-%m-%d %H:%M")
    expires_at = payment.expires_at
    assert expires_at is not None, "every attempt is made with its end"
    metadata = {"booking_id": str(booking.id), "attempt": str(payment.attempt),
                "installation": keys.installation_id()}
    intent_data: SessionCreateParamsPaymentIntentData = {
        "capture_method": "manual" if payment.capture == "manual" else "automatic",
        "description": f"{space.name} {when}",
        "metadata": dict(metadata),
    }
    if payment.destination_account:
        intent_data["transfer_data"] = {"destination": payment.destination_account}
        if payment.application_fee_amount:  # Stripe wants no fee parameter rather than 0
            intent_data["application_fee_amount"] = payment.application_fee_amount
    params: SessionCreateParams = {
        "mode": "payment",
        "payment_method_types": cast(Any, payment_method_types(payment)),
        "client_reference_id": str(booking.id),
        "customer_email": booking.user.email,
        "locale": "ko" if locale == "ko" else "en",
        "expires_at": int(expires_at.timestamp()),
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": metadata,
        "payment_intent_data": intent_data,
        "line_items": [{
            "quantity": 1,
            "price_data": {
                "currency": payment.currency.lower(),
                "unit_amount": payment.amount,
                "product_data": {"name": f"{space.name} · {when}"},
            },
        }],
    }
    return params


def payment_method_types(payment: Payment) -> list[str]:
    """Chosen, not left to the dashboard: a card hold is a card (`capture_method=manual`);
    paying now also offers the Korean wallets STRIPE_WALLETS turns on (KRW only, as Stripe)."""
    types = ["card"]
    if payment.capture != "manual" and payment.currency.upper() == "KRW":
        types += [str(w) for w in Wallet if w in (_cfg("STRIPE_WALLETS") or ())]
    return types


# --------------------------------------------------------------------------- reconciling
def _when(ts) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts else None


def payment_for_session(session) -> Payment | None:
    payment = db.session.scalar(
        select(Payment).where(Payment.stripe_session_id == session.id)
    )
    if payment is not None:
        return payment
    payment = _by_attempt(session.get("metadata") or {})
    if payment is not None and payment.stripe_session_id is None:
        # The attempt whose answer was lost: this is the session Stripe made for it.
        payment.stripe_session_id = session.id
        return payment
    return _adopt(session.get("metadata") or {}, session_id=session.id,
                  url=session.get("url"), expires=_when(session.get("expires_at")),
                  amount=session.get("amount_total"))


def _ours(metadata) -> bool:
    """Whether a Stripe object is this installation's: Stripe sends every event of the account
    to every endpoint, so another installation's booking 1 must not be taken for ours. (Objects
    from before installation ids carry none and count as ours.)"""
    other = metadata.get("installation")
    return other is None or other == keys.installation_id()


def _by_attempt(metadata) -> Payment | None:
    if not _ours(metadata):
        return None
    try:
        booking_id, attempt = int(metadata.get("booking_id")), int(metadata.get("attempt"))
    except (TypeError, ValueError):
        return None
    return db.session.scalar(
        select(Payment).where(Payment.booking_id == booking_id, Payment.attempt == attempt,
                              Payment.method == "card")
    )


def _adopt(metadata, *, session_id=None, intent_id=None, url=None, expires=None, amount=None):
    """A Stripe object for one of our bookings with no row here (our insert was lost after
    Stripe answered): write the row so the money is accounted for."""
    if not _ours(metadata):
        return None
    try:
        booking_id = int(metadata.get("booking_id"))
    except (TypeError, ValueError):
        return None
    booking = db.session.get(Booking, booking_id)
    if booking is None or not amount:
        return None
    attempt = int(metadata.get("attempt") or _next_attempt(booking))
    payment = Payment(
        booking=booking, attempt=attempt, method="card", amount=amount,
        currency=booking.currency, status=PaymentStatus.OPEN, stripe_session_id=session_id,
        stripe_intent_id=intent_id, checkout_url=url, expires_at=expires,
        test_mode=gateway.test_mode(),
    )
    db.session.add(payment)
    db.session.flush()
    return payment


def lock(payment: Payment) -> Payment:
    """Take the payment's row lock and re-read it and its booking: a webhook, the return from
    Checkout and the sweep may reconcile the same payment at the same moment (PostgreSQL;
    SQLite serializes writers anyway)."""
    db.session.execute(
        select(Payment.id).where(Payment.id == payment.id).with_for_update()
    )
    db.session.refresh(payment)
    db.session.refresh(payment.booking)
    return payment


def sync_session(session, now: datetime | None = None) -> Payment | None:
    """Bring our payment up to date with a Checkout Session freshly read from Stripe."""
    now = now or utcnow()
    payment = payment_for_session(session)
    if payment is None:
        return None
    lock(payment)
    intent = session.get("payment_intent")
    if intent and payment.stripe_intent_id is None:
        payment.stripe_intent_id = intent if isinstance(intent, str) else intent.id
    if session.status == StripeSessionStatus.COMPLETE:
        if isinstance(intent, str) or intent is None:
            assert payment.stripe_intent_id is not None  # a complete session has its intent
            intent = retrieve_intent(payment.stripe_intent_id)
        sync_intent(intent, now, payment=payment)
    elif session.status == StripeSessionStatus.EXPIRED and payment.status == PaymentStatus.OPEN:
        payment.status = PaymentStatus.EXPIRED
        payment.checkout_url = None
        if payment.pending_action == "expire":
            payment.pending_action = None
        add_log(payment.booking, "checkout_expired", payment=payment, now=now)
        _after_checkout_lapsed(payment.booking, now)
    return payment


def _after_checkout_lapsed(booking, now: datetime) -> None:
    """An instant booking whose checkout expired gives its slot back (the hold ran out)."""

    live = [p for p in booking.payments if p.status in LIVE]
    if booking.status == BookingStatus.AWAITING_PAYMENT and not live:
        transition(booking, BookingStatus.EXPIRED, None, reason=_("Not paid in time."), now=now)


def retrieve_intent(intent_id: str):
    return gateway.client().v1.payment_intents.retrieve(
        intent_id, {"expand": ["latest_charge"]}
    )


def sync_intent(intent, now: datetime | None = None, *, payment: Payment | None = None):
    """Bring our payment up to date with a PaymentIntent freshly read from Stripe."""
    now = now or utcnow()
    if payment is None:
        payment = db.session.scalar(select(Payment).where(Payment.stripe_intent_id == intent.id))
    if payment is None:  # the intent's event came before the session's
        payment = _by_attempt(intent.get("metadata") or {})
    if payment is None:
        payment = _adopt(intent.get("metadata") or {}, intent_id=intent.id,
                         amount=intent.get("amount"))
    if payment is None:
        return None
    lock(payment)
    payment.stripe_intent_id = payment.stripe_intent_id or intent.id
    charge = intent.get("latest_charge")
    if isinstance(charge, str):
        payment.stripe_charge_id = charge
        charge = None
    elif charge is not None:
        payment.stripe_charge_id = charge.id
        _record_method(payment, charge.get("payment_method_details") or {})
    status = intent.status
    if status == StripeIntentStatus.REQUIRES_CAPTURE:
        _move(payment, PaymentStatus.AUTHORIZED, now)
    elif status == StripeIntentStatus.SUCCEEDED:
        _record_captured(payment, intent)
        _move(payment, PaymentStatus.SUCCEEDED, now)
        if charge is not None:
            _sync_refunded(payment, _refunded_of(charge), now)
    elif status == StripeIntentStatus.CANCELED:
        _move(payment, PaymentStatus.CANCELED, now, reason=intent.get("cancellation_reason"))
    elif status == StripeIntentStatus.REQUIRES_PAYMENT_METHOD and intent.get("last_payment_error"):
        message = intent["last_payment_error"].get("message")
        if payment.last_error != message:
            payment.last_error = message
            add_log(payment.booking, "failed", payment=payment, now=now, detail=message)
    return payment


def _record_captured(payment: Payment, intent) -> None:
    """A hold captured in part (its price went down before the capture): the payment is what
    was captured, and its fee what Stripe took on it; the rest of the hold was released."""
    received = intent.get("amount_received") or 0
    if 0 < received < payment.amount:
        payment.amount = received
        fee = intent.get("application_fee_amount")
        if payment.destination_account and fee is not None:
            payment.application_fee_amount = int(fee)


def _refunded_of(charge) -> int:
    """What was refunded of a charge: Stripe counts the released part of a hold captured in
    part in `amount_refunded` too."""
    refunded = int(charge.get("amount_refunded") or 0)
    if charge.get("captured") and charge.get("amount_captured") is not None:
        refunded -= max(0, int(charge.get("amount") or 0) - int(charge["amount_captured"]))
    return max(0, refunded)


def _record_method(payment: Payment, details) -> None:
    """What the charge was paid with: a card's last digits and capture deadline, or the
    wallet (a wallet payment has no card number, brand or capture deadline)."""
    kind = details.get("type")
    if kind in set(Wallet):
        payment.wallet = kind
        return
    card = details.get("card") or {}
    payment.card_last4 = card.get("last4") or payment.card_last4
    payment.capture_before = _when(card.get("capture_before")) or payment.capture_before


def _move(payment: Payment, to: str, now: datetime, reason: str | None = None) -> None:
    """Forward-only state change with its consequences for the booking."""
    if PAYMENT_RANK[to] <= PAYMENT_RANK[payment.status] and payment.status != PaymentStatus.OPEN:
        return
    if payment.status == to:
        return
    before = payment.status
    payment.status = to
    booking = payment.booking
    payment_signals.payment_moved.send(payment, from_status=before, to=to, now=now)
    if to == PaymentStatus.AUTHORIZED:
        payment.checkout_url = None
        add_log(booking, "hold_authorized", payment=payment, amount=payment.amount, now=now)
        _hold_authorized(payment, now)
    elif to == PaymentStatus.SUCCEEDED:
        payment.checkout_url = None
        payment.paid_at = payment.paid_at or now
        if payment.pending_action in ("capture", "expire"):
            payment.pending_action = None
        add_log(booking, "captured" if before == PaymentStatus.AUTHORIZED else "paid",
                payment=payment, amount=payment.amount, now=now)
        _paid(payment, now)
    elif to == PaymentStatus.CANCELED:
        payment.checkout_url = None
        if payment.pending_action in ("cancel", "capture", "release"):
            action = payment.pending_action
            payment.pending_action = None
        else:
            action = None
        _hold_gone(payment, now,
                   lapsed=reason in LAPSED_REASONS or action in ("capture", "release"))
    elif to == PaymentStatus.EXPIRED:
        payment.checkout_url = None
        _after_checkout_lapsed(booking, now)
    refresh_state(booking)


def _hold_authorized(payment: Payment, now: datetime) -> None:

    booking = payment.booking
    if booking.status == BookingStatus.AWAITING_PAYMENT:
        booking.payment_due_at = None
        transition(booking, BookingStatus.REQUESTED, booking.user, reason=_("Card authorised."),
                   now=now)
        return
    if booking.status == BookingStatus.APPROVED:  # approved while the card was being authorised
        payment.pending_action = "capture"
        queue_work(payment)
    elif booking.status not in (BookingStatus.REQUESTED, BookingStatus.RETURNED):
        payment.pending_action = "cancel"  # the booking is gone: let the hold go
        queue_work(payment)


def _paid(payment: Payment, now: datetime) -> None:

    booking = payment.booking
    booking.payment_due_at = None
    paid_already = any(p is not payment and p.status == PaymentStatus.SUCCEEDED
                       for p in booking.payments)
    if paid_already:
        # Paid twice (by card at the last moment after the manager recorded cash, say):
        # the later payment goes back in full.
        add_log(booking, "late_payment_refunded", payment=payment, amount=payment.amount,
                now=now)
        start_refund(payment, payment.amount - payment.refunded_amount,
                     reason=_("Refunded in full: the booking was already paid."), actor=None,
                     now=now)
    elif booking.status == BookingStatus.AWAITING_PAYMENT:
        transition(booking, BookingStatus.CONFIRMED, booking.user, reason=_("Paid."), now=now)
    elif booking.status in CALLED_OFF:
        # Money arrived for a booking that no longer happens (a race with its deadline).
        add_log(booking, "late_payment_refunded", payment=payment, amount=payment.amount,
                now=now)
        left = payment.amount - payment.refunded_amount - payment.pending_refund_amount
        if left > 0:
            start_refund(payment, left, reason=_("Refunded in full: the booking did not go "
                                                 "ahead."), actor=None, now=now)
        return
    if payment.capture_amount is not None:
        # The price went down while a capture of the whole hold was already on its way (its
        # answer lost): refund what was captured beyond the new price.
        over = (payment.amount - payment.capture_amount - payment.refunded_amount
                - payment.pending_refund_amount)
        if over > 0:
            start_refund(payment, over, actor=None, now=now,
                         reason=_("Fee waiver confirmed: the difference is refunded."))


def _hold_gone(payment: Payment, now: datetime, *, lapsed: bool) -> None:
    """A hold was released (by us) or lapsed (Stripe): pay after approval instead."""
    booking = payment.booking
    if lapsed and booking.status in (BookingStatus.REQUESTED, BookingStatus.RETURNED,
                                     BookingStatus.APPROVED):
        add_log(booking, "hold_lapsed", payment=payment, amount=payment.amount, now=now)
        if booking.status == BookingStatus.APPROVED:
            booking.payment_status = PaymentState.DUE
            booking.payment_due_at = due_after_approval(now, booking.start_at)
        else:
            booking.payment_status = PaymentState.AFTER_APPROVAL
    else:
        add_log(booking, "hold_canceled", payment=payment, amount=payment.amount, now=now)
        if booking.payment_status == PaymentState.AUTHORIZED:
            # (a hold released because a fee waiver made the booking free: nothing is owed)
            free = booking.price_amount <= 0 and booking.status not in CALLED_OFF
            booking.payment_status = PaymentState.NONE if free else PaymentState.VOID


def _sync_refunded(payment: Payment, amount_refunded: int, now: datetime) -> None:
    """Refunds Stripe knows of that we do not (made in the Stripe dashboard)."""
    ours = sum(r.amount for r in payment.refunds if r.status != RefundStatus.FAILED)
    extra = amount_refunded - ours
    if extra > 0:
        refund = Refund(payment=payment, amount=extra, status=RefundStatus.PENDING,
                        reason=_("Refunded in Stripe."), created_at=now)
        db.session.add(refund)
        db.session.flush()
        _refund_done(refund, now)


def subscribe() -> None:
    """Follow bookings: what a new one owes, and the money consequences of each change."""
    signals.booking_requested.connect(_requested)
    signals.booking_transitioned.connect(_transitioned)
    signals.price_lowered.connect(_price_lowered)


def _price_lowered(booking, *, by: int, actor, now: datetime, **_extra) -> None:
    """A fee waiver was confirmed after the booking was priced: refund what was paid beyond
    the new price (through start_refund, as any refund), capture only the new price of a card
    hold not captured yet, and let an open checkout for the old amount lapse so the next one
    asks for the new price."""
    kept = sum(p.amount - p.refunded_amount - p.pending_refund_amount
               for p in booking.payments if p.status == PaymentStatus.SUCCEEDED)
    over = min(by, kept - booking.price_amount)
    for payment in sorted(booking.payments, key=lambda p: p.id):
        if payment.status == PaymentStatus.OPEN:
            payment.pending_action = "expire"
            queue_work(payment)
        elif payment.status == PaymentStatus.AUTHORIZED:
            _lower_hold(payment, max(0, booking.price_amount - max(0, kept)), actor=actor,
                        now=now)
        elif payment.status == PaymentStatus.SUCCEEDED and over > 0:
            left = payment.amount - payment.refunded_amount - payment.pending_refund_amount
            amount = min(left, over)
            if amount > 0:
                start_refund(payment, amount, actor=actor, now=now,
                             reason=_("Fee waiver confirmed: the difference is refunded."))
                over -= amount
    refresh_state(booking)


def _lower_hold(payment: Payment, target: int, *, actor, now: datetime) -> None:
    """An authorised hold whose booking now costs `target`: capture only that (the rest of the
    hold is released by Stripe), or release the whole hold when nothing is owed any more.

    The capture sends the row's `capture_amount`, so every retry sends the same amount. A
    capture already owed may have been sent with the old amount under the current idempotency
    key; Stripe refuses a key reused with other parameters, so the changed one goes out under
    the next key round (whose first step reads the intent: a capture that did get through is
    reconciled, and what it took beyond the new price refunded, see `_paid`)."""
    if payment.pending_action not in (None, "capture"):
        return  # the hold is being let go anyway
    current = payment.capture_amount if payment.capture_amount is not None else payment.amount
    if target >= current:
        return
    booking = payment.booking
    if payment.pending_action == "capture":
        payment.key_round += 1
    payment.capture_amount = target
    if payment.destination_account and payment.application_fee_amount:
        payment.application_fee_amount = fee_for(booking.space.owner, target)
    add_log(booking, "capture_lowered", payment=payment, amount=target, actor=actor, now=now)
    if target <= 0:
        # Nothing left to capture: let the hold go (a capture that already got through is
        # refunded in full when the cancel finds it captured).
        payment.pending_action = "cancel"
    if payment.pending_action is not None:
        queue_work(payment)


def _requested(booking, *, to: str, now: datetime) -> str:
    return on_create(booking, to, now)


def _transitioned(booking, *, from_status, to: str, actor, now: datetime, **_extra) -> None:
    on_transition(booking, from_status, to, actor, now)
