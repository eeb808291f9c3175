"""Hypothesis strategies for valid rule sets, requests and applicants (shared by the tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from app.rules.engine import Applicant, Ask, Source
from app.rules.schema import (
    ALLOCATION_MODES,
    ELIGIBILITY,
    ON_DEADLINE,
    PURPOSES,
    QUOTA_PER,
    QUOTA_PERIODS,
    WAIVER_CATEGORIES,
    AutoApprove,
    Fees,
    LotteryWindow,
    NoShowPenalty,
    Quota,
    RefundTier,
    Rules,
    Stage,
)

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # Monday 09:00 in Seoul

PURPOSE_KEYS = sorted(PURPOSES)
# Short notes and labels, already stripped as `parse_rules` keeps them.
NOTE_ALPHABET = "가나다라 abcXYZ-()·"


def _maybe(strategy):
    return st.none() | strategy


def _stripped_text(max_size: int):
    return st.text(alphabet=NOTE_ALPHABET, max_size=max_size).map(str.strip)


# Strategies are built once at import (building them inside every draw is slow), and each
# example makes few choices: Hypothesis spends its time per choice.
POINTS = st.lists(st.integers(0, 1440), unique=True, max_size=4)


@st.composite
def _day_ranges(draw):
    """Sorted, non-overlapping [from, to) minute ranges of one day."""
    points = sorted(draw(POINTS))
    if len(points) % 2:
        points = points[:-1]
    return tuple((points[i], points[i + 1]) for i in range(0, len(points), 2))


# Most rule sets name a few weekdays; the others have no hours.
HOURS = st.dictionaries(st.integers(0, 6), _day_ranges(), max_size=3).map(
    lambda days: tuple(days.get(d, ()) for d in range(7))
)


def _quotas(hours, bookings):
    @st.composite
    def quota(draw):
        max_h = draw(_maybe(hours))
        max_b = draw(_maybe(bookings)) if max_h is not None else draw(bookings)
        return Quota(
            draw(st.sampled_from(sorted(QUOTA_PER))),
            draw(st.sampled_from(sorted(QUOTA_PERIODS))),
            max_h,
            max_b,
        )

    return quota()


@st.composite
def _fees(draw):
    cats = draw(st.sets(st.sampled_from(["commercial", "non_resident"]))) | {"resident"}
    rates = tuple(sorted((c, draw(st.integers(0, 10_000_000))) for c in cats))
    night = draw(st.integers(0, 500))
    n_start = draw(st.integers(0, 1440))
    n_end = draw(st.integers(0, 1440))
    if night and n_start % 1440 == n_end % 1440:
        n_end = (n_start + 1) % 1440
    return Fees(rates, draw(st.integers(0, 500)), night, n_start, n_end)


@st.composite
def _refund_tiers(draw):
    days = sorted(draw(st.lists(st.integers(0, 366), unique=True, max_size=4)), reverse=True)
    percents = sorted(
        draw(st.lists(st.integers(0, 100), min_size=len(days), max_size=len(days))),
        reverse=True,
    )
    return tuple(RefundTier(d, p) for d, p in zip(days, percents, strict=True))


LABEL = _stripped_text(8)


@st.composite
def _stages(draw, level: str):
    approvers = ["owner_manager", "owner_principal"]
    if level == "jurisdiction":
        approvers.append("jurisdiction")
    approver = draw(st.sampled_from(approvers))
    label = draw(LABEL)
    if draw(st.booleans()):
        return Stage(approver, "notify", None, "escalate", label)
    on = draw(st.sampled_from(sorted(ON_DEADLINE)))
    days = draw(st.integers(1, 60)) if on == "escalate" else draw(_maybe(st.integers(1, 60)))
    return Stage(approver, "decide", days, on, label)


@st.composite
def _lottery_window(draw):
    start = draw(st.integers(0, 1439))
    end = draw(st.integers(start + 1, 1440))
    return LotteryWindow(
        weekdays=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        start=start,
        end=end,
        draw_days_before=draw(st.integers(1, 60)),
        draw_minute=draw(st.integers(0, 1439)),
        cap_per_month=draw(_maybe(st.integers(1, 31))),
        resident_priority=draw(st.booleans()),
    )


COMMON = {
    "eligibility": st.sampled_from(sorted(ELIGIBILITY)),
    "allowed": st.frozensets(st.sampled_from(PURPOSE_KEYS), min_size=1),
    "refused": st.frozensets(st.sampled_from(PURPOSE_KEYS), min_size=1),
    "hours": HOURS,
    "note": _stripped_text(12),
    "fees": _fees(),
    "waivers": st.dictionaries(
        st.sampled_from(sorted(WAIVER_CATEGORIES)), st.integers(1, 100), min_size=1, max_size=3
    ).map(lambda d: tuple(sorted(d.items()))),
    "tiers": _refund_tiers(),
    "no_show": st.builds(
        NoShowPenalty, st.integers(1, 20), st.integers(1, 730), st.integers(1, 365)
    ),
    "allocation": st.sampled_from(sorted(ALLOCATION_MODES)),
    "lottery": st.lists(_lottery_window(), min_size=1, max_size=2),
    "auto": st.lists(
        st.builds(
            AutoApprove, st.booleans(), st.frozensets(st.sampled_from(PURPOSE_KEYS), max_size=3)
        ),
        min_size=1,
        max_size=2,
    ),
}
# Anywhere in the valid ranges (for the round trip)...
WIDE = {
    **COMMON,
    "first_days": st.integers(1, 365),
    "notice": st.integers(0, 24 * 365),
    "ahead": st.integers(1, 366),
    "min_m": st.integers(1, 1440),
    "max_m": st.integers(1, 1440),
    "attendees": st.integers(1, 100_000),
    "quotas": st.lists(_quotas(st.integers(1, 744), st.integers(1, 1000)), min_size=1, max_size=3),
}
# ...or near the requests the engine tests make (for the combination laws).
NEAR = {
    **COMMON,
    "first_days": st.sampled_from([1, 3, 7, 30]),
    "notice": st.sampled_from([0, 1, 24, 48, 72, 24 * 20]),
    "ahead": st.sampled_from([1, 7, 14, 30, 60]),
    "min_m": st.sampled_from([30, 60, 120, 240]),
    "max_m": st.sampled_from([60, 180, 240, 480]),
    "attendees": st.sampled_from([10, 30, 100]),
    "quotas": _quotas(st.sampled_from([1, 2, 4, 10]), st.sampled_from([1, 2, 3])).map(
        lambda q: (q,)
    ),
}
STAGE_LISTS = {
    level: st.lists(_stages(level), min_size=1, max_size=3)
    for level in ("space", "owner", "jurisdiction")
}
PART_NAMES = (
    "eligibility",
    "allowed",
    "refused",
    "notice",
    "ahead",
    "min_m",
    "max_m",
    "hours",
    "note",
    "quotas",
    "attendees",
    "fees",
    "waivers",
    "tiers",
    "no_show",
    "stages",
    "auto",
    "allocation",
    "lottery",
)
# Every part present or not: one choice for the lot.
ALL_PARTS = st.integers(0, 2 ** len(PART_NAMES) - 1).map(
    lambda mask: {name for i, name in enumerate(PART_NAMES) if mask >> i & 1}
)
FEW_PARTS = st.lists(st.sampled_from(PART_NAMES), unique=True, max_size=3).map(set)


@st.composite
def rules(draw, level: str = "space", sparse: bool = False):
    """A valid `Rules` value for a rule set of `level`, with any of its parts.

    `sparse`: at most three parts, with values near the requests of the engine tests, so that
    random combinations of a few rule sets still permit requests now and then."""
    chosen = draw(FEW_PARTS if sparse else ALL_PARTS)
    values = NEAR if sparse else WIDE

    def part(name, default=None):
        if name not in chosen:
            return default
        if name == "stages":
            return tuple(draw(STAGE_LISTS[level]))
        return draw(values[name])

    eligibility = part("eligibility")
    first_days = draw(values["first_days"]) if eligibility == "residents_first" else None
    allowed = part("allowed")
    refused = part("refused", frozenset())
    if allowed is not None:
        refused -= allowed
    notice, ahead = part("notice"), part("ahead")
    if notice is not None and ahead is not None and notice >= ahead * 24:
        notice = ahead * 24 - 1
    min_m, max_m = part("min_m"), part("max_m")
    if min_m is not None and max_m is not None and min_m > max_m:
        min_m, max_m = max_m, min_m
    stages = part("stages", ())
    return Rules(
        eligibility=eligibility,
        residents_first_days=first_days,
        allowed_purposes=allowed,
        refused_purposes=refused,
        min_notice_hours=notice,
        max_days_ahead=ahead,
        min_minutes=min_m,
        max_minutes=max_m,
        allowed_hours=part("hours"),
        hours_note=part("note", ""),
        quotas=tuple(part("quotas", ())),
        max_attendees=part("attendees"),
        fees=part("fees"),
        waivers=part("waivers", ()),
        refund_tiers=part("tiers"),
        no_show=part("no_show"),
        stages=stages,
        auto_approve=tuple(part("auto", ())) if stages else (),
        allocation=part("allocation"),
        lottery=tuple(part("lottery", ())) if level == "space" else (),
    )


# A pool of sources with distinct keys and the ranks the services give them.
SOURCE_POOL = (
    Source("s:1", "space", "강당", 0),
    Source("o:1", "owner", "서울중학교", 1),
    Source("j:3", "jurisdiction", "강남구", 99),
    Source("j:4", "jurisdiction", "서초구", 99),
    Source("j:1", "jurisdiction", "서울특별시", 100),
    Source("j:2", "jurisdiction", "서울특별시교육청", 100),
)
POOL_KEYS = [s.key for s in SOURCE_POOL]


@st.composite
def parts(draw, sources):
    """(source, rules) for each of `sources`, each with rules valid at its level."""
    return [(s, draw(rules(level=s.level, sparse=True))) for s in sources]


START_STEP = st.integers(0, 48 * 45)  # half hours from NOW, up to 45 days ahead
LENGTH_STEP = st.integers(1, 24)  # half hours
PURPOSE = st.sampled_from(PURPOSE_KEYS)
ATTENDEES = st.sampled_from([1, 10, 30, 100]) | st.integers(1, 150)
WAIVER = _maybe(st.sampled_from(sorted(WAIVER_CATEGORIES)))
RATE = st.integers(0, 100_000)
BASE_MODE = st.sampled_from(["instant", "request"])


@st.composite
def asks(draw):
    start = NOW + timedelta(minutes=30 * draw(START_STEP))
    return Ask(
        start=start,
        end=start + timedelta(minutes=30 * draw(LENGTH_STEP)),
        zone=SEOUL,
        now=NOW,
        purpose=draw(PURPOSE),
        attendees=draw(ATTENDEES),
        waiver=draw(WAIVER),
        default_rate=draw(RATE),
        base_mode=draw(BASE_MODE),
    )


USAGE = st.dictionaries(
    st.tuples(st.sampled_from(POOL_KEYS), st.integers(0, 1)),
    st.tuples(st.integers(0, 2000), st.integers(0, 5)),
    max_size=3,
)
NO_SHOWS = st.dictionaries(
    st.sampled_from(POOL_KEYS),
    st.lists(st.integers(0, 400), max_size=3).map(
        lambda ds: tuple(NOW - timedelta(days=d) for d in ds)
    ),
    max_size=2,
)
RESIDENT_OF = st.integers(0, 2 ** len(POOL_KEYS) - 1).map(
    lambda mask: frozenset(k for i, k in enumerate(POOL_KEYS) if mask >> i & 1)
)


@st.composite
def applicants(draw):
    return Applicant(
        resident_of=draw(RESIDENT_OF),
        is_space_resident=draw(st.booleans()),
        has_group=draw(st.booleans()),
        usage=draw(USAGE),
        no_shows=draw(NO_SHOWS),
    )
