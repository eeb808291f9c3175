from flask import Blueprint

bp = Blueprint("api", __name__)

from app.api import approvals, payments, routes, rules  # noqa: E402,F401
