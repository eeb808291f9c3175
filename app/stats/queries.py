"""The district office's statistics, by SQL aggregation.

Booked and open time are summed from the pre-aggregated facts (app.stats.models: per space,
local day and hour); demand, people and money from bookings, transitions, stages, payments and
refunds with GROUP BY. Python only folds the aggregated rows (at most one per space, per day,
per hour of a day or per group) into the tables; it never walks bookings.

Periods are local days: booked and open time by each space's own zone (the facts are kept so);
requests, decisions and money by the platform's zone (Asia/Seoul), from local midnight of the
first day to local midnight after the last.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, or_, select, text

from app.bookings.models import Booking
from app.bookings.states import BookingStatus
from app.db import MAX_DB_INT
from app.extensions import db
from app.orgs.models import Jurisdiction, Organisation, jurisdiction_tree, with_descendants
from app.payments.models import Payment, Refund
from app.payments.states import RefundStatus
from app.rules.schema import APPROVERS, PURPOSES
from app.spaces.models import SPACE_TYPES, Space, space_jurisdictions
from app.stats import areas, events, months
from app.stats.events import in_spaces as _in
from app.stats.models import AreaBookedHour, AreaOpenDay, BookedHour, OpenDay
from app.stats.tables import Column, Table

ZONE = ZoneInfo("Asia/Seoul")
DEFAULT_DAYS = 30
MAX_DAYS = 731
WEEKDAYS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))


# --------------------------------------------------------------------------- scope, filters
@dataclass(frozen=True)
class Filters:
    first: date
    last: date
    district_id: int | None = None
    owner_id: int | None = None
    type: str | None = None
    space_id: int | None = None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), ZONE)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), ZONE)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def args(self, **changes) -> dict:
        """Query-string arguments for these filters (with `changes`; None removes one)."""
        out = {"from": self.first.isoformat(), "to": self.last.isoformat(),
               "district": self.district_id, "owner": self.owner_id, "type": self.type,
               "space": self.space_id}
        out.update(changes)
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class Scope:
    """What a user may see: everything (admins), jurisdictions (officers, with every
    jurisdiction below them) and organisations (facility managers, principals, staff)."""

    everything: bool = False
    jurisdiction_ids: frozenset[int] = frozenset()
    organisation_ids: frozenset[int] = frozenset()

    @classmethod
    def for_user(cls, user) -> Scope | None:
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        if user.is_admin:
            return cls(everything=True)
        scope = cls(jurisdiction_ids=frozenset(user.officer_jurisdiction_ids),
                    organisation_ids=frozenset(user.managed_org_ids))
        return scope if scope.jurisdiction_ids or scope.organisation_ids else None

    def visible(self):
        """SQL condition on Space: the spaces of this scope."""

        if self.everything:
            return literal(True)
        clauses = []
        if self.jurisdiction_ids:
            clauses.append(Space.id.in_(
                select(space_jurisdictions.c.space_id).where(
                    space_jurisdictions.c.jurisdiction_id.in_(sorted(self.jurisdiction_ids)))
            ))
        if self.organisation_ids:
            clauses.append(Space.owner_id.in_(sorted(self.organisation_ids)))
        return or_(*clauses)

    def space_ids(self, f: Filters):
        """A subquery of the ids of the spaces in scope that the filters select; None when
        that is every space (admins without filters: no condition at all, see `_in`)."""

        if self.everything and (f.district_id, f.owner_id, f.type, f.space_id) == (None,) * 4:
            return None
        query = select(Space.id).where(self.visible())
        if f.district_id is not None:
            under = with_descendants({f.district_id}, jurisdiction_tree())
            query = query.where(Space.id.in_(
                select(space_jurisdictions.c.space_id).where(
                    space_jurisdictions.c.jurisdiction_id.in_(sorted(under)))
            ))
        if f.owner_id is not None:
            query = query.where(Space.owner_id == f.owner_id)
        if f.type is not None:
            query = query.where(Space.type == f.type)
        if f.space_id is not None:
            query = query.where(Space.id == f.space_id)
        return query.scalar_subquery()


def choices(scope: Scope) -> dict[str, list[tuple]]:
    """What the filters offer this scope: districts, owners, space types, spaces."""

    tree = jurisdiction_tree()
    jids = set(tree) if scope.everything else with_descendants(set(scope.jurisdiction_ids), tree)
    districts = []
    if jids:
        districts = [(j.id, j.name) for j in db.session.scalars(
            select(Jurisdiction).where(Jurisdiction.id.in_(sorted(jids)))
            .order_by(Jurisdiction.name))]
    visible = select(Space.id).where(scope.visible())
    owners = [(o.id, o.name) for o in db.session.scalars(
        select(Organisation).where(Organisation.id.in_(
            select(Space.owner_id).where(Space.id.in_(visible))))
        .order_by(Organisation.name))]
    spaces = [(s.id, s.name) for s in db.session.execute(
        select(Space.id, Space.name).where(scope.visible()).order_by(Space.name).limit(1000))]
    types = [(code, str(label)) for code, label in SPACE_TYPES.items()]
    return {"districts": districts, "owners": owners, "types": types, "spaces": spaces}


def _int_arg(raw: str | None):
    raw = (raw or "").strip()
    if not raw:
        return None, None
    if not raw.isdigit() or int(raw) > MAX_DB_INT:
        return None, _("Choose one from the list.")
    return int(raw), None


def parse_filters(args: Mapping, scope: Scope, today: date | None = None
                  ) -> tuple[Filters, dict[str, str]]:
    """Filters from a query string; bad values are reported per field and left out."""

    today = today or datetime.now(ZONE).date()
    errors: dict[str, str] = {}
    first, last = today - timedelta(days=DEFAULT_DAYS - 1), today
    dates = {}
    for name in ("from", "to"):
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            errors[name] = _("Enter a date such as %(example)s.", example=today.isoformat())
            continue
        if not 2000 <= value.year <= 2100:
            errors[name] = _("Enter a date between %(first)d and %(last)d.", first=2000,
                             last=2100)
            continue
        dates[name] = value
    lo, hi = dates.get("from", first), dates.get("to", last)
    if hi < lo:
        errors["to"] = _("The end of the period cannot be before its start.")
    elif (hi - lo).days + 1 > MAX_DAYS:
        errors["to"] = _("Choose a period of at most two years.")
    else:
        first, last = lo, hi

    district_id, err = _int_arg(args.get("district"))
    if err:
        errors["district"] = err
    elif district_id is not None:
        tree = jurisdiction_tree()
        allowed = set(tree) if scope.everything else with_descendants(
            set(scope.jurisdiction_ids), tree)
        if district_id not in tree:
            errors["district"] = _("Choose one from the list.")
            district_id = None
        elif district_id not in allowed and not scope.organisation_ids:
            errors["district"] = _("Choose one of your jurisdictions.")
            district_id = None
    owner_id, err = _int_arg(args.get("owner"))
    if err:
        errors["owner"] = err
    space_id, err = _int_arg(args.get("space"))
    if err:
        errors["space"] = err
    if owner_id is not None or space_id is not None:
        visible = select(Space.id, Space.owner_id).where(scope.visible())
        if owner_id is not None and db.session.scalar(
                select(func.count()).select_from(
                    visible.where(Space.owner_id == owner_id).subquery())) == 0:
            errors["owner"] = _("Choose one from the list.")
            owner_id = None
        if space_id is not None and db.session.scalar(
                select(func.count()).select_from(
                    visible.where(Space.id == space_id).subquery())) == 0:
            errors["space"] = _("Choose one from the list.")
            space_id = None
    kind = (args.get("type") or "").strip() or None
    if kind is not None and kind not in SPACE_TYPES:
        errors["type"] = _("Choose one from the list.")
        kind = None
    return Filters(first, last, district_id, owner_id, kind, space_id), errors


# --------------------------------------------------------------------------- helpers
def _hours(minutes) -> float:
    return round((minutes or 0) / 60, 1)


def _rate(part, whole) -> float | None:
    return round(part / whole, 4) if whole else None


# --------------------------------------------------------------------------- the dashboard
@dataclass
class Dashboard:
    filters: Filters
    summary: dict = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)


def dashboard(scope: Scope, f: Filters) -> Dashboard:
    _no_jit()
    spaces = scope.space_ids(f)
    area = areas.area_for(scope, f)
    out = Dashboard(filters=f)
    per_space = _space_time(spaces, f)
    _time_tables(out, per_space, spaces, f)
    _trend_tables(out, spaces, f, area)
    counted = (events.area_counts(area, f.first, f.last) if area is not None
               else events.counts(spaces, f.first, f.last))
    _demand_tables(out, counted)
    _people_tables(out, counted, events.people(spaces, f.first, f.last, area))
    _money_tables(out, counted, pending_refunds(spaces, f.start, f.end))
    return out


def _no_jit() -> None:
    """PostgreSQL's JIT compiles these short aggregate queries for longer than they run
    (about 2 s of 8 on the city-wide benchmark); off for this transaction."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


