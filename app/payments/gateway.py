"""The one place that talks to Stripe: a configured `stripe.StripeClient` and error mapping.

`STRIPE_API_BASE` points the real library somewhere else than api.stripe.com: the test double
in tests and in `make run` (devtools/stripe_double), so nothing reaches the internet.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import stripe
from flask import current_app
from flask_babel import gettext as _

from app.errors import DomainError

if TYPE_CHECKING:
    from stripe._base_address import BaseAddresses

log = logging.getLogger(__name__)


class PaymentsUnavailable(DomainError):
    """Online payment is not configured on this installation."""

    code = "payments_unavailable"
    status = 503


class ProviderError(DomainError):
    """Stripe could not be reached or refused the call; nothing changed on our side."""

    code = "payment_provider_error"
    status = 502


# The smallest amount Stripe charges, in minor units (about US$0.50; ₩700 for KRW).
MIN_CHARGE = {"KRW": 700, "USD": 50, "EUR": 50, "JPY": 50}


# Countries where Stripe offers Connect Express accounts (stripe.com/global; update as Stripe
# adds countries). South Korea is not among them: a Korean owner cannot be paid out through
# Stripe, so the platform takes the payment as merchant of record and settles with the owner
# itself (the payout report).
CONNECT_COUNTRIES = frozenset({
    "AE", "AT", "AU", "BE", "BG", "BR", "CA", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI",
    "FR", "GB", "GI", "GR", "HK", "HR", "HU", "IE", "IT", "JP", "LI", "LT", "LU", "LV", "MT",
    "MX", "MY", "NL", "NO", "NZ", "PL", "PT", "RO", "SE", "SG", "SI", "SK", "TH", "US",
})


def connect_available(organisation) -> bool:
    """Whether the owner can have a Stripe Connect Express account (its country)."""
    return (organisation.country or "").upper() in CONNECT_COUNTRIES


def min_charge(currency: str) -> int:
    return MIN_CHARGE.get(currency.upper(), 50)


def configured() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def test_mode() -> bool:
    """Whether payments are test payments (no real money): test keys, or the local double."""
    key = current_app.config.get("STRIPE_SECRET_KEY") or ""
    return not key.startswith("sk_live_") or bool(current_app.config.get("STRIPE_API_BASE"))


def client() -> stripe.StripeClient:
    if not configured():
        raise PaymentsUnavailable(_("Online payment is not available here. Please pay the "
                                    "facility manager directly."))
    cached = current_app.extensions.get("gonggan_stripe")
    if cached is None:
        cfg = current_app.config
        base = cfg.get("STRIPE_API_BASE")
        addresses: BaseAddresses | None = (
            {"api": base, "connect": base, "files": base} if base else None
        )
        cached = stripe.StripeClient(
            cfg["STRIPE_SECRET_KEY"],
            base_addresses=addresses,
            max_network_retries=cfg.get("STRIPE_MAX_NETWORK_RETRIES", 2),
            http_client=stripe.RequestsClient(timeout=cfg.get("STRIPE_TIMEOUT", 10)),
        )
        current_app.extensions["gonggan_stripe"] = cached
    return cached


def error_code(exc: stripe.StripeError) -> str | None:
    return getattr(exc, "code", None) or (getattr(exc, "error", None) or {}).get("code")


def is_transient(exc: Exception) -> bool:
    """Errors worth retrying later with the same idempotency key (network, 5xx, 429, 409)."""
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
        return True
    status = getattr(exc, "http_status", None)
    return status is None or status >= 500 or status in (409, 429)


def key_used_up(exc: Exception) -> bool:
    """Stripe answered with an error it stores against the idempotency key (a 5xx, replayed
    for 24 hours, or a key sent with other parameters): retrying needs a new key. A lost answer
    (no status) or a key still in progress (409) keeps it."""
    status = getattr(exc, "http_status", None)
    if status is None:
        return False
    return status >= 500 or (isinstance(exc, stripe.IdempotencyError) and status != 409)


def describe(exc: Exception) -> str:
    message = getattr(exc, "user_message", None) or str(exc) or exc.__class__.__name__
    return message[:500]


def provider_error(exc: Exception) -> ProviderError:
    log.warning("Stripe call failed: %s", exc)
    if isinstance(exc, stripe.CardError):
        return ProviderError(_("The card was declined: %(message)s", message=describe(exc)))
    return ProviderError(
        _("The payment service did not answer. Nothing was charged; please try again.")
    )
