"""Check what the app sends Stripe against the `stripe` library's typed parameter definitions.

The library (requirements.txt) ships a TypedDict per request (`stripe.params.
PaymentIntentCaptureParams`, `stripe.params.checkout.SessionCreateParams`, ...) generated from
Stripe's API description. The double accepts more than Stripe does; this check refuses a
parameter (at any depth) or an enum value Stripe does not know, and a request to an endpoint we
have no definition for, so a misspelt or invented parameter fails the suite instead of
failing in production.
"""

from __future__ import annotations

import re
import sys
import typing
from typing import Any, ForwardRef, Literal, Union, get_args, get_origin

import stripe.params as P  # noqa: N812 - the library's own module of definitions
import stripe.params.checkout as PC  # noqa: N812
import typing_extensions
from stripe._request_options import RequestOptions

_ID = r"[^/]+"
# (method, path pattern) -> the request's definition.
ENDPOINTS: list[tuple[str, str, type]] = [
    ("POST", r"/v1/checkout/sessions", PC.SessionCreateParams),
    ("GET", rf"/v1/checkout/sessions/{_ID}", PC.SessionRetrieveParams),
    ("POST", rf"/v1/checkout/sessions/{_ID}/expire", PC.SessionExpireParams),
    ("POST", r"/v1/payment_intents", P.PaymentIntentCreateParams),
    ("GET", rf"/v1/payment_intents/{_ID}", P.PaymentIntentRetrieveParams),
    ("POST", rf"/v1/payment_intents/{_ID}/capture", P.PaymentIntentCaptureParams),
    ("POST", rf"/v1/payment_intents/{_ID}/cancel", P.PaymentIntentCancelParams),
    ("POST", rf"/v1/payment_intents/{_ID}/confirm", P.PaymentIntentConfirmParams),
    ("GET", rf"/v1/charges/{_ID}", P.ChargeRetrieveParams),
    ("POST", r"/v1/refunds", P.RefundCreateParams),
    ("GET", r"/v1/refunds", P.RefundListParams),
    ("GET", rf"/v1/refunds/{_ID}", P.RefundRetrieveParams),
    ("POST", r"/v1/accounts", P.AccountCreateParams),
    ("GET", rf"/v1/accounts/{_ID}", P.AccountRetrieveParams),
    ("POST", r"/v1/account_links", P.AccountLinkCreateParams),
    ("GET", rf"/v1/disputes/{_ID}", P.DisputeRetrieveParams),
    ("GET", rf"/v1/transfers/{_ID}", P.TransferRetrieveParams),
    ("GET", rf"/v1/application_fees/{_ID}", P.ApplicationFeeRetrieveParams),
    ("GET", rf"/v1/payouts/{_ID}", P.PayoutRetrieveParams),
    ("GET", r"/v1/events", P.EventListParams),
    ("GET", rf"/v1/events/{_ID}", P.EventRetrieveParams),
]
_OPTIONS = set(RequestOptions.__annotations__)  # request options, never form parameters


def definition(method: str, path: str) -> type | None:
    for verb, pattern, cls in ENDPOINTS:
        if verb == method and re.fullmatch(pattern, path):
            return cls
    return None


def _resolve(tp: Any, namespace: dict) -> Any:
    if isinstance(tp, str):
        tp = ForwardRef(tp)
    if isinstance(tp, ForwardRef):
        tp = eval(tp.__forward_arg__, {**vars(typing), **namespace})  # noqa: S307 - library text
    if get_origin(tp) in (typing.NotRequired, typing.Required, typing_extensions.NotRequired,
                         typing_extensions.Required):
        return _resolve(get_args(tp)[0], namespace)
    return tp


def _scalar(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _problems(value: Any, tp: Any, where: str, namespace: dict) -> list[str]:
    tp = _resolve(tp, namespace)
    if typing_extensions.is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {value!r}"]
        own = vars(sys.modules[tp.__module__])
        fields = {k: v for k, v in tp.__annotations__.items() if k not in _OPTIONS}
        found = []
        for key, item in value.items():
            if key not in fields:
                found.append(f"{where}[{key}]: Stripe knows no such parameter")
            else:
                found += _problems(item, fields[key], f"{where}[{key}]", own)
        return found
    origin, args = get_origin(tp), get_args(tp)
    if origin is Union:
        arms = [_resolve(a, namespace) for a in args]
        results = [_problems(value, arm, where, namespace) for arm in arms]
        return [] if any(not r for r in results) else min(results, key=len)
    if origin is Literal:
        return [] if _scalar(value) in {_scalar(a) for a in args} else [
            f"{where}: {value!r} is not one of {sorted(_scalar(a) for a in args)}"]
    if origin in (list, typing.List):  # noqa: UP006 - what the library's annotations use
        items = value if isinstance(value, list) else [value]
        return [p for i, item in enumerate(items)
                for p in _problems(item, args[0], f"{where}[{i}]", namespace)]
    if origin in (dict, typing.Dict):  # noqa: UP006
        return [] if isinstance(value, dict) else [f"{where}: expected a map"]
    if isinstance(value, dict | list):
        return [f"{where}: expected a value, got {value!r}"]
    return []


def problems(method: str, path: str, params: dict) -> list[str]:
    """What Stripe would refuse in one request's form parameters (empty when all is known)."""
    cls = definition(method, path)
    if cls is None:
        return [f"{method} {path}: no typed definition known (add it to ENDPOINTS)"]
    own = vars(sys.modules[cls.__module__])
    fields = {k: v for k, v in cls.__annotations__.items() if k not in _OPTIONS}
    found = []
    for key, value in params.items():
        if key not in fields:
            found.append(f"{method} {path}: {key}: Stripe knows no such parameter")
        else:
            found += [f"{method} {path}: {p}" for p in _problems(value, fields[key], key, own)]
    return found
