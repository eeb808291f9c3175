"""iCalendar files of bookings (RFC 5545, written with `icalendar`).

Every booking is one VEVENT with a stable UID and a SEQUENCE that grows with every change of
the booking (its number of state changes), so calendar apps update the event instead of adding
another; cancelled, rejected or expired bookings are STATUS:CANCELLED, requests TENTATIVE.
Times carry the space's TZID with its VTIMEZONE. Text is escaped and lines folded by the
library.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from icalendar import Calendar, Event

from app.bookings.models import Booking

PRODID = "-//Gonggan//Space bookings//KO"
CONFIRMED = ("approved", "confirmed", "completed")
CANCELLED = ("cancelled", "rejected", "expired", "lost", "no_show")


def ics_status(status: str) -> str:
    if status in CONFIRMED:
        return "CONFIRMED"
    if status in CANCELLED:
        return "CANCELLED"
    return "TENTATIVE"


def uid(booking: Booking, host: str) -> str:
    return f"booking-{booking.id}@{host}"


def new_calendar(name: str, *, method: str = "PUBLISH") -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    cal.add("x-wr-calname", name)
    return cal


def booking_event(booking: Booking, host: str, *, detail: str = "full",
                  stamp: datetime | None = None) -> Event:
    """The VEVENT of a booking. `detail="busy"` leaves out everything about the person and the
    purpose (public feeds)."""
    zone = booking.space.zone
    event = Event()
    event.add("uid", uid(booking, host))
    event.add("dtstamp", stamp or booking.created_at)
    event.add("created", booking.created_at)
    event.add("dtstart", booking.start_at.astimezone(zone))
    event.add("dtend", booking.end_at.astimezone(zone))
    event.add("sequence", booking.ics_sequence or 0)
    event.add("status", ics_status(booking.status))
    event.add("transp", "OPAQUE")
    if detail == "busy":
        event.add("summary", _("Booked"))
        event.add("class", "PUBLIC")
        return event
    space = booking.space
    event.add("summary", f"{space.name} — {booking.status_label}")
    event.add("location", ", ".join(p for p in (space.name, space.address) if p))
    if space.latitude is not None and space.longitude is not None:
        event.add("geo", (space.latitude, space.longitude))
    lines = [booking.purpose, f"{_('Status')}: {booking.status_label}",
             f"{_('People')}: {booking.attendees}", f"{_('Requested by')}: {booking.user.name}"]
    if booking.price_amount:
        lines.append(f"{_('Payment')}: {booking.payment_label}")
    event.add("description", "\n".join(lines))
    event.add("url", url_for("bookings.detail", booking_id=booking.id, _external=True))
    event.add("class", "PRIVATE")
    return event


def calendar_of(name: str, bookings: Iterable[Booking], host: str, *, detail: str = "full",
                method: str = "PUBLISH", stamp: datetime | None = None) -> bytes:
    cal = new_calendar(name, method=method)
    for booking in bookings:
        cal.add_component(booking_event(booking, host, detail=detail, stamp=stamp))
    cal.add_missing_timezones()
    return cal.to_ical()


def etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]
