"""Importing an external calendar (.ics) as closures of a space, or of every space of an
organisation.

Decisions:
- Every VEVENT inside the window becomes a closure, TRANSP:TRANSPARENT ones included: Google
  marks all-day events (public holidays, a school's vacation days) transparent by default, and
  those are exactly the days a school closes its spaces. A manager attaches a calendar *in order
  to* close the space during its events, so "free/busy" transparency is not a signal here.
- STATUS:CANCELLED events, and cancelled occurrences of a series, give no closure.
- The window is `now - 30 days .. now + 400 days` (bookings are made at most a year ahead);
  occurrences overlapping it are kept whole, older and later ones are not stored, and closures
  of this calendar that fall outside it on a re-import are removed with the rest.
- All-day events (DATE values) close whole local days in the space's zone; floating times (no
  TZID, no Z) are read in the space's zone as well; TZID (IANA or Windows names, with their
  VTIMEZONE) and UTC times are exact instants.
- An event without length (a DATE-TIME start and no end or duration) closes nothing.
- A closure is keyed by (calendar, space, UID, recurrence id). The recurrence id is "" for a
  one-off event (so moving it updates the closure) and the occurrence's RECURRENCE-ID (or its
  start, for expanded occurrences) as text for events of a series: UTC ISO for instants, the
  date for all-day events, the local ISO time for floating ones.
- Occurrences are worked out by app.calendars.expansion, within a budget of work and time.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from icalendar import Calendar
from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from app.bookings.models import Booking
from app.bookings.states import ACTIVE
from app.calendars.expansion import event_label, expand, window
from app.calendars.models import ExternalCalendar
from app.errors import ValidationFailed
from app.extensions import db
from app.spaces import signals as space_signals
from app.spaces.models import Closure, Space

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
MAX_REASON = 200
MAX_UID = 255
MAX_ERROR = 500


def too_large_message() -> str:
    return _("The calendar file is larger than %(n)d MB.", n=MAX_BYTES // (1024 * 1024))


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed.single(message)


def parse(data: bytes) -> Calendar:
    """The VCALENDAR in `data`, or ValidationFailed with a message a manager understands."""
    if not isinstance(data, bytes | bytearray):
        raise _invalid(_("The calendar file could not be read."))
    if len(data) > MAX_BYTES:
        raise _invalid(too_large_message())
    if not data.strip():
        raise _invalid(_("The calendar file is empty."))
    head = data.lstrip()[:64].upper()
    if not head.lstrip(b"\xef\xbb\xbf").startswith(b"BEGIN:VCALENDAR"):
        raise _invalid(
            _("This is not an iCalendar (.ics) file: it must start with BEGIN:VCALENDAR.")
        )
    try:
        calendar = Calendar.from_ical(bytes(data))  # type: ignore[call-overload]  # icalendar reads bytes too; its stubs say str
    except Exception as exc:  # icalendar raises ValueError, KeyError, IndexError...
        log.info("unreadable calendar: %s", exc)
        raise _invalid(
            _(
                "The calendar file is damaged or incomplete (for example a BEGIN without its "
                "END) and could not be read."
            )
        ) from exc
    if isinstance(calendar, list) or getattr(calendar, "name", None) != "VCALENDAR":
        raise _invalid(
            _("This is not an iCalendar (.ics) file: it must start with BEGIN:VCALENDAR.")
        )
    _check_events(calendar)
    return calendar


KEY_PROPERTIES = ("DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID")


def _check_events(calendar: Calendar) -> None:
    """Refuse events whose dates or repeat rules cannot be read, naming the first such event:
    importing the rest would silently leave out closures the manager expects."""
    for event in calendar.walk("VEVENT"):
        summary = event_label(event)
        for name, error in getattr(event, "errors", []) or []:
            if name in KEY_PROPERTIES:
                raise _invalid(
                    _(
                        "The event “%(event)s” has a %(property)s that cannot be read: "
                        "%(error)s",
                        event=summary,
                        property=name,
                        error=str(error)[:120],
                    )
                )
        if "DTSTART" not in event:
            raise _invalid(_("The event “%(event)s” has no start (DTSTART).", event=summary))


def _key_text(value) -> str:
    """A recurrence id as stable text."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(microsecond=0).isoformat()
        return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:64]


