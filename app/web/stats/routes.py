"""The district office's statistics (issue 7, reworked in issue 20): an overview first (this
month so far, next month's demand, what needs attention; app.stats.overview), then one tab per
theme — plain links with their own address (`?tab=`) — each with its summary figures and, for
every table of `app.stats.queries.dashboard` it holds, a chart drawn by static/js/stats.js on
axes scaled to the data and the table itself (the accessible version, and all there is without
JavaScript).

Every page asks the query layer for everything in a fixed number of queries, whatever the
number of spaces; names for the breadcrumbs come from the same bounded choice lists the form
uses.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import format_currency, format_decimal, format_number, format_percent
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.bookings.states import BOOKED
from app.formatting import money
from app.stats import open_data as published
from app.stats import overview, queries

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
    ("bookings", _l("Number of bookings"), "int"),
    ("booked_hours", _l("Booked hours"), "hours"),
    ("open_hours", _l("Open hours"), "hours"),
    ("utilisation", _l("Utilisation"), "percent"),
    ("requests", _l("Requests made"), "int"),
    ("approved", _l("Approved"), "int"),
    ("rejected", _l("Rejected"), "int"),
    ("cancelled", _l("Cancelled"), "int"),
    ("no_show", _l("No-shows"), "int"),
    ("expired", _l("Expired"), "int"),
    ("residents", _l("Distinct people who asked"), "int"),
    ("revenue", _l("Revenue"), "money"),
    ("waived", _l("Fees waived"), "money"),
    ("refunds", _l("Refunds made"), "money"),
    ("refunds_pending", _l("Refunds in progress"), "money"),
    ("net", _l("Net revenue"), "money"),
    ("spaces", _l("Spaces"), "int"),
    ("repeat_users", _l("Repeat users"), "int"),
]

EXPORT_FORMATS = ("csv", "xlsx")


@bp.before_request
@login_required
def _logged_in() -> None:
    """Every statistics page needs a login."""


@bp.app_template_global()
def stats_counted_statuses() -> tuple[str, ...]:
    """The statuses the statistics count as bookings (the oversight index shows the same
    figure next to its per-status counts, so the two pages agree)."""
    return tuple(str(s) for s in BOOKED)


def fmt(value, kind: str) -> str:
    """A value as people read it: hours with one decimal, percent, won, thousands separators."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str) and kind not in ("text", "date"):
        return value  # a suppressed count of open data: "<5", "x"
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
    datasets = [
        {
            "label": str(c.label),
            "kind": c.kind,
            # A line chart's percent series goes on its own axis at the right.
            "axis": "y1" if kind == "line" and c.kind == "percent" and len(plotted) > 1
            else "y",
            "data": [_number(row.get(c.key)) for row in table.rows],
        }
        for c in plotted
    ]
    spec: dict[str, Any] = {
        "type": kind,
        "labels": [str(row.get(label_col.key, "")) for row in table.rows],
        "datasets": datasets,
        "percent": all(c.kind == "percent" for c in plotted),
        "money": all(c.kind == "money" for c in plotted),
    }
    if kind != "doughnut":
        # Each axis reaches a round number just above its largest value, so a 1 % line is
        # not flattened at the bottom of a 0–100 % axis; its title says the unit.
        spec["axes"] = {}
        for axis in ("y", "y1"):
            on_axis = [d for d in datasets if d["axis"] == axis]
            if not on_axis:
                continue
            top = max((v or 0.0 for d in on_axis for v in d["data"]), default=0.0)
            unit_kind = on_axis[0]["kind"]
            spec["axes"][axis] = {
                "max": nice_max(top, percent=unit_kind == "percent"),
                "title": axis_title([d["label"] for d in on_axis], unit_kind),
            }
    return spec


UNITS = {"hours": _l("hours"), "percent": "%", "money": _l("won"), "int": _l("count"),
         "minutes": _l("minutes")}


def axis_title(labels: list[str], kind: str) -> str:
    """An axis's title: what it shows and its unit, e.g. "이용률 (%)"."""
    unit = UNITS.get(kind)
    what = " · ".join(labels)
    return f"{what} ({unit})" if unit else what


def nice_max(top: float, *, percent: bool = False) -> float:
    """The smallest "nice" number (1, 2, 2.5, 5 × a power of ten) above `top` with a little
    room; percent axes (fractions) end at 100 % at most."""
    if top <= 0:
        return 1.0
    target = top * 1.05
    power = 10 ** math.floor(math.log10(target))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= target:
            value = step * power
            break
    if percent:
        value = min(value, 1.0)
    return float(round(value, 10))


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

