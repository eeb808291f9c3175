from flask import Blueprint

bp = Blueprint("oversight", __name__)

from app.web.oversight import routes  # noqa: E402,F401
