"""Owners' bank accounts for settlement by transfer: who may enter, change and verify one, and
the audit of every change.

The owner's managers (manager or head of the organisation) enter the account; a platform
administrator verifies it against the owner's bankbook copy by typing the number again (the
full number is never shown on a page), and nobody verifies an account they entered. Any
change clears the verification, so a changed account is not paid before it is checked again.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from app.db import utcnow
from app.errors import NotAllowed, ValidationFailed
from app.extensions import db
from app.payments import sealed
from app.payments.settlement_models import KOREAN_BANKS, BankAccount, SettlementLog, mask

MAX_HOLDER = 60
NUMBER_DIGITS = (8, 20)  # Korean account numbers have 10 to 14 digits; leave some room


def can_see(user, organisation) -> bool:
    """The owner's managers and head, and the platform's administrators."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_admin) or user.org_roles.get(organisation.id) in ("manager", "principal")


def can_edit(user, organisation) -> bool:
    """Only the owner's own managers and head enter or change where their money goes."""
    return bool(getattr(user, "is_authenticated", False)) and user.org_roles.get(
        organisation.id) in ("manager", "principal")


def can_operate(user) -> bool:
    """Verifying accounts, issuing statements, exporting transfers, recording them: the
    platform's administrators (the platform is the merchant of record and pays out)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_admin)


def log(action: str, *, organisation_id: int | None, actor=None, statement_id=None,
        now: datetime | None = None, **detail) -> None:
    db.session.add(SettlementLog(
        organisation_id=organisation_id, statement_id=statement_id, action=action,
        actor_id=getattr(actor, "id", None), at=now or utcnow(), detail=detail,
    ))


def account_of(organisation_id: int) -> BankAccount | None:
    return db.session.scalar(
        select(BankAccount).where(BankAccount.organisation_id == organisation_id)
    )


def digits(number: str) -> str:
    """The account number as the bank reads it: digits only (people type hyphens)."""
    return re.sub(r"[\s-]", "", number or "")


def _validated(bank_code: str, number: str, holder: str) -> tuple[str, str, str]:
    errors: dict[str | None, list[str]] = {}
    if bank_code not in KOREAN_BANKS:
        errors["bank_code"] = [_("Choose the bank.")]
    number = digits(number)
    low, high = NUMBER_DIGITS
    if not number.isdigit() or not low <= len(number) <= high:
        errors["number"] = [_("Enter the account number: %(low)d to %(high)d digits.",
                              low=low, high=high)]
    holder = " ".join((holder or "").split())
    if not holder or len(holder) > MAX_HOLDER:
        errors["holder"] = [_("Enter the account holder's name as the bank has it.")]
    if errors:
        raise ValidationFailed(errors)
    return bank_code, number, holder


def set_account(organisation, actor, *, bank_code: str, number: str, holder: str,
                now: datetime | None = None) -> BankAccount:
    """Enter or change the owner's bank account (clears any verification)."""
    if not can_edit(actor, organisation):
        raise NotAllowed(_("You are not allowed to do this."))
    bank_code, number, holder = _validated(bank_code, number, holder)
    now = now or utcnow()
    account = account_of(organisation.id)
    old = None
    if account is None:
        account = BankAccount(organisation_id=organisation.id)
        db.session.add(account)
    else:
        old = {"account": account.masked, "holder": account.holder,
               "verified": account.is_verified}
        if (account.bank_code == bank_code and account.holder == holder
                and sealed.unseal(account.number_sealed) == number):
            return account  # nothing changed: keep the verification
    account.bank_code = bank_code
    account.number_sealed = sealed.seal(number)
    account.number_last4 = number[-4:]
    account.holder = holder
    account.updated_at = now
    account.updated_by_id = actor.id
    account.verified_at = None
    account.verified_by_id = None
    db.session.flush()
    log("bank_account_changed" if old else "bank_account_set", organisation_id=organisation.id,
        actor=actor, now=now, old=old,
        new={"account": mask(bank_code, number[-4:]), "holder": holder})
    return account


def verify_account(organisation, actor, *, number: str,
                   now: datetime | None = None) -> BankAccount:
    """An administrator confirms the account: the number typed from the owner's document
    must be the stored one, and the verifier must not be who entered it."""
    if not can_operate(actor):
        raise NotAllowed(_("You are not allowed to do this."))
    account = account_of(organisation.id)
    if account is None:
        raise ValidationFailed.single(_("The owner has not entered a bank account."))
    if account.updated_by_id == actor.id:
        raise NotAllowed(_("Someone other than who entered the account must verify it."))
    if sealed.unseal(account.number_sealed) != digits(number):
        raise ValidationFailed.single(
            _("The number does not match the account entered by the owner."), "number")
    now = now or utcnow()
    account.verified_at = now
    account.verified_by_id = actor.id
    log("bank_account_verified", organisation_id=organisation.id, actor=actor, now=now,
        account=account.masked, holder=account.holder)
    return account
