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

from datetime import date, datetime
from typing import cast

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.orgs.models import Jurisdiction, Organisation
from app.spaces.models import SPACE_TYPES, Space
from app.stats import exports, queries
from app.stats import open_data as published
from app.web.stats.routes import fmt

bp = Blueprint("stats_exports", __name__)

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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

    lines = [(_("Period"), _("%(first)s to %(last)s", first=filters.first.isoformat(),
                             last=filters.last.isoformat()))]
    for label, model, value in ((_("District"), Jurisdiction, filters.district_id),
                                (_("Owner"), Organisation, filters.owner_id),
                                (_("Space"), Space, filters.space_id)):
        if value is not None:
            # An instance of `model`; a type checker only sees the three classes' common base.
            obj = cast("Jurisdiction | Organisation | Space | None", db.session.get(model, value))
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


def _month_or_404(raw: str) -> date:
    """A month from 2000-01 to the current one (an earlier month without bookings gives empty
    tables), else 404."""
    month = published.parse_month(raw)
    if month is None:
        abort(404, _("There is no month %(month)s: write a month as YYYY-MM, such as %(example)s.",
                     month=raw, example=datetime.now(queries.ZONE).strftime("%Y-%m")))
    if month > datetime.now(queries.ZONE).date():
        abort(404, _("There are no statistics for the month %(month)s yet.", month=raw))
    return month


PUBLIC = queries.Scope(everything=True)  # open data: every space, for anyone


@bp.get("/open-data")
def open_data():
    months = published.months_with_data(PUBLIC)
    today = datetime.now(queries.ZONE).date()
    chosen = published.parse_month(request.args.get("month", ""))
    if chosen is None or chosen > today:
        chosen = months[0] if months else None  # the newest month; a bad one is ignored
    preview = published.preview(chosen) if chosen is not None else None
    return render_template("stats/open_data.html", months=months, preview=preview,
                           licence_url=published.LICENCE_URL, fmt=fmt,
                           current_month=today.replace(day=1),
                           can_see_dashboard=queries.Scope.for_user(current_user) is not None)


@bp.get("/open-data/<month>.csv")
def open_data_csv(month: str):
    first = _month_or_404(month)
    table = published.space_table(published.open_tables(first, PUBLIC))
    data = exports.to_csv(table, locale=_locale())
    return _download(data, f"gonggan-open-data-{month}-{table.name}.csv", CSV, public=True)


@bp.get("/open-data/<month>.xlsx")
def open_data_xlsx(month: str):
    first = _month_or_404(month)
    data = exports.to_xlsx(published.open_tables(first, PUBLIC), about=published.open_about(first))
    return _download(data, f"gonggan-open-data-{month}.xlsx", XLSX, public=True)
