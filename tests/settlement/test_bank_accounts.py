"""Owners' bank accounts: sealed, shown masked, entered by the owner's managers, verified by
another person (an administrator) typing the number again, every change audited; transfers
exported and recorded once."""

from __future__ import annotations

from datetime import date

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.notifications.models import Notification
from app.orgs.models import OrgMembership
from app.payments import bank_accounts, sealed, settlement
from app.payments.settlement_models import BankAccount, SettlementLog
from tests.settlement.conftest import at

NUMBER = "123-456-789012"


def _logs(db, action):
    return list(db.session.scalars(
        select(SettlementLog).where(SettlementLog.action == action).order_by(SettlementLog.id)))


def test_the_number_is_sealed_and_shown_masked(db, factories, money):
    org, _space = money.owner()
    manager = factories.manager(org)
    account = bank_accounts.set_account(org, manager, bank_code="004", number=NUMBER,
                                        holder="번동초등학교")
    db.session.commit()
    row = db.session.scalar(select(BankAccount))
    assert "123456789012" not in row.number_sealed and row.number_last4 == "9012"
    assert account.masked == "KB국민은행 ****9012" and not account.is_verified
    (entry,) = _logs(db, "bank_account_set")
    assert entry.actor_id == manager.id and entry.detail["old"] is None
    assert entry.detail["new"] == {"account": "KB국민은행 ****9012", "holder": "번동초등학교"}
    assert "123456789012" not in str(entry.detail)


def test_a_change_clears_the_verification_and_is_audited(db, factories, money, admin):
    org, _space = money.owner()
    manager = factories.manager(org)
    bank_accounts.set_account(org, manager, bank_code="004", number=NUMBER, holder="번동초")
    bank_accounts.verify_account(org, admin, number="123456789012")
    assert bank_accounts.account_of(org.id).is_verified
    # Saving the same account again keeps the verification.
    bank_accounts.set_account(org, manager, bank_code="004", number=NUMBER, holder="번동초")
    assert bank_accounts.account_of(org.id).is_verified
    bank_accounts.set_account(org, manager, bank_code="088", number="110-222-333444",
                              holder="번동초")
    db.session.commit()
    account = bank_accounts.account_of(org.id)
    assert not account.is_verified and account.masked == "신한은행 ****3444"
    (change,) = _logs(db, "bank_account_changed")
    assert change.detail["old"] == {"account": "KB국민은행 ****9012", "holder": "번동초",
                                    "verified": True}
    assert change.detail["new"]["account"] == "신한은행 ****3444"
    assert len(_logs(db, "bank_account_verified")) == 1


def test_who_may_enter_and_verify(db, factories, money, admin):
    org, _space = money.owner()
    other_manager = factories.manager(factories.org())
    with pytest.raises(NotAllowed):
        bank_accounts.set_account(org, other_manager, bank_code="004", number=NUMBER,
                                  holder="x")
    with pytest.raises(NotAllowed):  # administrators verify; they do not enter
        bank_accounts.set_account(org, admin, bank_code="004", number=NUMBER, holder="x")
    manager = factories.manager(org)
    bank_accounts.set_account(org, manager, bank_code="004", number=NUMBER, holder="x")
    with pytest.raises(NotAllowed):
        bank_accounts.verify_account(org, manager, number=NUMBER)
    with pytest.raises(ValidationFailed):
        bank_accounts.verify_account(org, admin, number="123-456-789013")
    assert not bank_accounts.account_of(org.id).is_verified


def test_an_administrator_who_manages_the_owner_cannot_verify_their_own_entry(
    db, factories, money
):
    org, _space = money.owner()
    both = factories.manager(org, is_admin=True)
    bank_accounts.set_account(org, both, bank_code="004", number=NUMBER, holder="x")
    with pytest.raises(NotAllowed):
        bank_accounts.verify_account(org, both, number=NUMBER)


@pytest.mark.parametrize("bank, number, holder, field", [
    ("999", NUMBER, "x", "bank_code"),
    ("004", "12-34", "x", "number"),
    ("004", "1234567890abc", "x", "number"),
    ("004", NUMBER, "   ", "holder"),
])
def test_invalid_accounts_are_refused(db, factories, money, bank, number, holder, field):
    org, _space = money.owner()
    with pytest.raises(ValidationFailed) as caught:
        bank_accounts.set_account(org, factories.manager(org), bank_code=bank, number=number,
                                  holder=holder)
    assert field in caught.value.errors


def _owed(db, factories, money, admin, *, verified=True):
    org, space = money.owner()
    money.paid(space, 20_000, "2026-11-10 12:00")
    manager = factories.manager(org)
    bank_accounts.set_account(org, manager, bank_code="004", number=NUMBER, holder="번동초")
    if verified:
        bank_accounts.verify_account(org, admin, number=NUMBER)
    (statement,) = settlement.issue_month(date(2026, 11, 1), now=at("2026-12-02 09:00"))
    db.session.commit()
    return org, statement


