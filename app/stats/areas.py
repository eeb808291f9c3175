"""Areas: what a whole dashboard can be about, with their own pre-summed facts.

Area 0 is every space; area *j* is jurisdiction *j* with every jurisdiction below it (a space
tagged with a district belongs to that district's area, to the city's above it and to area 0).
The per-space facts (`stats_booked`, `stats_open`) are summed per area in `stats_area_booked`
and `stats_area_open`, kept in the same transaction as the per-space ones; what happens per day
(requests, decisions, money) is summed per area in `stats_area_events` by the periodic job
(app.stats.events). A city's dashboard then reads a row per day (or per day and hour) instead
of a row per space and day.

When a space's jurisdictions or the jurisdiction tree change, the areas whose spaces changed are
summed again from the per-space facts and the bookings (`rebuild`), in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, func, insert, literal, select

from app.extensions import db
from app.orgs.models import jurisdiction_tree, with_descendants
from app.spaces.models import space_jurisdictions
from app.stats import events
from app.stats.models import (
    AREA_ALL,
    AreaBookedHour,
    AreaOpenDay,
    BookedHour,
    OpenDay,
    add_rows,
)


def _tree() -> dict[int, int | None]:
    """The jurisdiction tree, read once per transaction."""

    cache = db.session.info.get("stats.tree")
    if cache is None:
        cache = db.session.info["stats.tree"] = jurisdiction_tree()
    return cache


def forget_tree() -> None:
    db.session.info.pop("stats.tree", None)


def _up(jid: int | None, tree: dict[int, int | None]) -> set[int]:
    out: set[int] = set()
    while jid is not None and jid not in out:
        out.add(jid)
        jid = tree.get(jid)
    return out


def all_areas() -> list[int]:
    return [AREA_ALL, *sorted(_tree())]


def areas_of(space_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """The areas each space belongs to (area 0 and its jurisdictions with their ancestors)."""

    ids = sorted(set(space_ids))
    if not ids:
        return {}
    tree = _tree()
    out: dict[int, set[int]] = {sid: {AREA_ALL} for sid in ids}
    for sid, jid in db.session.execute(
        select(space_jurisdictions.c.space_id, space_jurisdictions.c.jurisdiction_id)
        .where(space_jurisdictions.c.space_id.in_(ids))
    ):
        out[sid] |= _up(jid, tree)
    return {sid: frozenset(a) for sid, a in out.items()}


def spaces_of(area_id: int):
    """A subquery of the ids of the spaces in an area; None for area 0 (every space)."""

    if area_id == AREA_ALL:
        return None
    under = with_descendants({area_id}, _tree())
    return (select(space_jurisdictions.c.space_id)
            .where(space_jurisdictions.c.jurisdiction_id.in_(sorted(under)))
            .scalar_subquery())


def area_for(scope, f) -> int | None:
    """The area a dashboard of `scope` with filters `f` covers exactly, or None when it covers
    some other set of spaces (an owner, a type, a space, or a scope of several areas)."""

    if (f.owner_id, f.type, f.space_id) != (None, None, None):
        return None
    if scope.everything:
        return AREA_ALL if f.district_id is None else f.district_id
    if scope.organisation_ids:
        return None
    tree = _tree()
    if f.district_id is not None:
        return f.district_id if f.district_id in scope.jurisdiction_ids else None
    roots = [j for j in scope.jurisdiction_ids if tree.get(j) not in scope.jurisdiction_ids]
    if len(roots) == 1 and with_descendants(set(roots), tree) == set(scope.jurisdiction_ids):
        return roots[0]
    return None


# --------------------------------------------------------------------------- writing
def add_booked(rows: dict[tuple[int, date, int], tuple[int, int]], sign: int) -> None:
    """Add per-space booked rows ((space, day, hour) → (minutes, starts)) to their areas."""
    if not rows:
        return
    member = areas_of(s for s, _d, _h in rows)
    sums: dict[tuple[int, date, int], list[int]] = defaultdict(lambda: [0, 0])
    for (sid, day, hour), (minutes, starts) in rows.items():
        for area in member.get(sid, (AREA_ALL,)):
            acc = sums[(area, day, hour)]
            acc[0] += sign * minutes
            acc[1] += sign * starts
    add_rows(AreaBookedHour, [
        {"area_id": a, "day": d, "hour": h, "minutes": m, "starts": n}
        for (a, d, h), (m, n) in sorted(sums.items())],
        keys=("area_id", "day", "hour"), sums=("minutes", "starts"))


def add_open(delta: dict[tuple[int, date], tuple[int, int]]) -> None:
    """Add per-space changes of open time ((space, day) → (open, closed)) to their areas."""
    if not delta:
        return
    member = areas_of(s for s, _d in delta)
    sums: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
    for (sid, day), (opened, closed) in delta.items():
        for area in member.get(sid, (AREA_ALL,)):
            acc = sums[(area, day)]
            acc[0] += opened
            acc[1] += closed
    add_rows(AreaOpenDay, [
        {"area_id": a, "day": d, "open_minutes": o, "closed_minutes": c}
        for (a, d), (o, c) in sorted(sums.items()) if o or c],
        keys=("area_id", "day"), sums=("open_minutes", "closed_minutes"))


def rebuild_booked(area_ids: Iterable[int] | None = None) -> None:
    """Sum `stats_booked` into `stats_area_booked` again for the given areas (all when None)."""
    ids = all_areas() if area_ids is None else sorted(set(area_ids))
    for area in ids:
        spaces = spaces_of(area)
        db.session.execute(delete(AreaBookedHour).where(AreaBookedHour.area_id == area))
        query = (select(literal(area), BookedHour.day, BookedHour.hour,
                        func.sum(BookedHour.minutes), func.sum(BookedHour.starts))
                 .group_by(BookedHour.day, BookedHour.hour))
        if spaces is not None:
            query = query.where(BookedHour.space_id.in_(spaces))
        db.session.execute(insert(AreaBookedHour).from_select(
            ["area_id", "day", "hour", "minutes", "starts"], query))


def rebuild_open(first: date | None = None, last: date | None = None,
                 area_ids: Iterable[int] | None = None) -> None:
    """Sum `stats_open` into `stats_area_open` again for the given days (all when None) and
    areas (all when None)."""
    ids = all_areas() if area_ids is None else sorted(set(area_ids))
    for area in ids:
        spaces = spaces_of(area)
        wipe = delete(AreaOpenDay).where(AreaOpenDay.area_id == area)
        query = (select(literal(area), OpenDay.day, func.sum(OpenDay.open_minutes),
                        func.sum(OpenDay.closed_minutes)).group_by(OpenDay.day))
        if first is not None:
            wipe = wipe.where(AreaOpenDay.day >= first)
            query = query.where(OpenDay.day >= first)
        if last is not None:
            wipe = wipe.where(AreaOpenDay.day <= last)
            query = query.where(OpenDay.day <= last)
        if spaces is not None:
            query = query.where(OpenDay.space_id.in_(spaces))
        db.session.execute(wipe)
        db.session.execute(insert(AreaOpenDay).from_select(
            ["area_id", "day", "open_minutes", "closed_minutes"], query))


def rebuild(area_ids: Iterable[int] | None = None) -> None:
    """Everything an area holds, summed again: booked and open time, and the events of the
    days already closed."""

    ids = None if area_ids is None else sorted(set(area_ids))
    rebuild_booked(ids)
    rebuild_open(area_ids=ids)
    events.reclose(ids)
