"""Jinja helpers for the notification emails: the times in `params` are ISO strings (UTC), shown
in the space's own zone; the facts of a booking as a list that the plain-text and the HTML
bodies both print."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.bookings.states import STATUS_LABELS
from app.formatting import deadline as format_deadline
from app.formatting import local, money
from app.payments.states import METHOD_LABELS, WALLET_LABELS

DEFAULT_ZONE = "Asia/Seoul"


def parse(iso) -> datetime | None:
    """An aware datetime from an ISO string (naive values are UTC); None when missing/bad."""
    if not iso:
        return None
    if isinstance(iso, datetime):
        value = iso
    else:
        try:
            value = datetime.fromisoformat(str(iso))
        except ValueError:
            return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _zone(tz) -> str:
    return str(tz) if tz else DEFAULT_ZONE


def when(iso, tz=None, fmt: str = "datetime") -> str:
    """'2026-11-25 (수) 19:00' in zone `tz` (fmt: datetime, date, time or a strftime pattern)."""
    value = parse(iso)
    if value is None:
        return ""
    try:
        return local(value, _zone(tz), fmt)
    except (KeyError, ValueError):  # an unknown zone name
        return local(value, DEFAULT_ZONE, fmt)


def deadline(iso, tz=None) -> str:
    """A deadline as app.formatting.deadline words it (the queue shows the same text): one at
    local midnight is the end of the day before ('… (금) 24:00')."""
    value = parse(iso)
    if value is None:
        return ""
    try:
        return format_deadline(value, _zone(tz))
    except (KeyError, ValueError):  # an unknown zone name
        return format_deadline(value, DEFAULT_ZONE)


def span(start_iso, end_iso, tz=None) -> str:
    """'2026-11-25 (수) 19:00–21:00'; across midnight '2026-11-25 (수) 22:00 – 2026-11-26 (목)
    01:00' (ending exactly at the next midnight: '22:00–24:00')."""
    start, end = parse(start_iso), parse(end_iso)
    if start is None:
        return when(end_iso, tz) if end is not None else ""
    if end is None:
        return when(start, tz)
    zone = _zone(tz)
    try:
        local(start, zone, "time")
    except (KeyError, ValueError):
        zone = DEFAULT_ZONE
    day = local(start, zone, "date")
    start_day = local(start, zone, "%Y-%m-%d")
    end_day = local(end, zone, "%Y-%m-%d")
    if start_day == end_day:
        return f"{day} {local(start, zone, 'time')}–{local(end, zone, 'time')}"
    if (local(end, zone, "time") == "00:00"
            and local(end - timedelta(minutes=1), zone, "%Y-%m-%d") == start_day):
        return f"{day} {local(start, zone, 'time')}–24:00"
    return f"{local(start, zone)} – {local(end, zone)}"


def status_label(status) -> str:

    return str(STATUS_LABELS.get(status, status or ""))


def method_label(method) -> str:

    # A wallet payment is announced with the wallet's name (KakaoPay), not "Card".
    return str(METHOD_LABELS.get(method) or WALLET_LABELS.get(method) or method or "")


def booking_facts(b, *, amount: bool = True, resident: bool = False) -> list[tuple[str, str]]:
    """The lines that identify a booking: space, owner, when (local time), address, purpose,
    attendees, (with `resident`) who asked and (unless `amount` is false) the price. Missing
    values are left out."""
    b = b or {}
    facts = [
        (_("Requested by"), (b.get("resident") or "") if resident else ""),
        (_("Space"), b.get("space") or ""),
        (_("Run by"), b.get("owner") or ""),
        (_("When"), span(b.get("start"), b.get("end"), b.get("tz"))
         + (f" ({b['tz']})" if b.get("tz") and b.get("tz") != DEFAULT_ZONE else "")),
        (_("Address"), b.get("address") or ""),
        (_("Purpose"), b.get("purpose") or ""),
        (_("Attendees"), str(b["attendees"]) if b.get("attendees") else ""),
    ]
    if b.get("series_id"):
        facts.append((_("Series"), _("One date of a recurring booking")))
    if amount and b.get("amount"):
        facts.append((_("Price"), money(b["amount"], b.get("currency") or "KRW")))
    return [(str(label), str(value)) for label, value in facts if value]


def facts_text(facts) -> str:
    """'Label: value' lines for the plain-text body."""
    return "\n".join(f"{label}: {value}" for label, value in facts or [])


def facts_html(facts) -> Markup:
    """A two-column table for the HTML body (values escaped)."""
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th><td>{escape(value)}</td></tr>'
        for label, value in facts or []
    )
    return Markup(f'<table class="facts">{rows}</table>') if rows else Markup("")


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        when=when, deadline=deadline, span=span, status_label=status_label,
        method_label=method_label,
        facts_text=facts_text, facts_html=facts_html,
    )
    app.jinja_env.globals.update(booking_facts=booking_facts)
