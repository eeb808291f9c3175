"""Plain-dict views of the models for the JSON API.

Booking times are shown in the space's zone with their offset ("2026-12-01T18:00:00+09:00"), so a
client can show them as they are and still compare them as instants. Serializers read only what
the routes loaded eagerly: none of them runs a query per row.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import url_for

from app.bookings.models import Booking
from app.spaces.availability import Span
from app.spaces.models import OpeningHours, Space


def iso(dt: datetime | None, zone: ZoneInfo) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(zone).isoformat(timespec="seconds")


def money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


def ref(obj) -> dict | None:
    """`{"id", "name"}` of a user, an organisation or a space."""
    if obj is None:
        return None
    return {"id": obj.id, "name": obj.name}


def spans(items: list[Span], zone: ZoneInfo) -> list[dict]:
    return [{"start": iso(s.start, zone), "end": iso(s.end, zone)} for s in items]


def space_summary(space: Space, distance_km: float | None = None) -> dict:
    """A space as a search result. Needs `owner`, `jurisdictions` and `amenity_rows` loaded."""
    data = {
        "id": space.id,
        "name": space.name,
        "type": space.type,
        "owner": ref(space.owner),
        "capacity": space.capacity,
        "price_per_hour": money(space.price_per_hour, space.currency),
        "address": space.address,
        "latitude": space.latitude,
        "longitude": space.longitude,
        "timezone": space.timezone,
        "booking_mode": space.booking_mode,
        "amenities": space.amenities,
        "jurisdictions": [{"slug": j.slug, "name": j.display_name} for j in space.jurisdictions],
        "url": url_for("spaces.detail", space_id=space.id, _external=True),
    }
    if distance_km is not None:
        data["distance_km"] = distance_km
    return data


def space_detail(space: Space) -> dict:
    """A space with its rules of use. Also needs `opening_hours` loaded."""
    data = space_summary(space)
    data.update(
        description=space.description,
        published=space.published,
        min_minutes=space.min_minutes,
        max_minutes=space.max_minutes,
        buffer_minutes=space.buffer_minutes,
        opening_hours=[
            {
                "weekday": h.weekday,
                "open": OpeningHours.fmt(h.open_minute),
                "close": OpeningHours.fmt(h.close_minute),
            }
            for h in space.opening_hours
        ],
    )
    return data


def booking_json(booking: Booking) -> dict:
    """A booking with its history. Needs `space`, `user` and `transitions.actor` loaded."""
    zone = booking.space.zone
    return {
        "id": booking.id,
        "status": booking.status,
        "status_label": booking.status_label,
        "space": {**ref(booking.space), "timezone": booking.space.timezone},
        "user": ref(booking.user),
        "start": iso(booking.start_at, zone),
        "end": iso(booking.end_at, zone),
        "purpose": booking.purpose,
        "attendees": booking.attendees,
        "price": money(booking.price_amount, booking.currency),
        "created_at": iso(booking.created_at, zone),
        "decided_at": iso(booking.decided_at, zone),
        "reason": booking.reason,
        "history": [
            {
                "from": t.from_status,
                "to": t.to_status,
                "at": iso(t.at, zone),
                "actor": ref(t.actor),
                "reason": t.reason,
            }
            for t in booking.transitions
        ],
    }


def page(items: list[dict], *, page: int, per_page: int, total: int) -> dict:
    return {"items": items, "page": page, "per_page": per_page, "total": total}
