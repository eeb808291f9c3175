from flask import Blueprint

bp = Blueprint("accounts", __name__)

from app.web.accounts import groups, privacy, routes, verification  # noqa: E402,F401
