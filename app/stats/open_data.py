"""Open data: a month's figures per space and district, small counts suppressed, for anyone."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.spaces.models import Space
from app.stats import exports, queries
from app.stats.models import BookedHour
from app.stats.tables import Column

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


def is_partial(month: date, today: date | None = None) -> bool:
    """Whether the month is still in progress (its figures will change)."""
    today = today or datetime.now(queries.ZONE).date()
    return month <= today < _next(month)


STATUS = Column("month_status", _l("Month status"))


def open_tables(month: date, scope: queries.Scope | None, today: date | None = None) -> list:
    """Open data of a month, suppressed: only public tables. Every row says whether the month
    was complete when the file was made or still in progress (partial figures)."""
    status = (_("In progress (partial figures)") if is_partial(month, today)
              else _("Complete (final figures)"))
    out = []
    for t in queries.open_data(month, scope):
        if not t.public:
            continue
        t = exports.suppress(t, within="district" if t.name == "open_data_spaces" else None)
        rows = [{**row, "month_status": status} for row in t.rows]
        out.append(replace(t, columns=[*t.columns, STATUS], rows=rows))
    return out


def space_table(tables: list):
    """The per-space table of a month's open data."""
    return next((t for t in tables if t.drill == "space" or "space" in t.name), tables[0])


# What each column of the open data holds, and in what unit (the page's column guide).
GUIDE: dict[str, tuple[object, object]] = {
    "month": (_l("The calendar month the figures are about (YYYY-MM)."), ""),
    "space": (_l("The space's name."), ""),
    "owner": (_l("The organisation that runs the space."), ""),
    "district": (_l("The district (gu) the space is in."), ""),
    "type": (_l("The kind of space: gym, hall, classroom and so on."), ""),
    "spaces": (_l("Spaces counted in the district."), _l("spaces")),
    "requests": (_l("Booking requests made in the month, whatever their outcome."),
                 _l("requests")),
    "bookings": (_l("Bookings approved (or confirmed) that start in the month, including "
                    "those that took place and no-shows."), _l("bookings")),
    "booked_hours": (_l("Hours of those bookings."), _l("hours")),
    "open_hours": (_l("Hours the space was open for booking."), _l("hours")),
    "utilisation": (_l("Booked hours divided by open hours."), "%"),
    "month_status": (_l("\"Complete\" for a past month; \"In progress\" for the current "
                        "month, whose figures still change."), ""),
}

LICENCE_URL = "https://www.kogl.or.kr/info/licenseType1.do"
PREVIEW_ROWS = 10


def preview(month: date, today: date | None = None) -> dict:
    """What the open data page shows of a month: the first rows of the per-space file, the
    column guide and whether the month is still in progress."""
    tables = open_tables(month, queries.Scope(everything=True), today)
    table = space_table(tables)
    guide = [{"key": c.key, "label": c.label, "meaning": GUIDE.get(c.key, ("", ""))[0],
              "unit": GUIDE.get(c.key, ("", ""))[1]} for c in table.columns]
    return {"month": month, "table": replace(table, rows=table.rows[:PREVIEW_ROWS]),
            "total": len(table.rows), "partial": is_partial(month, today), "guide": guide}


def open_about(month: date, today: date | None = None) -> list[tuple[str, str]]:
    period = month.strftime("%Y-%m")
    if is_partial(month, today):
        period += " " + _("(in progress: partial figures, they will change)")
    return [(_("Period"), period),
            (_("Licence"), _("Korea Open Government Licence (KOGL) Type 1: free to use, "
                             "including commercially, with the source credited "
                             "(source: Gonggan). %(url)s", url=LICENCE_URL)),
            (_("Small counts"), _("Counts from 1 to 4 are shown as \"<5\", and rates beside "
                                  "them are left empty, so that no one can be recognised.")),
            (_("Hidden counts"), _("\"x\": a count hidden so that a district's total cannot "
                                   "give back a count shown as \"<5\"."))]
