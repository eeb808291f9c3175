"""The payout report and the settlement statements tell the same story: payments the platform
collected (no destination charge) show no Stripe application fee in the report, and their
gross, refunds and the platform fee agree with the statement's lines."""

from __future__ import annotations

from datetime import date

import pytest

from app.payments import settlement
from app.payments.report import payout_report
from tests.settlement.conftest import at

NOV = date(2026, 11, 1)


def test_platform_collected_rows_show_fee_0_and_match_the_statement(db, money):
    org, space = money.owner(fee_bps=300)
    big = money.paid(space, 30_000, "2026-11-03 10:00")
    money.paid(space, 20_000, "2026-11-10 12:00")
    money.refund(big, 5_000, "2026-11-20 09:00")
    money.paid(space, 10_000, "2026-11-11 12:00", destination="acct_OWNER", fee=500)
    money.paid(space, 7_000, "2026-11-12 12:00", method="cash")
    db.session.commit()
    since, until = at("2026-11-01 00:00"), at("2026-12-01 00:00")

    before = payout_report(org.id, since, until)
    statement_rows = [r for r in before.rows if r.settled_by == "statement"]
    assert len(statement_rows) == 3
    assert all(r.fee == 0 and r.fee_refunded == 0 for r in statement_rows)
    assert all(r.statement_fee is None for r in statement_rows)  # not on a statement yet
    [connect] = [r for r in before.rows if r.settled_by == "connect"]
    assert (connect.fee, connect.statement_fee) == (500, None)
    [direct] = [r for r in before.rows if r.settled_by == "direct"]
    assert direct.fee == 0 and direct.method == "cash"

    [statement] = settlement.issue_month(NOV, now=at("2026-12-02 09:00"))
    db.session.commit()
    after = payout_report(org.id, since, until)
    rows = [r for r in after.rows if r.settled_by == "statement"]
    assert [r.fee for r in rows] == [0, 0, 0]
    # The statement's own figures, row by row and in total.
    assert sum(r.gross for r in rows) == statement.gross == 50_000
    assert sum(r.refunded for r in rows) == statement.refunded == 5_000
    assert sum(r.statement_fee for r in rows if r.kind == "payment") == statement.platform_fee
    assert -sum(r.statement_fee for r in rows if r.kind == "refund") == statement.fee_returned
    assert sum(r.gross - r.refunded - r.statement_fee for r in rows) == statement.net


@pytest.mark.usefixtures("english")
def test_the_report_page_and_csv_say_how_each_row_is_settled(db, money, factories, client,
                                                               login):
    org, space = money.owner(fee_bps=300)
    money.paid(space, 30_000, "2026-11-03 10:00")
    db.session.commit()
    settlement.issue_month(NOV, now=at("2026-12-02 09:00"))
    db.session.commit()
    login(factories.manager(org))
    query = "from=2026-11-01&to=2026-11-30"
    page = client.get(f"/manage/organisations/{org.id}/payouts?{query}").get_data(as_text=True)
    assert "settled by statement, platform fee ₩900" in page
    csv = client.get(f"/manage/organisations/{org.id}/payouts?{query}&format=csv")
    lines = csv.get_data(as_text=True).strip().splitlines()
    assert "settled_by,statement_fee" in lines[0]
    assert lines[1].endswith(",card,statement,900,KRW,30000,0,0,0,30000")
