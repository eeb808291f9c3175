"""Emails about the account itself and group invitations, sent when accounts announce
(app.accounts.signals)."""

from __future__ import annotations

from app.accounts import signals
from app.notifications.services import email_address, notify


def _verification(user, token: str, **_extra) -> None:
    notify([user], "email_verification", params={"token": token, "email": user.email})


def _signup_attempt(user, **_extra) -> None:
    notify([user], "signup_attempt", params={"email": user.email})


def _group_invitation(invitation, *, account, params: dict, locale: str, now, **_extra) -> None:
    if account is not None:
        # Their inbox too, and the email as their settings say (none for a closed account).
        notify([account], "group_invitation", params=params, now=now)
    else:
        email_address(invitation.email, "group_invitation", params=params, locale=locale,
                      now=now)


def register() -> None:
    signals.verification_requested.connect(_verification)
    signals.signup_attempted.connect(_signup_attempt)
    signals.group_invitation_sent.connect(_group_invitation)
