"""Calendars: iCalendar (.ics) files and subscription feeds of bookings."""

from flask import Blueprint

bp = Blueprint("calendars", __name__)

from app.calendars import import_routes, routes, views  # noqa: E402,F401
