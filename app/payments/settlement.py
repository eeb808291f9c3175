"""Monthly settlement statements (정산서) for owners the platform pays by bank transfer.

Which money: card payments that landed on the platform's own Stripe balance (no destination
account: the owner has no Connect account able to receive), in KRW, once they succeeded, and
the refunds of those payments once done. Live payments only, unless
SETTLEMENT_INCLUDE_TEST_PAYMENTS (development and staging try the flow with test payments).
Offline payments are not settled: the owner received that money directly.

A statement for month M takes every such payment and refund that happened before the end of M
(Asia/Seoul) and is on no statement yet; each is on one statement at most (unique keys on the
lines). So a refund made in a later month is a negative line of that month, and a payment or
refund recorded after M's statement was issued (a late webhook) goes into the next statement.
Once issued a statement is frozen. A statement whose net is zero or negative transfers nothing;
a negative net is carried into the owner's next statement.

Fees per payment: the platform's fee (the payment's recorded application fee, else the owner's
fee rate applied now, as `fee_for` does for destination charges) and Stripe's processing fee,
which the platform bears (recorded as 0: Payment has no record of Stripe's fee). A refund
returns the fee in proportion to the amount refunded, so a payment refunded in full returns
its fee to the won.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from app.bookings.models import Booking
from app.db import rowcount, utcnow
from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.extensions import db
from app.jobs import exclusive, job
from app.orgs.models import Organisation
from app.payments import sealed
from app.payments.bank_accounts import account_of, can_operate, log
from app.payments.models import Payment, Refund
from app.payments.services import fee_for
from app.payments.settlement_models import (
    BankAccount,
    SettlementLine,
    SettlementStatement,
    StatementStatus,
)
from app.payments.states import PaymentMethod, PaymentStatus, RefundStatus
from app.spaces.models import Space

ZONE = ZoneInfo("Asia/Seoul")
CURRENCY = "KRW"
MAX_REFERENCE = 120

# Announced for the packages above payments (notifications tell the owner's managers); sent
# inside the transaction, receivers never commit. Sender: the statement.
_signals = Namespace()
statement_issued = _signals.signal("settlement-statement-issued")
statement_paid = _signals.signal("settlement-statement-paid")


# --------------------------------------------------------------------------- months
def parse_month(text: str) -> date | None:
    """"2026-11" -> 2026-11-01; None for anything else."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", (text or "").strip())
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[since, until) of the calendar month in Seoul."""
    return (datetime.combine(month, time(), ZONE),
            datetime.combine(next_month(month), time(), ZONE))


def last_month(now: datetime) -> date:
    first = now.astimezone(ZONE).date().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


# --------------------------------------------------------------------------- what is settled
def _settled_payment():
    """The payments settled by transfer (as SQL conditions)."""
    conditions = [Payment.method == PaymentMethod.CARD, Payment.destination_account.is_(None),
                  Payment.currency == CURRENCY]
    if not current_app.config.get("SETTLEMENT_INCLUDE_TEST_PAYMENTS"):
        conditions.append(Payment.test_mode.is_(False))
    return conditions


@dataclass
class _Draft:
    organisation: Organisation
    lines: list[SettlementLine]


def _payment_fee(payment: Payment, organisation: Organisation) -> int:
    return payment.application_fee_amount or fee_for(organisation, payment.amount)


def _unsettled(until: datetime) -> dict[int, _Draft]:
    """The lines every owner would get for movements before `until` not yet settled; a fixed
    number of queries."""
    paid = db.session.execute(
        select(Payment, Space.owner_id, Space.name)
        .join(Booking, Booking.id == Payment.booking_id)
        .join(Space, Space.id == Booking.space_id)
        .outerjoin(SettlementLine, SettlementLine.payment_id == Payment.id)
        .where(*_settled_payment(), Payment.status == PaymentStatus.SUCCEEDED,
               Payment.paid_at < until,
               SettlementLine.id.is_(None))
        .order_by(Payment.paid_at, Payment.id)
    ).all()
    refunded = db.session.execute(
        select(Refund, Payment, Space.owner_id, Space.name)
        .join(Payment, Payment.id == Refund.payment_id)
        .join(Booking, Booking.id == Payment.booking_id)
        .join(Space, Space.id == Booking.space_id)
        .outerjoin(SettlementLine, SettlementLine.refund_id == Refund.id)
        .where(*_settled_payment(), Refund.status == RefundStatus.SUCCEEDED, Refund.done_at < until,
               SettlementLine.id.is_(None))
        .order_by(Refund.done_at, Refund.id)
    ).all()
    owner_ids = {row.owner_id for row in paid} | {row.owner_id for row in refunded}
    if not owner_ids:
        return {}
    orgs = {o.id: o for o in db.session.scalars(
        select(Organisation).where(Organisation.id.in_(owner_ids)))}
    drafts = {oid: _Draft(orgs[oid], []) for oid in sorted(owner_ids)}

    fees: dict[int, int] = {}  # payment id -> the platform's fee on it
    for payment, owner_id, space_name in paid:
        fee = fees[payment.id] = _payment_fee(payment, orgs[owner_id])
        drafts[owner_id].lines.append(SettlementLine(
            kind="payment", payment_id=payment.id, booking_id=payment.booking_id,
            space_name=space_name, occurred_at=payment.paid_at, amount=payment.amount,
            platform_fee=fee, processing_fee=0, net=payment.amount - fee,
        ))
    if refunded:
        payment_ids = {row.Payment.id for row in refunded}
        # The fee as settled earlier, where the payment is on an older statement.
        for settled_id, settled_fee in db.session.execute(
            select(SettlementLine.payment_id, SettlementLine.platform_fee)
            .where(SettlementLine.payment_id.in_(payment_ids))
        ).tuples():
            if settled_id is not None:
                fees[settled_id] = settled_fee
        # Every done refund of those payments, in order, for the cumulative fee share.
        done: dict[int, list[Refund]] = {}
        for r in db.session.scalars(
            select(Refund).where(Refund.payment_id.in_(payment_ids),
                                 Refund.status == RefundStatus.SUCCEEDED)
            .order_by(Refund.done_at, Refund.id)
        ):
            done.setdefault(r.payment_id, []).append(r)
        for refund, payment, owner_id, space_name in refunded:
            known = fees.get(payment.id)
            fee = known if known is not None else _payment_fee(payment, orgs[owner_id])
            returned = _fee_share(fee, payment.amount, done[payment.id], refund)
            drafts[owner_id].lines.append(SettlementLine(
                kind="refund", payment_id=None, refund_id=refund.id,
                booking_id=payment.booking_id, space_name=space_name,
                occurred_at=refund.done_at, amount=-refund.amount, platform_fee=-returned,
                processing_fee=0, net=-refund.amount + returned,
            ))
    return drafts


def _fee_share(fee: int, amount: int, refunds: list[Refund], refund: Refund) -> int:
    """The part of `fee` this refund returns: the cumulative share after it minus before it,
    so the shares of refunds adding up to the whole amount add up to the whole fee."""
    before = 0
    for r in refunds:
        if r.id == refund.id:
            break
        before += r.amount
    after = min(before + refund.amount, amount)
    return fee * after // amount - fee * before // amount


# --------------------------------------------------------------------------- issuing
def _latest(org_ids) -> dict[int, SettlementStatement]:
    newest = (select(SettlementStatement.organisation_id,
                     func.max(SettlementStatement.month).label("month"))
              .where(SettlementStatement.organisation_id.in_(org_ids))
              .group_by(SettlementStatement.organisation_id).subquery())
    rows = db.session.scalars(
        select(SettlementStatement).join(
            newest, (newest.c.organisation_id == SettlementStatement.organisation_id)
            & (newest.c.month == SettlementStatement.month))
    )
    return {s.organisation_id: s for s in rows}


def issue_month(month: date, *, actor=None, now: datetime | None = None
                ) -> list[SettlementStatement]:
    """Issue month `month`'s statements for every owner with unsettled movements (idempotent:
    owners who already have theirs, or a later one, are left alone). Flushes; the caller
    commits. Only a month that is over can be settled."""
    if actor is not None and not can_operate(actor):
        raise NotAllowed(_("You are not allowed to do this."))
    now = now or utcnow()
    _since, until = month_bounds(month)
    if until > now:
        raise ValidationFailed.single(_("A month can be settled only once it is over."),
                                      "month")
    drafts = _unsettled(until)
    latest = _latest(list(drafts))
    issued = []
    for org_id, draft in drafts.items():
        previous = latest.get(org_id)
        if previous is not None and previous.month >= month:
            continue  # that month is frozen; these movements go into the next statement
        carried = previous.net if previous is not None and previous.status == \
            StatementStatus.CARRIED and previous.net < 0 else 0
        statement = _statement(org_id, month, draft.lines, carried, actor, now)
        db.session.add(statement)
        db.session.flush()
        log("statement_issued", organisation_id=org_id, statement_id=statement.id, actor=actor,
            now=now, month=f"{month:%Y-%m}", net=statement.net, lines=statement.line_count)
        statement_issued.send(statement, now=now)
        issued.append(statement)
    return issued


def _statement(org_id: int, month: date, lines: list[SettlementLine], carried: int, actor,
               now: datetime) -> SettlementStatement:
    lines.sort(key=lambda line: (line.occurred_at, line.kind, line.payment_id or 0,
                                 line.refund_id or 0))
    payments = [line for line in lines if line.kind == "payment"]
    refunds = [line for line in lines if line.kind == "refund"]
    net = sum(line.net for line in lines) + carried
    return SettlementStatement(
        organisation_id=org_id, month=month, currency=CURRENCY,
        status=StatementStatus.ISSUED if net > 0 else StatementStatus.CARRIED,
        gross=sum(line.amount for line in payments),
        platform_fee=sum(line.platform_fee for line in payments),
        processing_fee=sum(line.processing_fee for line in lines),
        refunded=-sum(line.amount for line in refunds),
        fee_returned=-sum(line.platform_fee for line in refunds),
        carried_in=carried, net=net, line_count=len(lines), issued_at=now,
        issued_by_id=getattr(actor, "id", None), lines=lines,
    )


# --------------------------------------------------------------------------- paying
@dataclass
class Transfer:
    statement: SettlementStatement
    account: BankAccount
    number: str  # the full account number: only for the bank's transfer file


def payable() -> list[Transfer]:
    """Statements awaiting transfer whose owner has a verified bank account, oldest first."""
    query = (select(SettlementStatement, BankAccount)
             .join(BankAccount,
                   BankAccount.organisation_id == SettlementStatement.organisation_id)
             .where(SettlementStatement.status == StatementStatus.ISSUED,
                    BankAccount.verified_at.is_not(None))
             .options(selectinload(SettlementStatement.organisation))
             .order_by(SettlementStatement.month, SettlementStatement.organisation_id))
    return [Transfer(s, a, "") for s, a in db.session.execute(query).tuples()]


def transfer_file(actor, *, now: datetime | None = None) -> list[Transfer]:
    """The transfers to make, with full account numbers, for the bank's bulk-transfer file;
    every statement exported is written to the audit log (account numbers leave the system)."""
    if not can_operate(actor):
        raise NotAllowed(_("You are not allowed to do this."))
    now = now or utcnow()
    transfers = payable()
    for t in transfers:
        t.number = sealed.unseal(t.account.number_sealed)
        log("transfer_exported", organisation_id=t.statement.organisation_id,
            statement_id=t.statement.id, actor=actor, now=now, account=t.account.masked,
            amount=t.statement.net)
    return transfers


def mark_paid(statement: SettlementStatement, actor, *, reference: str, paid_on: date,
              now: datetime | None = None) -> SettlementStatement:
    """Record the bank transfer of `statement` (once: a second attempt is refused, also when
    two administrators press the button at the same moment)."""
    if not can_operate(actor):
        raise NotAllowed(_("You are not allowed to do this."))
    now = now or utcnow()
    reference = " ".join((reference or "").split())
    if not reference or len(reference) > MAX_REFERENCE:
        raise ValidationFailed.single(_("Give the bank's reference of the transfer."),
                                      "reference")
    if paid_on > now.astimezone(ZONE).date() or paid_on < statement.month:
        raise ValidationFailed.single(_("Give the day the transfer was made."), "paid_on")
    if statement.status != StatementStatus.ISSUED:
        raise InvalidTransition(_("This statement is not awaiting a transfer."))
    account = account_of(statement.organisation_id)
    if account is None or not account.is_verified:
        raise InvalidTransition(_("The owner's bank account is not verified yet."))
    done = rowcount(db.session.execute(
        update(SettlementStatement)
        .where(SettlementStatement.id == statement.id,
               SettlementStatement.status == StatementStatus.ISSUED)
        .values(status=StatementStatus.PAID, transfer_reference=reference, paid_on=paid_on,
                paid_recorded_at=now, paid_by_id=actor.id, paid_to=account.masked)
        .execution_options(synchronize_session=False)
    ))
    if done != 1:
        raise InvalidTransition(_("This statement is not awaiting a transfer."))
    db.session.refresh(statement)
    log("statement_paid", organisation_id=statement.organisation_id, statement_id=statement.id,
        actor=actor, now=now, reference=reference, paid_on=paid_on.isoformat(),
        account=account.masked, amount=statement.net)
    statement_paid.send(statement, now=now)
    return statement


# --------------------------------------------------------------------------- reading
def statements_of(org_id: int, *, since: date | None = None, until: date | None = None
                  ) -> list[SettlementStatement]:
    """The owner's statements, newest first (months in [since, until) when given)."""
    query = select(SettlementStatement).where(SettlementStatement.organisation_id == org_id)
    if since is not None:
        query = query.where(SettlementStatement.month >= since)
    if until is not None:
        query = query.where(SettlementStatement.month < until)
    return list(db.session.scalars(query.order_by(SettlementStatement.month.desc())))


def transfers_between(org_id: int, since: date, until: date) -> list[SettlementStatement]:
    """The owner's settled transfers made in [since, until] (by transfer day), for the payout
    report beside the Stripe payouts."""
    return list(db.session.scalars(
        select(SettlementStatement)
        .where(SettlementStatement.organisation_id == org_id,
               SettlementStatement.status == StatementStatus.PAID,
               SettlementStatement.paid_on >= since, SettlementStatement.paid_on <= until)
        .order_by(SettlementStatement.paid_on, SettlementStatement.id)
    ))


# --------------------------------------------------------------------------- the monthly job
@job("payments.settle")
def settle_last_month(now: datetime | None = None) -> int:
    """Issue last month's statements once SETTLEMENT_GRACE_HOURS have passed since it ended
    (late webhooks land in it rather than in the next one); idempotent, so the schedule runs it
    every hour and only the first run after the grace period writes anything."""
    now = now or utcnow()
    month = last_month(now)
    if now < month_bounds(month)[1] + timedelta(hours=current_app.config[
            "SETTLEMENT_GRACE_HOURS"]):
        return 0
    with exclusive("payments.settle") as mine:
        if not mine:
            return 0
        issued = issue_month(month, now=now)
        db.session.commit()
        return len(issued)
