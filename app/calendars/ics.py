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
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import gettext as _
from icalendar import Calendar, Event, Timezone, vRecur
from icalendar.parser import escape_char

from app.bookings.models import Booking
from app.bookings.states import CALLED_OFF, GRANTED, PAYMENT_STATES, STATUS_LABELS, BookingStatus
from app.spaces.availability import local_instant

PRODID = "-//Gonggan//Space bookings//KO"
# Which bookings are STATUS:CONFIRMED and which STATUS:CANCELLED; the rest are TENTATIVE.
CONFIRMED = (*GRANTED, BookingStatus.COMPLETED)
CANCELLED = (*CALLED_OFF, BookingStatus.NO_SHOW)


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
                method: str = "PUBLISH", stamp: datetime | None = None,
                series: bool = False) -> bytes:
    """A calendar of `bookings`. With `series`, the occurrences of a repeating request become
    one event with RRULE, EXDATE for the dates that do not go ahead, and RECURRENCE-ID
    overrides for dates whose state differs from the series'.

    Feeds hold thousands of events, so plain bookings are written by `FastEvents` (the same
    lines `booking_event` gives, with icalendar's own escaping and folding, at a fraction of
    the cost of building components); series and the VTIMEZONEs go through icalendar."""
    cal = new_calendar(name, method=method)
    grouped: dict[int, list[Booking]] = {}
    zones: dict[str, object] = {}
    fast = FastEvents(host, detail=detail, stamp=stamp)
    chunks: list[str] = []
    for booking in bookings:
        zones[booking.space.zone.key] = booking.space.zone
        if series and booking.series_id is not None and booking.series is not None:
            grouped.setdefault(booking.series_id, []).append(booking)
        else:
            chunks.append(fast.event(booking))
    for members in grouped.values():
        for component in series_events(members, host, detail=detail, stamp=stamp):
            chunks.append(component.to_ical().decode("utf-8"))
    timezones = [vtimezone(key) for key in sorted(zones)]
    head, _, tail = cal.to_ical().decode("utf-8").rpartition("END:VCALENDAR")
    return (head + "".join(timezones + chunks) + "END:VCALENDAR" + tail).encode("utf-8")


@lru_cache(maxsize=64)
def vtimezone(key: str) -> str:
    """The VTIMEZONE of zone `key` as text. Building it walks the zone's transitions (tens of
    milliseconds), so each zone is built once per process."""
    return Timezone.from_tzinfo(ZoneInfo(key)).to_ical().decode("utf-8")


