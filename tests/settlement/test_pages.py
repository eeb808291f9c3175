"""Settlement pages: who sees what (others get 404), the forms, the CSV files, bounded
queries."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select

from app.orgs.models import OrgMembership
from app.payments import bank_accounts, settlement
from app.payments.settlement_models import SettlementLog, SettlementStatement
from tests.settlement.conftest import at

NOV = date(2026, 11, 1)


def _rows(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def owed(db, factories, money, admin):
    """An owner with a verified account and November's statement (two payments, a refund)."""
    org, space = money.owner()
    first = money.paid(space, 30_000, "2026-11-03 10:00")
    money.paid(space, 20_000, "2026-11-04 10:00")
    money.refund(first, 5_000, "2026-11-05 10:00")
    manager = factories.manager(org)
    bank_accounts.set_account(org, manager, bank_code="004", number="123-456-789012",
                              holder="번동초")
    bank_accounts.verify_account(org, admin, number="123456789012")
    (statement,) = settlement.issue_month(NOV, now=at("2026-12-02 09:00"))
    db.session.commit()
    return org, manager, statement


def test_strangers_other_managers_officers_and_staff_get_404(db, factories, money, owed,
                                                             client, login):
    org, _manager, statement = owed
    staff = factories.user()
    db.session.add(OrgMembership(user=staff, organisation=org, role="staff"))
    people = [factories.user(), factories.manager(factories.org()), factories.officer(), staff]
    db.session.commit()
    urls = [
        ("get", f"/manage/organisations/{org.id}/bank-account"),
        ("post", f"/manage/organisations/{org.id}/bank-account"),
        ("post", f"/manage/organisations/{org.id}/bank-account/verify"),
        ("get", f"/manage/organisations/{org.id}/statements"),
        ("get", f"/manage/organisations/{org.id}/statements/{statement.id}"),
        ("get", f"/manage/organisations/{org.id}/statements/{statement.id}?format=csv"),
        ("get", "/admin/settlements"),
        ("post", "/admin/settlements/issue"),
        ("get", "/admin/settlements/transfers.csv"),
        ("post", f"/admin/settlements/{statement.id}/paid"),
    ]
    for person in people:
        login(person)
        for method, url in urls:
            assert getattr(client, method)(url).status_code == 404, (person, url)
    # Another owner's statement under this owner's address.
    other, other_space = money.owner(name="다른 학교")
    money.paid(other_space, 10_000, "2026-12-10 12:00")
    (theirs,) = settlement.issue_month(date(2026, 12, 1), now=at("2027-01-02 09:00"))
    db.session.commit()
    login(owed[1])
    assert client.get(
        f"/manage/organisations/{org.id}/statements/{theirs.id}").status_code == 404
    assert client.get(
        f"/manage/organisations/{other.id}/statements/{theirs.id}").status_code == 404


def test_the_owner_sees_statements_masked_account_and_downloads_the_csv(owed, client, login):
    org, manager, statement = owed
    login(manager)
    page = client.get(f"/manage/organisations/{org.id}/statements").get_data(as_text=True)
    assert "2026-11" in page and "₩43,650" in page and "****9012" in page
    detail = client.get(f"/manage/organisations/{org.id}/statements/{statement.id}")
    body = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "123456789012" not in body and "₩43,650" in body
    assert "이체 완료로 표시" not in body and "이체 대기" in body  # the owner cannot mark it
    rows = _rows(client.get(
        f"/manage/organisations/{org.id}/statements/{statement.id}?format=csv"))
    assert rows[0][:5] == ["date", "kind", "booking", "space", "amount"]
    assert [r[1] for r in rows[1:]] == ["payment", "payment", "refund", "carried_in", "total"]
    assert rows[-1][-1] == "43650"
    assert sum(int(r[-1]) for r in rows[1:4]) == 43_650
    account_page = client.get(f"/manage/organisations/{org.id}/bank-account")
    assert "123456789012" not in account_page.get_data(as_text=True)


