"""Statistics downloads (issue 7): the dashboard's tables as CSV or XLSX with the dashboard's
filters, and open data — monthly figures per space and per district with small counts
suppressed — as a page of months and their files.

Whoever may see the dashboard may download its tables: admins everything, officers their
jurisdictions, managers their organisations' spaces (`queries.Scope`); anyone else gets 403.
Open data is public: anyone, logged in or not, gets every space's monthly figures with small
counts suppressed. Tables hold no personal data (names, emails); the query layer never puts
any in.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from app.extensions import db
from app.stats import exports, queries

bp = Blueprint("stats_exports", __name__)

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_YEAR = 2000


@login_required
def _logged_in() -> None:
    return None


@bp.before_request
def _login_unless_open_data():
    if request.endpoint and request.endpoint.startswith("stats_exports.open_data"):
        return None  # open data is public
    return _logged_in()


def _scope() -> queries.Scope:
    scope = queries.Scope.for_user(current_user)
    if scope is None:
        abort(403)
    return scope


def _download(data: bytes, filename: str, mimetype: str, *, public: bool = False) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _locale() -> str:
    return str(get_locale() or "ko")


# -- the dashboard's tables --------------------------------------------------------------------


def _dashboard():
    scope = _scope()
    filters, _errors = queries.parse_filters(request.args, scope)
    return filters, queries.dashboard(scope, filters).tables


def _period(filters) -> str:
    return f"{filters.first.isoformat()}_{filters.last.isoformat()}"


def about(filters) -> list[tuple[str, str]]:
    """The About sheet's lines: the period and every filter in words."""
    from app.orgs.models import Jurisdiction, Organisation
    from app.spaces.models import SPACE_TYPES, Space

    lines = [(_("Period"), _("%(first)s to %(last)s", first=filters.first.isoformat(),
                             last=filters.last.isoformat()))]
    for label, model, value in ((_("District"), Jurisdiction, filters.district_id),
                                (_("Owner"), Organisation, filters.owner_id),
                                (_("Space"), Space, filters.space_id)):
        if value is not None:
            obj = db.session.get(model, value)
            lines.append((label, obj.name if obj else str(value)))
    if filters.type is not None:
        lines.append((_("Space type"), str(SPACE_TYPES.get(filters.type, filters.type))))
    if len(lines) == 1:
        lines.append((_("Filters"), _("None: every space you may see")))
    return lines


@bp.get("/export/all.xlsx")
def export_all():
    filters, tables = _dashboard()
    data = exports.to_xlsx(list(tables.values()), about=about(filters))
    return _download(data, f"gonggan-statistics-{_period(filters)}.xlsx", XLSX)


@bp.get("/export/<name>.csv")
def export_csv(name: str):
    filters, tables = _dashboard()
    table = tables.get(name) or abort(404, _("There is no such table."))
    data = exports.to_csv(table, locale=_locale())
    return _download(data, f"gonggan-{table.name}-{_period(filters)}.csv", CSV)


@bp.get("/export/<name>.xlsx")
def export_xlsx(name: str):
    filters, tables = _dashboard()
    table = tables.get(name) or abort(404, _("There is no such table."))
    data = exports.to_xlsx([table], about=about(filters))
    return _download(data, f"gonggan-{table.name}-{_period(filters)}.xlsx", XLSX)


# -- open data ---------------------------------------------------------------------------------


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
    from app.spaces.models import Space
    from app.stats.models import BookedHour

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


def _month_or_404(raw: str) -> date:
    """A month from 2000-01 to the current one (an earlier month without bookings gives empty
    tables), else 404."""
    month = parse_month(raw)
    if month is None:
        abort(404, _("There is no month %(month)s: write a month as YYYY-MM, such as %(example)s.",
                     month=raw, example=datetime.now(queries.ZONE).strftime("%Y-%m")))
    if month > datetime.now(queries.ZONE).date():
        abort(404, _("There are no statistics for the month %(month)s yet.", month=raw))
    return month


PUBLIC = queries.Scope(everything=True)  # open data: every space, for anyone


@bp.get("/open-data")
def open_data():
    return render_template("stats/open_data.html", months=months_with_data(PUBLIC),
                           can_see_dashboard=queries.Scope.for_user(current_user) is not None)


@bp.get("/open-data/<month>.csv")
def open_data_csv(month: str):
    first = _month_or_404(month)
    table = space_table(open_tables(first, PUBLIC))
    data = exports.to_csv(table, locale=_locale())
    return _download(data, f"gonggan-open-data-{month}-{table.name}.csv", CSV, public=True)


@bp.get("/open-data/<month>.xlsx")
def open_data_xlsx(month: str):
    first = _month_or_404(month)
    data = exports.to_xlsx(open_tables(first, PUBLIC), about=open_about(first))
    return _download(data, f"gonggan-open-data-{month}.xlsx", XLSX, public=True)
