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


def _reset_requested(address: str, *, user, reset, locale: str, **_extra) -> None:
    # An email goes out either way (same work, same answer): the link to an account, a note
    # to an address without one. Neither goes to an inbox: a reset link has no place there.
    if user is not None and reset is not None:
        email_address(user.email, "password_reset", params={"email": user.email,
                                                              "reset": reset.id},
                      locale=user.locale)
    else:
        email_address(address, "password_reset_unknown", params={"email": address},
                      locale=locale)


def _email_change_requested(user, *, new_email: str, token: str, **_extra) -> None:
    email_address(new_email, "email_change_confirm",
                  params={"email": new_email, "token": token}, locale=user.locale)
    email_address(user.email, "email_change_notice",
                  params={"email": user.email, "new": new_email, "done": False},
                  locale=user.locale)


def _email_changed(user, *, old_email: str, **_extra) -> None:
    email_address(old_email, "email_change_notice",
                  params={"email": old_email, "new": user.email, "done": True},
                  locale=user.locale)


def _claim_received(row, *, now, **_extra) -> None:
    from app.accounts.verification import officers_of

    notify(officers_of(row), "verification_received", params={
        "kind": row.kind, "category": row.category, "district": row.jurisdiction.name,
    }, now=now)


def register() -> None:
    signals.verification_requested.connect(_verification)
    signals.signup_attempted.connect(_signup_attempt)
    signals.group_invitation_sent.connect(_group_invitation)
    signals.password_reset_requested.connect(_reset_requested)
    signals.email_change_requested.connect(_email_change_requested)
    signals.email_changed.connect(_email_changed)
    signals.verification_submitted.connect(_claim_received)
