"""Stripe idempotency keys: `gg-<installation>-<what>`, stable across retries of one call.

The installation's random id (the `installation` table, one row written at first use) keeps
two installations on one Stripe account (staging and production, two towns) from sending the
same key for their own booking 1. A key names one request for 24 hours at Stripe: the same
key must always come with the same parameters, and an error Stripe answered (a 5xx) is
replayed for it, so a retry after such an answer uses the next `key_round`.
"""

from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.payments.models import Installation, Payment, Refund

_CACHE = "gonggan_installation_id"


def installation_id() -> str:
    """This installation's id, written at first use. Two processes starting at once both try
    the insert; the loser reads the winner's row. The process remembers its id so that a rolled
    back first insert writes the same id again rather than a new one."""
    found = db.session.scalar(select(Installation.installation_id).where(Installation.id == 1))
    if found:
        current_app.extensions[_CACHE] = found
        return found
    wanted = current_app.extensions.get(_CACHE) or secrets.token_hex(8)
    try:
        with db.session.begin_nested():
            db.session.add(Installation(id=1, installation_id=wanted))
    except IntegrityError:
        wanted = db.session.scalar(
            select(Installation.installation_id).where(Installation.id == 1)
        )
    current_app.extensions[_CACHE] = wanted
    return wanted


def key(*parts: object) -> str:
    return "-".join(["gg", installation_id(), *(str(p) for p in parts)])


def _round(n: int) -> list[str]:
    return [f"r{n}"] if n else []


def checkout(payment: Payment) -> str:
    return key("booking", payment.booking_id, "checkout", payment.attempt)


def payment_action(payment: Payment, action: str) -> str:
    return key("booking", payment.booking_id, action, payment.attempt,
               *_round(payment.key_round))


def refund(row: Refund) -> str:
    return key("refund", row.id, *_round(row.key_round))


def account(organisation_id: int, key_round: int = 0) -> str:
    return key("org", organisation_id, "account", *_round(key_round))
