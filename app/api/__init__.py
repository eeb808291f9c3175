from flask import Blueprint

bp = Blueprint("api", __name__)

from app.api import approvals, notifications, payments, routes, rules  # noqa: E402,F401