def _instant(value, zone: ZoneInfo) -> datetime:
    """A DTSTART/DTEND value as an aware UTC instant: dates are local midnights and floating
    times local times of `zone`."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=zone).astimezone(UTC)


class _Occurrence:
    __slots__ = ("uid", "recurrence_id", "start", "end", "reason")

    def __init__(self, uid, recurrence_id, start, end, reason):
        self.uid = uid
        self.recurrence_id = recurrence_id
        self.start = start
        self.end = end
        self.reason = reason


def _uid(component) -> str:
    uid = str(component.get("UID") or "").strip()
    if not uid:
        # No UID (not valid, but seen): derive a stable one from what the event says.
        basis = f"{component.get('SUMMARY', '')}|{component.get('DTSTART').to_ical()!r}"
        uid = "nouid-" + hashlib.sha256(basis.encode()).hexdigest()[:32]
    if len(uid) > MAX_UID:
        uid = "sha256-" + hashlib.sha256(uid.encode()).hexdigest()
    return uid


def _recurring_uids(calendar: Calendar) -> set[str]:
    uids = set()
    for event in calendar.walk("VEVENT"):
        if any(name in event for name in ("RRULE", "RDATE", "RECURRENCE-ID")):
            uids.add(_uid(event))
    return uids


def occurrences_for_zone(
    components: list, recurring: set[str], zone: ZoneInfo, now: datetime, fallback_reason: str
) -> dict[tuple[str, str], _Occurrence]:
    """The closures one zone's spaces get: {(uid, recurrence id): occurrence}."""
    low, high = window(now)
    result: dict[tuple[str, str], _Occurrence] = {}
    for component in components:
        if str(component.get("STATUS", "")).strip().upper() == "CANCELLED":
            continue
        dtstart = component.get("DTSTART")
        if dtstart is None:
            continue
        dtend = component.get("DTEND") or component.get("DUE")
        try:
            start = _instant(dtstart.dt, zone)
            end = _instant(dtend.dt, zone) if dtend is not None else None
            if end is None and not isinstance(dtstart.dt, datetime):
                end = _instant(dtstart.dt + timedelta(days=1), zone)
        except (OverflowError, ValueError, AttributeError):
            continue
        if end is None or end <= start or end <= low or start >= high:
            continue
        uid = _uid(component)
        if uid in recurring:
            rid = component.get("RECURRENCE-ID")
            recurrence_id = _key_text(rid.dt if rid is not None else dtstart.dt)
        else:
            recurrence_id = ""
        reason = " ".join(str(component.get("SUMMARY", "")).split()) or fallback_reason
        key = (uid, recurrence_id)
        if key not in result:  # a duplicated event (seen in exports): the first one counts
            result[key] = _Occurrence(uid, recurrence_id, start, end, reason[:MAX_REASON])
    return result


def target_spaces(ext: ExternalCalendar) -> list[Space]:
    if ext.space_id is not None:
        space = db.session.get(Space, ext.space_id)
        return [space] if space is not None else []
    return list(
        db.session.scalars(
            select(Space).where(Space.owner_id == ext.organisation_id).order_by(Space.id)
        )
    )


