from flask import Blueprint

bp = Blueprint("lottery", __name__)

from app.web.lottery import routes  # noqa: E402,F401
