from flask import Blueprint

bp = Blueprint("spaces", __name__)

from app.web.spaces import challenge, quote, routes  # noqa: E402,F401
