"""Keeping the statistics' facts (app.stats.models) true.

Booked time: a booking counts while it is in a booked state (approved, confirmed, completed,
no-show: the slot was taken). When a booking enters or leaves those states, its minutes are
added to or taken from `stats_booked` in the same flush, split by the space's local day and
hour — so a booking from 23:00 to 01:00 gives an hour to each day, and a day of a DST change
counts the minutes that really passed.

Open time: for each local day, the opening hours of that weekday (wall clock in the space's
zone) minus the closures, in minutes. Written by `rebuild_open` for a range of days; closures
and changes of opening hours rewrite the days they touch (from today on for opening hours: the
past keeps the hours it had).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import portion as P
from sqlalchemy import delete, event, inspect, select

from app.accounts import signals as account_signals
from app.accounts.consents import STATISTICS
from app.bookings.models import Booking
from app.bookings.states import BOOKED
from app.extensions import db
from app.orgs.models import Jurisdiction
from app.spaces.availability import WeeklyHours, opening_intervals
from app.spaces.models import Closure, OpeningHours, Space
from app.stats import areas, events, months
from app.stats.models import BookedHour, OpenDay, add_rows

# How far ahead open time is written (the nightly job moves the horizon on).
OPEN_AHEAD_DAYS = 60


# --------------------------------------------------------------------------- pure parts
def pieces(start: datetime, end: datetime, zone: ZoneInfo) -> dict[tuple[date, int], int]:
    """Minutes of [start, end) in each (local day, local hour) of `zone`.

    Walks the local hours the booking touches; each hour is the real interval between two
    instants, so an hour the clocks repeat (DST ends) holds up to 120 minutes and one they skip
    holds none."""
    out: dict[tuple[date, int], int] = {}
    if end <= start:
        return out
    local = start.astimezone(zone)
    cursor = local.replace(minute=0, second=0, microsecond=0)
    while True:
        slot_start = cursor.astimezone(UTC)
        nxt = (cursor.replace(tzinfo=None) + timedelta(hours=1)).replace(tzinfo=zone)
        slot_end = nxt.astimezone(UTC)
        if slot_end <= slot_start:  # an hour the clocks skip: nothing passes in it
            cursor = nxt
            continue
        lo, hi = max(start, slot_start), min(end, slot_end)
        if hi > lo:
            key = (cursor.date(), cursor.hour)
            out[key] = out.get(key, 0) + int((hi - lo).total_seconds() // 60)
        if slot_end >= end:
            return out
        cursor = nxt


def open_minutes(hours: Iterable[WeeklyHours], closures: Iterable[tuple[datetime, datetime]],
                 zone: ZoneInfo, day: date) -> tuple[int, int]:
    """(open minutes, minutes closed by closures) of local `day`."""
    opened = opening_intervals(hours, zone, day, day)
    closed = P.empty()
    for start, end in closures:
        closed |= P.closedopen(start, end)
    left = opened - closed
    return _minutes(left), _minutes(opened) - _minutes(left)


def _minutes(interval: P.Interval) -> int:
    return int(sum((a.upper - a.lower).total_seconds() for a in interval if not a.empty) // 60)


# --------------------------------------------------------------------------- writing
def _upsert(rows: dict[tuple[int, date, int], tuple[int, int]], sign: int) -> None:
    """Add (sign × minutes, sign × starts) to each (space, day, hour)."""
    if not rows:
        return
    add_rows(BookedHour, [
        {"space_id": s, "day": d, "hour": h, "minutes": sign * m, "starts": sign * n}
        for (s, d, h), (m, n) in sorted(rows.items())
    ], keys=("space_id", "day", "hour"), sums=("minutes", "starts"))
    areas.add_booked(rows, sign)
    daily: dict[tuple[int, date], tuple[int, int, int, int]] = {}
    for (sid, day, _hour), (m, n) in rows.items():
        old = daily.get((sid, day), (0, 0, 0, 0))
        daily[(sid, day)] = (old[0] + sign * m, old[1] + sign * n, 0, 0)
    months.add(daily)


def contribution(space_id: int, start: datetime, end: datetime,
                 zone: ZoneInfo) -> dict[tuple[int, date, int], tuple[int, int]]:
    rows: dict[tuple[int, date, int], tuple[int, int]] = {}
    first = start.astimezone(zone)
    for (day, hour), minutes in pieces(start, end, zone).items():
        starts = 1 if (day, hour) == (first.date(), first.hour) else 0
        rows[(space_id, day, hour)] = (minutes, starts)
    return rows


def _merge(into: dict, rows: dict) -> None:
    for key, (m, n) in rows.items():
        old = into.get(key, (0, 0))
        into[key] = (old[0] + m, old[1] + n)


def _status_change(booking) -> tuple[bool, bool] | None:
    """(was booked, is booked) when this flush changes whether `booking` counts."""
    state = inspect(booking)
    now_booked = booking.status in BOOKED
    if state.pending or not state.has_identity:
        return (False, True) if now_booked else None
    hist = state.attrs.status.history
    if not hist.deleted:
        return None
    was_booked = hist.deleted[0] in BOOKED
    return (was_booked, now_booked) if was_booked != now_booked else None


_listening = False


def _consent_withdrawn(user_id: int, purposes: frozenset[str], **_kw) -> None:
    """Withdrawing consent to the statistics (or deleting the account) removes the person from
    the per-person facts at once; new requests leave them out from then on (app.stats.events)."""
    if STATISTICS in purposes:
        events.forget_person(user_id)


def register() -> None:
    global _listening
    if _listening:
        return
    _listening = True
    account_signals.consent_withdrawn.connect(_consent_withdrawn)

    @event.listens_for(db.session, "before_flush")
    def _before_flush(session, _ctx, _instances):

        _note_area_changes(session, Space, Jurisdiction)
        added: dict = {}
        removed: dict = {}
        closures = []
        rehours: set = set()
        for obj in list(session.new) + list(session.dirty) + list(session.deleted):
            if isinstance(obj, OpeningHours):
                space = obj.space
                if space is not None:
                    rehours.add(space)
        for obj in list(session.new) + list(session.dirty):
            if isinstance(obj, Booking):
                change = _status_change(obj)
                if change is None or obj.space is None:
                    continue
                rows = contribution(obj.space.id or obj.space_id, obj.start_at, obj.end_at,
                                    obj.space.zone)
                _merge(added if change[1] else removed, rows)
            elif isinstance(obj, Closure) and obj in session.new:
                closures.append(obj)
        for obj in session.deleted:
            if isinstance(obj, Closure):
                closures.append(obj)
            elif isinstance(obj, Booking) and obj.status in BOOKED and obj.space is not None:
                _merge(removed, contribution(obj.space_id, obj.start_at, obj.end_at,
                                             obj.space.zone))
        if added or removed:
            _upsert(added, 1)
            _upsert(removed, -1)
        if closures:
            session.info.setdefault("stats.closure_days", set()).update(
                _closure_days(c) for c in closures if c.space is not None
            )
        if rehours:
            session.info.setdefault("stats.rehours", set()).update(rehours)

    @event.listens_for(db.session, "after_flush_postexec")
    def _after_flush(session, _ctx):
        _apply_area_changes(session)
        touched = session.info.pop("stats.closure_days", None)
        for space_id, first, last in touched or ():
            rebuild_open(first, last, space_ids=[space_id])
        spaces = session.info.pop("stats.rehours", None)
        if spaces:
            # New hours count from today on; the past keeps the hours it had.
            today = datetime.now(UTC).date()
            ids = sorted(s.id for s in spaces if s.id is not None)
            if ids:
                rebuild_open(today - timedelta(days=1), today + timedelta(days=OPEN_AHEAD_DAYS),
                             space_ids=ids)


def _note_area_changes(session, Space, Jurisdiction) -> None:
    """Before a flush: the areas of spaces whose jurisdictions change, as they are now."""
    moved = []
    for obj in session.dirty:
        if isinstance(obj, Space) and obj.id is not None:
            if inspect(obj).attrs.jurisdictions.history.has_changes():
                moved.append(obj.id)
        elif isinstance(obj, Jurisdiction) and inspect(obj).attrs.parent_id.history.has_changes():
            session.info["stats.tree_changed"] = True
    for obj in session.deleted:
        if isinstance(obj, Jurisdiction):
            session.info["stats.tree_changed"] = True
    if moved:
        before = session.info.setdefault("stats.moved", {})
        for sid, member in areas.areas_of(moved).items():
            before.setdefault(sid, member)


def _apply_area_changes(session) -> None:
    """After the flush: sum again the areas that gained or lost spaces."""
    moved = session.info.pop("stats.moved", None)
    tree_changed = session.info.pop("stats.tree_changed", False)
    if not moved and not tree_changed:
        return
    areas.forget_tree()
    if tree_changed:
        areas.rebuild()
        return
    now = areas.areas_of(moved)
    affected = set()
    for sid, before in moved.items():
        affected |= set(before) ^ set(now.get(sid, ()))
    if affected:
        areas.rebuild(affected)


def _closure_days(closure) -> tuple[int, date, date]:
    zone = closure.space.zone
    first = closure.start_at.astimezone(zone).date()
    last = (closure.end_at - timedelta(microseconds=1)).astimezone(zone).date()
    return (closure.space.id, first, last)


def rebuild_open(first: date, last: date, *, space_ids: list[int] | None = None) -> int:
    """Write `stats_open` for every day from `first` to `last` (inclusive) for the given spaces
    (all spaces when None): opening hours minus closures. Returns the rows written."""

    query = select(Space.id, Space.timezone)
    if space_ids is not None:
        query = query.where(Space.id.in_(space_ids))
    spaces = db.session.execute(query).all()
    if not spaces:
        return 0
    ids = [s.id for s in spaces]
    hours: dict[int, list[WeeklyHours]] = defaultdict(list)
    for row in db.session.execute(
        select(OpeningHours.space_id, OpeningHours.weekday, OpeningHours.open_minute,
               OpeningHours.close_minute).where(OpeningHours.space_id.in_(ids))
    ):
        hours[row.space_id].append(WeeklyHours(row.weekday, row.open_minute, row.close_minute))
    lo = datetime.combine(first, time(), UTC) - timedelta(days=1)
    hi = datetime.combine(last, time(), UTC) + timedelta(days=2)
    closed: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for span in db.session.execute(
        select(Closure.space_id, Closure.start_at, Closure.end_at).where(
            Closure.space_id.in_(ids), Closure.start_at < hi, Closure.end_at > lo)
    ):
        closed[span.space_id].append((span.start_at, span.end_at))
    old: dict[tuple[int, date], tuple[int, int]] = {}
    if space_ids is not None:
        old = {(r.space_id, r.day): (r.open_minutes, r.closed_minutes)
               for r in db.session.execute(
                   select(OpenDay.space_id, OpenDay.day, OpenDay.open_minutes,
                          OpenDay.closed_minutes)
                   .where(OpenDay.space_id.in_(ids), OpenDay.day >= first, OpenDay.day <= last))}
    db.session.execute(
        delete(OpenDay).where(OpenDay.space_id.in_(ids), OpenDay.day >= first,
                              OpenDay.day <= last)
    )
    rows = []
    for space_id, tz in spaces:
        zone = ZoneInfo(tz)
        day = first
        while day <= last:
            opened, lost = open_minutes(hours.get(space_id, ()), closed.get(space_id, ()), zone,
                                        day)
            if opened or lost:
                rows.append({"space_id": space_id, "day": day, "open_minutes": opened,
                             "closed_minutes": lost})
            day += timedelta(days=1)
    for i in range(0, len(rows), 5000):
        db.session.execute(OpenDay.__table__.insert(), rows[i:i + 5000])
    if space_ids is None:
        areas.rebuild_open(first, last)
        months.rebuild(first, last)
    else:
        delta = {key: (-o, -c) for key, (o, c) in old.items()}
        for r in rows:
            key = (r["space_id"], r["day"])
            o, c = delta.get(key, (0, 0))
            delta[key] = (o + r["open_minutes"], c + r["closed_minutes"])
        delta = {k: v for k, v in delta.items() if v != (0, 0)}
        areas.add_open(delta)
        months.add({k: (0, 0, o, c) for k, (o, c) in delta.items()})
    return len(rows)


def rebuild_booked(*, space_ids: list[int] | None = None) -> int:
    """Write `stats_booked` again from the bookings (the backfill; changes keep it up to date
    afterwards). Streams the booked bookings; returns how many it counted."""

    zones = {sid: ZoneInfo(tz) for sid, tz in db.session.execute(select(Space.id, Space.timezone))}
    wipe = delete(BookedHour)
    query = select(Booking.space_id, Booking.start_at, Booking.end_at).where(
        Booking.status.in_(BOOKED))
    if space_ids is not None:
        wipe = wipe.where(BookedHour.space_id.in_(space_ids))
        query = query.where(Booking.space_id.in_(space_ids))
    db.session.execute(wipe)
    totals: dict = {}
    counted = 0
    for space_id, start, end in db.session.execute(query.execution_options(yield_per=5000)):
        _merge(totals, contribution(space_id, start, end, zones[space_id]))
        counted += 1
    rows = [{"space_id": s, "day": d, "hour": h, "minutes": m, "starts": n}
            for (s, d, h), (m, n) in totals.items() if m or n]
    for i in range(0, len(rows), 5000):
        db.session.execute(BookedHour.__table__.insert(), rows[i:i + 5000])
    areas.rebuild_booked(None if space_ids is None else
                         set().union(*areas.areas_of(space_ids).values()))
    months.rebuild(spaces=space_ids)
    return counted


def extend_open(today: date | None = None) -> int:
    """Write open time for the days up to OPEN_AHEAD_DAYS ahead that have none yet (the
    periodic job; each day is written once, then kept by closures and hour changes)."""
    from sqlalchemy import func

    today = today or datetime.now(UTC).date()
    horizon = today + timedelta(days=OPEN_AHEAD_DAYS)
    done = db.session.scalar(select(func.max(OpenDay.day)))
    first = today if done is None or done < today else done + timedelta(days=1)
    if first > horizon:
        return 0
    return rebuild_open(first, horizon)