def _space_time(spaces, f: Filters) -> dict[int, dict]:
    """Per space in scope: name, owner, type, district, booked/open minutes, bookings."""

    info = {}
    for sid, name, type_, owner_id, owner in db.session.execute(
        select(Space.id, Space.name, Space.type, Space.owner_id, Organisation.name)
        .join(Organisation, Organisation.id == Space.owner_id)
        .where(_in(Space.id, spaces))
    ):
        info[sid] = {"id": sid, "name": name, "type": type_, "owner_id": owner_id,
                     "owner": owner, "district_id": None, "district": None,
                     "booked": 0, "starts": 0, "open": 0, "closed": 0}
    for sid, jid, jname in db.session.execute(
        select(space_jurisdictions.c.space_id, Jurisdiction.id, Jurisdiction.name)
        .join(Jurisdiction, Jurisdiction.id == space_jurisdictions.c.jurisdiction_id)
        .where(_in(space_jurisdictions.c.space_id, spaces), Jurisdiction.kind == "district")
    ):
        if sid in info and info[sid]["district_id"] is None:
            info[sid]["district_id"], info[sid]["district"] = jid, jname
    for sid, minutes, starts, opened, closed in db.session.execute(
            months.per_space(spaces, f.first, f.last)):
        if sid in info:
            info[sid].update(booked=int(minutes or 0), starts=int(starts or 0),
                             open=int(opened or 0), closed=int(closed or 0))
    return info


