"""Payouts to owners: Stripe Connect Express accounts, onboarding links and their status.

Only for owners in a country Stripe serves (`gateway.CONNECT_COUNTRIES`); others, Korean ones
among them, are paid by the platform, which takes the payments as merchant of record."""

from __future__ import annotations

from typing import TYPE_CHECKING

import stripe
from flask_babel import get_locale
from flask_babel import gettext as _

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
    """Create the owner's Express account (once) and a fresh onboarding link to it."""
    if not can_manage_payouts(user, organisation):
        raise NotAllowed(_("You are not allowed to do this."))
    if not gateway.connect_available(organisation):
        raise InvalidTransition(not_available_message(organisation))
    client = gateway.client()
    account = payout_account(organisation.id)
    try:
        if account is None:
            params: AccountCreateParams = {
                "type": "express",
                "country": organisation.country.upper(),
                "capabilities": {"card_payments": {"requested": True},
                                 "transfers": {"requested": True}},
                "metadata": {"organisation_id": str(organisation.id)},
            }
            if organisation.contact_email:  # (stripe-python leaves out None values anyway)
                params["email"] = organisation.contact_email
            created = client.v1.accounts.create(
                params, {"idempotency_key": keys.account(organisation.id)}
            )
            account = PayoutAccount(organisation_id=organisation.id,
                                    stripe_account_id=created.id)
            db.session.add(account)
            apply_status(account, created)
            db.session.commit()
        link = client.v1.account_links.create({
            "account": account.stripe_account_id,
            "type": "account_onboarding",
            "return_url": return_url,
            "refresh_url": refresh_url,
        })
    except stripe.StripeError as exc:
        raise gateway.provider_error(exc) from exc
    return link.url


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
    try:
        apply_status(account, gateway.client().v1.accounts.retrieve(account.stripe_account_id))
    except stripe.StripeError as exc:
        raise gateway.provider_error(exc) from exc


def sync_account(data) -> PayoutAccount | None:
    account = db.session.query(PayoutAccount).filter_by(stripe_account_id=data.id).one_or_none()
    if account is not None:
        apply_status(account, data)
    return account
