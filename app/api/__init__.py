"""The JSON API (/api/v1), beside the web pages above every domain package.

Requests are parsed, and answers serialised and documented, by the marshmallow schemas of
`app.api.schemas` through flask-smorest (see docs/decisions/0008-api-schemas.md)."""

from flask import Flask
from flask_smorest import Blueprint

from app.api.parsing import Parser  # noqa: E402
from app.extensions import csrf
from app.security import limits

bp = Blueprint("api", __name__)
bp.ARGUMENTS_PARSER = Parser()

from app.api import (  # noqa: E402,F401
    approvals,
    notifications,
    organisations,
    owner,
    payments,
    privacy,
    routes,
    rules,
)


def register(app: Flask) -> None:
    """The JSON API under /api/v1: bearer tokens, no CSRF, a limit per client, and the
    OpenAPI document generated from the schemas."""
    from app.api.document import Api

    limits.api_per_client(bp)
    api = Api(app)
    api.register_blueprint(bp, url_prefix="/api/v1")
    csrf.exempt(bp)
