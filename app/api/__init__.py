"""The JSON API (/api/v1), beside the web pages above every domain package."""

from flask import Blueprint, Flask

from app.extensions import csrf
from app.security import limits

bp = Blueprint("api", __name__)

from app.api import approvals, notifications, payments, routes, rules  # noqa: E402,F401


def register(app: Flask) -> None:
    """The JSON API under /api/v1: bearer tokens, no CSRF, a limit per client."""
    limits.api_per_client(bp)
    app.register_blueprint(bp, url_prefix="/api/v1")
    csrf.exempt(bp)
