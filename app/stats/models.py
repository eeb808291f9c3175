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

from sqlalchemy import Date, ForeignKey, Integer, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class BookedHour(db.Model):
    __tablename__ = "stats_booked"

    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    starts: Mapped[int] = mapped_column(Integer, default=0)


class OpenDay(db.Model):
    __tablename__ = "stats_open"

    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    open_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # Minutes of the opening hours that closures took away that day.
    closed_minutes: Mapped[int] = mapped_column(Integer, default=0)
