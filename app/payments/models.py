"""Money: payments (online through Stripe or recorded offline), refunds, the Stripe events
received, owners' payout accounts and the payment audit log.

Amounts are integers in the currency's minor unit (KRW has none: 15000 is ₩15,000).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import one_of, utcnow
from app.extensions import Model
from app.payments.states import (
    METHOD_LABELS,
    OFFLINE_METHODS,  # noqa: F401  (the payment services and the API import it from here)
    PAYMENT_RANK,  # noqa: F401  (the payment services import it from here)
    PAYMENT_STATUS_LABELS,
    REFUND_STATUS_LABELS,
    WALLET_LABELS,
    PaymentMethod,
    PaymentStatus,
    RefundStatus,
)


class Payment(Model):
    """One attempt to collect a booking's price: a Checkout Session (and its PaymentIntent) or
    a payment a manager recorded offline."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refunded"),
        CheckConstraint(one_of("status", PaymentStatus), name="status"),
        CheckConstraint(one_of("method", PaymentMethod), name="method"),
        Index("ix_payments_booking", "booking_id", "id"),
        Index("ix_payments_action", "pending_action"),
        Index("ix_payments_paid_at", "paid_at"),
        # One row per attempt: the attempt is part of the Checkout idempotency key, so two
        # clicks racing to open a checkout end up on the same row and the same key.
        Index("ux_payments_booking_attempt", "booking_id", "attempt", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    # Attempt number per booking; part of the Checkout idempotency key.
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    method: Mapped[str] = mapped_column(String(20), default=PaymentMethod.CARD)
    capture: Mapped[str] = mapped_column(String(10), default="automatic")  # or "manual" (hold)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12), default=PaymentStatus.OPEN)
    refunded_amount: Mapped[int] = mapped_column(Integer, default=0)
    application_fee_amount: Mapped[int] = mapped_column(Integer, default=0)
    destination_account: Mapped[str | None] = mapped_column(String(64))
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None]
    capture_before: Mapped[datetime | None]
    card_last4: Mapped[str | None] = mapped_column(String(4))
    # The Korean wallet paid with (states.Wallet: kakao_pay, naver_pay); None for a card.
    wallet: Mapped[str | None] = mapped_column(String(20))
    # Work owed to Stripe after the commit: "capture", "cancel" or "expire" (the session).
    pending_action: Mapped[str | None] = mapped_column(String(10))
    # A hold whose booking's price went down before it was captured (a fee waiver confirmed in
    # between): capture only this much (Stripe's amount_to_capture; the rest of the hold is
    # released). None captures the whole hold. Sent unchanged by every retry of the capture.
    capture_amount: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Bumped when Stripe answered the pending action's call with an error it stores against
    # the idempotency key (a 5xx is replayed for 24 hours): the next try needs a new key.
    key_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    test_mode: Mapped[bool] = mapped_column(Boolean, default=True)
    reference: Mapped[str | None] = mapped_column(String(120))  # offline: receipt / transfer no.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dispute_id: Mapped[str | None] = mapped_column(String(255))
    dispute_status: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]

    booking = relationship("Booking", back_populates="payments")
    recorded_by: Mapped[User | None] = relationship()
    refunds: Mapped[list[Refund]] = relationship(
        back_populates="payment", order_by="Refund.id", cascade="all, delete-orphan"
    )

    @property
    def is_offline(self) -> bool:
        return self.method != PaymentMethod.CARD

    @property
    def unanswered(self) -> bool:
        """An online attempt Stripe gave us no session for (its answer lost, or an error):
        bookkeeping for the idempotency key, not a payment to show."""
        return self.method == "card" and not self.stripe_session_id and not self.stripe_intent_id

    @property
    def net_amount(self) -> int:
        return self.amount - self.refunded_amount

    @property
    def status_label(self) -> str:
        return str(PAYMENT_STATUS_LABELS[self.status])

    @property
    def method_label(self) -> str:
        if self.wallet:
            return str(WALLET_LABELS.get(self.wallet, self.wallet))
        return str(METHOD_LABELS[self.method])

    @property
    def paid_with(self) -> str | None:
        """How an online payment was made, for people: "Card ····4242", or the wallet's name
        (a wallet payment has no card number, brand or capture deadline)."""
        if self.wallet:
            return str(WALLET_LABELS.get(self.wallet, self.wallet))
        if self.card_last4:
            return f"{METHOD_LABELS[PaymentMethod.CARD]} ····{self.card_last4}"
        return None

    @property
    def pending_refund_amount(self) -> int:
        return sum(r.amount for r in self.refunds if r.status == RefundStatus.PENDING)


class Refund(Model):
    """Money going back to the resident. Written as `pending` in the same transaction as the
    cancellation that causes it; the Stripe call happens after the commit (retried by the sweep
    with the same idempotency key until Stripe answers)."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(one_of("status", RefundStatus), name="status"),
        Index("ix_refunds_status", "status"),
        Index("ix_refunds_created", "created_at"),
        Index("ix_refunds_done", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default=RefundStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(Text)
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    fee_refunded: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    key_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # as Payment
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]

    payment: Mapped[Payment] = relationship(back_populates="refunds")
    actor: Mapped[User | None] = relationship()

    @property
    def status_label(self) -> str:
        return str(REFUND_STATUS_LABELS[self.status])


class Installation(Model):
    """This installation's identity (one row, written at first use): its random id prefixes
    every Stripe idempotency key, so two installations sharing a Stripe account (staging and
    production, two towns) never collide on `booking-1-...`."""

    __tablename__ = "installation"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    installation_id: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StripeEvent(Model):
    """Every webhook event received, stored once: a repeated delivery changes nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    object_id: Mapped[str | None] = mapped_column(String(255))
    account: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class PayoutAccount(Model):
    """An owner organisation's Stripe Connect (Express) account and its last known status."""

    __tablename__ = "payout_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), unique=True
    )
    # None until Stripe answered the creation (the row is written first, so that the sweep
    # retries a creation that failed, with the same idempotency key).
    stripe_account_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    charges_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    payouts_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    details_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    requirements: Mapped[list] = mapped_column(JSON, default=list)
    disabled_reason: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    key_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # as Payment
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation = relationship("Organisation")


class PaymentLog(Model):
    """The audit trail of money: every state change of a payment or refund, who and when."""

    __tablename__ = "payment_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(30))
    amount: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship()


LOG_LABELS = {
    "checkout_opened": _l("Checkout opened"),
    "hold_authorized": _l("Card authorised (amount held)"),
    "captured": _l("Held amount captured"),
    "capture_lowered": _l("Fee waiver confirmed: only the new price will be captured"),
    "paid": _l("Paid"),
    "hold_canceled": _l("Card hold released"),
    "hold_lapsed": _l("Card hold lapsed; pay after approval"),
    "checkout_expired": _l("Checkout expired"),
    "failed": _l("Payment failed"),
    "offline_recorded": _l("Payment recorded offline"),
    "refund_requested": _l("Refund started"),
    "refunded": _l("Refunded"),
    "refund_failed": _l("Refund failed"),
    "dispute_opened": _l("The resident's bank opened a dispute"),
    "dispute_won": _l("Dispute closed: won, the money stays"),
    "dispute_lost": _l("Dispute closed: lost, the money went back to the resident"),
    "late_payment_refunded": _l("Paid when nothing was owed any more; refunded in full"),
}