def test_the_transfer_file_lists_verified_unpaid_statements_with_full_numbers(
    db, factories, money, admin
):
    org, statement = _owed(db, factories, money, admin)
    _other, unverified = _owed(db, factories, money, admin, verified=False)
    rows = settlement.transfer_file(admin, now=at("2026-12-03 09:00"))
    assert [(t.statement.id, t.number, t.statement.net, t.statement.memo) for t in rows] == [
        (statement.id, "123456789012", 19_400, "공간 정산 2026-11")]
    assert [e.statement_id for e in _logs(db, "transfer_exported")] == [statement.id]
    with pytest.raises(NotAllowed):
        settlement.transfer_file(factories.manager(org))


def test_a_statement_is_paid_once_and_only_to_a_verified_account(db, factories, money, admin):
    org, statement = _owed(db, factories, money, admin)
    _other, unverified = _owed(db, factories, money, admin, verified=False)
    with pytest.raises(InvalidTransition):
        settlement.mark_paid(unverified, admin, reference="x", paid_on=date(2026, 12, 3),
                             now=at("2026-12-03 10:00"))
    with pytest.raises(ValidationFailed):  # a day in the future
        settlement.mark_paid(statement, admin, reference="x", paid_on=date(2026, 12, 9),
                             now=at("2026-12-03 10:00"))
    with pytest.raises(NotAllowed):
        settlement.mark_paid(statement, factories.manager(org), reference="x",
                             paid_on=date(2026, 12, 3), now=at("2026-12-03 10:00"))
    settlement.mark_paid(statement, admin, reference="IBK-20261203-0001",
                         paid_on=date(2026, 12, 3), now=at("2026-12-03 10:00"))
    db.session.commit()
    assert (statement.status, statement.transfer_reference, statement.paid_to) == (
        "paid", "IBK-20261203-0001", "KB국민은행 ****9012")
    with pytest.raises(InvalidTransition):
        settlement.mark_paid(statement, admin, reference="again", paid_on=date(2026, 12, 3),
                             now=at("2026-12-03 11:00"))
    (entry,) = _logs(db, "statement_paid")
    assert entry.actor_id == admin.id and entry.detail["amount"] == 19_400
    assert settlement.payable() == []
    assert [s.id for s in settlement.transfers_between(
        org.id, date(2026, 12, 1), date(2026, 12, 31))] == [statement.id]


def test_a_stale_copy_cannot_pay_twice(db, factories, money, admin):
    """Two administrators press the button at once: the second update finds no row."""
    _org, statement = _owed(db, factories, money, admin)
    settlement.mark_paid(statement, admin, reference="a", paid_on=date(2026, 12, 3),
                         now=at("2026-12-03 10:00"))
    set_committed_value(statement, "status", "issued")  # what the other request still read
    with pytest.raises(InvalidTransition):
        settlement.mark_paid(statement, admin, reference="b", paid_on=date(2026, 12, 3),
                             now=at("2026-12-03 10:00"))


def test_sealed_numbers_follow_key_rotation(app, db, factories, money):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["SETTLEMENT_KEYS"] = old
    try:
        token = sealed.seal("123456789012")
        app.config["SETTLEMENT_KEYS"] = f"{new},{old}"
        assert sealed.unseal(token) == "123456789012"
        app.config["SETTLEMENT_KEYS"] = new
        with pytest.raises(sealed.Unreadable):
            sealed.unseal(token)
    finally:
        app.config["SETTLEMENT_KEYS"] = ""


def test_the_owners_managers_hear_of_the_statement_and_the_transfer(db, factories, money,
                                                                    admin):
    org, statement = _owed(db, factories, money, admin)
    staff = factories.user()
    db.session.add(OrgMembership(user=staff, organisation=org, role="staff"))
    settlement.mark_paid(statement, admin, reference="IBK-1", paid_on=date(2026, 12, 3),
                         now=at("2026-12-03 10:00"))
    db.session.commit()
    notes = db.session.scalars(select(Notification).where(
        Notification.kind.like("settlement%")).order_by(Notification.id)).all()
    manager_ids = {m.user_id for m in db.session.scalars(
        select(OrgMembership).where(OrgMembership.organisation_id == org.id,
                                    OrgMembership.role == "manager"))}
    assert [n.kind for n in notes] == ["settlement_issued", "settlement_paid"]
    assert {n.user_id for n in notes} == manager_ids
    assert notes[1].params["last4"] == "9012" and notes[1].params["net"] == 19_400
    assert "123456789012" not in str(notes[1].params)
