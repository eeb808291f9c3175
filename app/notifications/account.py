"""Emails about the account itself, sent when accounts announce (app.accounts.signals)."""

from __future__ import annotations

from app.accounts import signals
from app.notifications.services import notify


def _verification(user, token: str, **_extra) -> None:
    notify([user], "email_verification", params={"token": token, "email": user.email})


def _signup_attempt(user, **_extra) -> None:
    notify([user], "signup_attempt", params={"email": user.email})


def register() -> None:
    signals.verification_requested.connect(_verification)
    signals.signup_attempted.connect(_signup_attempt)
