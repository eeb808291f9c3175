"""The backfill of booked time done by PostgreSQL itself (one INSERT … SELECT).

`facts.rebuild_booked` streams every booked booking through Python (~1 call of `contribution`
per booking): right for the tests and for small databases, slow for a city's million bookings.
`rebuild_booked_pg` writes exactly the same `stats_booked` rows in the database:

- each booking is cut into 15-minute steps of UTC time (every zone offset and every DST change
  in use falls on a quarter hour, so a step lies in one local hour);
- each step goes to the local (day, hour) of its first instant in the space's zone
  (`AT TIME ZONE spaces.timezone`), so an hour the clocks repeat gets the minutes of both passes
  and an hour they skip gets none, as in `facts.pieces`;
- the seconds of a booking in a local hour are summed, then floored to minutes per booking and
  hour (as `facts.pieces` does), and the hour the booking starts in counts one start.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, bindparam, delete, text

from app.bookings.states import BOOKED
from app.extensions import db
from app.stats import areas, months
from app.stats.models import BookedHour

_SELECT = """
SELECT b.space_id, p.day, p.hour, p.minutes,
       CASE WHEN p.day = (b.start_at AT TIME ZONE s.timezone)::date
             AND p.hour = extract(hour FROM b.start_at AT TIME ZONE s.timezone)
            THEN 1 ELSE 0 END AS starts
FROM bookings AS b
JOIN spaces AS s ON s.id = b.space_id
CROSS JOIN LATERAL (
    SELECT w::date AS day, extract(hour FROM w)::int AS hour,
           floor(sum(extract(epoch FROM least(g + interval '15 minutes', b.end_at)
                                        - greatest(g, b.start_at))) / 60)::int AS minutes
    FROM generate_series(date_bin('15 minutes', b.start_at, timestamptz '2000-01-01 00:00+00'),
                         b.end_at - interval '1 microsecond', interval '15 minutes') AS g
    CROSS JOIN LATERAL (SELECT date_trunc('hour', g AT TIME ZONE s.timezone) AS w) AS local
    GROUP BY 1, 2
) AS p
WHERE b.status IN :booked AND b.end_at > b.start_at {spaces}
"""

_INSERT = """
INSERT INTO stats_booked (space_id, day, hour, minutes, starts)
SELECT space_id, day, hour, sum(minutes), sum(starts)
FROM ({select}) AS pieces
GROUP BY space_id, day, hour
HAVING sum(minutes) <> 0 OR sum(starts) <> 0
"""


def rebuild_booked_pg(*, space_ids: list[int] | None = None) -> int:
    """Write `stats_booked` again from the bookings, in PostgreSQL (same rows as
    `facts.rebuild_booked`) and the areas' sums of them. Returns how many bookings it
    counted. Runs in the session's transaction; the caller commits."""
    if db.engine.dialect.name != "postgresql":
        raise RuntimeError("rebuild_booked_pg needs PostgreSQL; use facts.rebuild_booked")
    wipe = delete(BookedHour)
    params: dict = {"booked": sorted(s.value for s in BOOKED)}
    spaces = ""
    binds: list[BindParameter[Any]] = [bindparam("booked", expanding=True)]
    if space_ids is not None:
        wipe = wipe.where(BookedHour.space_id.in_(space_ids))
        spaces = "AND b.space_id IN :space_ids"
        params["space_ids"] = list(space_ids)
        binds.append(bindparam("space_ids", expanding=True))
    db.session.execute(wipe)
    db.session.execute(
        text(_INSERT.format(select=_SELECT.format(spaces=spaces))).bindparams(*binds), params
    )

    areas.rebuild_booked(None if space_ids is None else
                         set().union(*areas.areas_of(space_ids).values()))
    months.rebuild(spaces=None if space_ids is None else list(space_ids))
    count = text(
        f"SELECT count(*) FROM bookings AS b WHERE b.status IN :booked {spaces}"
    ).bindparams(*binds)
    return db.session.scalar(count, params) or 0
