"""API authentication: bearer tokens only.

The API is CSRF-exempt, so a browser's session (or remember-me) cookie must not count as
credentials here: every API request is authenticated from its `Authorization: Bearer` header
alone, through the token loader in `app.accounts.auth`.
"""

from __future__ import annotations

from functools import wraps

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.auth import load_user_from_token
from app.error_pages import api_error
from app.extensions import login_manager

TOKEN_FLAG = "gonggan.token_auth"


def authenticate_request() -> None:
    """Make `current_user` the token's user, or anonymous; never the session's user."""
    if request.environ.get(TOKEN_FLAG):
        return  # already resolved from the token
    user = load_user_from_token(request)
    # Flask-Login keeps the request's user on `g`; this replaces whatever the session gave.
    login_manager._update_request_context_with_user(user)


def unauthorized():
    if request.headers.get("Authorization"):
        message = _("The API token is invalid or has been revoked.")
    else:
        message = _("Send an API token in the header Authorization: Bearer <token>.")
    response, status = api_error("unauthorized", message, 401)
    response.headers["WWW-Authenticate"] = 'Bearer realm="gonggan"'
    return response, status


def token_required(view):
    """Answer 401 JSON unless the request carries a valid, unrevoked token of an active user."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return unauthorized()
        return view(*args, **kwargs)

    # Read by the OpenAPI document; `functools.wraps` carries it to the decorators above.
    wrapper.__dict__["token_required"] = True
    return wrapper