TIME_COLUMNS = [
    Column("bookings", _l("Number of bookings"), "int", count=True),
    Column("booked_hours", _l("Booked hours"), "hours"),
    Column("open_hours", _l("Open hours"), "hours"),
    Column("idle_hours", _l("Open hours nobody booked"), "hours"),
    Column("utilisation", _l("Utilisation"), "percent"),
]


def _time_row(key, label, items) -> dict:
    booked = sum(i["booked"] for i in items)
    opened = sum(i["open"] for i in items)
    return {"id": key, "name": label, "spaces": len(items),
            "bookings": sum(i["starts"] for i in items), "booked_hours": _hours(booked),
            "open_hours": _hours(opened), "idle_hours": _hours(max(0, opened - booked)),
            "utilisation": _rate(booked, opened)}


def _time_tables(out: Dashboard, per_space: dict, spaces, f: Filters) -> None:

    items = list(per_space.values())
    total = _time_row(None, "", items)
    out.summary.update(spaces=len(items), bookings=total["bookings"],
                       booked_hours=total["booked_hours"], open_hours=total["open_hours"],
                       idle_hours=total["idle_hours"], utilisation=total["utilisation"])

    def grouped(name, title, key, label, drill):
        groups = defaultdict(list)
        for i in items:
            groups[(i[key], i[label])].append(i)
        rows = [_time_row(k, lbl if lbl is not None else _("(none)"), members)
                for (k, lbl), members in groups.items()]
        rows.sort(key=lambda r: (-(r["utilisation"] or 0), str(r["name"])))
        cols = [Column("name", _l("Name")), Column("spaces", _l("Spaces"), "int"),
                *TIME_COLUMNS]
        out.tables[name] = Table(name, title, cols, rows, drill=drill)

    type_labels = {code: str(label) for code, label in SPACE_TYPES.items()}  # once, not per space
    for i in items:
        i["type_label"] = type_labels.get(i["type"], i["type"])
    grouped("by_district", _l("Utilisation by district"), "district_id", "district",
            "district")
    grouped("by_owner", _l("Utilisation by owner"), "owner_id", "owner", "owner")
    grouped("by_type", _l("Utilisation by type of space"), "type", "type_label", None)
    rows = []
    for i in items:
        row = _time_row(i["id"], i["name"], [i])
        row.update(owner=i["owner"], type=i["type_label"], district=i["district"] or "")
        rows.append(row)
    rows.sort(key=lambda r: (-(r["utilisation"] or 0), str(r["name"])))
    space_cols = [Column("name", _l("Space")), Column("owner", _l("Owner")),
                  Column("district", _l("District")), Column("type", _l("Type")),
                  *TIME_COLUMNS]
    out.tables["by_space"] = Table("by_space", _l("Utilisation by space"), space_cols, rows,
                                   drill="space")
    idle = sorted((r for r in rows if r["open_hours"] > 0),
                  key=lambda r: (r["utilisation"] or 0, -r["idle_hours"], str(r["name"])))[:20]
    out.tables["idle"] = Table(
        "idle", _l("Idle capacity: the least-used spaces (what to promote)"), space_cols, idle,
        drill="space")


