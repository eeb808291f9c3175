"""Combining rule sets and judging a request against them. Pure: plain data in, plain data out.

`combine` merges the rule sets that apply to a space — every jurisdiction it falls under (with
their ancestors), its owner and the space itself — into `Effective` rules: for limits the most
restrictive value wins (and remembers which rule set it came from), refusals add up, fees and
refund tiers come from the most specific rule set that defines them, and approval stages are
concatenated most specific first (space, owner, then jurisdictions from the nearest outwards).

`evaluate` judges one request and returns a `Decision`: the reasons it is refused (each citing
its source), how it is allocated, its approval stages and its price quote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.rules.schema import (
    ALLOCATION_ORDER,
    AutoApprove,
    Fees,
    Hours,
    LotteryWindow,
    NoShowPenalty,
    Quota,
    RefundTier,
    Rules,
    Stage,
)

LEVELS = ("space", "owner", "jurisdiction")


@dataclass(frozen=True)
class Source:
    """A rule set that applies: `key` is stable ("j:3", "o:5", "s:7"); lower `rank` is nearer."""

    key: str
    level: str
    name: str
    rank: int
    version_id: int | None = None


@dataclass(frozen=True)
class Limit:
    value: int
    source: Source


@dataclass(frozen=True)
class Effective:
    parts: tuple[tuple[Source, Rules], ...] = ()
    min_notice_hours: Limit | None = None
    max_days_ahead: Limit | None = None
    min_minutes: Limit | None = None
    max_minutes: Limit | None = None
    max_attendees: Limit | None = None
    allowed_purposes: frozenset[str] | None = None
    refused_purposes: frozenset[str] = frozenset()
    allowed_hours: Hours | None = None
    fees: tuple[Source, Fees] | None = None
    waivers: tuple[Source, tuple[tuple[str, int], ...]] | None = None
    refund_tiers: tuple[Source, tuple[RefundTier, ...]] | None = None
    stages: tuple[tuple[Source, Stage], ...] = ()
    allocation: str | None = None
    lottery: tuple[LotteryWindow, ...] = ()

    @property
    def sources(self) -> tuple[Source, ...]:
        return tuple(source for source, _ in self.parts)

    def each(self, attr: str) -> list[tuple[Source, object]]:
        """(source, value) for every rule set that says something about `attr`."""
        out = []
        for source, rules in self.parts:
            value = getattr(rules, attr)
            if value not in (None, (), frozenset(), ""):
                out.append((source, value))
        return out


def _intersect_ranges(a, b):
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def intersect_hours(a: Hours | None, b: Hours | None) -> Hours | None:
    if a is None:
        return b
    if b is None:
        return a
    return tuple(_intersect_ranges(x, y) for x, y in zip(a, b, strict=True))


def combine(parts: list[tuple[Source, Rules]]) -> Effective:
    """Merge the rule sets that apply to one space (any order) into the effective rules."""
    parts = sorted(parts, key=lambda p: (p[0].rank, p[0].key))

    def strictest(attr: str, pick) -> Limit | None:
        best: Limit | None = None
        for source, rules in parts:
            value = getattr(rules, attr)
            if value is not None and (best is None or pick(value, best.value)):
                best = Limit(value, source)
        return best

    def nearest(attr: str):
        for source, rules in parts:
            value = getattr(rules, attr)
            if value not in (None, ()):
                return source, value
        return None

    allowed: frozenset[str] | None = None
    refused: frozenset[str] = frozenset()
    hours: Hours | None = None
    allocation: str | None = None
    stages: list[tuple[Source, Stage]] = []
    lottery: list[LotteryWindow] = []
    for source, rules in parts:
        if rules.allowed_purposes is not None:
            allowed = (
                rules.allowed_purposes if allowed is None else allowed & rules.allowed_purposes
            )
        refused |= rules.refused_purposes
        hours = intersect_hours(hours, rules.allowed_hours)
        if rules.allocation is not None and (
            allocation is None
            or ALLOCATION_ORDER.index(rules.allocation) > ALLOCATION_ORDER.index(allocation)
        ):
            allocation = rules.allocation
        stages.extend((source, stage) for stage in rules.stages)
        lottery.extend(rules.lottery)
    return Effective(
        parts=tuple(parts),
        min_notice_hours=strictest("min_notice_hours", lambda v, b: v > b),
        max_days_ahead=strictest("max_days_ahead", lambda v, b: v < b),
        min_minutes=strictest("min_minutes", lambda v, b: v > b),
        max_minutes=strictest("max_minutes", lambda v, b: v < b),
        max_attendees=strictest("max_attendees", lambda v, b: v < b),
        allowed_purposes=allowed,
        refused_purposes=refused,
        allowed_hours=hours,
        fees=nearest("fees"),
        waivers=nearest("waivers"),
        refund_tiers=nearest("refund_tiers"),
        stages=tuple(stages),
        allocation=allocation,
        lottery=tuple(lottery),
    )


# --- The request and what is known about the person making it ---------------------------------
@dataclass(frozen=True)
class Ask:
    start: datetime  # aware
    end: datetime
    zone: ZoneInfo
    now: datetime
    purpose: str
    attendees: int
    waiver: str | None = None
    default_rate: int = 0  # the space's own hourly price when no rule set has a fee schedule
    base_mode: str = "request"  # the space's own allocation mode

    def __post_init__(self) -> None:
        # Python subtracts and compares two datetimes that share a tzinfo by wall time, which
        # is wrong across a DST change: keep the instants in UTC so every duration is real time.
        for name in ("start", "end", "now"):
            value = getattr(self, name)
            if isinstance(value, datetime) and value.tzinfo is not None:
                object.__setattr__(self, name, value.astimezone(UTC))

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass(frozen=True)
class Applicant:
    resident_of: frozenset[str] = frozenset()  # source keys whose residents this person is
    is_space_resident: bool = False  # resident of the space's district (the fee category)
    has_group: bool = False
    # (source key, quota index) -> (minutes, bookings) already held in the request's period.
    usage: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    no_shows: dict[str, tuple[datetime, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Reason:
    """Why a request is refused: a stable code, the rule set it comes from, and parameters."""

    code: str
    source: Source
    params: tuple[tuple[str, object], ...] = ()

    def param(self, name: str):
        return dict(self.params).get(name)


@dataclass(frozen=True)
class QuoteLine:
    code: str  # base | weekend | night | waiver
    amount: int
    params: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Quote:
    category: str
    rate: int
    lines: tuple[QuoteLine, ...]
    source: Source | None

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


@dataclass(frozen=True)
class PlannedStage:
    source: Source | None  # None: the default stage (the owner's managers decide)
    stage: Stage
    auto_approved: bool = False


@dataclass(frozen=True)
class Decision:
    reasons: tuple[Reason, ...]
    mode: str  # instant | request | lottery
    stages: tuple[PlannedStage, ...]
    quote: Quote
    lottery: LotteryWindow | None = None
    draw_at: datetime | None = None

    @property
    def allowed(self) -> bool:
        return not self.reasons

    @property
    def needs_decision(self) -> bool:
        return any(p.stage.mode == "decide" and not p.auto_approved for p in self.stages)


DEFAULT_STAGE = Stage("owner_manager", "decide", None, "expire")


# --- Time helpers ------------------------------------------------------------------------------
def _wall(d: date, minute: int, zone: ZoneInfo) -> datetime:
    """The instant of local wall time `minute` (0..1440) on date `d`."""
    if minute >= 1440:
        return datetime.combine(d + timedelta(days=1), time(0), zone)
    return datetime.combine(d, time(minute // 60, minute % 60), zone)


def _local_minutes(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[date, int, int] | None:
    """(local date, from minute, to minute) when the booking lies within one local day."""
    ls, le = start.astimezone(zone), end.astimezone(zone)
    lo = ls.hour * 60 + ls.minute
    if le.date() == ls.date():
        return ls.date(), lo, le.hour * 60 + le.minute
    if le.date() == ls.date() + timedelta(days=1) and le.hour == 0 and le.minute == 0:
        return ls.date(), lo, 1440
    return None


def period_bounds(instant: datetime, period: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local week (Monday first) or calendar month containing `instant`, as UTC instants."""
    day = instant.astimezone(zone).date()
    if period == "week":
        first = day - timedelta(days=day.weekday())
        after = first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
    return _wall(first, 0, zone).astimezone(UTC), _wall(after, 0, zone).astimezone(UTC)


