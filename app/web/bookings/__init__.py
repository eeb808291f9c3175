from flask import Blueprint

bp = Blueprint("bookings", __name__)

from app.web.bookings import routes, series  # noqa: E402,F401