def _trend_tables(out: Dashboard, spaces, f: Filters, area: int | None) -> None:
    """Trend by week and month and the weekday × hour heatmap, from one read of the booked
    facts grouped by local day and hour (at most 24 rows a day): the area's sums when the
    dashboard is about an area, else the spaces' facts summed."""
    booked: dict[date, int] = defaultdict(int)
    starts: dict[date, int] = defaultdict(int)
    grid = [[0] * 24 for _ in range(7)]
    if area is not None:
        hours = (select(AreaBookedHour.day, AreaBookedHour.hour, AreaBookedHour.minutes,
                        AreaBookedHour.starts)
                 .where(AreaBookedHour.area_id == area, AreaBookedHour.day >= f.first,
                        AreaBookedHour.day <= f.last))
        days = (select(AreaOpenDay.day, AreaOpenDay.open_minutes)
                .where(AreaOpenDay.area_id == area, AreaOpenDay.day >= f.first,
                       AreaOpenDay.day <= f.last))
    else:
        hours = (select(BookedHour.day, BookedHour.hour, func.sum(BookedHour.minutes),
                        func.sum(BookedHour.starts))
                 .where(_in(BookedHour.space_id, spaces), BookedHour.day >= f.first,
                        BookedHour.day <= f.last)
                 .group_by(BookedHour.day, BookedHour.hour))
        days = (select(OpenDay.day, func.sum(OpenDay.open_minutes))
                .where(_in(OpenDay.space_id, spaces), OpenDay.day >= f.first,
                       OpenDay.day <= f.last)
                .group_by(OpenDay.day))
    for day, hour, minutes, n in db.session.execute(hours):
        booked[day] += int(minutes or 0)
        starts[day] += int(n or 0)
        grid[day.weekday()][hour] += int(minutes or 0)
    opened = dict(db.session.execute(days).tuples().all())
    cols = [Column("period", _l("Period starting"), "date"), *TIME_COLUMNS[:3],
            TIME_COLUMNS[4]]
    for name, title, bucket in (
        ("trend_week", _l("Trend by week"), lambda d: d - timedelta(days=d.weekday())),
        ("trend_month", _l("Trend by month"), lambda d: d.replace(day=1)),
    ):
        sums: dict[date, list[int]] = {}
        day = f.first
        while day <= f.last:
            key = bucket(day)
            acc = sums.setdefault(key, [0, 0, 0])
            acc[0] += booked.get(day, 0)
            acc[1] += int(opened.get(day) or 0)
            acc[2] += starts.get(day, 0)
            day += timedelta(days=1)
        rows = [{"period": k.isoformat(), "bookings": v[2], "booked_hours": _hours(v[0]),
                 "open_hours": _hours(v[1]), "utilisation": _rate(v[0], v[1])}
                for k, v in sorted(sums.items())]
        out.tables[name] = Table(name, title, cols, rows)
    hcols = [Column("weekday", _l("Weekday"))] + [
        Column(f"h{h:02d}", f"{h:02d}", "hours") for h in range(24)]
    hrows = [{"weekday": str(WEEKDAYS[w]),
              **{f"h{h:02d}": _hours(grid[w][h]) for h in range(24)}} for w in range(7)]
    out.tables["heatmap"] = Table(
        "heatmap", _l("Peak times: booked hours by weekday and hour"), hcols, hrows)


