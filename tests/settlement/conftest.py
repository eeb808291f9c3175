"""Settlement tests: owners without a Connect account, card payments that landed on the
platform's balance, refunds of them, at fixed instants of November 2026 onwards (Seoul)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.payments.models import Payment, Refund

SEOUL = ZoneInfo("Asia/Seoul")


def at(text: str) -> datetime:
    """A Seoul wall-clock time ("2026-11-03 10:00") as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=SEOUL).astimezone(UTC)


class Money:
    """Bookings with a payment (and refunds) recorded as the payment services leave them."""

    def __init__(self, db, factories, now):
        self.db = db
        self.factories = factories
        self.now = now
        self._n = 0

    def owner(self, *, fee_bps: int | None = 300, name="번동초등학교"):
        org = self.factories.org(name=name)
        org.platform_fee_bps = fee_bps
        space = self.factories.space(owner=org, name="다목적실", price_per_hour=10_000)
        return org, space

    def paid(self, space, amount: int, when: str, *, method="card", destination=None,
             test_mode=False, fee=0) -> Payment:
        self._n += 1
        start = (self.now + timedelta(days=3 + self._n)).replace(hour=5, minute=0, second=0,
                                                                  microsecond=0)
        booking = self.factories.booking(space, start=start, end=start + timedelta(hours=1))
        payment = Payment(booking_id=booking.id, amount=amount, currency="KRW", method=method,
                          status="succeeded", paid_at=at(when), destination_account=destination,
                          application_fee_amount=fee, test_mode=test_mode)
        self.db.session.add(payment)
        self.db.session.flush()
        return payment

    def refund(self, payment: Payment, amount: int, when: str, status="succeeded") -> Refund:
        refund = Refund(payment_id=payment.id, amount=amount, status=status,
                        done_at=at(when) if status == "succeeded" else None)
        payment.refunded_amount += amount if status == "succeeded" else 0
        self.db.session.add(refund)
        self.db.session.flush()
        return refund


@pytest.fixture
def money(db, factories, now):
    return Money(db, factories, now)


@pytest.fixture
def admin(factories):
    return factories.user(name="플랫폼 관리자", is_admin=True)
