"""Calendars follow bookings: every change of state bumps the booking's SEQUENCE (RFC 5545
3.8.7.4), so a calendar that already holds the event replaces it instead of keeping both."""

from app.bookings import signals


def subscribe() -> None:
    signals.booking_transitioned.connect(_transitioned)


def _transitioned(booking, **_extra) -> None:
    booking.ics_sequence = (booking.ics_sequence or 0) + 1
