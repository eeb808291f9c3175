"""Monthly statements: which money, the lines and totals to the won, frozen once issued,
refunds of earlier months, negative months carried over, idempotence."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from sqlalchemy import func, select

from app.errors import ValidationFailed
from app.payments import settlement
from app.payments.settlement_models import SettlementLine, SettlementLog, SettlementStatement
from tests.settlement.conftest import at

NOV, DEC, JAN, FEB = date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)


def _issue(db, month, now):
    issued = settlement.issue_month(month, now=at(now))
    db.session.commit()
    return {s.organisation_id: s for s in issued}


def test_a_statement_adds_payments_fees_and_refunds_to_the_won(db, money):
    org, space = money.owner(fee_bps=300)
    big = money.paid(space, 30_000, "2026-11-03 10:00")
    small = money.paid(space, 20_000, "2026-11-30 23:59")
    money.refund(big, 5_000, "2026-11-20 09:00")
    money.paid(space, 9_999, "2026-12-01 00:00")  # December in Seoul
    db.session.commit()

    nov = _issue(db, NOV, "2026-12-02 09:00")[org.id]

    assert (nov.gross, nov.platform_fee, nov.refunded, nov.fee_returned) == (
        50_000, 900 + 600, 5_000, 150)
    assert nov.net == 30_000 - 900 + 20_000 - 600 - 5_000 + 150 == 43_650
    assert nov.status == "issued" and nov.line_count == 3 and nov.processing_fee == 0
    lines = [(ln.kind, ln.amount, ln.platform_fee, ln.net) for ln in nov.lines]
    assert lines == [("payment", 30_000, 900, 29_100), ("refund", -5_000, -150, -4_850),
                     ("payment", 20_000, 600, 19_400)]
    assert sum(ln.net for ln in nov.lines) == nov.net
    assert {ln.payment_id for ln in nov.lines} >= {big.id, small.id}


def test_refunds_of_earlier_months_are_negative_lines_and_losses_carry_over(db, money):
    org, space = money.owner(fee_bps=300)
    paid = money.paid(space, 20_000, "2026-11-10 12:00")
    db.session.commit()
    _issue(db, NOV, "2026-12-02 09:00")
    money.refund(paid, 20_000, "2026-12-15 12:00")  # refunded in full, the next month
    db.session.commit()

    dec = _issue(db, DEC, "2027-01-02 09:00")[org.id]
    assert [(ln.kind, ln.amount, ln.platform_fee) for ln in dec.lines] == [
        ("refund", -20_000, -600)]
    assert dec.net == -19_400 and dec.status == "carried"

    money.paid(space, 10_000, "2027-01-05 12:00")
    db.session.commit()
    jan = _issue(db, JAN, "2027-02-02 09:00")[org.id]
    assert jan.carried_in == -19_400 and jan.net == 9_700 - 19_400 and jan.status == "carried"

    money.paid(space, 50_000, "2027-02-05 12:00")
    db.session.commit()
    feb = _issue(db, FEB, "2027-03-02 09:00")[org.id]
    assert feb.carried_in == -9_700 and feb.net == 48_500 - 9_700 == 38_800
    assert feb.status == "issued"


def test_partial_refunds_return_the_whole_fee_once_the_whole_amount_is_back(db, money):
    org, space = money.owner(fee_bps=333)
    paid = money.paid(space, 10_000, "2026-11-10 12:00")  # fee 333
    for i in range(3):
        money.refund(paid, 3_333 + (1 if i == 2 else 0), f"2026-11-1{i + 1} 12:00")
    db.session.commit()
    nov = _issue(db, NOV, "2026-12-02 09:00")[org.id]
    assert nov.fee_returned == nov.platform_fee == 333
    assert nov.net == 0 and nov.status == "carried"


def test_only_money_on_the_platforms_balance_is_settled(app, db, money):
    org, space = money.owner(fee_bps=0)
    money.paid(space, 10_000, "2026-11-10 12:00")
    money.paid(space, 11_000, "2026-11-10 12:00", destination="acct_1")  # Connect pays it
    money.paid(space, 12_000, "2026-11-10 12:00", method="cash")  # the owner has it
    money.paid(space, 13_000, "2026-11-10 12:00", test_mode=True)
    pending = money.paid(space, 14_000, "2026-11-10 12:00")
    money.refund(pending, 1_000, "2026-11-11 12:00", status="pending")
    db.session.commit()
    app.config["SETTLEMENT_INCLUDE_TEST_PAYMENTS"] = False
    try:
        nov = _issue(db, NOV, "2026-12-02 09:00")[org.id]
    finally:
        app.config["SETTLEMENT_INCLUDE_TEST_PAYMENTS"] = True
    assert [ln.amount for ln in nov.lines] == [10_000, 14_000]
    assert nov.platform_fee == 0 and nov.net == 24_000


def test_a_recorded_application_fee_is_kept(db, money):
    org, space = money.owner(fee_bps=1000)
    money.paid(space, 10_000, "2026-11-10 12:00", fee=250)
    db.session.commit()
    assert _issue(db, NOV, "2026-12-02 09:00")[org.id].platform_fee == 250


def test_issuing_is_idempotent_and_late_money_goes_into_the_next_month(db, money):
    org, space = money.owner()
    paid = money.paid(space, 20_000, "2026-11-10 12:00")
    db.session.commit()
    first = _issue(db, NOV, "2026-12-02 09:00")[org.id]
    frozen = (first.net, first.line_count)
    # A refund dated in November reaches us after the statement was issued.
    money.refund(paid, 2_000, "2026-11-30 23:00")
    db.session.commit()
    assert _issue(db, NOV, "2026-12-03 09:00") == {}
    db.session.expire_all()
    again = db.session.get(SettlementStatement, first.id)
    assert (again.net, again.line_count) == frozen
    dec = _issue(db, DEC, "2027-01-02 09:00")[org.id]
    assert [ln.amount for ln in dec.lines] == [-2_000]
    assert db.session.scalar(select(func.count(SettlementLine.id))) == 2
    assert db.session.scalar(select(func.count(SettlementLog.id)).where(
        SettlementLog.action == "statement_issued")) == 2


def test_owners_get_one_statement_each(db, money):
    one, one_space = money.owner(name="하나")
    two, two_space = money.owner(name="둘")
    money.owner(name="없음")
    money.paid(one_space, 10_000, "2026-11-10 12:00")
    money.paid(two_space, 20_000, "2026-11-10 12:00")
    db.session.commit()
    issued = _issue(db, NOV, "2026-12-02 09:00")
    assert {k: v.gross for k, v in issued.items()} == {one.id: 10_000, two.id: 20_000}


def test_a_month_is_settled_only_once_it_is_over(db, money):
    with pytest.raises(ValidationFailed):
        settlement.issue_month(NOV, now=at("2026-11-30 23:59"))


def test_the_monthly_job_waits_for_the_grace_period(app, db, money):
    org, space = money.owner()
    money.paid(space, 10_000, "2026-11-10 12:00")
    db.session.commit()
    assert settlement.settle_last_month(now=at("2026-12-01 12:00")) == 0  # within 24 hours
    assert settlement.settle_last_month(now=at("2026-12-02 01:00")) == 1
    assert settlement.settle_last_month(now=at("2026-12-02 02:00")) == 0
    assert settlement.statements_of(org.id)[0].month == NOV


def test_the_command_settles_a_month(app, db, money, runner):
    org, space = money.owner()
    money.paid(space, 10_000, "2026-11-10 12:00")
    db.session.commit()
    with time_machine.travel(at("2026-12-02 09:00"), tick=False):
        result = runner.invoke(args=["payments", "settle"])  # last month by default
        assert result.exit_code == 0, result.output
        assert "1 statement(s) issued for 2026-11" in result.output
        result = runner.invoke(args=["payments", "settle", "--month", "2026-11"])
        assert "0 statement(s)" in result.output
        result = runner.invoke(args=["payments", "settle", "--month", "2026-12"])
        assert result.exit_code != 0 and "지난 달만" in result.output
    assert runner.invoke(args=["payments", "settle", "--month", "11-2026"]).exit_code != 0
