"""The district office's statistics dashboard (issue 7): filters, summary figures, and for every
table of `app.stats.queries.dashboard` a chart drawn by static/js/stats.js and the table itself
(the accessible version, and all there is without JavaScript).

The page asks the query layer for everything in a fixed number of queries, whatever the number
of spaces; names for the breadcrumbs come from the same bounded choice lists the form uses.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import format_currency, format_decimal, format_number, format_percent
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.formatting import money
from app.stats import queries

bp = Blueprint("stats", __name__, url_prefix="/stats")

# How each table is drawn: chart type and the columns plotted (those the table has), in order.
# Tables not named here get a bar chart of their first figure.
CHARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "by_district": ("bar", ("utilisation",)),
    "by_owner": ("bar", ("utilisation",)),
    "by_type": ("bar", ("utilisation",)),
    "by_space": ("bar", ("utilisation",)),
    "trend_week": ("line", ("booked_hours", "open_hours", "utilisation")),
    "trend_month": ("line", ("booked_hours", "open_hours", "utilisation")),
    "demand": ("bar", ("count",)),
    "reasons": ("bar", ("count",)),
    "purposes": ("doughnut", ("count",)),
    "residency": ("doughnut", ("count",)),
    "people": ("bar", ("count",)),
    "money": ("bar", ("amount",)),
    "lottery": ("bar", ("entries", "wins")),
}
# Drawn as a coloured table (accessible by itself) or only as a table.
NO_CHART = {"heatmap", "lead_times", "idle"}
NUMERIC = ("int", "hours", "percent", "money", "minutes")

SUMMARY: list[tuple[str, object, str]] = [
    ("bookings", _l("Bookings"), "int"),
    ("booked_hours", _l("Booked hours"), "hours"),
    ("open_hours", _l("Open hours"), "hours"),
    ("utilisation", _l("Utilisation"), "percent"),
    ("requests", _l("Requests"), "int"),
    ("approved", _l("Approved"), "int"),
    ("rejected", _l("Rejected"), "int"),
    ("cancelled", _l("Cancelled"), "int"),
    ("no_show", _l("No-shows"), "int"),
    ("expired", _l("Expired"), "int"),
    ("residents", _l("Residents"), "int"),
    ("revenue", _l("Revenue"), "money"),
    ("waived", _l("Fees waived"), "money"),
    ("refunds", _l("Refunds"), "money"),
]

EXPORT_FORMATS = ("csv", "xlsx")


@bp.before_request
@login_required
def _logged_in() -> None:
    """Every statistics page needs a login."""


def fmt(value, kind: str) -> str:
    """A value as people read it: hours with one decimal, percent, won, thousands separators."""
    if value is None or value == "":
        return "–"
    try:
        if kind == "int":
            return format_number(value)
        if kind == "hours":
            return format_decimal(value, "#,##0.0")
        if kind == "percent":
            return format_percent(value, "#,##0.0%")
        if kind == "money":
            return money(value) if value else format_currency(0, "KRW")
        if kind == "minutes":
            return format_number(value)
    except (TypeError, ValueError):
        pass
    return str(value)


def _number(value) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def chart_spec(table) -> dict | None:
    """The data stats.js draws for a table: labels, datasets, and how to show values."""
    if table.name in NO_CHART or not table.rows:
        return None
    kind, wanted = CHARTS.get(table.name, ("bar", ()))
    by_key = {c.key: c for c in table.columns}
    label_col = next((c for c in table.columns if c.kind in ("text", "date")), None)
    if label_col is None:
        return None
    plotted = [by_key[k] for k in wanted if k in by_key]
    if not plotted:
        plotted = [c for c in table.columns if c.kind in NUMERIC][:1]
    if not plotted:
        return None
    if kind == "doughnut":
        plotted = plotted[:1]
    if not any(_number(row.get(c.key)) for row in table.rows for c in plotted):
        return None  # nothing but zeros: the table says it better than an empty chart
    percent = [c for c in plotted if c.kind == "percent"]
    if kind == "bar" and percent and len(plotted) > 1:
        plotted = percent
    return {
        "type": kind,
        "labels": [str(row.get(label_col.key, "")) for row in table.rows],
        "datasets": [
            {
                "label": str(c.label),
                "kind": c.kind,
                # A line chart's percent series goes on its own axis at the right.
                "axis": "y1" if kind == "line" and c.kind == "percent" and len(plotted) > 1
                else "y",
                "data": [_number(row.get(c.key)) for row in table.rows],
            }
            for c in plotted
        ],
        "percent": all(c.kind == "percent" for c in plotted),
        "money": all(c.kind == "money" for c in plotted),
    }


def heat_level(value, top: float) -> int:
    """0..5: how dark a heatmap cell is, relative to the busiest hour shown."""
    v = _number(value) or 0.0
    if v <= 0 or top <= 0:
        return 0
    return min(5, 1 + int(4 * v / top + 0.5))


def _query(**changes) -> str:
    """The current query string with some arguments changed (None removes one)."""
    args = request.args.to_dict(flat=True)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    args = {k: v for k, v in args.items() if v != ""}
    return urlencode(args)


def _crumbs(filters, names: dict[str, dict]) -> list[dict]:
    """The drill path: all spaces › district › owner › space, each linking back up to itself
    (with the period and type kept, and everything below it dropped)."""
    levels = [("district", filters.district_id, _l("District")),
              ("owner", filters.owner_id, _l("Owner")),
              ("space", filters.space_id, _l("Space"))]
    below = [key for key, _value, _label in levels]
    crumbs = [{"label": _l("All spaces"),
               "query": _query(**{key: None for key in below})}]
    for index, (key, value, label) in enumerate(levels):
        if value is None:
            continue
        name = names.get(key, {}).get(value) or f"#{value}"
        drop = {k: None for k in below[index + 1:]}
        crumbs.append({"label": f"{label}: {name}", "query": _query(**drop)})
    crumbs[-1]["current"] = True
    return crumbs


def _download(endpoint: str, query: str, **values) -> str:
    """A download's address (app.web.stats.exports) with the dashboard's query string."""
    return url_for(endpoint, **values) + (f"?{query}" if query else "")


def _drill_query(table, row) -> str | None:
    if not table.drill or row.get("id") is None:
        return None
    changes = {table.drill: row["id"]}
    if table.drill in ("district", "owner"):
        changes["space"] = None
    return _query(**changes)


PAGE_ROWS = 50  # rows of a table shown on the page


@bp.get("/", strict_slashes=False)
def dashboard():
    scope = queries.Scope.for_user(current_user)
    if scope is None:
        abort(403)
    filters, errors = queries.parse_filters(request.args, scope)
    result = queries.dashboard(scope, filters)
    options = queries.choices(scope)
    names = {
        "district": dict(options.get("districts", [])),
        "owner": dict(options.get("owners", [])),
        "space": dict(options.get("spaces", [])),
    }
    query = _query()
    sections = []
    for name, table in result.tables.items():
        total = len(table.rows)
        if total > PAGE_ROWS:
            # A city has thousands of spaces: the page shows the first rows (the tables are
            # sorted), the downloads hold them all.
            table = replace(table, rows=table.rows[:PAGE_ROWS])
        section: dict[str, Any] = {"table": table, "chart": chart_spec(table), "total": total,
                   "drills": [_drill_query(table, row) for row in table.rows]}
        if name == "heatmap":
            hours = [c for c in table.columns if c.key.startswith("h")]
            top = max((_number(row.get(c.key)) or 0.0 for row in table.rows for c in hours),
                      default=0.0)
            section["levels"] = [
                {c.key: heat_level(row.get(c.key), top) for c in hours} for row in table.rows
            ]
        sections.append(section)
    return render_template(
        "stats/dashboard.html",
        filters=filters,
        errors=errors or {},
        summary=result.summary,
        summary_fields=[(k, label, kind) for k, label, kind in SUMMARY if k in result.summary],
        sections=sections,
        options=options,
        crumbs=_crumbs(filters, names),
        query=query,
        export_formats=EXPORT_FORMATS,
        download=lambda endpoint, **values: _download(endpoint, query, **values),
        fmt=fmt,
    )