def test_the_manager_enters_an_account_through_the_form(db, factories, money, client, login):
    org, _space = money.owner()
    manager = factories.manager(org)
    db.session.commit()
    login(manager)
    url = f"/manage/organisations/{org.id}/bank-account"
    bad = client.post(url, data={"bank_code": "004", "number": "12", "holder": "번동초"})
    assert bad.status_code == 200 and "숫자 8~20자리" in bad.get_data(as_text=True)
    response = client.post(url, data={"bank_code": "004", "number": "123-456-789012",
                                      "holder": "번동초"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "****9012" in page and "123456789012" not in page and "계좌 등록" in page


def test_the_administrator_verifies_issues_exports_and_records_the_transfer(
    db, factories, money, admin, client, login
):
    org, space = money.owner()
    money.paid(space, 20_000, "2026-11-10 12:00")
    manager = factories.manager(org)
    bank_accounts.set_account(org, manager, bank_code="004", number="123-456-789012",
                              holder="=번동초")
    db.session.commit()
    login(admin)
    url = f"/manage/organisations/{org.id}/bank-account/verify"
    assert client.post(url, data={"verify-number": "999"}).status_code == 422
    assert client.post(url, data={"verify-number": "123456789012"}).status_code == 302
    assert bank_accounts.account_of(org.id).is_verified
    # Administrators see the account but do not change it.
    assert client.post(f"/manage/organisations/{org.id}/bank-account",
                       data={"bank_code": "004", "number": "1234567890",
                             "holder": "x"}).status_code == 403
    with time_machine.travel(at("2026-12-02 09:00"), tick=False):
        login(admin)  # a session from another time has expired
        response = client.post("/admin/settlements/issue", data={"month": "2026-11"})
        assert response.status_code == 302 and "/admin/settlements" in response.location
        desk = client.get("/admin/settlements").get_data(as_text=True)
        assert "₩19,400" in desk and "번동초등학교" in desk
        rows = _rows(client.get("/admin/settlements/transfers.csv"))
        assert rows[0] == ["은행코드", "은행명", "계좌번호", "예금주", "이체금액", "받는분통장표시",
                           "정산서번호"]
        statement = db.session.scalar(select(SettlementStatement))
        # Full number for the bank; a holder name a spreadsheet would run made inert.
        assert rows[1] == ["004", "KB국민은행", "123456789012", "'=번동초", "19400",
                           "공간 정산 2026-11", str(statement.id)]
        paid_url = f"/admin/settlements/{statement.id}/paid"
        assert client.post(paid_url, data={"reference": "IBK-1", "paid_on": "2026-12-02"}
                           ).status_code == 302
        assert client.post(paid_url, data={"reference": "IBK-2", "paid_on": "2026-12-02"}
                           ).status_code == 302
    db.session.expire_all()
    statement = db.session.get(SettlementStatement, statement.id)
    assert statement.status == "paid" and statement.transfer_reference == "IBK-1"
    actions = list(db.session.scalars(select(SettlementLog.action).order_by(SettlementLog.id)))
    assert actions == ["bank_account_set", "bank_account_verified", "statement_issued",
                       "transfer_exported", "statement_paid"]
    login(manager)
    report = client.get(f"/manage/organisations/{org.id}/payouts?from=2026-12-01&to=2026-12-31")
    assert "IBK-1" in report.get_data(as_text=True)


def test_issuing_the_current_month_is_refused(db, admin, client, login):
    db.session.commit()
    with time_machine.travel(at("2026-12-02 09:00"), tick=False):
        login(admin)
        response = client.post("/admin/settlements/issue", data={"month": "2026-12"})
        assert response.status_code == 302 and "/admin/settlements" in response.location
    assert db.session.scalar(select(SettlementStatement)) is None


def test_pages_read_a_fixed_number_of_queries(db, factories, money, admin, login,
                                              queries_of_get):
    counts = {"statement": [], "list": [], "desk": [], "account": []}
    for n in (1, 5):
        org, space = money.owner()
        for i in range(n):
            paid = money.paid(space, 10_000, f"2026-{10 + n // 5:02d}-1{i} 12:00")
            money.refund(paid, 1_000, f"2026-{10 + n // 5:02d}-2{i} 12:00")
        manager = factories.manager(org)
        bank_accounts.set_account(org, manager, bank_code="004", number="1234567890",
                                  holder="x")
        month = date(2026, 10 + n // 5, 1)
        (statement,) = settlement.issue_month(month, now=at("2026-12-02 09:00"))
        db.session.commit()
        login(manager)
        counts["statement"].append(queries_of_get(
            f"/manage/organisations/{org.id}/statements/{statement.id}"))
        counts["list"].append(queries_of_get(f"/manage/organisations/{org.id}/statements"))
        counts["account"].append(queries_of_get(f"/manage/organisations/{org.id}/bank-account"))
        login(admin)
        counts["desk"].append(queries_of_get("/admin/settlements"))
    for page, (one, many) in counts.items():
        assert one == many, page


def test_the_forms_are_rate_limited(app, db, factories, money, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_SETTLEMENT_PER_ACCOUNT", "2 per minute")
    org, _space = money.owner()
    manager = factories.manager(org)
    db.session.commit()
    login(manager)
    url = f"/manage/organisations/{org.id}/bank-account"
    for number, status in (("1234567890", 302), ("1234567891", 302), ("1234567892", 429)):
        response = client.post(url, data={"bank_code": "004", "number": number, "holder": "x"})
        assert response.status_code == status
    assert client.get(url).status_code == 200  # reading is not limited
    assert bank_accounts.account_of(org.id).number_last4 == "7891"


def test_the_excel_transfer_file_keeps_leading_zeros(db, factories, money, admin, client,
                                                     login):
    org, space = money.owner()
    money.paid(space, 20_000, "2026-11-10 12:00")
    bank_accounts.set_account(org, factories.manager(org), bank_code="081",
                              number="0012-3456-7890", holder="@번동초")
    bank_accounts.verify_account(org, admin, number="001234567890")
    settlement.issue_month(NOV, now=at("2026-12-02 09:00"))
    db.session.commit()
    login(admin)
    response = client.get("/admin/settlements/transfers.xlsx")
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[1][:6] == ["081", "하나은행", "001234567890", "@번동초", 19_400,
                           "공간 정산 2026-11"]
    assert sheet["C2"].data_type == "s"