# The tabs of the statistics pages: the overview, then one per theme with its summary figures
# and tables. Links, not scripts: every tab has its own address (`?tab=`), bookmarkable.
TABS: list[tuple[str, object]] = [
    ("overview", _l("At a glance")),
    ("usage", _l("Use and demand")),
    ("money", _l("Money")),
    ("people", _l("People and fairness")),
    ("spaces", _l("By space")),
    ("open", _l("Open data")),
]
TAB_TABLES: dict[str, tuple[str, ...]] = {
    "usage": ("trend_week", "trend_month", "heatmap", "demand", "lead_times", "reasons"),
    "money": ("money",),
    "people": ("people", "residency", "purposes", "lottery"),
    "spaces": ("by_district", "by_owner", "by_type", "by_space", "idle"),
}
TAB_SUMMARY: dict[str, tuple[str, ...]] = {
    "usage": ("bookings", "booked_hours", "open_hours", "utilisation", "requests", "approved",
              "rejected", "cancelled", "no_show", "expired"),
    "money": ("revenue", "refunds", "refunds_pending", "net", "waived"),
    "people": ("residents", "repeat_users", "requests"),
    "spaces": ("spaces", "bookings", "booked_hours", "utilisation"),
}
# A breakdown by the level the page is already narrowed to would be one bar: left out.
NARROWED = {"by_district": "district_id", "by_owner": "owner_id", "by_type": "type"}


def _tab() -> str:
    tab = request.args.get("tab", "")
    return tab if tab in dict(TABS) else "overview"


def _sections(result, tab: str, filters) -> list[dict]:
    sections = []
    for name in TAB_TABLES.get(tab, ()):
        table = result.tables.get(name)
        if table is None:
            continue
        if name in NARROWED and (getattr(filters, NARROWED[name]) is not None
                                 or filters.space_id is not None) and len(table.rows) <= 1:
            continue
        if filters.space_id is not None and name in ("by_space", "idle"):
            continue
        total = len(table.rows)
        if total > PAGE_ROWS:
            # A city has thousands of spaces: the page shows the first rows (the tables are
            # sorted), the downloads hold them all.
            table = replace(table, rows=table.rows[:PAGE_ROWS])
        # A breakdown with one group is a one-bar chart: the table says it without the chart.
        chart = None if name in NARROWED and total <= 1 else chart_spec(table)
        section: dict[str, Any] = {"table": table, "chart": chart, "total": total,
                                   "drills": [_drill_query(table, row) for row in table.rows]}
        if name == "heatmap":
            hours = [c for c in table.columns if c.key.startswith("h")]
            top = max((_number(row.get(c.key)) or 0.0 for row in table.rows for c in hours),
                      default=0.0)
            section["levels"] = [
                {c.key: heat_level(row.get(c.key), top) for c in hours} for row in table.rows
            ]
        sections.append(section)
    return sections


def _today() -> date:
    return datetime.now(queries.ZONE).date()


@bp.get("/", strict_slashes=False)
def dashboard():
    scope = queries.Scope.for_user(current_user)
    if scope is None:
        abort(403)
    tab = _tab()
    filters, errors = queries.parse_filters(request.args, scope)
    options = queries.choices(scope)
    names = {
        "district": dict(options.get("districts", [])),
        "owner": dict(options.get("owners", [])),
        "space": dict(options.get("spaces", [])),
    }
    query = _query()
    context: dict[str, Any] = {}
    if tab == "overview":
        today = _today()
        context["overview"] = overview_of(scope, filters, today)
        context["space_names"] = names["space"]
    elif tab == "open":
        month = filters.last.replace(day=1)
        if month > _today():
            month = _today().replace(day=1)
        context["open"] = published.preview(month, _today())
    else:
        result = queries.dashboard(scope, filters)
        keys = TAB_SUMMARY.get(tab, ())
        context["summary"] = result.summary
        context["summary_fields"] = [(k, label, kind) for k, label, kind in SUMMARY
                                     if k in keys and k in result.summary]
        context["sections"] = _sections(result, tab, filters)
    return render_template(
        "stats/dashboard.html",
        tab=tab,
        tabs=[{"key": key, "label": label, "query": _query(tab=None if key == "overview"
                                                           else key)} for key, label in TABS],
        filters=filters,
        errors=errors or {},
        options=options,
        crumbs=_crumbs(filters, names),
        query=query,
        tab_query=_query,
        export_formats=EXPORT_FORMATS,
        download=lambda endpoint, **values: _download(endpoint, _query(tab=None), **values),
        fmt=fmt,
        **context,
    )


def overview_of(scope, filters, today: date):
    return overview.overview(scope, filters, today, datetime.now(UTC))
