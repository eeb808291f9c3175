from flask import Blueprint

bp = Blueprint("spaces", __name__)

from app.spaces import challenge_routes, routes  # noqa: E402,F401
