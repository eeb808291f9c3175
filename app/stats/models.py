"""Pre-aggregated facts the statistics are summed from (issue 7).

`stats_booked`: booked minutes per space, local day and local hour (the space's own zone), and
how many bookings start in that hour. Kept up to date in the same transaction as every booking
change (app.stats.facts), so it never disagrees with the bookings table.

`stats_open`: minutes a space is open on a local day (opening hours minus closures), written
for the days that have passed or are coming up (`flask stats rebuild`, the nightly job, and
again for the days a closure or a change of opening hours touches).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model, db

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite


class BookedHour(Model):
    __tablename__ = "stats_booked"

    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    starts: Mapped[int] = mapped_column(Integer, default=0)


class OpenDay(Model):
    __tablename__ = "stats_open"

    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    open_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # Minutes of the opening hours that closures took away that day.
    closed_minutes: Mapped[int] = mapped_column(Integer, default=0)


# --------------------------------------------------------------------------- areas
# An *area* is what a whole dashboard can be about: every space (area 0) or a jurisdiction with
# every jurisdiction below it. The area facts below are the per-space facts summed per area, so
# the dashboard of a city (or a district) reads a row per day — or per day and hour — whatever
# the number of spaces and bookings (app.stats.areas).
AREA_ALL = 0


class AreaBookedHour(Model):
    """`stats_booked` summed per area: booked minutes and starts per local day and hour."""

    __tablename__ = "stats_area_booked"

    area_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    starts: Mapped[int] = mapped_column(Integer, default=0)


class AreaOpenDay(Model):
    """`stats_open` summed per area and local day."""

    __tablename__ = "stats_area_open"

    area_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    open_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    closed_minutes: Mapped[int] = mapped_column(BigInteger, default=0)


class AreaEvents(Model):
    """What happened per area and day (Seoul time): requests by purpose and residency,
    decisions and their reasons, lead-time histograms, lottery draws, money. Written by the
    periodic job for the days that are over (app.stats.events.close_days); the days after the
    last closed one are counted from the bookings themselves."""

    __tablename__ = "stats_area_events"

    area_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    measure: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class StatsMark(Model):
    """Named days the statistics keep: `events_closed` — the last day whose events are in
    `stats_area_events` (every day up to it is)."""

    __tablename__ = "stats_marks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date)


class SpaceMonth(Model):
    """`stats_booked` and `stats_open` summed per space and calendar month (`month` is its first
    day), so a period of many months reads a row per space and month plus the days of the
    months it only partly covers (app.stats.months)."""

    __tablename__ = "stats_space_month"

    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    booked_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    starts: Mapped[int] = mapped_column(Integer, default=0)
    open_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    closed_minutes: Mapped[int] = mapped_column(BigInteger, default=0)


class AreaPeople(Model):
    """Who asked, per area and closed day (`span` "d") and closed month (`span` "m", `day` its
    first day): requests per person and resident group (group 0: none), so distinct people and
    repeat users are counted from these rows — a row per person and month for whole months, per
    person and day for the days of months a period covers in part — instead of every booking
    (app.stats.events.people)."""

    __tablename__ = "stats_area_people"
    # Withdrawing consent to the statistics deletes a person's rows (events.forget_person).
    __table_args__ = (Index("ix_stats_area_people_user", "user_id"),)

    area_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    span: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


def add_rows(model, rows: list[dict], *, keys: tuple[str, ...], sums: tuple[str, ...]) -> None:
    """INSERT `rows` into `model`'s table; where a row with the same `keys` is there already,
    add the new row's `sums` columns to it (one statement, PostgreSQL and SQLite alike)."""
    if not rows:
        return
    table = model.__table__
    stmt: postgresql.Insert | sqlite.Insert
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        stmt = postgresql_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: table.c[c] + stmt.excluded[c] for c in sums})
    db.session.execute(stmt, rows)
