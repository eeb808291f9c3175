"""Calendars: iCalendar (.ics) files and subscription feeds of bookings."""

from flask import Blueprint

bp = Blueprint("calendars", __name__)

from app.web.calendars import imports, routes, views  # noqa: E402,F401