def _demand_tables(out: Dashboard, counted) -> None:

    moves = {k: v for (m, k), v in counted.items() if m == "move"}
    figures = {
        "requests": counted.get(("requests", ""), 0),
        "approved": moves.get(BookingStatus.APPROVED, 0) + moves.get(BookingStatus.CONFIRMED, 0)
        + moves.get("instant", 0),
        "rejected": moves.get(BookingStatus.REJECTED, 0),
        "cancelled": moves.get(BookingStatus.CANCELLED, 0),
        "no_show": moves.get(BookingStatus.NO_SHOW, 0),
        "expired": moves.get(BookingStatus.EXPIRED, 0),
        "lost": moves.get(BookingStatus.LOST, 0),
    }
    out.summary.update(figures)
    labels = {"requests": _l("Requests made"), "approved": _l("Approved"),
              "rejected": _l("Rejected"), "cancelled": _l("Cancelled"),
              "no_show": _l("No-shows"), "expired": _l("Expired"),
              "lost": _l("Not drawn in a lottery")}
    out.tables["demand"] = Table(
        "demand", _l("Demand and outcomes"),
        [Column("what", _l("What")), Column("count", _l("Count"), "int", count=True)],
        [{"id": k, "what": str(labels[k]), "count": v} for k, v in figures.items()])

    reasons = sorted(((k, v) for (m, k), v in counted.items() if m == "reason" and v),
                     key=lambda kv: (-kv[1], kv[0]))[:10]
    out.tables["reasons"] = Table(
        "reasons", _l("Top reasons for rejection"),
        [Column("reason", _l("Reason")), Column("count", _l("Rejections"), "int", count=True)],
        [{"reason": r or _("(no reason given)"), "count": n} for r, n in reasons])

    stages: dict[tuple[int, str], dict[int, int]] = defaultdict(dict)
    whole: dict[int, int] = {}
    for (m, k), v in counted.items():
        if m == "lead" and v:
            position, approver, bucket = k.split("|")
            stages[(int(position), approver)][int(bucket)] = v
        elif m == "lead_all" and v:
            whole[int(k)] = v
    rows = []
    for (position, approver), histogram in sorted(stages.items()):
        n, (median, p90) = events.percentiles(histogram)
        rows.append({"stage": position + 1, "who": str(APPROVERS.get(approver, approver)),
                     "decisions": n, "median_hours": median, "p90_hours": p90})
    n, (median, p90) = events.percentiles(whole)
    rows.append({"stage": None, "who": _("From request to final decision"), "decisions": n,
                 "median_hours": median, "p90_hours": p90})
    out.tables["lead_times"] = Table(
        "lead_times", _l("Lead time from request to decision (hours)"),
        [Column("stage", _l("Stage"), "int"), Column("who", _l("Decided by")),
         Column("decisions", _l("Decisions"), "int", count=True),
         Column("median_hours", _l("Median"), "hours"),
         Column("p90_hours", _l("90th percentile"), "hours")], rows)


