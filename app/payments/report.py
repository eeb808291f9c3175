"""The payout report: per owner and period, what was paid for its spaces, the platform's fees,
the refunds and what the owner nets. SQL aggregation; a fixed number of queries.

`fee` is the Stripe application fee: what Stripe took for the platform from a destination
charge (`settled_by` "connect"). A payment the platform collected itself (the owner has no
Connect account; `settled_by` "statement") carries no application fee, so its fee is 0: the
platform's fee on it is taken on the monthly settlement statement instead, and shown as
`statement_fee` (the statement line's fee; None until the payment or refund is on a
statement). Gross and refunds of those rows are the statement's lines. Offline payments
(`settled_by` "direct") went to the owner directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Executable, and_, case, func, literal, select, union_all

from app.bookings.models import Booking
from app.extensions import db
from app.payments.models import Payment, Refund
from app.payments.settlement_models import SettlementLine
from app.payments.states import PaymentMethod, PaymentStatus, RefundStatus
from app.spaces.models import Space

ZONE = ZoneInfo("Asia/Seoul")
PER_PAGE = 50


@dataclass
class Row:
    """One money movement of the period: a payment (gross in, the platform's fee out) or a
    refund (money back to the resident, the fee's share back from the platform)."""

    kind: str  # "payment" or "refund"
    booking_id: int
    space: str
    paid_at: datetime  # when the money moved
    method: str
    currency: str
    gross: int
    fee: int
    refunded: int
    fee_refunded: int
    settled_by: str = "connect"  # "connect", "statement" or "direct" (see the module)
    statement_fee: int | None = None  # the platform's fee on the statement line (+ / -)

    @property
    def net(self) -> int:
        return self.gross - self.fee - self.refunded + self.fee_refunded


@dataclass
class Report:
    rows: list[Row]
    total_rows: int
    page: int
    pages: int
    totals: dict[str, dict[str, int]]  # currency -> gross/fee/refunded/fee_refunded/net
    _query: Executable

    def all_rows(self):
        for r in db.session.execute(self._query):
            yield _row(r)


def _row(r) -> Row:
    return Row(r.kind, r.booking_id, r.space, r.at, r.method, r.currency, r.gross, r.fee,
               r.refunded, r.fee_refunded, r.settled_by, r.statement_fee)


def _settled_by():
    return case(
        (Payment.method != PaymentMethod.CARD, literal("direct")),
        (Payment.destination_account.is_(None), literal("statement")),
        else_=literal("connect"),
    ).label("settled_by")


def payout_report(org_id: int, since: datetime, until: datetime, *, page: int = 1) -> Report:
    """The owner's ledger for [since, until): payments made and refunds done in the period, so
    the rows add up to the totals and a later refund appears in the period it happened."""
    owned = Space.owner_id == org_id
    payments = (
        select(literal("payment").label("kind"), Payment.booking_id, Space.name.label("space"),
               Payment.paid_at.label("at"), Payment.method, Payment.currency,
               Payment.amount.label("gross"), Payment.application_fee_amount.label("fee"),
               literal(0).label("refunded"), literal(0).label("fee_refunded"),
               Payment.id.label("row_id"), _settled_by(),
               SettlementLine.platform_fee.label("statement_fee"))
        .join(Booking, Booking.id == Payment.booking_id)
        .outerjoin(SettlementLine, and_(SettlementLine.payment_id == Payment.id,
                                        SettlementLine.refund_id.is_(None)))
        .join(Space, Space.id == Booking.space_id)
        .where(owned, Payment.status == PaymentStatus.SUCCEEDED, Payment.paid_at >= since,
               Payment.paid_at < until)
    )
    refunds = (
        select(literal("refund").label("kind"), Payment.booking_id, Space.name.label("space"),
               Refund.done_at.label("at"), Payment.method, Payment.currency,
               literal(0).label("gross"), literal(0).label("fee"),
               Refund.amount.label("refunded"), Refund.fee_refunded.label("fee_refunded"),
               Refund.id.label("row_id"), _settled_by(),
               SettlementLine.platform_fee.label("statement_fee"))
        .join(Payment, Payment.id == Refund.payment_id)
        .outerjoin(SettlementLine, SettlementLine.refund_id == Refund.id)
        .join(Booking, Booking.id == Payment.booking_id)
        .join(Space, Space.id == Booking.space_id)
        .where(owned, Refund.status == RefundStatus.SUCCEEDED, Refund.done_at >= since,
               Refund.done_at < until)
    )
    ledger = union_all(payments, refunds).subquery()
    query = select(ledger).order_by(ledger.c.at, ledger.c.kind, ledger.c.row_id)
    total_rows = db.session.scalar(select(func.count()).select_from(ledger)) or 0
    pages = max(1, -(-total_rows // PER_PAGE))
    page = min(max(page, 1), pages)
    rows = [_row(r) for r in db.session.execute(
        query.limit(PER_PAGE).offset((page - 1) * PER_PAGE))]
    totals: dict[str, dict[str, int]] = {}
    for currency, gross, fee, refunded, fee_refunded in db.session.execute(
        select(ledger.c.currency, func.sum(ledger.c.gross), func.sum(ledger.c.fee),
               func.sum(ledger.c.refunded), func.sum(ledger.c.fee_refunded))
        .group_by(ledger.c.currency).order_by(ledger.c.currency)
    ):
        t = {"gross": int(gross or 0), "fee": int(fee or 0), "refunded": int(refunded or 0),
             "fee_refunded": int(fee_refunded or 0)}
        t["net"] = t["gross"] - t["fee"] - t["refunded"] + t["fee_refunded"]
        totals[currency] = t
    return Report(rows, total_rows, page, pages, totals, query)
