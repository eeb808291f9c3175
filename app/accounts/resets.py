"""Forgotten passwords: a single-use link by email, valid for an hour (models.PasswordReset).

Asking for a link answers the same whether or not the address has an account, and costs the
same: an email goes into the outbox either way (to an account, the link; to an address without
an active account, a note saying there is none), announced with signals.password_reset_requested
for the notifications to write. Setting a new password from the link ends every log-in of the
account: every browser (remembered ones too) and every API token.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import select, update

from app.accounts import sessions, signals
from app.accounts.models import RESET_HOURS, ApiToken, PasswordReset, User
from app.accounts.services import check_password_policy, normalise_email
from app.db import utcnow
from app.errors import ValidationFailed
from app.extensions import db


def request_reset(email: str, *, locale: str = "ko", now: datetime | None = None) -> None:
    """Send a reset link to `email` if it has an active account, else a note that it has none.
    Raises ValidationFailed only for something that is not an email address at all."""
    now = now or utcnow()
    address = normalise_email(email)
    user = db.session.scalars(select(User).where(User.email == address)).first()
    reset = None
    if user is not None and user.is_active_account:
        # A new link makes the older ones useless: only the latest email works.
        _retire(user, now)
        reset = PasswordReset(user=user, created_at=now,
                              expires_at=now + timedelta(hours=RESET_HOURS),
                              ip=request.remote_addr if has_request_context() else None)
        reset.seed()
        db.session.add(reset)
        db.session.flush()
    else:
        user = None
    signals.password_reset_requested.send(address, user=user, reset=reset,
                                          locale=locale if locale in ("ko", "en") else "ko")


def _retire(user: User, now: datetime) -> None:
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )


def find(token: str, now: datetime | None = None) -> PasswordReset | None:
    """The usable reset of this link token, or None (unknown, used, expired, closed account)."""
    now = now or utcnow()
    if not token or len(token) > 100:
        return None
    row = db.session.scalars(
        select(PasswordReset).where(PasswordReset.token_hash == PasswordReset.hash(token))
    ).first()
    if row is None or not row.usable(now) or not row.user.is_active_account:
        return None
    return row


def reset_password(token: str, new_password: str, *, now: datetime | None = None) -> User:
    """Set the account's new password from a link; every session, remembered log-in and API
    token of the account ends, and the link (with any other open one) stops working. The
    caller signs this browser in afresh."""
    now = now or utcnow()
    row = find(token, now)
    if row is None:
        raise ValidationFailed.single(invalid_link_message(), "token")
    check_password_policy(new_password, "password")
    user = row.user
    user.set_password(new_password)
    _retire(user, now)
    sessions.end_sessions(user)
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    # The person just read mail sent to the address: it is theirs.
    if user.email_verified_at is None:
        user.email_verified_at = now
    db.session.flush()
    signals.password_reset_done.send(user)
    return user


def invalid_link_message() -> str:
    return _("This password reset link does not work any more: it was used already, it is "
             "more than an hour old, or a newer link was sent. Ask for a new one.")
