"""The week grid shown on a space's page: rows of time slots, one column per day.

Pure: built from an `Availability` and optional events, no database access.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.spaces.availability import Availability, Span, WeeklyHours, local_instant


@dataclass
class Cell:
    start: datetime  # aware UTC
    end: datetime
    state: str  # free | busy | closed | past
    events: list[Any] = field(default_factory=list)


@dataclass
class Row:
    label: str  # local wall-clock time, "09:00"
    cells: list[Cell]


@dataclass
class WeekGrid:
    monday: date
    days: list[date]
    rows: list[Row]
    slot_minutes: int

    @property
    def prev_week(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def next_week(self) -> date:
        return self.monday + timedelta(days=7)

    @property
    def has_free(self) -> bool:
        return any(c.state == "free" for r in self.rows for c in r.cells)


def _within(spans: list[Span], start: datetime, end: datetime) -> bool:
    return any(s.start <= start and end <= s.end for s in spans)


def _overlaps(spans: list[Span], start: datetime, end: datetime) -> bool:
    return any(s.start < end and start < s.end for s in spans)


def build_week_grid(
    *,
    monday: date,
    zone: ZoneInfo,
    availability: Availability,
    hours: Iterable[WeeklyHours],
    now: datetime,
    slot_minutes: int = 30,
    events: Iterable[tuple[datetime, datetime, Any]] = (),
) -> WeekGrid:
    """Rows span from the earliest opening to the latest closing of the week (09–22 if none)."""
    hours = list(hours)
    first = min((h.open_minute for h in hours), default=9 * 60)
    last = max((h.close_minute for h in hours), default=22 * 60)
    first -= first % slot_minutes
    days = [monday + timedelta(days=i) for i in range(7)]
    events = list(events)
    rows: list[Row] = []
    for minute in range(first, last, slot_minutes):
        cells = []
        for day in days:
            start = local_instant(day, minute, zone)
            end = local_instant(day, minute + slot_minutes, zone)
            if _within(availability.free, start, end):
                state = "free"
            elif end <= now:
                state = "past"
            elif _overlaps(availability.busy, start, end):
                state = "busy"
            else:
                state = "closed"
            cell = Cell(start=start, end=end, state=state)
            cell.events = [payload for s, e, payload in events if s < end and start < e]
            cells.append(cell)
        rows.append(Row(label=f"{minute // 60:02d}:{minute % 60:02d}", cells=cells))
    return WeekGrid(monday=monday, days=days, rows=rows, slot_minutes=slot_minutes)


def default_week_day(today: date) -> date:
    """The day whose week a calendar opens on without a `?week=`: this week, but the next one on
    a Sunday, when what is left of this week is a few hours that notice rules mostly refuse."""
    return today + timedelta(days=1) if today.weekday() == 6 else today