def draw_time(window: LotteryWindow, start: datetime, zone: ZoneInfo) -> datetime:
    day = start.astimezone(zone).date() - timedelta(days=window.draw_days_before)
    return _wall(day, window.draw_minute, zone)


def lottery_window_for(
    windows: tuple[LotteryWindow, ...], start: datetime, end: datetime, zone: ZoneInfo
) -> LotteryWindow | None:
    span = _local_minutes(start, end, zone)
    if span is None:
        return None
    day, lo, hi = span
    for window in windows:
        if day.weekday() in window.weekdays and lo < window.end and hi > window.start:
            return window
    return None


# --- Judging -----------------------------------------------------------------------------------
def _merged(ranges) -> list[tuple[int, int]]:
    """Ranges with touching ones joined: 09:00–12:00 and 12:00–18:00 allow 11:00–13:00."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _check_hours(source: Source, rules: Rules, ask: Ask) -> Reason | None:
    if rules.allowed_hours is None:
        return None
    span = _local_minutes(ask.start, ask.end, ask.zone)
    local_start = ask.start.astimezone(ask.zone)
    weekday = local_start.weekday()
    ranges = rules.allowed_hours[weekday]
    if span is not None and any(lo <= span[1] and span[2] <= hi for lo, hi in _merged(ranges)):
        return None
    return Reason(
        "hours",
        source,
        (("weekday", weekday), ("ranges", tuple(ranges)), ("note", rules.hours_note)),
    )


def _check_no_show(source: Source, penalty: NoShowPenalty, ask: Ask, app: Applicant):
    since = ask.now - timedelta(days=penalty.within_days)
    marks = sorted((t for t in app.no_shows.get(source.key, ()) if t >= since), reverse=True)
    if len(marks) < penalty.count:
        return None
    # The ban runs from the latest no-show.
    until = marks[0] + timedelta(days=penalty.ban_days)
    if ask.now >= until:
        return None
    return Reason(
        "no_show",
        source,
        (("count", penalty.count), ("until", until.astimezone(ask.zone).date().isoformat())),
    )


def _check_quota(source: Source, index: int, quota: Quota, ask: Ask, app: Applicant):
    if quota.per == "group" and not app.has_group:
        return None
    used_minutes, used_count = app.usage.get((source.key, index), (0, 0))
    params = (("per", quota.per), ("period", quota.period))
    if quota.max_bookings is not None and used_count + 1 > quota.max_bookings:
        return Reason(
            "quota_bookings", source, (*params, ("n", quota.max_bookings), ("used", used_count))
        )
    if quota.max_hours is not None and used_minutes + ask.minutes > quota.max_hours * 60:
        return Reason(
            "quota_hours",
            source,
            (*params, ("n", quota.max_hours), ("used", round(used_minutes / 60, 1))),
        )
    return None


def refusals(effective: Effective, ask: Ask, app: Applicant) -> list[Reason]:
    """Every rule the request breaks. Limits cite the rule set with the strictest value."""
    reasons: list[Reason] = []
    lead = ask.start - ask.now
    if (lim := effective.min_notice_hours) and lead < timedelta(hours=lim.value):
        reasons.append(Reason("min_notice", lim.source, (("hours", lim.value),)))
    if (lim := effective.max_days_ahead) and lead > timedelta(days=lim.value):
        reasons.append(Reason("max_ahead", lim.source, (("days", lim.value),)))
    if (lim := effective.min_minutes) and ask.minutes < lim.value:
        reasons.append(Reason("min_length", lim.source, (("minutes", lim.value),)))
    if (lim := effective.max_minutes) and ask.minutes > lim.value:
        reasons.append(Reason("max_length", lim.source, (("minutes", lim.value),)))
    if (lim := effective.max_attendees) and ask.attendees > lim.value:
        reasons.append(Reason("max_attendees", lim.source, (("n", lim.value),)))
    for source, rules in effective.parts:
        resident = source.key in app.resident_of
        if rules.eligibility == "residents" and not resident:
            reasons.append(Reason("residents_only", source))
        elif rules.eligibility == "residents_first" and not resident:
            days = rules.residents_first_days or 0
            opens = ask.start - timedelta(days=days)
            if ask.now < opens:
                reasons.append(
                    Reason(
                        "residents_first",
                        source,
                        (("days", days), ("date", opens.astimezone(ask.zone).date().isoformat())),
                    )
                )
        if rules.allowed_purposes is not None and ask.purpose not in rules.allowed_purposes:
            reasons.append(Reason("purpose_not_allowed", source, (("purpose", ask.purpose),)))
        if ask.purpose in rules.refused_purposes:
            reasons.append(Reason("purpose_refused", source, (("purpose", ask.purpose),)))
        if reason := _check_hours(source, rules, ask):
            reasons.append(reason)
        for index, quota in enumerate(rules.quotas):
            if reason := _check_quota(source, index, quota, ask, app):
                reasons.append(reason)
        if rules.no_show and (reason := _check_no_show(source, rules.no_show, ask, app)):
            reasons.append(reason)
    return reasons


def _auto_approves(rules: Rules, source: Source, ask: Ask, app: Applicant) -> bool:
    def fits(cond: AutoApprove) -> bool:
        if cond.residents_only and source.key not in app.resident_of:
            return False
        return not cond.purposes or ask.purpose in cond.purposes

    return any(fits(cond) for cond in rules.auto_approve)


def plan_stages(effective: Effective, ask: Ask, app: Applicant) -> tuple[PlannedStage, ...]:
    auto = {
        source.key
        for source, rules in effective.parts
        if rules.auto_approve and _auto_approves(rules, source, ask, app)
    }
    return tuple(PlannedStage(src, st, src.key in auto) for src, st in effective.stages)


def evaluate(effective: Effective, ask: Ask, app: Applicant) -> Decision:
    """Judge a request: refusals with their sources, allocation mode, stages and price."""
    reasons = refusals(effective, ask, app)
    stages = plan_stages(effective, ask, app)
    mode = ask.base_mode
    if effective.allocation and ALLOCATION_ORDER.index(
        effective.allocation
    ) > ALLOCATION_ORDER.index(mode):
        mode = effective.allocation
    window = lottery_window_for(effective.lottery, ask.start, ask.end, ask.zone)
    draw_at = None
    if window is not None:
        draw_at = draw_time(window, ask.start, ask.zone)
        if ask.now < draw_at:
            mode = "lottery"
        else:
            window, draw_at = None, None  # after the draw, what is left goes first come
            if mode == "lottery":
                mode = "request"
    elif mode == "lottery":
        mode = "request"  # lottery mode applies inside lottery windows only
    if any(p.stage.mode == "decide" for p in stages) and mode == "instant":
        mode = "request"
    if mode in ("request", "lottery") and not any(p.stage.mode == "decide" for p in stages):
        stages = (*stages, PlannedStage(None, DEFAULT_STAGE))
    return Decision(
        reasons=tuple(reasons),
        mode=mode,
        stages=stages,
        quote=quote(effective, ask, app),
        lottery=window,
        draw_at=draw_at,
    )


# --- Price -------------------------------------------------------------------------------------
def _div(n: int, d: int) -> int:
    """Round half up for non-negative integers."""
    return (2 * n + d) // (2 * d)


def _segments(start: datetime, end: datetime, zone: ZoneInfo, fees: Fees | None):
    """Split [start, end) at local midnights and night boundaries: (minutes, weekend, night)."""
    cuts = {0}
    if fees is not None and fees.night_percent:
        cuts |= {fees.night_start % 1440, fees.night_end % 1440}
    # All arithmetic in UTC: datetimes sharing a zone subtract by wall time, not real time.
    t, end = start.astimezone(UTC), end.astimezone(UTC)
    while t < end:
        local = t.astimezone(zone)
        minute = local.hour * 60 + local.minute
        later = [c for c in sorted(cuts) if c > minute]
        nxt = (
            _wall(local.date(), later[0], zone)
            if later
            else _wall(local.date() + timedelta(days=1), 0, zone)
        ).astimezone(UTC)
        if nxt <= t:  # a DST gap can map a wall time to an earlier instant
            nxt = t + timedelta(minutes=1)
        seg_end = min(nxt, end)
        minutes = int((seg_end - t).total_seconds() // 60)
        night = False
        if fees is not None and fees.night_percent:
            ns, ne = fees.night_start % 1440, fees.night_end % 1440
            night = (minute >= ns or minute < ne) if ns > ne else (ns <= minute < ne)
        yield minutes, local.weekday() >= 5, night
        t = seg_end


# A category without its own rate pays the next one's (a schedule always has the resident rate).
RATE_FALLBACK = {
    "commercial": ("commercial", "non_resident", "resident"),
    "non_resident": ("non_resident", "resident"),
    "resident": ("resident",),
}


def fee_category(purpose: str, app: Applicant) -> str:
    if purpose == "commercial":
        return "commercial"
    return "resident" if app.is_space_resident else "non_resident"


def quote(effective: Effective, ask: Ask, app: Applicant) -> Quote:
    """The fee for a request, line by line, in minor units."""
    category = fee_category(ask.purpose, app)
    source, fees = effective.fees if effective.fees else (None, None)
    if fees is None:
        rate = ask.default_rate
    else:
        rate = next(
            r for r in (fees.rate_for(c) for c in RATE_FALLBACK[category]) if r is not None
        )
    minutes = ask.minutes
    lines = [QuoteLine("base", _div(rate * minutes, 60), (("minutes", minutes), ("rate", rate)))]
    if fees is not None and (fees.weekend_percent or fees.night_percent):
        weekend = night = 0
        for seg_minutes, is_weekend, is_night in _segments(ask.start, ask.end, ask.zone, fees):
            weekend += seg_minutes if is_weekend else 0
            night += seg_minutes if is_night else 0
        if weekend and fees.weekend_percent:
            amount = _div(rate * weekend * fees.weekend_percent, 6000)
            lines.append(
                QuoteLine(
                    "weekend", amount, (("minutes", weekend), ("percent", fees.weekend_percent))
                )
            )
        if night and fees.night_percent:
            amount = _div(rate * night * fees.night_percent, 6000)
            lines.append(
                QuoteLine("night", amount, (("minutes", night), ("percent", fees.night_percent)))
            )
    subtotal = sum(line.amount for line in lines)
    waiver = waiver_line(effective, category, ask.waiver, subtotal)
    if waiver is not None:
        lines.append(waiver)
    return Quote(category, rate, tuple(lines), source)


def waiver_line(
    effective: Effective, category: str, waiver: str | None, subtotal: int
) -> QuoteLine | None:
    """The (negative) line a fee waiver takes off `subtotal`, if the rules grant it."""
    if not waiver or not effective.waivers or category == "commercial":
        return None
    percent = dict(effective.waivers[1]).get(waiver)
    if not percent or not subtotal:
        return None
    return QuoteLine(
        "waiver",
        -min(subtotal, _div(subtotal * percent, 100)),
        (("category", waiver), ("percent", percent)),
    )


def refund_percent(
    tiers: tuple[RefundTier, ...] | None, start: datetime, now: datetime
) -> int:
    """Share of the fee refunded when the resident cancels at `now`."""
    if now >= start:
        return 0
    if tiers is None:
        return 100
    left = start - now
    for tier in tiers:  # days_before descending
        if left >= timedelta(days=tier.days_before):
            return tier.percent
    return 0