def fold(line: str) -> str:
    """One content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 sequence,
    with its CRLF. Works on the encoded bytes: much faster than character by character."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line + "\r\n"
    parts, start, limit = [], 0, 75
    while len(data) - start > limit:
        cut = start + limit
        while data[cut] & 0xC0 == 0x80:  # a continuation byte: back off to the character
            cut -= 1
        parts.append(data[start:cut])
        start, limit = cut, 74  # continuation lines start with a space
    parts.append(data[start:])
    return "\r\n ".join(p.decode("utf-8") for p in parts) + "\r\n"


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class FastEvents:
    """VEVENT text for one booking, as `booking_event` would serialize it."""

    def __init__(self, host: str, *, detail: str, stamp: datetime | None):
        self.host = host
        self.detail = detail
        self.stamp = stamp
        self.labels = {code: str(label) for code, label in STATUS_LABELS.items()}
        self.payment_labels = {code: str(label) for code, label in PAYMENT_STATES.items()}
        self.words = {w: _(w) for w in ("Status", "People", "Requested by", "Payment")}
        self.booked = _("Booked")
        self.detail_url = url_for("bookings.detail", booking_id=0, _external=True)[:-1]

    def event(self, booking: Booking) -> str:
        zone = booking.space.zone
        tz = zone.key
        start = booking.start_at.astimezone(zone).strftime("%Y%m%dT%H%M%S")
        end = booking.end_at.astimezone(zone).strftime("%Y%m%dT%H%M%S")
        lines = [
            "BEGIN:VEVENT",
            f"UID:{escape_char(uid(booking, self.host))}",
            f"DTSTAMP:{_utc(self.stamp or booking.created_at)}",
            f"CREATED:{_utc(booking.created_at)}",
            f"DTSTART;TZID={tz}:{start}",
            f"DTEND;TZID={tz}:{end}",
            f"SEQUENCE:{booking.ics_sequence or 0}",
            f"STATUS:{ics_status(booking.status)}",
            "TRANSP:OPAQUE",
        ]
        if self.detail == "busy":
            lines += [f"SUMMARY:{escape_char(self.booked)}", "CLASS:PUBLIC"]
        else:
            space = booking.space
            label = self.labels[booking.status]
            lines.append(f"SUMMARY:{escape_char(f'{space.name} — {label}')}")
            location = ", ".join(p for p in (space.name, space.address) if p)
            lines.append(f"LOCATION:{escape_char(location)}")
            if space.latitude is not None and space.longitude is not None:
                lines.append(f"GEO:{space.latitude};{space.longitude}")
            words = self.words
            text = [booking.purpose, f"{words['Status']}: {label}",
                    f"{words['People']}: {booking.attendees}",
                    f"{words['Requested by']}: {booking.user.name}"]
            if booking.price_amount:
                text.append(f"{words['Payment']}: "
                            f"{self.payment_labels[booking.payment_status]}")
            lines.append(f"DESCRIPTION:{escape_char(chr(10).join(text))}")
            lines.append(f"URL:{self.detail_url}{booking.id}")
            lines.append("CLASS:PRIVATE")
        lines.append("END:VEVENT")
        return "".join(map(fold, lines))


def series_times(row, zone) -> list[datetime]:
    """Every start the series' rule gives, as UTC instants (wall-clock time kept in `zone`)."""
    from dateutil.rrule import rrulestr


    first = row.first_start.astimezone(zone)
    minute = first.hour * 60 + first.minute
    rule = rrulestr(row.rrule, dtstart=first.replace(tzinfo=None, hour=0, minute=0))
    return [local_instant(moment.date(), minute, zone) for moment in list(rule)[:400]]


def _export_rule(row, zone) -> vRecur:
    rule = vRecur.from_ical(row.rrule)
    if "UNTIL" in rule:  # a DATE in the stored rule; with a TZID DTSTART it must be UTC
        until = list(rule["UNTIL"])[0]
        day = until.date() if isinstance(until, datetime) else until

        rule["UNTIL"] = [local_instant(day + timedelta(days=1), 0, zone) - timedelta(seconds=1)]
    return rule


def series_events(members: list[Booking], host: str, *, detail: str = "full",
                  stamp: datetime | None = None) -> list[Event]:
    row = members[0].series
    zone = members[0].space.zone
    by_start = {b.start_at: b for b in members}
    going = [b for b in members if ics_status(b.status) != "CANCELLED"]
    master_status = "TENTATIVE" if any(ics_status(b.status) == "TENTATIVE" for b in going) \
        else "CONFIRMED"
    template = min(members, key=lambda b: b.start_at)
    master = booking_event(template, host, detail=detail, stamp=stamp)
    first = row.first_start
    length = timedelta(minutes=row.minutes)
    for key in ("uid", "dtstart", "dtend", "sequence", "status", "url"):
        master.pop(key, None)
    master.add("uid", f"series-{row.id}@{host}")
    master.add("dtstart", first.astimezone(zone))
    master.add("dtend", (first + length).astimezone(zone))
    master.add("rrule", _export_rule(row, zone))
    master.add("sequence", sum(b.ics_sequence or 0 for b in members))
    master.add("status", master_status)
    if detail != "busy":
        master.add("url", url_for("bookings.series", series_id=row.id, _external=True))
    excluded = []
    overrides = []
    for start in series_times(row, zone):
        booking = by_start.get(start)
        if booking is None or ics_status(booking.status) == "CANCELLED":
            excluded.append(start.astimezone(zone))
        elif ics_status(booking.status) != master_status:
            override = booking_event(booking, host, detail=detail, stamp=stamp)
            override.pop("uid")
            override.add("uid", f"series-{row.id}@{host}")
            override.add("recurrence-id", start.astimezone(zone))
            overrides.append(override)
    if excluded:
        master.add("exdate", excluded)
    return [master, *overrides]


def etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]