def import_calendar(ext: ExternalCalendar, data: bytes, now: datetime) -> dict:
    """Make the closures of `ext` what `data` says: add new events, update changed ones and
    delete those no longer there. Flushes, does not commit: the caller's transaction holds it
    all, and a ValidationFailed (raised before anything changes) leaves the database as it was.

    Returns {"events", "added", "updated", "removed", "collisions"}: `events` the occurrences
    found in the window, `collisions` the active bookings that overlap this calendar's closures
    (nothing is cancelled)."""
    calendar = parse(data)
    components = expand(calendar, now)
    recurring = _recurring_uids(calendar)
    spaces = [s for s in target_spaces(ext) if s is not None]
    fallback = ext.name[:MAX_REASON]

    wanted: dict[tuple[int, str, str], _Occurrence] = {}
    by_zone: dict[str, dict] = {}
    events = 0
    for space in spaces:
        if space.timezone not in by_zone:
            by_zone[space.timezone] = occurrences_for_zone(
                components, recurring, space.zone, now, fallback
            )
        found = by_zone[space.timezone]
        events = max(events, len(found))
        for (uid, rid), occurrence in found.items():
            wanted[(space.id, uid, rid)] = occurrence
    if not spaces:
        events = len(occurrences_for_zone(components, recurring, ZoneInfo("UTC"), now, fallback))

    # One import of a calendar at a time (a manager's "update now" beside `flask calendars
    # sync`): on PostgreSQL the second waits here, then sees the first one's rows.
    db.session.execute(
        select(ExternalCalendar.id).where(ExternalCalendar.id == ext.id).with_for_update()
    )
    existing = {
        (c.space_id, c.external_uid, c.recurrence_id or ""): c
        for c in db.session.scalars(
            select(Closure).where(Closure.external_calendar_id == ext.id)
        )
    }
    added = updated = removed = 0
    for key, gone in existing.items():
        if key not in wanted:
            db.session.delete(gone)
            removed += 1
    # Deletions first, so a row re-created under the same key cannot meet its old self.
    db.session.flush()
    for key, occurrence in wanted.items():
        closure = existing.get(key)
        if closure is None:
            closure = Closure(
                space_id=key[0],
                start_at=occurrence.start,
                end_at=occurrence.end,
                reason=occurrence.reason,
                created_by_id=ext.created_by_id,
                external_calendar_id=ext.id,
                external_uid=occurrence.uid,
                recurrence_id=occurrence.recurrence_id,
            )
            db.session.add(closure)
            space_signals.closure_added.send(closure)
            added += 1
        elif (closure.start_at, closure.end_at, closure.reason) != (
            occurrence.start,
            occurrence.end,
            occurrence.reason,
        ):
            closure.start_at = occurrence.start
            closure.end_at = occurrence.end
            closure.reason = occurrence.reason
            updated += 1
    db.session.flush()
    collisions = colliding_bookings(ext, now)
    result = {"events": events, "added": added, "updated": updated, "removed": removed}
    ext.last_synced_at = now
    ext.last_error = None
    ext.last_result = {**result, "collisions": len(collisions)}
    db.session.flush()
    return {**result, "collisions": collisions}


def colliding_bookings(ext: ExternalCalendar, now: datetime) -> list[Booking]:
    """Active bookings, not yet over, that overlap a closure of `ext` (each listed once)."""
    rows = db.session.scalars(
        select(Booking)
        .join(
            Closure,
            and_(
                Closure.space_id == Booking.space_id,
                Closure.start_at < Booking.end_at,
                Closure.end_at > Booking.start_at,
            ),
        )
        .where(
            Closure.external_calendar_id == ext.id,
            Booking.status.in_(ACTIVE),
            Booking.end_at > now,
        )
        .options(selectinload(Booking.user), selectinload(Booking.space))
        .order_by(Booking.start_at, Booking.id)
    ).unique()
    seen: dict[int, Booking] = {}
    for booking in rows:
        seen.setdefault(booking.id, booking)
    return list(seen.values())


def record_failure(ext: ExternalCalendar, message: str) -> None:
    """Remember why the last sync failed (the caller commits, after rolling back the import).
    `last_synced_at` and `last_result` stay those of the last sync that worked."""
    ext.last_error = message[:MAX_ERROR]
    db.session.flush()
