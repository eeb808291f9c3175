"""The states of a payment and of a refund, and the ways to pay, with their named sets.

Members are the strings stored in the database; the CHECK constraints are generated from these
enums (`app.db.one_of`) in definition order, the order of the migrations. What a booking owes
(its payment state) sits with the booking: `app.bookings.states.PaymentState`.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l


class PaymentStatus(StrEnum):
    OPEN = "open"  # a Checkout Session waiting for the resident
    AUTHORIZED = "authorized"  # a card hold, to be captured or released
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"  # Stripe's spelling
    EXPIRED = "expired"
    FAILED = "failed"

PAYMENT_STATUS_LABELS: dict[str, LazyString] = {
    PaymentStatus.OPEN: _l("Checkout open"),
    PaymentStatus.AUTHORIZED: _l("Authorised"),
    PaymentStatus.SUCCEEDED: _l("Paid"),
    PaymentStatus.CANCELED: _l("Cancelled"),
    PaymentStatus.EXPIRED: _l("Checkout expired"),
    PaymentStatus.FAILED: _l("Failed"),
}
# Forward-only: a payment never moves to a lower rank; terminal states keep their rank.
PAYMENT_RANK: dict[str, int] = {
    PaymentStatus.OPEN: 0,
    PaymentStatus.FAILED: 0,
    PaymentStatus.AUTHORIZED: 1,
    PaymentStatus.EXPIRED: 2,
    PaymentStatus.CANCELED: 2,
    PaymentStatus.SUCCEEDED: 3,
}
# Still waiting for the resident or for the capture.
UNSETTLED = (PaymentStatus.OPEN, PaymentStatus.AUTHORIZED)
# Money taken or held.
COLLECTED = (PaymentStatus.SUCCEEDED, PaymentStatus.AUTHORIZED)
# Not over, or over with the money taken: a booking has at most one such payment.
LIVE = (PaymentStatus.OPEN, PaymentStatus.AUTHORIZED, PaymentStatus.SUCCEEDED)
# Over without money taken.
LAPSED = (PaymentStatus.CANCELED, PaymentStatus.EXPIRED, PaymentStatus.FAILED)

class RefundStatus(StrEnum):
    # Written with the cancellation; Stripe is called after the commit. Stays pending while
    # Stripe reports the refund `pending` (or `requires_action`), until a refund.updated /
    # charge.refund.updated event (or the sweep) reads it `succeeded`, `failed` or `canceled`
    # (a canceled refund is recorded as failed: no money went back).
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

REFUND_STATUS_LABELS: dict[str, LazyString] = {
    RefundStatus.PENDING: _l("Refund in progress"),
    RefundStatus.SUCCEEDED: _l("Refunded"),
    RefundStatus.FAILED: _l("Refund failed"),
}

class PaymentMethod(StrEnum):
    CARD = "card"
    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"
    VOUCHER = "voucher"

OFFLINE_METHODS: dict[str, LazyString] = {
    PaymentMethod.CASH: _l("Cash"),
    PaymentMethod.BANK_TRANSFER: _l("Bank transfer"),
    PaymentMethod.VOUCHER: _l("Local-currency voucher"),
}
METHOD_LABELS: dict[str, LazyString] = {PaymentMethod.CARD: _l("Card"), **OFFLINE_METHODS}

# Stripe's own statuses, as Stripe reports them on the objects we read back; never stored.
class StripeSessionStatus(StrEnum):
    """A Checkout Session's `status`."""

    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"

class StripeIntentStatus(StrEnum):
    """A PaymentIntent's `status`."""

    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    CANCELED = "canceled"
    SUCCEEDED = "succeeded"

class StripeRefundStatus(StrEnum):
    """A Refund's `status`."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

class Wallet(StrEnum):
    """Korean wallets offered next to cards on pay-now Checkout Sessions (STRIPE_WALLETS);
    the members are Stripe's payment method types."""

    KAKAO_PAY = "kakao_pay"
    NAVER_PAY = "naver_pay"

WALLET_LABELS: dict[str, LazyString] = {
    Wallet.KAKAO_PAY: _l("KakaoPay"),
    Wallet.NAVER_PAY: _l("Naver Pay"),
}

class DisputeOutcome(StrEnum):
    """Stripe's closed dispute statuses (Payment.dispute_status holds Stripe's status)."""

    WON = "won"
    LOST = "lost"
