"""Officer pages: read-only views of the spaces under my jurisdictions and how they are used.

An officer's scope is every jurisdiction they belong to and every jurisdiction nested below
(a Seoul officer sees every district). Counts come from one SQL GROUP BY per page; the totals
per jurisdiction add up those per-space counts, so a space tagged with both a city and one of
its districts is counted once in the city's total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app.bookings.models import Booking
from app.bookings.states import STATUS_LABELS
from app.db import db_int
from app.extensions import db
from app.orgs.models import Jurisdiction, jurisdiction_tree, with_descendants
from app.spaces.availability import local_instant
from app.spaces.models import SPACE_TYPES, Space, space_jurisdictions
from app.web.helpers import paginate
from app.web.oversight import bp

PER_PAGE = 25
DEFAULT_DAYS = 30
MAX_PERIOD_DAYS = 731
MIN_YEAR, MAX_YEAR = 2000, 2100


@bp.before_request
@login_required
def _logged_in() -> None:
    """Every oversight page needs a login."""


@dataclass
class Filters:
    """The filters shared by both pages, parsed from the query string, with their errors."""

    zone: ZoneInfo
    first: date
    last: date
    jurisdiction_id: int | None = None
    type: str | None = None
    status: str | None = None
    space_id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def start(self) -> datetime:
        return local_instant(self.first, 0, self.zone)

    @property
    def end(self) -> datetime:
        return local_instant(self.last + timedelta(days=1), 0, self.zone)


def _scope() -> tuple[set[int], dict[int, int | None]]:
    """The jurisdictions the current user oversees (admins: all) and the jurisdiction tree."""
    tree = jurisdiction_tree()
    if current_user.is_admin:
        return set(tree), tree
    ids = set(current_user.officer_jurisdiction_ids)
    if not ids:
        abort(403)
    return ids, tree


def _parse_filters(scope: set[int]) -> Filters:
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Seoul"))
    today = datetime.now(zone).date()
    f = Filters(
        zone=zone,
        first=today - timedelta(days=DEFAULT_DAYS),
        last=today + timedelta(days=DEFAULT_DAYS),
    )
    args = request.args
    dates = {}
    for name in ("from", "to"):
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        try:
            dates[name] = date.fromisoformat(raw)
            if not MIN_YEAR <= dates[name].year <= MAX_YEAR:
                del dates[name]
                f.errors[name] = _(
                    "Enter a date between %(first)d and %(last)d.", first=MIN_YEAR, last=MAX_YEAR
                )
        except ValueError:
            f.errors[name] = _("Enter a date such as %(example)s.", example=today.isoformat())
    first, last = dates.get("from", f.first), dates.get("to", f.last)
    if last < first:
        f.errors["to"] = _("The end of the period cannot be before its start.")
    elif (last - first).days > MAX_PERIOD_DAYS:
        f.errors["to"] = _("Choose a period of at most two years.")
    else:
        f.first, f.last = first, last

    jurisdiction_id = args.get("jurisdiction", type=db_int)
    if jurisdiction_id is not None:
        if jurisdiction_id in scope:
            f.jurisdiction_id = jurisdiction_id
        else:
            f.errors["jurisdiction"] = _("Choose one of your jurisdictions.")
    kind = (args.get("type") or "").strip()
    if kind:
        if kind in SPACE_TYPES:
            f.type = kind
        else:
            f.errors["type"] = _("Unknown space type.")
    status = (args.get("status") or "").strip()
    if status:
        if status in STATUS_LABELS:
            f.status = status
        else:
            f.errors["status"] = _("Unknown booking status.")
    f.space_id = args.get("space", type=db_int)
    return f


def _selected(scope: set[int], tree: dict[int, int | None], f: Filters) -> set[int]:
    """The jurisdictions the page covers: the chosen one with those below it, or all of mine."""
    if f.jurisdiction_id is None:
        return scope
    return with_descendants({f.jurisdiction_id}, tree) & scope


def _spaces_under(ids: set[int], f: Filters):
    """A subquery of the ids of spaces tagged with any of `ids` (and of the chosen type)."""
    query = (
        select(space_jurisdictions.c.space_id)
        .where(space_jurisdictions.c.jurisdiction_id.in_(ids))
        .distinct()
    )
    if f.type:
        query = query.join(Space, Space.id == space_jurisdictions.c.space_id).where(
            Space.type == f.type
        )
    return query


def _ordered_jurisdictions(ids: set[int], tree: dict[int, int | None]) -> list[dict]:
    """The jurisdictions in `ids` in tree order (parents before children) with their depth."""
    by_id = {
        j.id: j for j in db.session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(ids)))
    }
    children: dict[int | None, list[int]] = {}
    for jid in ids:
        parent = tree.get(jid)
        children.setdefault(parent if parent in ids else None, []).append(jid)
    result: list[dict] = []

    def walk(parent: int | None, depth: int) -> None:
        for jid in sorted(children.get(parent, []), key=lambda i: by_id[i].name):
            result.append({"jurisdiction": by_id[jid], "depth": depth})
            walk(jid, depth + 1)

    walk(None, 0)
    return result


@bp.get("/", strict_slashes=False)
def index():
    scope, tree = _scope()
    f = _parse_filters(scope)
    ids = _selected(scope, tree, f)
    under = _spaces_under(ids, f)

    # Bookings by space and status in the period: one GROUP BY.
    counts: dict[int, dict[str, int]] = {}
    for space_id, status, n in db.session.execute(
        select(Booking.space_id, Booking.status, func.count(Booking.id))
        .where(
            Booking.space_id.in_(under),
            Booking.start_at >= f.start,
            Booking.start_at < f.end,
        )
        .group_by(Booking.space_id, Booking.status)
    ):
        counts.setdefault(space_id, {})[status] = n

    # Which of the covered jurisdictions each space is tagged with, for the totals.
    tags: dict[int, set[int]] = {}
    for space_id, jurisdiction_id in db.session.execute(
        select(space_jurisdictions.c.space_id, space_jurisdictions.c.jurisdiction_id).where(
            space_jurisdictions.c.space_id.in_(under),
            space_jurisdictions.c.jurisdiction_id.in_(ids),
        )
    ):
        tags.setdefault(space_id, set()).add(jurisdiction_id)

    rows = _ordered_jurisdictions(ids, tree)
    for row in rows:
        below = with_descendants({row["jurisdiction"].id}, tree)
        spaces = [sid for sid, tagged in tags.items() if tagged & below]
        row["spaces"] = len(spaces)
        row["counts"] = {
            status: sum(counts.get(sid, {}).get(status, 0) for sid in spaces)
            for status in STATUS_LABELS
        }
        row["total"] = sum(row["counts"].values())
    overall = {status: sum(c.get(status, 0) for c in counts.values()) for status in STATUS_LABELS}

    page = paginate(
        select(Space)
        .where(Space.id.in_(under))
        .options(selectinload(Space.owner), selectinload(Space.jurisdictions))
        .order_by(Space.name, Space.id),
        per_page=PER_PAGE,
    )
    return render_template(
        "oversight/index.html",
        f=f,
        rows=rows,
        overall=overall,
        overall_spaces=len(tags),
        page=page,
        counts=counts,
        statuses=STATUS_LABELS,
        types=SPACE_TYPES,
        choices=_ordered_jurisdictions(scope, tree),
    )


@bp.get("/bookings")
def bookings():
    scope, tree = _scope()
    f = _parse_filters(scope)
    ids = _selected(scope, tree, f)
    query = (
        select(Booking)
        .where(
            Booking.space_id.in_(_spaces_under(ids, f)),
            Booking.start_at >= f.start,
            Booking.start_at < f.end,
        )
        .options(joinedload(Booking.space).joinedload(Space.owner), joinedload(Booking.user))
        .order_by(Booking.start_at, Booking.id)
    )
    if f.status:
        query = query.where(Booking.status == f.status)
    space = None
    if f.space_id is not None:
        query = query.where(Booking.space_id == f.space_id)
        space = db.session.get(Space, f.space_id)
        if space is not None and not space.can_oversee(current_user):
            space = None
    page = paginate(query, per_page=PER_PAGE)
    return render_template(
        "oversight/bookings.html",
        f=f,
        page=page,
        space=space,
        statuses=STATUS_LABELS,
        types=SPACE_TYPES,
        choices=_ordered_jurisdictions(scope, tree),
    )
