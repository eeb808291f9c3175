"""Open data: a month's figures per space and district, small counts suppressed, for anyone."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.spaces.models import Space
from app.stats import exports, queries
from app.stats.models import BookedHour

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


FIRST_YEAR = 2000


def parse_month(raw: str) -> date | None:
    """The first day of a YYYY-MM month from 2000 to 2100, or None."""
    match = MONTH.match(raw or "")
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (FIRST_YEAR <= year <= 2100 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_with_data(scope: queries.Scope | None) -> list[date]:
    """Months, newest first, from the first with booked time in the scope to the current one
    (or the last with data, if earlier)."""

    query = select(func.min(BookedHour.day), func.max(BookedHour.day))
    if scope is not None and not scope.everything:
        query = query.where(BookedHour.space_id.in_(select(Space.id).where(scope.visible())))
    first, last = db.session.execute(query).one()
    if first is None:
        return []
    now = datetime.now(queries.ZONE).date()
    last = min(last, now)
    month, out = date(first.year, first.month, 1), []
    while month <= last:
        out.append(month)
        month = _next(month)
    return out[::-1]


def open_tables(month: date, scope: queries.Scope | None) -> list:
    """Open data of a month, suppressed: only public tables."""
    return [exports.suppress(t, within="district" if t.name == "open_data_spaces" else None)
            for t in queries.open_data(month, scope) if t.public]


def space_table(tables: list):
    """The per-space table of a month's open data."""
    return next((t for t in tables if t.drill == "space" or "space" in t.name), tables[0])


def open_about(month: date) -> list[tuple[str, str]]:
    return [(_("Period"), month.strftime("%Y-%m")),
            (_("Small counts"), _("Counts from 1 to 4 are shown as \"<5\", and rates beside "
                                  "them are left empty, so that no one can be recognised.")),
            (_("Hidden counts"), _("\"x\": a count hidden so that a district's total cannot "
                                   "give back a count shown as \"<5\"."))]
