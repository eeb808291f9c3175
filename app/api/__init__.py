from flask import Blueprint

bp = Blueprint("api", __name__)

from app.api import approvals, routes, rules  # noqa: E402,F401
