"""Payouts to owners: Stripe Connect Express accounts, onboarding links and their status.

Only for owners in a country Stripe serves (`gateway.CONNECT_COUNTRIES`); others, Korean ones
among them, are paid by the platform, which takes the payments as merchant of record."""

from __future__ import annotations

from typing import TYPE_CHECKING

import stripe
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import utcnow
from app.errors import InvalidTransition, NotAllowed
from app.extensions import db
from app.payments import gateway, keys
from app.payments.models import PayoutAccount
from app.payments.services import payout_account

if TYPE_CHECKING:
    from stripe.params import AccountCreateParams


def can_manage_payouts(user, organisation) -> bool:
    """The owner's managers and head, and the platform's administrators."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_admin) or user.org_roles.get(organisation.id) in ("manager", "principal")


def not_available_message(organisation) -> str:
    code = (organisation.country or "").upper()
    locale = get_locale()
    name = locale.territories.get(code, code) if locale is not None else code
    return _("Stripe does not offer payout accounts to organisations in %(country)s. The "
             "platform collects the payments for your spaces and settles them with you (see "
             "the payout report).", country=f"{name} ({code})")


def onboarding_link(organisation, user, *, return_url: str, refresh_url: str) -> str:
    """Create the owner's Express account (once) and a fresh onboarding link to it.

    The account row is committed before Stripe is asked (its Stripe id empty), so a creation
    that fails (a 5xx, a timeout) is retried by the sweep — and by the next click — under the
    same idempotency key: a lost answer gets the account Stripe made the first time."""
    if not can_manage_payouts(user, organisation):
        raise NotAllowed(_("You are not allowed to do this."))
    if not gateway.connect_available(organisation):
        raise InvalidTransition(not_available_message(organisation))
    client = gateway.client()
    account = payout_account(organisation.id)
    if account is None:
        account = PayoutAccount(organisation_id=organisation.id)
        try:
            with db.session.begin_nested():
                db.session.add(account)
        except IntegrityError:  # a second click raced us: share its row
            account = payout_account(organisation.id)
            assert account is not None
        db.session.commit()
    if account.stripe_account_id is None:
        error = create_account(account)
        db.session.commit()
        if error is not None:
            raise gateway.provider_error(error) from error
    assert account.stripe_account_id is not None
    try:
        link = client.v1.account_links.create({
            "account": account.stripe_account_id,
            "type": "account_onboarding",
            "return_url": return_url,
            "refresh_url": refresh_url,
        })
    except stripe.StripeError as exc:
        raise gateway.provider_error(exc) from exc
    return link.url


def create_account(account: PayoutAccount) -> stripe.StripeError | None:
    """Ask Stripe for the Express account of a row that has none yet (the caller commits).
    Returns Stripe's error, None when the account exists. A transient error keeps the row for
    a retry with the same key (the next key round after Stripe stored a 5xx against it); a
    refusal (a country Stripe does not serve, say) removes it."""
    organisation = account.organisation
    params: AccountCreateParams = {
        "type": "express",
        "country": organisation.country.upper(),
        "capabilities": {"card_payments": {"requested": True},
                         "transfers": {"requested": True}},
        "metadata": {"organisation_id": str(organisation.id)},
    }
    if organisation.contact_email:  # (stripe-python leaves out None values anyway)
        params["email"] = organisation.contact_email
    try:
        created = gateway.client().v1.accounts.create(
            params, {"idempotency_key": keys.account(organisation.id, account.key_round)}
        )
    except stripe.StripeError as exc:
        if gateway.is_transient(exc):
            account.last_error = gateway.describe(exc)
            if gateway.key_used_up(exc):
                account.key_round += 1
        else:
            db.session.delete(account)
        return exc
    account.stripe_account_id = created.id
    account.last_error = None
    apply_status(account, created)
    return None


def retry_accounts() -> int:
    """The sweep: create the accounts whose creation did not get through. Returns how many
    now exist."""
    done = 0
    for account in db.session.scalars(
        select(PayoutAccount).where(PayoutAccount.stripe_account_id.is_(None))
        .order_by(PayoutAccount.id)
    ).all():
        done += create_account(account) is None
        db.session.commit()
    return done


def apply_status(account: PayoutAccount, data) -> None:
    requirements = data.get("requirements") or {}
    account.charges_enabled = bool(data.get("charges_enabled"))
    account.payouts_enabled = bool(data.get("payouts_enabled"))
    account.details_submitted = bool(data.get("details_submitted"))
    account.requirements = list(requirements.get("currently_due") or [])
    account.disabled_reason = requirements.get("disabled_reason")
    account.updated_at = utcnow()


def refresh(account: PayoutAccount) -> None:
    """Read the account from Stripe again (after the owner returns from onboarding)."""
    if account.stripe_account_id is None:
        return
    try:
        apply_status(account, gateway.client().v1.accounts.retrieve(account.stripe_account_id))
    except stripe.StripeError as exc:
        raise gateway.provider_error(exc) from exc


def sync_account(data) -> PayoutAccount | None:
    account = db.session.query(PayoutAccount).filter_by(stripe_account_id=data.id).one_or_none()
    if account is not None:
        apply_status(account, data)
    return account
