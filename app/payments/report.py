"""The payout report: per owner and period, what was paid for its spaces, the platform's fees,
the refunds and what the owner nets. SQL aggregation; a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.bookings.models import Booking
from app.extensions import db
from app.payments.models import Payment, Refund
from app.spaces.models import Space

ZONE = ZoneInfo("Asia/Seoul")
PER_PAGE = 50


@dataclass
class Row:
    booking_id: int
    space: str
    paid_at: datetime
    method: str
    currency: str
    gross: int
    fee: int
    refunded: int
    fee_refunded: int

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
    _query: object

    def all_rows(self):
        for r in db.session.execute(self._query):
            yield _row(r)


def _row(r) -> Row:
    return Row(r.booking_id, r.space, r.paid_at, r.method, r.currency, r.gross, r.fee,
               r.refunded or 0, r.fee_refunded or 0)


def payout_report(org_id: int, since: datetime, until: datetime, *, page: int = 1) -> Report:
    done = (
        select(Refund.payment_id, func.sum(Refund.amount).label("refunded"),
               func.sum(Refund.fee_refunded).label("fee_refunded"))
        .where(Refund.status == "succeeded")
        .group_by(Refund.payment_id)
        .subquery()
    )
    paid = (Payment.paid_at >= since) & (Payment.paid_at < until) & (
        Payment.status == "succeeded")
    owned = (Space.owner_id == org_id)
    query = (
        select(Payment.booking_id, Space.name.label("space"), Payment.paid_at, Payment.method,
               Payment.currency, Payment.amount.label("gross"),
               Payment.application_fee_amount.label("fee"), done.c.refunded,
               done.c.fee_refunded)
        .join(Booking, Booking.id == Payment.booking_id)
        .join(Space, Space.id == Booking.space_id)
        .outerjoin(done, done.c.payment_id == Payment.id)
        .where(owned, paid)
        .order_by(Payment.paid_at, Payment.id)
    )
    total_rows = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total_rows // PER_PAGE))
    page = min(max(page, 1), pages)
    rows = [_row(r) for r in db.session.execute(
        query.limit(PER_PAGE).offset((page - 1) * PER_PAGE))]
    totals: dict[str, dict[str, int]] = {}
    gross = db.session.execute(
        select(Payment.currency, func.sum(Payment.amount), func.sum(
            Payment.application_fee_amount))
        .join(Booking, Booking.id == Payment.booking_id)
        .join(Space, Space.id == Booking.space_id)
        .where(owned, paid).group_by(Payment.currency)
    ).all()
    for currency, amount, fee in gross:
        totals.setdefault(currency, _zero())
        totals[currency]["gross"] += amount or 0
        totals[currency]["fee"] += fee or 0
    refunds = db.session.execute(
        select(Payment.currency, func.sum(Refund.amount), func.sum(Refund.fee_refunded))
        .join(Payment, Payment.id == Refund.payment_id)
        .join(Booking, Booking.id == Payment.booking_id)
        .join(Space, Space.id == Booking.space_id)
        .where(owned, Refund.status == "succeeded", Refund.done_at >= since,
               Refund.done_at < until)
        .group_by(Payment.currency)
    ).all()
    for currency, amount, fee in refunds:
        totals.setdefault(currency, _zero())
        totals[currency]["refunded"] += amount or 0
        totals[currency]["fee_refunded"] += fee or 0
    for t in totals.values():
        t["net"] = t["gross"] - t["fee"] - t["refunded"] + t["fee_refunded"]
    return Report(rows, total_rows, page, pages, totals, query)


def _zero() -> dict[str, int]:
    return {"gross": 0, "fee": 0, "refunded": 0, "fee_refunded": 0, "net": 0}
