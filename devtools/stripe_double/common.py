"""Constants, the error type and small parameter helpers shared by the double's modules."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

API_VERSION = "2025-10-29.clover"
ZERO_DECIMAL = {"krw", "jpy", "vnd", "clp", "xaf", "xof", "bif", "djf", "gnf", "kmf", "mga",
                "pyg", "rwf", "ugx", "vuv", "xpf"}
# Stripe's smallest charge per currency in minor units (about US$0.50; KRW is not on Stripe's
# list, ₩700 is what a charge needs in practice) and its largest: 8 digits.
MIN_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "jpy": 50, "krw": 700}
MAX_CHARGE = 99_999_999
# Where Stripe offers connected accounts (Express, Custom, Standard). South Korea is not among
# them: an account there is refused with ``country_unsupported``.
CONNECT_COUNTRIES = frozenset({
    "AE", "AT", "AU", "BE", "BG", "BR", "CA", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI",
    "FR", "GB", "GI", "GR", "HK", "HR", "HU", "IE", "IT", "JP", "LI", "LT", "LU", "LV", "MT",
    "MX", "MY", "NL", "NO", "NZ", "PL", "PT", "RO", "SE", "SG", "SI", "SK", "TH", "US",
})
CARD_SUCCESS = "4242424242424242"
#: Paid with this card, a refund starts ``pending`` (Stripe's test card for a pending refund);
#: ``update_refund`` then moves it on.
CARD_REFUND_PENDING = "4000000000007726"
CARD_DECLINED = "4000000000000002"
CARD_INSUFFICIENT_FUNDS = "4000000000009995"
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation",
              "requires_action", "processing")
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
#: The payment method types the double accepts on a Checkout Session, and the currencies the
#: Korean wallets take (Stripe refuses a session offering them in another currency).
PAYMENT_METHOD_TYPES = ("card", "kakao_pay", "naver_pay", "kr_card", "payco", "samsung_pay")
KRW_ONLY = ("kakao_pay", "naver_pay", "kr_card", "payco", "samsung_pay")
#: How long a card authorisation (a manual-capture hold) lasts before Stripe lets it lapse.
AUTHORIZATION_WINDOW = 7 * 86400


class StripeDoubleError(Exception):
    """An API error answered in Stripe's ``{"error": {...}}`` shape."""

    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, **extra: Any):
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"type": type_, "message": message}
        if code:
            self.body["code"] = code
        if param:
            self.body["param"] = param
        self.body.update(extra)


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header value for ``payload`` (what Stripe sends)."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def missing(kind: str, obj_id: str, param: str = "id") -> StripeDoubleError:
    return StripeDoubleError(404, f"No such {kind}: '{obj_id}'", code="resource_missing",
                             param=param)


def int_param(params: dict, name: str, *, required: bool = False, minimum: int | None = None):
    value = params.get(name)
    if value in (None, ""):
        if required:
            raise StripeDoubleError(400, f"Missing required param: {name}.",
                                    code="parameter_missing", param=name)
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StripeDoubleError(400, f"Invalid integer: {value}", code="parameter_invalid_integer",
                                param=name) from None
    if minimum is not None and number < minimum:
        raise StripeDoubleError(400, f"This value must be greater than or equal to {minimum}.",
                                code="parameter_invalid_integer", param=name)
    return number


def check_charge(amount: int, currency: str, param: str) -> None:
    """Refuse an amount Stripe cannot charge, as Stripe does."""
    low = MIN_CHARGE.get(currency.lower(), 50)
    if amount < low:
        raise StripeDoubleError(
            400, f"Amount must be at least {money(low, currency)}", code="amount_too_small",
            param=param)
    if amount > MAX_CHARGE:
        raise StripeDoubleError(
            400, f"Amount must be no more than {money(MAX_CHARGE, currency)}",
            code="amount_too_large", param=param)


def required(params: dict, name: str) -> Any:
    value = params.get(name)
    if value in (None, ""):
        raise StripeDoubleError(400, f"Missing required param: {name}.",
                                code="parameter_missing", param=name)
    return value


def bool_param(params: dict, name: str) -> bool:
    """A form-encoded boolean: ``true``/``false`` (absent means false); anything else is a 400."""
    value = params.get(name)
    if value in (None, ""):
        return False
    text = str(value).lower()
    if text not in ("true", "false"):
        raise StripeDoubleError(400, f"Invalid boolean: {value}", code="parameter_invalid_boolean",
                                param=name)
    return text == "true"


def metadata(value: Any) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise StripeDoubleError(400, "Invalid object", param="metadata")
    return {k: v for k, v in value.items() if v != ""}


def truthy(value: Any) -> bool:
    return str(value).lower() == "true"


def public(obj: Any) -> Any:
    """A deep copy without the double's private ``_`` fields."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj


def money(amount: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount:,} {currency.upper()}"
    return f"{amount / 100:,.2f} {currency.upper()}"


def proportional_step(total: int, done_before: int, done_after: int, whole: int) -> int:
    """The part of ``total`` that goes with moving from ``done_before`` to ``done_after`` out of
    ``whole``: floor of the cumulative share, so the steps of a full refund add up to ``total``
    exactly (a 3,001 fee refunded in two halves gives 1,500 then 1,501)."""
    if whole <= 0:
        return 0
    return total * done_after // whole - total * done_before // whole