def _people_tables(out: Dashboard, counted, people: tuple[int, int, int]) -> None:

    distinct_people, repeat, groups = people
    out.summary.update(residents=distinct_people, repeat_users=repeat)
    out.tables["people"] = Table(
        "people", _l("People who asked"),
        [Column("what", _l("What")), Column("count", _l("Count"), "int", count=True)],
        [{"what": _("Distinct people who asked"), "count": distinct_people},
         {"what": _("Repeat users (two or more requests)"), "count": repeat},
         {"what": _("Requests for resident groups"),
          "count": counted.get(("group_requests", ""), 0)},
         {"what": _("Resident groups that asked"), "count": groups}])
    out.tables["residency"] = Table(
        "residency", _l("Residents of the space's district and others"),
        [Column("what", _l("Group")), Column("count", _l("Requests made"), "int", count=True)],
        [{"id": "resident", "what": _("Residents"),
          "count": counted.get(("residency", "resident"), 0)},
         {"id": "non_resident", "what": _("Non-residents"),
          "count": counted.get(("residency", "non_resident"), 0)}])
    purposes = sorted(((k, v) for (m, k), v in counted.items() if m == "purpose" and v),
                      key=lambda kv: (-kv[1], kv[0]))
    out.tables["purposes"] = Table(
        "purposes", _l("Purposes"),
        [Column("purpose", _l("Purpose")), Column("count", _l("Requests made"), "int", count=True)],
        [{"id": p, "purpose": str(PURPOSES.get(p, p)), "count": n} for p, n in purposes])


def pending_refunds(spaces, start: datetime | None = None, end: datetime | None = None
                    ) -> tuple[int, int]:
    """(count, amount) of refunds decided but not yet back with the resident (Stripe has not
    confirmed them), of the bookings of `spaces`; with `start`/`end`, those written in that
    period. One query."""
    query = (select(func.count(Refund.id), func.coalesce(func.sum(Refund.amount), 0))
             .join(Payment, Payment.id == Refund.payment_id)
             .join(Booking, Booking.id == Payment.booking_id)
             .where(Refund.status == RefundStatus.PENDING, _in(Booking.space_id, spaces)))
    if start is not None:
        query = query.where(Refund.created_at >= start)
    if end is not None:
        query = query.where(Refund.created_at < end)
    n, amount = db.session.execute(query).one()
    return int(n or 0), int(amount or 0)


def _money_tables(out: Dashboard, counted, pending: tuple[int, int] = (0, 0)) -> None:
    paid = counted.get(("money", "paid"), 0)
    refunded = counted.get(("money", "refunded"), 0)
    waived = counted.get(("money", "waived"), 0)
    out.summary.update(revenue=paid, refunds=refunded, net=paid - refunded, waived=waived,
                       refunds_pending=pending[1], refunds_pending_count=pending[0])
    out.tables["money"] = Table(
        "money", _l("Money"),
        [Column("what", _l("What")), Column("amount", _l("Amount"), "money")],
        [{"id": "revenue", "what": _("Payments received"), "amount": paid},
         {"id": "refunds", "what": _("Refunds made"), "amount": refunded},
         {"id": "refunds_pending", "what": _("Refunds in progress (not yet returned)"),
          "amount": pending[1]},
         {"id": "net", "what": _("Net revenue"), "amount": paid - refunded},
         {"id": "waived", "what": _("Fee waivers granted (revenue forgone)"),
          "amount": waived}])

    lottery = [(r, counted.get(("lottery_entries", r), 0), counted.get(("lottery_wins", r), 0))
               for r in ("resident", "non_resident")]
    lottery = [row for row in lottery if row[1]]
    total_wins = sum(w for _r, _n, w in lottery)
    labels = {"resident": _("Residents"), "non_resident": _("Non-residents")}
    out.tables["lottery"] = Table(
        "lottery", _l("Lottery fairness: entries and wins by group"),
        [Column("group", _l("Group")), Column("entries", _l("Entries"), "int", count=True),
         Column("wins", _l("Wins"), "int", count=True),
         Column("win_rate", _l("Win rate"), "percent"),
         Column("share", _l("Share of wins"), "percent")],
        [{"id": r, "group": labels.get(r, r), "entries": n, "wins": w,
          "win_rate": _rate(w, n), "share": _rate(w, total_wins)} for r, n, w in lottery])


