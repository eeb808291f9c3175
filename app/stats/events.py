"""What happened, counted: requests, decisions, lead times, lottery draws and money.

`collect` counts them from the bookings, transitions, stages, payments and refunds with a few
GROUP BY statements, for any set of spaces and period — optionally per Seoul day. Its result
is a flat mapping of (measure, key) to a number, which adds up: the figures of two periods are
the sums of their mappings. So the periodic job stores the counts of each finished day per area
(`close_days` → `stats_area_events`), and a dashboard about an area adds the stored days to the
days not yet closed, counted live (`area_counts`). A dashboard about any other set of spaces
(an owner, a type, a space) counts live over its — smaller — set.

Measures (key in brackets):
- requests, group_requests; purpose [category]; residency [resident | non_resident]
- move [status a request moved to, or "instant" for bookings confirmed at once]
- reason [the reason of a rejection, first 200 characters]
- lead [stage position|approver|bucket], lead_all [bucket]: decisions by how long they took,
  in lead-time buckets (`bucket_of`), so medians and percentiles can be read from the sums
- lottery_entries, lottery_wins [resident | non_resident]
- money [paid | refunded | waived] in minor units

Days are days in Asia/Seoul (the platform's zone; Korea keeps no daylight saving time).
A day is closed three hours after it ends (`CLOSE_GRACE`), so a payment Stripe reports late
or a draw the sweep makes just after midnight still lands in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Integer,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import aliased

from app.accounts.consents import STATISTICS, Consent, statistics_consented
from app.accounts.models import User
from app.bookings.models import Booking, BookingStage, BookingTransition
from app.bookings.states import GRANTED, BookingStatus, StageState
from app.db import rowcount
from app.extensions import db
from app.payments.models import Payment, Refund
from app.payments.states import PaymentStatus, RefundStatus
from app.spaces.models import Space
from app.spaces.models import space_jurisdictions as sj
from app.stats import areas
from app.stats.models import AREA_ALL, AreaEvents, AreaPeople, StatsMark
from app.stats.months import next_month

ZONE = ZoneInfo("Asia/Seoul")
# A day is closed once the next day is this far along, so a payment Stripe reports late or a
# draw the sweep makes just after midnight still lands in it; until then it is counted live.
CLOSE_GRACE = timedelta(hours=3)
MARK = "events_closed"
REASON_LENGTH = 200

Counts = dict[tuple[str, str], int]


# --------------------------------------------------------------------------- lead-time buckets
def bucket_of(seconds: float) -> int:
    """A lead time's bucket, in tenths of an hour: exact to 0.1 h below 10 h, to 1 h below
    100 h, to 10 h below 1,000 h, to 100 h beyond (rounded to the nearest). Mirrors
    `_bucket_sql`."""
    t = int(max(0.0, float(seconds)) / 360 + 0.5)
    for limit, step in ((100, 1), (1000, 10), (10000, 100)):
        if t < limit:
            return (t + step // 2) // step * step
    return (t + 500) // 1000 * 1000


def _floor_int(expr):
    if db.engine.dialect.name == "postgresql":
        return cast(func.floor(expr), Integer)
    return cast(expr, Integer)  # non-negative here: CAST truncates, which is floor


def _bucket_sql(seconds):
    clamped = (func.greatest(seconds, 0) if db.engine.dialect.name == "postgresql"
               else func.max(seconds, 0))
    t = _floor_int(clamped / 360.0 + 0.5)
    return case(
        (t < 100, t),
        (t < 1000, (t + 5) // 10 * 10),
        (t < 10000, (t + 50) // 100 * 100),
        else_=(t + 500) // 1000 * 1000,
    )


def percentiles(histogram: dict[int, int], qs=(0.5, 0.9)) -> tuple[int, list[float | None]]:
    """Count and nearest-rank percentiles (hours) from a bucket → count histogram."""
    n = sum(histogram.values())
    out: list[float | None] = []
    for q in qs:
        if not n:
            out.append(None)
            continue
        rank = max(1, min(n, -(-int(q * n * 1000) // 1000)))  # ceil(q·n)
        seen = 0
        for b in sorted(histogram):
            seen += histogram[b]
            if seen >= rank:
                out.append(round(b / 10, 1))
                break
    return n, out


# --------------------------------------------------------------------------- SQL helpers
def _seconds(later, earlier):
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400


def _local_day(column):
    """SQL: the Seoul day of a timestamp column."""
    if db.engine.dialect.name == "postgresql":
        return cast(func.timezone(ZONE.key, column), Date)
    return func.date(column, "+9 hours")


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def in_spaces(column, spaces):
    """`column IN spaces`, or no condition when `spaces` is every space (None)."""
    return true() if spaces is None else column.in_(spaces)


def _bind(value: datetime):
    value = value.astimezone(UTC)
    if db.engine.dialect.name == "sqlite":
        return value.replace(tzinfo=None).isoformat(sep=" ")
    return value


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), ZONE)


# --------------------------------------------------------------------------- counting
def _of_spaces(query, booking_id, spaces):
    """`query` limited to the bookings of `spaces` (no join at all for every space)."""

    if spaces is None:
        return query
    return query.join(Booking, Booking.id == booking_id).where(Booking.space_id.in_(spaces))


def collect(spaces, start: datetime, end: datetime, *, by_day: bool = False
            ) -> dict[date | None, Counts]:
    """Everything counted for the spaces (`spaces`: a subquery of ids, None for all) between
    two instants; per Seoul day when `by_day`, else under the key None."""

    out: dict[date | None, Counts] = defaultdict(lambda: defaultdict(int))

    def day_of(column):
        return _local_day(column) if by_day else literal(None)

    def add(day, measure, key, value):
        if value:
            out[_day(day) if day is not None else None][(measure, key)] += int(value)

    residency = case((sj.c.space_id.isnot(None), literal("resident")),
                     else_=literal("non_resident"))

    def with_residency(query):
        return (query.join(User, User.id == Booking.user_id)
                .outerjoin(sj, and_(sj.c.space_id == Booking.space_id,
                                    sj.c.jurisdiction_id == User.home_district_id,
                                    User.home_district_verified_at.isnot(None))))

    # Requests: by purpose, residency and whether for a group.
    # Residency describes the person, so it is counted only for those who consent to the
    # statistics (docs/privacy.md); their requests are counted all the same.
    d = day_of(Booking.created_at)
    agreement = aliased(Consent)
    consented = agreement.id.isnot(None)
    for day, purpose, who, grouped, agreed, n in db.session.execute(with_residency(
        select(d, Booking.purpose_category, residency, Booking.group_id.isnot(None),
               consented, func.count(Booking.id)))
        .outerjoin(agreement, and_(agreement.user_id == Booking.user_id,
                                   agreement.purpose == STATISTICS,
                                   agreement.withdrawn_at.is_(None)))
        .where(in_spaces(Booking.space_id, spaces), Booking.created_at >= start,
               Booking.created_at < end)
        .group_by(d, Booking.purpose_category, residency, Booking.group_id.isnot(None),
                  consented)
    ):
        add(day, "requests", "", n)
        add(day, "purpose", purpose or "", n)
        if agreed:
            add(day, "residency", who, n)
        if grouped:
            add(day, "group_requests", "", n)

    # Decisions: the states requests moved to; rejections by reason.
    d = day_of(BookingTransition.at)
    instant = BookingTransition.from_status.is_(None)
    reason = case((BookingTransition.to_status == BookingStatus.REJECTED,
                   func.coalesce(BookingTransition.reason, "")), else_=literal(None))
    for day, status, at_once, why, n in db.session.execute(
        _of_spaces(select(d, BookingTransition.to_status, instant, reason,
                          func.count(BookingTransition.id)), BookingTransition.booking_id,
                   spaces)
        .where(BookingTransition.at >= start,
               BookingTransition.at < end,
               or_(BookingTransition.from_status.isnot(None),
                   BookingTransition.to_status.in_(GRANTED)))
        .group_by(d, BookingTransition.to_status, instant, reason)
    ):
        add(day, "move", "instant" if at_once else status, n)
        if why is not None and not at_once:
            add(day, "reason", why[:REASON_LENGTH], n)

    # Lead times per stage, and from request to the final decision.
    d = day_of(BookingStage.decided_at)
    bucket = _bucket_sql(_seconds(BookingStage.decided_at, BookingStage.started_at))
    for day, position, approver, b, n in db.session.execute(
        _of_spaces(select(d, BookingStage.position, BookingStage.approver, bucket,
                          func.count(BookingStage.id)), BookingStage.booking_id, spaces)
        .where(BookingStage.decided_at >= start,
               BookingStage.decided_at < end, BookingStage.started_at.isnot(None),
               BookingStage.state.in_(
                   (StageState.APPROVED, StageState.REJECTED, StageState.RETURNED)))
        .group_by(d, BookingStage.position, BookingStage.approver, bucket)
    ):
        add(day, "lead", f"{position}|{approver}|{int(b)}", n)
    d = day_of(Booking.decided_at)
    bucket = _bucket_sql(_seconds(Booking.decided_at, Booking.created_at))
    for day, b, n in db.session.execute(
        select(d, bucket, func.count(Booking.id))
        .where(in_spaces(Booking.space_id, spaces), Booking.decided_at >= start,
               Booking.decided_at < end)
        .group_by(d, bucket)
    ):
        add(day, "lead_all", str(int(b)), n)

    # Lottery draws: entries and wins by residency (of those who consent to the statistics).
    d = day_of(Booking.draw_at)
    for day, who, n, wins in db.session.execute(with_residency(
        select(d, residency, func.count(Booking.id),
               func.sum(case((Booking.status != BookingStatus.LOST, 1), else_=0))))
        .where(in_spaces(Booking.space_id, spaces), Booking.lottery_draw_id.isnot(None),
               Booking.draw_at >= start, Booking.draw_at < end,
               statistics_consented(Booking.user_id))
        .group_by(d, residency)
    ):
        add(day, "lottery_entries", who, n)
        add(day, "lottery_wins", who, wins)

    # Money: payments received, refunds made, fees waived (revenue forgone).
    d = day_of(Payment.paid_at)
    for day, amount in db.session.execute(
        _of_spaces(select(d, func.sum(Payment.amount)), Payment.booking_id, spaces)
        .where(Payment.status == PaymentStatus.SUCCEEDED,
               Payment.paid_at >= start, Payment.paid_at < end)
        .group_by(d)
    ):
        add(day, "money", "paid", amount)
    d = day_of(Refund.done_at)
    for day, amount in db.session.execute(
        _of_spaces(select(d, func.sum(Refund.amount))
                   .join(Payment, Payment.id == Refund.payment_id), Payment.booking_id, spaces)
        .where(Refund.status == RefundStatus.SUCCEEDED,
               Refund.done_at >= start, Refund.done_at < end)
        .group_by(d)
    ):
        add(day, "money", "refunded", amount)
    for day, amount in db.session.execute(
        text(_waived_sql(spaces, by_day)), {"start": _bind(start), "end": _bind(end)}
    ):
        add(day, "money", "waived", -int(amount or 0))
    return out


def _waived_sql(spaces, by_day: bool) -> str:
    """SQL summing the (negative) waiver lines of the stored price breakdowns, per day."""

    ids = "true" if spaces is None else "b.space_id IN ({})".format(
        select(Space.id).where(Space.id.in_(spaces)).compile(
            db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "postgresql":
        day = f"(b.created_at AT TIME ZONE '{ZONE.key}')::date" if by_day else "NULL::date"
        return (f"SELECT {day} AS day, sum((l->>'amount')::int) FROM bookings b, "
                "json_array_elements(b.price_breakdown->'lines') l "
                "WHERE b.waiver_category IS NOT NULL AND b.created_at >= :start "
                f"AND b.created_at < :end AND {ids} AND l->>'code' = 'waiver' GROUP BY 1")
    day = "date(b.created_at, '+9 hours')" if by_day else "NULL"
    return (f"SELECT {day} AS day, sum(json_extract(l.value, '$.amount')) FROM bookings b, "
            "json_each(b.price_breakdown, '$.lines') l "
            "WHERE b.waiver_category IS NOT NULL AND b.created_at >= :start "
            f"AND b.created_at < :end AND {ids} AND json_extract(l.value, '$.code') = 'waiver' "
            "GROUP BY 1")


def _asked(spaces, ranges: list[tuple[date, date]], *, by_day: bool = False):
    """SQL: requests per (person, group; 0 for none) made on the days of `ranges` (and per
    Seoul day, first column, when `by_day`), of the people who consent to the statistics now
    (the others are not counted as people at all)."""

    keys = {"user_id": Booking.user_id, "group_id": func.coalesce(Booking.group_id, 0)}
    if by_day:
        keys = {"day": _local_day(Booking.created_at), **keys}
    return (select(*(k.label(name) for name, k in keys.items()),
                   func.count(Booking.id).label("n"))
            .where(in_spaces(Booking.space_id, spaces),
                   statistics_consented(Booking.user_id),
                   or_(*(and_(Booking.created_at >= day_start(a),
                              Booking.created_at < day_start(b + timedelta(days=1)))
                         for a, b in ranges)))
            .group_by(*keys.values()))


def people(spaces, first: date, last: date, area: int | None = None) -> tuple[int, int, int]:
    """(distinct people who asked, of them with two or more requests, distinct groups) between
    two days, in one statement. Distinct counts do not add up over days, so for an area they
    are counted from who asked: a row per person and closed month for the whole months of the
    period, per person and closed day for its other days, and the bookings of the days not
    closed yet; for any other set of spaces, from the bookings."""

    done = closed_through() if area is not None else None
    months = [m for m in _whole_months(first, last)
              if done is not None and next_month(m) - timedelta(days=1) <= done]
    days: list[tuple[date, date]] = []
    live = [(first, last)]
    if done is not None and done >= first:
        upto = min(done, last)
        if months:
            days = [(first, months[0] - timedelta(days=1)),
                    (next_month(months[-1]), upto)]
        else:
            days = [(first, upto)]
        days = [r for r in days if r[0] <= r[1]]
        live = [(upto + timedelta(days=1), last)] if upto < last else []
    parts = []
    if months:
        parts.append(select(AreaPeople.user_id, AreaPeople.group_id, AreaPeople.n)
                     .where(AreaPeople.area_id == area, AreaPeople.span == "m",
                            AreaPeople.day.in_(months)))
    if days:
        parts.append(select(AreaPeople.user_id, AreaPeople.group_id, AreaPeople.n)
                     .where(AreaPeople.area_id == area, AreaPeople.span == "d",
                            or_(*(AreaPeople.day.between(a, b) for a, b in days))))
    if live:
        parts.append(_asked(spaces, live))
    per = (union_all(*parts) if len(parts) > 1 else parts[0]).cte("per")
    users = (select(per.c.user_id, func.sum(per.c.n).label("n"))
             .group_by(per.c.user_id).subquery())
    row = db.session.execute(select(
        select(func.count()).select_from(users).scalar_subquery(),
        select(func.count()).select_from(users).where(users.c.n >= 2).scalar_subquery(),
        select(func.count(per.c.group_id.distinct())).where(per.c.group_id != 0)
        .scalar_subquery(),
    )).one()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


def _write_people(area_ids: Iterable[int], first: date, last: date) -> None:
    """Store who asked on each day first … last, and in each whole month those days complete
    (the month's days must all be closed by then), for each area."""

    columns = ["area_id", "span", "day", "user_id", "group_id", "n"]
    months = _whole_months(first.replace(day=1), last)
    for area in area_ids:
        spaces = areas.spaces_of(area)
        db.session.execute(delete(AreaPeople).where(
            AreaPeople.area_id == area, AreaPeople.span == "d", AreaPeople.day >= first,
            AreaPeople.day <= last))
        asked = _asked(spaces, [(first, last)], by_day=True).subquery()
        db.session.execute(insert(AreaPeople).from_select(columns, select(
            literal(area), literal("d"), asked.c.day, asked.c.user_id, asked.c.group_id,
            asked.c.n)))
        if not months:
            continue
        db.session.execute(delete(AreaPeople).where(
            AreaPeople.area_id == area, AreaPeople.span == "m", AreaPeople.day.in_(months)))
        for month in months:
            asked = _asked(spaces, [(month, next_month(month) - timedelta(days=1))]).subquery()
            db.session.execute(insert(AreaPeople).from_select(columns, select(
                literal(area), literal("m"), literal(month), asked.c.user_id,
                asked.c.group_id, asked.c.n)))


def forget_person(user_id: int) -> int:
    """Remove what the statistics keep about one person (their rows of `stats_area_people`,
    one statement): after they withdrew consent to the statistics or their account was
    deleted. Their bookings stay counted as bookings. Returns the rows removed."""

    return rowcount(db.session.execute(delete(AreaPeople).where(AreaPeople.user_id == user_id)))


def _whole_months(first: date, last: date) -> list[date]:
    """The months whose every day lies in first … last."""

    out = []
    month = first if first.day == 1 else next_month(first)
    while next_month(month) - timedelta(days=1) <= last:
        out.append(month)
        month = next_month(month)
    return out


# --------------------------------------------------------------------------- closing days
def closed_through() -> date | None:
    return db.session.scalar(select(StatsMark.day).where(StatsMark.name == MARK))


def _set_mark(day: date) -> None:
    mark = db.session.get(StatsMark, MARK)
    if mark is None:
        db.session.add(StatsMark(name=MARK, day=day))
    else:
        mark.day = day
    db.session.flush()


def _first_event_day() -> date | None:

    first = db.session.scalar(select(func.min(Booking.created_at)))
    if first is None:
        return None
    return first.astimezone(ZONE).date() if first.tzinfo else first.replace(
        tzinfo=UTC).astimezone(ZONE).date()


def _write(area_ids: Iterable[int], first: date, last: date) -> int:
    """Count the days first … last again for each area and store them."""

    written = 0
    for area in area_ids:
        db.session.execute(delete(AreaEvents).where(
            AreaEvents.area_id == area, AreaEvents.day >= first, AreaEvents.day <= last))
        counted = collect(areas.spaces_of(area), day_start(first),
                          day_start(last + timedelta(days=1)), by_day=True)
        rows = [{"area_id": area, "day": day, "measure": m, "key": k, "value": v}
                for day, counts in sorted(counted.items()) for (m, k), v in counts.items()
                if v and day is not None and first <= day <= last]
        for i in range(0, len(rows), 5000):
            db.session.execute(AreaEvents.__table__.insert(), rows[i:i + 5000])
        written += len(rows)
    return written


def last_closable(now: datetime | None = None) -> date:
    """The last day that may be closed: the day before the one CLOSE_GRACE ago."""
    now = now or datetime.now(UTC)
    return (now.astimezone(ZONE) - CLOSE_GRACE).date() - timedelta(days=1)


def close_days(through: date | None = None, *, max_days: int | None = None) -> int:
    """Store the events of the days up to `through` (default: `last_closable()`) that are not
    stored yet, for every area. Returns the rows written. The caller commits."""

    through = through or last_closable()
    done = closed_through()
    if done is None:
        first = _first_event_day()
        if first is None or first > through:
            _set_mark(through)
            return 0
    else:
        first = done + timedelta(days=1)
    if first > through:
        return 0
    if max_days is not None:
        through = min(through, first + timedelta(days=max_days - 1))
    written = _write(areas.all_areas(), first, through)
    # The months whose last day this run closes: who asked in them.
    _write_people(areas.all_areas(), first, through)
    _set_mark(through)
    return written


def reclose(area_ids: Iterable[int] | None = None) -> int:
    """Count the closed days again (for the areas given, or all): after a space moved to
    another jurisdiction, or by `flask stats rebuild`."""

    done = closed_through()
    if done is None:
        return 0
    first = _first_event_day()
    ids = areas.all_areas() if area_ids is None else sorted(set(area_ids))
    if area_ids is None:
        db.session.execute(delete(AreaEvents))
        db.session.execute(delete(AreaPeople))
    if first is None or first > done:
        return 0
    written = _write(ids, first, done)
    _write_people(ids, first, done)
    return written


def area_counts(area_id: int, first: date, last: date) -> Counts:
    """An area's counts for the days first … last: the closed days from `stats_area_events`,
    the rest counted live."""

    total: Counts = defaultdict(int)
    done = closed_through()
    live_from = first
    if done is not None and done >= first:
        upto = min(done, last)
        for measure, key, value in db.session.execute(
            select(AreaEvents.measure, AreaEvents.key, func.sum(AreaEvents.value))
            .where(AreaEvents.area_id == area_id, AreaEvents.day >= first,
                   AreaEvents.day <= upto)
            .group_by(AreaEvents.measure, AreaEvents.key)
        ):
            total[(measure, key)] += int(value or 0)
        live_from = upto + timedelta(days=1)
    if live_from <= last:
        live = collect(areas.spaces_of(area_id), day_start(live_from),
                       day_start(last + timedelta(days=1)))
        for k, v in live.get(None, {}).items():
            total[k] += v
    return total


def counts(spaces, first: date, last: date) -> Counts:
    """Counts for any set of spaces, live."""
    return defaultdict(int, collect(spaces, day_start(first),
                                    day_start(last + timedelta(days=1))).get(None, {}))


def space_requests(spaces, first: date, last: date) -> dict[int, int]:
    """Requests made per space between two days (open data)."""

    return dict(db.session.execute(
        select(Booking.space_id, func.count(Booking.id))
        .where(in_spaces(Booking.space_id, spaces), Booking.created_at >= day_start(first),
               Booking.created_at < day_start(last + timedelta(days=1)))
        .group_by(Booking.space_id)
    ).tuples().all())


__all__ = ["AREA_ALL", "bucket_of", "percentiles", "collect", "people", "close_days",
           "reclose", "area_counts", "counts", "closed_through"]
