"""Per-space monthly sums of the facts (`stats_space_month`), and reading a period from them.

A period is cut into the whole calendar months it covers, read from `stats_space_month`, and
the (at most two) months it covers in part: their days read from `stats_booked` and
`stats_open`, or the monthly row minus the days left out when that reads fewer (`plan`) — one
statement either way. The monthly rows are kept with every change of the
facts: added to when bookings change (`add`), summed again from the days when days are
rewritten in bulk (`rebuild`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import Date, cast, delete, func, insert, literal, select, true, union_all

from app.extensions import db
from app.stats.models import BookedHour, OpenDay, SpaceMonth, add_rows


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _month_sql(column):
    if db.engine.dialect.name == "postgresql":
        return cast(func.date_trunc("month", column), Date)
    return func.date(column, "start of month")


def add(rows: dict[tuple[int, date], tuple[int, int, int, int]]) -> None:
    """Add (booked minutes, starts, open minutes, closed minutes) per (space, day)."""
    sums: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (sid, day), values in rows.items():
        acc = sums[(sid, month_of(day))]
        for i, v in enumerate(values):
            acc[i] += v
    columns = ("booked_minutes", "starts", "open_minutes", "closed_minutes")
    add_rows(SpaceMonth, [{"space_id": s, "month": m, **dict(zip(columns, v, strict=True))}
                          for (s, m), v in sorted(sums.items()) if any(v)],
             keys=("space_id", "month"), sums=columns)


def rebuild(first: date | None = None, last: date | None = None, *, spaces=None) -> None:
    """Sum the months that the days first … last touch (all when None) again from the days,
    for the spaces given (a list or subquery of ids; all when None)."""
    lo = month_of(first) if first else None
    hi = next_month(last) - timedelta(days=1) if last else None

    def within(model, column):
        clauses = [true()]
        if lo:
            clauses.append(column >= lo)
        if hi:
            clauses.append(column <= hi)
        if spaces is not None:
            clauses.append(model.space_id.in_(spaces))
        return clauses

    wipe = delete(SpaceMonth).where(*within(SpaceMonth, SpaceMonth.month))
    db.session.execute(wipe)
    zero = literal(0)
    parts = union_all(
        select(BookedHour.space_id.label("space_id"), _month_sql(BookedHour.day).label("month"),
               BookedHour.minutes.label("b"), BookedHour.starts.label("s"),
               zero.label("o"), zero.label("c"))
        .where(*within(BookedHour, BookedHour.day)),
        select(OpenDay.space_id, _month_sql(OpenDay.day), zero, zero, OpenDay.open_minutes,
               OpenDay.closed_minutes)
        .where(*within(OpenDay, OpenDay.day)),
    ).subquery()
    db.session.execute(insert(SpaceMonth).from_select(
        ["space_id", "month", "booked_minutes", "starts", "open_minutes", "closed_minutes"],
        select(parts.c.space_id, parts.c.month, func.sum(parts.c.b), func.sum(parts.c.s),
               func.sum(parts.c.o), func.sum(parts.c.c))
        .group_by(parts.c.space_id, parts.c.month)))


def plan(first: date, last: date) -> tuple[list[date], list[tuple[date, date]],
                                          list[tuple[date, date]]]:
    """How to read the days first … last: (months to add, day ranges to add, day ranges to
    take away). A month the period covers whole is read from its monthly row; one it covers in
    part is read day by day, or — when it covers most of it — as the monthly row minus the days
    it leaves out, so no more than half a month of days is read at either end."""
    months: list[date] = []
    plus: list[tuple[date, date]] = []
    minus: list[tuple[date, date]] = []
    month = month_of(first)
    while month <= last:
        end = next_month(month) - timedelta(days=1)
        a, b = max(first, month), min(last, end)
        covered, length = (b - a).days + 1, (end - month).days + 1
        if covered == length:
            months.append(month)
        elif covered <= length - covered:
            plus.append((a, b))
        else:
            months.append(month)
            if a > month:
                minus.append((month, a - timedelta(days=1)))
            if b < end:
                minus.append((b + timedelta(days=1), end))
        month = next_month(month)
    return months, plus, minus


def per_space(spaces, first: date, last: date):
    """One statement: per space, (booked minutes, starts, open minutes, closed minutes) over the
    days first … last (`spaces` a subquery of ids, None for all)."""
    from sqlalchemy import case, or_

    def among(column):
        return true() if spaces is None else column.in_(spaces)

    months, plus, minus = plan(first, last)

    def part(model, space, b, s, o, c, *where):
        return select(space.label("space_id"), b.label("b"), s.label("s"), o.label("o"),
                      c.label("c")).where(among(model.space_id), *where)

    def days(model):
        """(sign, condition) for the day rows of `model` to add or take away."""
        day = model.day
        taken = or_(*(day.between(a, b) for a, b in minus)) if minus else None
        sign = case((taken, -1), else_=1) if taken is not None else literal(1)
        return sign, or_(*(day.between(a, b) for a, b in plus + minus))

    zero = literal(0)
    parts = []
    if months:
        parts.append(part(SpaceMonth, SpaceMonth.space_id, SpaceMonth.booked_minutes,
                          SpaceMonth.starts, SpaceMonth.open_minutes, SpaceMonth.closed_minutes,
                          SpaceMonth.month.in_(months)))
    if plus or minus:
        sign, where = days(BookedHour)
        parts.append(part(BookedHour, BookedHour.space_id, sign * BookedHour.minutes,
                          sign * BookedHour.starts, zero, zero, where))
        sign, where = days(OpenDay)
        parts.append(part(OpenDay, OpenDay.space_id, zero, zero, sign * OpenDay.open_minutes,
                          sign * OpenDay.closed_minutes, where))
    u = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    return (select(u.c.space_id, func.sum(u.c.b), func.sum(u.c.s), func.sum(u.c.o),
                   func.sum(u.c.c)).group_by(u.c.space_id))