# --------------------------------------------------------------------------- open data
def month_filters(month: date) -> Filters:
    first = month.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return Filters(first, nxt - timedelta(days=1))


def open_data(month: date, scope: Scope | None = None) -> list[Table]:
    """A month's figures for publication: per space and per district, no personal data.
    Counts are marked (`Column.count`) so the export can show small ones as "<5"."""

    scope = scope or Scope(everything=True)
    f = month_filters(month)
    spaces = scope.space_ids(f)
    per_space = _space_time(spaces, f)
    requests = events.space_requests(spaces, f.first, f.last)
    cols = [Column("month", _l("Reference month")), Column("space", _l("Space")),
            Column("owner", _l("Owner")), Column("district", _l("District")),
            Column("type", _l("Type")),
            Column("requests", _l("Requests made"), "int", count=True),
            Column("bookings", _l("Number of bookings"), "int", count=True),
            Column("booked_hours", _l("Booked hours"), "hours"),
            Column("open_hours", _l("Open hours"), "hours"),
            Column("utilisation", _l("Utilisation"), "percent")]

    label = f.first.strftime("%Y-%m")
    type_labels = {code: str(name) for code, name in SPACE_TYPES.items()}
    rows = []
    for i in sorted(per_space.values(), key=lambda i: (i["district"] or "", i["owner"],
                                                       i["name"], i["id"])):
        rows.append({"month": label, "space": i["name"], "owner": i["owner"],
                     "district": i["district"] or "",
                     "type": type_labels.get(i["type"], i["type"]),
                     "requests": requests.get(i["id"], 0), "bookings": i["starts"],
                     "booked_hours": _hours(i["booked"]), "open_hours": _hours(i["open"]),
                     "utilisation": _rate(i["booked"], i["open"])})
    by_space = Table("open_data_spaces", _l("Use of each space"), cols, rows)
    groups: dict = defaultdict(list)
    for i in per_space.values():
        groups[i["district"] or ""].append(i)
    drows = []
    for name, members in sorted(groups.items()):
        booked = sum(m["booked"] for m in members)
        opened = sum(m["open"] for m in members)
        drows.append({"month": label, "district": name, "spaces": len(members),
                      "requests": sum(requests.get(m["id"], 0) for m in members),
                      "bookings": sum(m["starts"] for m in members),
                      "booked_hours": _hours(booked), "open_hours": _hours(opened),
                      "utilisation": _rate(booked, opened)})
    dcols = [Column("month", _l("Reference month")), Column("district", _l("District")),
             Column("spaces", _l("Spaces"), "int"),
             Column("requests", _l("Requests made"), "int", count=True),
             Column("bookings", _l("Number of bookings"), "int", count=True),
             Column("booked_hours", _l("Booked hours"), "hours"),
             Column("open_hours", _l("Open hours"), "hours"),
             Column("utilisation", _l("Utilisation"), "percent")]
    return [by_space, Table("open_data_districts", _l("Use by district"), dcols, drows)]
