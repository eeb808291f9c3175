"""How a request is tied to a user: the session cookie for pages, a bearer token for the API."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.accounts import sessions
from app.accounts.models import ApiToken, User
from app.db import utcnow
from app.extensions import db, login_manager

login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Please log in to continue.")
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(key: str) -> User | None:
    """The session cookie (or remember-me cookie) carries a LoginSession key, not the user id."""
    return sessions.load(key)


@login_manager.request_loader
def load_user_from_token(req) -> User | None:
    """`Authorization: Bearer <token>`, accepted on the API only."""
    if not req.path.startswith("/api/"):
        return None
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = db.session.scalars(
        select(ApiToken).where(
            ApiToken.token_hash == ApiToken.hash(token.strip()), ApiToken.revoked_at.is_(None)
        )
    ).first()
    if row is None or not row.user.is_active:
        return None
    if req.method not in ("GET", "HEAD", "OPTIONS"):
        # Only write requests commit, so only they can record the use; on a read, the pending
        # UPDATE would also turn SQLite's read transaction into a write that fails under load.
        row.last_used_at = row.user.last_active_at = utcnow()
    request.environ["gonggan.token_auth"] = True
    return row.user
