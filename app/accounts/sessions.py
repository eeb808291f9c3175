"""Signed-in browsers as rows (LoginSession), so a log-in can be ended from the server.

Flask-Login keeps the row's key in the session cookie (and in the remember-me cookie): a
cookie copied before log-out stops working at log-out, a password change ends every other
browser, "log out everywhere" and deactivation end them all.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app, request, session
from flask_login import login_user, logout_user
from sqlalchemy import select, update
from ua_parser import parse as parse_user_agent

from app.accounts.models import ApiToken, LoginSession, User
from app.db import rowcount, utcnow
from app.extensions import db

KEPT_ACROSS_LOGIN = ("locale",)


def log_in(user: User, *, remember: bool = False) -> LoginSession:
    """Start a LoginSession for `user` in this browser. Everything else in the session cookie
    is dropped first (the CSRF token of the anonymous visit included), except the language."""
    config = current_app.config
    now = utcnow()
    lifetime = (
        timedelta(days=config["REMEMBER_COOKIE_DAYS"])
        if remember else timedelta(hours=config["SESSION_HOURS"])
    )
    key = secrets.token_urlsafe(32)
    row = LoginSession(
        user=user, key_hash=LoginSession.hash(key), created_at=now, expires_at=now + lifetime,
        remember=remember, ip=request.remote_addr,
        user_agent=(request.headers.get("User-Agent") or "")[:200],
    )
    db.session.add(row)
    # Activity, for the retention of inactive accounts (app.privacy.retention): a log-in also
    # lifts a warning that the account would be anonymised.
    user.last_active_at, user.retention_warned_at = now, None
    db.session.flush()
    kept = {name: session[name] for name in KEPT_ACROSS_LOGIN if name in session}
    session.clear()
    session.update(kept)
    user.login_key, user.login_session_id = key, row.id
    login_user(user, remember=remember, duration=lifetime)
    return row


def load(key: str) -> User | None:
    """The user of a live LoginSession with this key, or None (ended, expired, deactivated)."""
    if not key or len(key) > 100:
        return None
    found = db.session.execute(
        select(User, LoginSession.id)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.key_hash == LoginSession.hash(key),
            LoginSession.ended_at.is_(None),
            LoginSession.expires_at > utcnow(),
            User.is_active_account.is_(True),
        )
    ).first()
    if found is None:
        return None
    user, session_id = found
    user.login_key, user.login_session_id = key, session_id
    return user


def log_out(user: User) -> None:
    """End this browser's LoginSession and forget the cookies."""
    if user.login_session_id is not None:
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.id == user.login_session_id, LoginSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
    logout_user()


def end_sessions(user: User, *, keep_current: bool = False) -> int:
    """End `user`'s LoginSessions (all, or all but this browser's). Returns how many ended."""
    query = update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
    )
    if keep_current and user.login_session_id is not None:
        query = query.where(LoginSession.id != user.login_session_id)
    result = db.session.execute(query.values(ended_at=utcnow()))
    return rowcount(result)


def active(user: User) -> list[LoginSession]:
    """The browsers where `user` is signed in now, newest first."""
    return list(
        db.session.scalars(
            select(LoginSession)
            .where(
                LoginSession.user_id == user.id,
                LoginSession.ended_at.is_(None),
                LoginSession.expires_at > utcnow(),
            )
            .order_by(LoginSession.created_at.desc(), LoginSession.id.desc())
        )
    )


def end_one(user: User, session_id: int) -> bool:
    """End one of `user`'s own sessions (from the account page). False if there is none."""
    result = db.session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.user_id == user.id,
               LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return bool(rowcount(result))


def device_label(user_agent: str | None) -> str:
    """"Chrome · Windows" for the sessions list; empty when the browser did not say."""
    if not user_agent:
        return ""
    parsed = parse_user_agent(user_agent)
    parts = [
        part.family for part in (parsed.user_agent, parsed.os)
        if part is not None and part.family and part.family != "Other"
    ]
    return " · ".join(parts)


def deactivate(user: User) -> None:
    """Close an account for now: no log-in, every browser and API token signed out."""
    user.is_active_account = False
    end_sessions(user)
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.flush()
