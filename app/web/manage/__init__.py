from flask import Blueprint

bp = Blueprint("manage", __name__)

from app.web.manage import photos, queue, routes  # noqa: E402,F401
