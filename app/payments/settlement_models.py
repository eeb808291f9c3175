"""Settlement by bank transfer, for owners Stripe Connect cannot pay (South Korean owners):
the owner's bank account, the monthly statements (정산서) and their lines, and the audit log.

The platform is the merchant of record for their payments (no destination charge), so the
money sits on the platform's Stripe balance and the platform transfers each owner's net once a
month. A statement is frozen when issued: its lines and totals are stored, never recomputed.
Amounts are KRW integers (no minor unit).
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import utcnow
from app.extensions import Model

# Korean banks by their KFTC (금융결제원) code, the code bulk-transfer files use.
KOREAN_BANKS = {
    "002": "KDB산업은행",
    "003": "IBK기업은행",
    "004": "KB국민은행",
    "007": "Sh수협은행",
    "011": "NH농협은행",
    "012": "지역농·축협",
    "020": "우리은행",
    "023": "SC제일은행",
    "027": "한국씨티은행",
    "031": "iM뱅크(대구)",
    "032": "부산은행",
    "034": "광주은행",
    "035": "제주은행",
    "037": "전북은행",
    "039": "경남은행",
    "045": "새마을금고",
    "048": "신협",
    "050": "저축은행",
    "064": "산림조합",
    "071": "우체국",
    "081": "하나은행",
    "088": "신한은행",
    "089": "케이뱅크",
    "090": "카카오뱅크",
    "092": "토스뱅크",
}


class StatementStatus:
    """A statement's states. `issued`: the owner is owed `net` (> 0) and waits for the transfer;
    `paid`: transferred (reference and date kept); `carried`: nothing to transfer (net <= 0),
    a negative net is taken off the next statement."""

    ISSUED = "issued"
    PAID = "paid"
    CARRIED = "carried"
    ALL = (ISSUED, PAID, CARRIED)
    # The only transition after issue.
    TRANSITIONS = {ISSUED: (PAID,), PAID: (), CARRIED: ()}


STATEMENT_STATUS_LABELS = {
    StatementStatus.ISSUED: _l("Awaiting transfer"),
    StatementStatus.PAID: _l("Transferred"),
    StatementStatus.CARRIED: _l("Nothing to transfer (carried over)"),
}


class BankAccount(Model):
    """Where the platform transfers an owner's settlement. The number is stored encrypted
    (app.payments.sealed); only its last four digits are stored in clear, for display."""

    __tablename__ = "bank_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), unique=True
    )
    bank_code: Mapped[str] = mapped_column(String(3))
    number_sealed: Mapped[str] = mapped_column(Text)
    number_last4: Mapped[str] = mapped_column(String(4))
    holder: Mapped[str] = mapped_column(String(60))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Cleared by every change: a statement is paid only to a verified account.
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    organisation = relationship("Organisation")
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])

    @property
    def bank_name(self) -> str:
        return KOREAN_BANKS.get(self.bank_code, self.bank_code)

    @property
    def masked(self) -> str:
        return mask(self.bank_code, self.number_last4)

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


def mask(bank_code: str | None, last4: str | None) -> str:
    """How an account is shown: the bank and the last four digits, e.g. "KB국민은행 ****1234"."""
    if not bank_code:
        return "-"
    return f"{KOREAN_BANKS.get(bank_code, bank_code)} ****{last4 or ''}"


class SettlementStatement(Model):
    """What the platform owes one owner for one calendar month (Asia/Seoul)."""

    __tablename__ = "settlement_statements"
    __table_args__ = (
        UniqueConstraint("organisation_id", "month", name="uq_settlement_statements_org_month"),
        CheckConstraint("status IN ('issued', 'paid', 'carried')", name="status"),
        CheckConstraint("status != 'issued' OR net > 0", name="issued_positive"),
        CheckConstraint(
            "status != 'paid' OR (transfer_reference IS NOT NULL AND paid_on IS NOT NULL)",
            name="paid_reference",
        ),
        Index("ix_settlement_statements_month_status", "month", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    month: Mapped[date]  # the first day of the month
    currency: Mapped[str] = mapped_column(String(3), default="KRW")
    status: Mapped[str] = mapped_column(String(10))
    gross: Mapped[int] = mapped_column(BigInteger, default=0)
    platform_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    processing_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)  # positive: money given back
    fee_returned: Mapped[int] = mapped_column(BigInteger, default=0)
    carried_in: Mapped[int] = mapped_column(BigInteger, default=0)  # <= 0: last statement's
    net: Mapped[int] = mapped_column(BigInteger, default=0)
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The transfer: the bank's reference, the day it was made, who recorded it and the account
    # it went to (as shown: bank and last four digits).
    transfer_reference: Mapped[str | None] = mapped_column(String(120))
    paid_on: Mapped[date | None]
    paid_recorded_at: Mapped[datetime | None]
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    paid_to: Mapped[str | None] = mapped_column(String(60))

    organisation = relationship("Organisation")
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    paid_by: Mapped[User | None] = relationship(foreign_keys=[paid_by_id])
    lines: Mapped[list[SettlementLine]] = relationship(
        back_populates="statement", order_by="(SettlementLine.occurred_at, SettlementLine.id)",
        cascade="all, delete-orphan",
    )

    @property
    def status_label(self) -> str:
        return str(STATEMENT_STATUS_LABELS[self.status])

    @property
    def memo(self) -> str:
        """The transfer's memo as the owner sees it in their bank statement."""
        return f"공간 정산 {self.month:%Y-%m}"


class SettlementLine(Model):
    """One money movement on a statement: a payment (positive) or a refund (negative). Each
    payment and each refund is on one statement at most (the unique keys), so running the
    settlement twice, or on two workers at once, cannot count anything twice."""

    __tablename__ = "settlement_lines"
    __table_args__ = (
        CheckConstraint("kind IN ('payment', 'refund')", name="kind"),
        CheckConstraint(
            "(kind = 'payment' AND payment_id IS NOT NULL AND refund_id IS NULL) OR "
            "(kind = 'refund' AND refund_id IS NOT NULL)",
            name="source",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("settlement_statements.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="RESTRICT"), unique=True
    )
    refund_id: Mapped[int | None] = mapped_column(
        ForeignKey("refunds.id", ondelete="RESTRICT"), unique=True
    )
    booking_id: Mapped[int] = mapped_column(Integer)  # kept if the booking is ever deleted
    space_name: Mapped[str] = mapped_column(String(160))
    occurred_at: Mapped[datetime]
    amount: Mapped[int] = mapped_column(Integer)  # + paid, - refunded
    platform_fee: Mapped[int] = mapped_column(Integer, default=0)  # + kept, - returned
    processing_fee: Mapped[int] = mapped_column(Integer, default=0)
    net: Mapped[int] = mapped_column(Integer)

    statement: Mapped[SettlementStatement] = relationship(back_populates="lines")


class SettlementLog(Model):
    """The audit trail of settlement: bank account changes and verifications, statements
    issued, transfer files exported, statements paid. Append-only; account numbers appear
    masked only."""

    __tablename__ = "settlement_log"
    __table_args__ = (Index("ix_settlement_log_org_at", "organisation_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("settlement_statements.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


SETTLEMENT_LOG_LABELS = {
    "bank_account_set": _l("Bank account entered"),
    "bank_account_changed": _l("Bank account changed"),
    "bank_account_verified": _l("Bank account verified"),
    "statement_issued": _l("Statement issued"),
    "transfer_exported": _l("Included in a transfer file"),
    "statement_paid": _l("Transfer recorded"),
}
