from flask import Blueprint

bp = Blueprint("oversight", __name__)

from app.web.oversight import routes, verifications  # noqa: E402,F401
