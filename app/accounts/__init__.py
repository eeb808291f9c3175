from flask import Blueprint

bp = Blueprint("accounts", __name__)

from app.accounts import group_pages, routes  # noqa: E402,F401
