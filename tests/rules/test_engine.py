"""The pure rules engine: each rule at its boundary, which rule set a refusal cites, how rule
sets combine, allocation and approval stages, price quotes (including DST days), refunds and
the period/draw helpers. Hypothesis checks the combination laws the issue asks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.rules.engine import (
    DEFAULT_STAGE,
    Applicant,
    Ask,
    Limit,
    PlannedStage,
    Reason,
    Source,
    combine,
    draw_time,
    evaluate,
    intersect_hours,
    lottery_window_for,
    period_bounds,
    refund_percent,
)
from app.rules.schema import (
    AutoApprove,
    Fees,
    LotteryWindow,
    NoShowPenalty,
    Quota,
    RefundTier,
    Rules,
    Stage,
    parse_rules,
)
from tests.rules.strategies import SOURCE_POOL, applicants, asks, parts
from tests.rules.strategies import rules as rules_strategy

SEOUL = ZoneInfo("Asia/Seoul")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # Monday 09:00 in Seoul

SPACE = Source("s:7", "space", "대강당", 0)
OWNER = Source("o:5", "owner", "서울중학교", 1)
DISTRICT = Source("j:3", "jurisdiction", "강남구", 99)  # depth 1
CITY = Source("j:1", "jurisdiction", "서울특별시", 100)  # depth 0
EDU = Source("j:2", "jurisdiction", "서울특별시교육청", 100)  # depth 0

NOBODY = Applicant()


def seoul(y, m, d, h=0, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SEOUL)


MONDAY_18 = seoul(2026, 6, 8, 18)  # a week after NOW


def make_ask(
    start=MONDAY_18,
    end=None,
    *,
    minutes=120,
    now=NOW,
    purpose="education",
    attendees=10,
    zone=SEOUL,
    **kw,
) -> Ask:
    end = end if end is not None else start + timedelta(minutes=minutes)
    return Ask(start=start, end=end, zone=zone, now=now, purpose=purpose, attendees=attendees, **kw)


def judge(*rule_sets, ask=None, app=NOBODY):
    return evaluate(combine(list(rule_sets)), ask or make_ask(), app)


def codes(decision) -> list[str]:
    return [r.code for r in decision.reasons]


def only_reason(decision) -> Reason:
    assert len(decision.reasons) == 1, decision.reasons
    return decision.reasons[0]


def test_no_rules_permit_anything():
    d = judge(ask=make_ask(start=NOW - timedelta(days=400), minutes=1440, attendees=10**6))
    assert d.allowed and d.reasons == ()
    assert d.mode == "request"
    assert d.stages == (PlannedStage(None, DEFAULT_STAGE),)


# --- Limits, each at its boundary ------------------------------------------------------------
def test_min_notice_boundary():
    rules = (SPACE, Rules(min_notice_hours=48))
    assert judge(rules, ask=make_ask(start=NOW + timedelta(hours=48))).allowed
    d = judge(rules, ask=make_ask(start=NOW + timedelta(hours=48) - timedelta(minutes=1)))
    assert only_reason(d) == Reason("min_notice", SPACE, (("hours", 48),))


def test_max_days_ahead_boundary():
    rules = (OWNER, Rules(max_days_ahead=30))
    assert judge(rules, ask=make_ask(start=NOW + timedelta(days=30))).allowed
    d = judge(rules, ask=make_ask(start=NOW + timedelta(days=30, minutes=1)))
    assert only_reason(d) == Reason("max_ahead", OWNER, (("days", 30),))


def test_length_boundaries():
    rules = (SPACE, Rules(min_minutes=60, max_minutes=180))
    assert judge(rules, ask=make_ask(minutes=60)).allowed
    assert judge(rules, ask=make_ask(minutes=180)).allowed
    assert only_reason(judge(rules, ask=make_ask(minutes=59))) == Reason(
        "min_length", SPACE, (("minutes", 60),)
    )
    assert only_reason(judge(rules, ask=make_ask(minutes=181))) == Reason(
        "max_length", SPACE, (("minutes", 180),)
    )


def test_max_attendees_boundary():
    rules = (DISTRICT, Rules(max_attendees=50))
    assert judge(rules, ask=make_ask(attendees=50)).allowed
    assert only_reason(judge(rules, ask=make_ask(attendees=51))) == Reason(
        "max_attendees", DISTRICT, (("n", 50),)
    )


@pytest.mark.parametrize(
    ("attr", "values", "ask", "code", "strictest"),
    [
        ("min_notice_hours", (24, 48, 72), make_ask(start=NOW + timedelta(hours=60)),
         "min_notice", (72, CITY)),
        ("max_days_ahead", (60, 14, 30), make_ask(start=NOW + timedelta(days=20)), "max_ahead",
         (14, OWNER)),
        ("min_minutes", (30, 90, 60), make_ask(minutes=45), "min_length", (90, OWNER)),
        ("max_minutes", (60, 240, 120), make_ask(minutes=180), "max_length", (60, SPACE)),
        ("max_attendees", (100, 50, 20), make_ask(attendees=80), "max_attendees", (20, CITY)),
    ],
)  # fmt: skip
def test_limits_cite_the_strictest_source(attr, values, ask, code, strictest):
    """SPACE, OWNER and CITY each set the limit; the refusal names the strictest one only."""
    rule_sets = [(s, Rules(**{attr: v})) for s, v in zip((SPACE, OWNER, CITY), values, strict=True)]
    effective = combine(rule_sets)
    value, source = strictest
    assert getattr(effective, attr) == Limit(value, source)
    reason = only_reason(evaluate(effective, ask, NOBODY))
    assert (reason.code, reason.source) == (code, source)
    assert reason.params[0][1] == value


def test_equal_limits_cite_the_nearest_source():
    effective = combine([(CITY, Rules(max_attendees=20)), (SPACE, Rules(max_attendees=20))])
    assert effective.max_attendees == Limit(20, SPACE)


# --- Allowed hours ---------------------------------------------------------------------------
def week(**days) -> tuple:
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return tuple(tuple(days.get(n, ())) for n in names)


EVENINGS = Rules(allowed_hours=week(mon=[(18 * 60, 22 * 60)]), hours_note="학기 중")


def test_hours_boundaries_in_local_time():
    rules = (EDU, EVENINGS)
    assert judge(rules, ask=make_ask(seoul(2026, 6, 8, 18), seoul(2026, 6, 8, 22))).allowed
    for start, end in [
        (seoul(2026, 6, 8, 17, 59), seoul(2026, 6, 8, 20)),
        (seoul(2026, 6, 8, 20), seoul(2026, 6, 8, 22, 1)),
    ]:
        reason = only_reason(judge(rules, ask=make_ask(start, end)))
        assert reason == Reason(
            "hours", EDU, (("weekday", 0), ("ranges", ((1080, 1320),)), ("note", "학기 중"))
        )


def test_hours_of_a_day_without_ranges():
    reason = only_reason(judge((EDU, EVENINGS), ask=make_ask(seoul(2026, 6, 9, 18))))
    assert reason.param("weekday") == 1 and reason.param("ranges") == ()


def test_hours_use_the_spaces_weekday_not_utcs():
    # Monday 01:00–03:00 in Seoul is Sunday 16:00–18:00 UTC.
    start, end = seoul(2026, 6, 8, 1), seoul(2026, 6, 8, 3)
    assert start.astimezone(UTC).weekday() == 6
    monday_night = (SPACE, Rules(allowed_hours=week(mon=[(0, 360)])))
    sunday_utc_hours = (SPACE, Rules(allowed_hours=week(sun=[(16 * 60, 18 * 60)])))
    utc_ask = make_ask(start.astimezone(UTC), end.astimezone(UTC))
    assert judge(monday_night, ask=utc_ask).allowed
    assert codes(judge(sunday_utc_hours, ask=utc_ask)) == ["hours"]


def test_hours_booking_ending_at_midnight():
    late = (SPACE, Rules(allowed_hours=week(sat=[(20 * 60, 1440)])))
    assert judge(late, ask=make_ask(seoul(2026, 6, 13, 22), seoul(2026, 6, 14, 0))).allowed
    # Past midnight it is no longer within one day's hours.
    reason = only_reason(judge(late, ask=make_ask(seoul(2026, 6, 13, 23), seoul(2026, 6, 14, 1))))
    assert reason.code == "hours" and reason.param("weekday") == 5


def test_hours_touching_ranges_join():
    split_day = (SPACE, Rules(allowed_hours=week(wed=[(540, 720), (720, 1080)])))
    assert judge(split_day, ask=make_ask(seoul(2026, 6, 10, 11), seoul(2026, 6, 10, 13))).allowed
    gap_day = (SPACE, Rules(allowed_hours=week(wed=[(540, 720), (780, 1080)])))
    assert codes(judge(gap_day, ask=make_ask(seoul(2026, 6, 10, 11), seoul(2026, 6, 10, 14)))) == [
        "hours"
    ]


def test_hours_are_checked_per_source():
    space = (SPACE, Rules(allowed_hours=week(mon=[(9 * 60, 22 * 60)])))
    city = (CITY, Rules(allowed_hours=week(mon=[(18 * 60, 23 * 60)])))
    d = judge(space, city, ask=make_ask(seoul(2026, 6, 8, 10), seoul(2026, 6, 8, 12)))
    assert [(r.code, r.source) for r in d.reasons] == [("hours", CITY)]
    d = judge(space, city, ask=make_ask(seoul(2026, 6, 8, 21), seoul(2026, 6, 8, 23)))
    assert [(r.code, r.source) for r in d.reasons] == [("hours", SPACE)]
    assert judge(space, city, ask=make_ask(seoul(2026, 6, 8, 18), seoul(2026, 6, 8, 22))).allowed
    assert combine([space, city]).allowed_hours == week(mon=[(18 * 60, 22 * 60)])


def test_intersect_hours():
    a = week(mon=[(0, 600), (700, 1000)], tue=[(0, 1440)])
    b = week(mon=[(500, 800), (900, 1440)], wed=[(0, 60)])
    assert intersect_hours(a, b) == week(mon=[(500, 600), (700, 800), (900, 1000)])
    assert intersect_hours(None, b) == b and intersect_hours(a, None) == a
    assert intersect_hours(None, None) is None


# --- Eligibility -----------------------------------------------------------------------------
def test_residents_only():
    rules = (DISTRICT, Rules(eligibility="residents"))
    assert judge(rules, app=Applicant(resident_of=frozenset({"j:3"}))).allowed
    for app in (NOBODY, Applicant(resident_of=frozenset({"j:4", "s:7"}))):
        assert only_reason(judge(rules, app=app)) == Reason("residents_only", DISTRICT)


def test_anyone_is_no_restriction():
    assert judge((DISTRICT, Rules(eligibility="anyone"))).allowed


def test_residents_first_opens_n_days_before_the_start():
    rules = (SPACE, Rules(eligibility="residents_first", residents_first_days=3))
    # Monday 01:00 in Seoul: three days before is Friday 5 June locally (Thursday in UTC).
    start = seoul(2026, 6, 8, 1)
    opens = start - timedelta(days=3)
    assert judge(rules, ask=make_ask(start, now=opens)).allowed
    assert judge(rules, ask=make_ask(start, now=opens + timedelta(hours=5))).allowed
    early = make_ask(start, now=opens - timedelta(minutes=1))
    assert only_reason(judge(rules, ask=early)) == Reason(
        "residents_first", SPACE, (("days", 3), ("date", "2026-06-05"))
    )
    # Residents may book any time.
    assert judge(rules, ask=early, app=Applicant(resident_of=frozenset({"s:7"}))).allowed


# --- Purposes --------------------------------------------------------------------------------
def test_allowed_and_refused_purposes():
    owner = (OWNER, Rules(allowed_purposes=frozenset({"education", "culture", "political"})))
    city = (CITY, Rules(refused_purposes=frozenset({"political", "religious"})))
    assert judge(owner, city, ask=make_ask(purpose="culture")).allowed
    assert judge(owner, city, ask=make_ask(purpose="sports")).reasons == (
        Reason("purpose_not_allowed", OWNER, (("purpose", "sports"),)),
    )
    assert judge(owner, city, ask=make_ask(purpose="political")).reasons == (
        Reason("purpose_refused", CITY, (("purpose", "political"),)),
    )
    assert judge(owner, city, ask=make_ask(purpose="religious")).reasons == (
        Reason("purpose_not_allowed", OWNER, (("purpose", "religious"),)),
        Reason("purpose_refused", CITY, (("purpose", "religious"),)),
    )


def test_purposes_combine():
    e = combine(
        [
            (SPACE, Rules(allowed_purposes=frozenset({"education", "culture", "sports"}))),
            (
                CITY,
                Rules(
                    allowed_purposes=frozenset({"education", "sports", "community"}),
                    refused_purposes=frozenset({"political"}),
                ),
            ),
            (DISTRICT, Rules(refused_purposes=frozenset({"religious"}))),
        ]
    )
    assert e.allowed_purposes == frozenset({"education", "sports"})
    assert e.refused_purposes == frozenset({"political", "religious"})
    assert combine([(SPACE, Rules())]).allowed_purposes is None


# --- Quotas ----------------------------------------------------------------------------------
QUOTAS = Rules(
    quotas=(
        Quota("user", "week", max_hours=4),
        Quota("user", "month", max_bookings=2),
        Quota("group", "week", max_bookings=1),
    )
)


def usage(**by_index) -> dict:
    return {("s:7", int(k[1:])): v for k, v in by_index.items()}


def test_quota_hours_boundary():
    rules = (SPACE, QUOTAS)
    app = Applicant(usage=usage(q0=(180, 1)))
    assert judge(rules, ask=make_ask(minutes=60), app=app).allowed
    assert only_reason(judge(rules, ask=make_ask(minutes=61), app=app)) == Reason(
        "quota_hours", SPACE, (("per", "user"), ("period", "week"), ("n", 4), ("used", 3.0))
    )


def test_quota_bookings_boundary():
    rules = (SPACE, QUOTAS)
    assert judge(rules, app=Applicant(usage=usage(q1=(600, 1)))).allowed
    assert only_reason(judge(rules, app=Applicant(usage=usage(q1=(0, 2))))) == Reason(
        "quota_bookings", SPACE, (("per", "user"), ("period", "month"), ("n", 2), ("used", 2))
    )


def test_group_quota_applies_only_to_group_bookings():
    rules = (SPACE, QUOTAS)
    full = usage(q2=(60, 1))
    assert judge(rules, app=Applicant(usage=full, has_group=False)).allowed
    assert judge(rules, app=Applicant(usage={}, has_group=True)).allowed
    reason = only_reason(judge(rules, app=Applicant(usage=full, has_group=True)))
    assert reason.code == "quota_bookings" and reason.param("per") == "group"


def test_quota_usage_belongs_to_its_source_and_index():
    rules = (SPACE, QUOTAS)
    elsewhere = {("o:5", 0): (10_000, 50), ("s:7", 5): (10_000, 50)}
    assert judge(rules, app=Applicant(usage=elsewhere)).allowed
    # The same quota in the owner's rules counts the owner's usage and cites the owner.
    d = judge((OWNER, QUOTAS), app=Applicant(usage={("o:5", 0): (240, 2)}))
    assert [(r.code, r.source) for r in d.reasons] == [("quota_hours", OWNER)]


def test_quota_with_hours_and_bookings_reports_bookings_first():
    rules = (SPACE, Rules(quotas=(Quota("user", "month", max_hours=10, max_bookings=3),)))
    assert codes(judge(rules, app=Applicant(usage=usage(q0=(600, 3))))) == ["quota_bookings"]
    assert codes(judge(rules, app=Applicant(usage=usage(q0=(600, 2))))) == ["quota_hours"]
    assert judge(rules, app=Applicant(usage=usage(q0=(480, 2)))).allowed


# --- No-shows --------------------------------------------------------------------------------
PENALTY = Rules(no_show=NoShowPenalty(count=2, within_days=90, ban_days=30))


def no_shows(*days_ago, key="s:7") -> Applicant:
    return Applicant(no_shows={key: tuple(NOW - timedelta(days=d) for d in days_ago)})


def test_no_show_ban():
    rules = (SPACE, PENALTY)
    # Latest no-show 10 days ago: banned for 30 days from it, until 21 June (Seoul).
    assert only_reason(judge(rules, app=no_shows(10, 40))) == Reason(
        "no_show", SPACE, (("count", 2), ("until", "2026-06-21"))
    )
    assert judge(rules, app=no_shows(10)).allowed
    assert judge(rules, app=no_shows(10, 91)).allowed  # outside the window
    assert not judge(rules, app=no_shows(10, 90)).allowed  # exactly at its edge
    assert judge(rules, app=no_shows(30, 40)).allowed  # the ban has just run out
    late = Applicant(
        no_shows={
            "s:7": (NOW - timedelta(days=30) + timedelta(minutes=1), NOW - timedelta(days=40))
        }
    )
    assert codes(judge(rules, app=late)) == ["no_show"]
    assert judge(rules, app=no_shows(1, 2, key="o:5")).allowed  # another rule set's record


# --- Combining -------------------------------------------------------------------------------
def test_limits_combine_to_the_most_restrictive():
    e = combine(
        [
            (CITY, Rules(min_notice_hours=72, max_days_ahead=90, max_minutes=240)),
            (SPACE, Rules(min_notice_hours=24, max_days_ahead=30, min_minutes=60)),
            (OWNER, Rules(max_attendees=100, min_minutes=30, max_minutes=480)),
        ]
    )
    assert e.min_notice_hours == Limit(72, CITY)
    assert e.max_days_ahead == Limit(30, SPACE)
    assert e.min_minutes == Limit(60, SPACE)
    assert e.max_minutes == Limit(240, CITY)
    assert e.max_attendees == Limit(100, OWNER)
    assert combine([]).min_notice_hours is None


FEES_A = Fees((("resident", 10_000),))
FEES_B = Fees((("resident", 5_000),))
TIERS_A = (RefundTier(7, 100),)
TIERS_B = (RefundTier(3, 50),)


def test_fees_waivers_and_refunds_come_from_the_nearest_source():
    e = combine(
        [
            (CITY, Rules(fees=FEES_B, waivers=(("nonprofit", 50),), refund_tiers=TIERS_B)),
            (OWNER, Rules(fees=FEES_A)),
            (SPACE, Rules(waivers=(("senior", 30),))),
            (DISTRICT, Rules(refund_tiers=TIERS_A, fees=FEES_B)),
        ]
    )
    assert e.fees == (OWNER, FEES_A)
    assert e.waivers == (SPACE, (("senior", 30),))
    assert e.refund_tiers == (DISTRICT, TIERS_A)
    # "No tiers" (an empty list) does not hide a farther rule set's tiers.
    e = combine([(SPACE, Rules(refund_tiers=())), (CITY, Rules(refund_tiers=TIERS_B))])
    assert e.refund_tiers == (CITY, TIERS_B)
    assert combine([(SPACE, Rules())]).fees is None


def stage(label: str, mode: str = "decide") -> Stage:
    return Stage("owner_manager", mode, label=label)


def test_stages_ordered_nearest_first():
    rule_sets = [
        (CITY, Rules(stages=(stage("city"),))),
        (EDU, Rules(stages=(stage("edu 1"), stage("edu 2")))),
        (SPACE, Rules(stages=(stage("space"),))),
        (DISTRICT, Rules(stages=(stage("district"),))),
        (OWNER, Rules(stages=(stage("owner"),))),
    ]
    expected = ["space", "owner", "district", "city", "edu 1", "edu 2"]
    for order in (rule_sets, rule_sets[::-1]):
        e = combine(order)
        assert [s.label for _, s in e.stages] == expected
        assert [src for src, _ in e.stages] == [SPACE, OWNER, DISTRICT, CITY, EDU, EDU]
    d = evaluate(combine(rule_sets), make_ask(), NOBODY)
    assert [p.stage.label for p in d.stages] == expected
    assert not any(p.auto_approved for p in d.stages)


@pytest.mark.parametrize(
    ("modes", "expected"),
    [
        (("instant",), "instant"),
        (("instant", "request"), "request"),
        (("lottery", "instant"), "lottery"),
        (("request", "lottery", "instant"), "lottery"),
        ((), None),
    ],
)
def test_allocation_keeps_the_strictest(modes, expected):
    sources = (SPACE, OWNER, CITY)
    e = combine([(s, Rules(allocation=m)) for s, m in zip(sources, modes, strict=False)])
    assert e.allocation == expected


def test_auto_approval_marks_only_its_own_stages():
    space = (
        SPACE,
        Rules(stages=(stage("space"),), auto_approve=(AutoApprove(residents_only=True),)),
    )
    owner = (OWNER, Rules(stages=(stage("owner"), stage("owner notify", "notify"))))
    resident = Applicant(resident_of=frozenset({"s:7"}))
    d = judge(space, owner, app=resident)
    assert [(p.stage.label, p.auto_approved) for p in d.stages] == [
        ("space", True),
        ("owner", False),
        ("owner notify", False),
    ]
    assert d.needs_decision
    d = judge(space, owner)  # not a resident
    assert not any(p.auto_approved for p in d.stages)
    # With only the auto-approving rule set there is nothing left to decide.
    d = judge(space, app=resident)
    assert d.mode == "request" and not d.needs_decision
    assert d.stages == (PlannedStage(SPACE, stage("space"), True),)


def test_auto_approval_by_purpose():
    space = (
        SPACE,
        Rules(
            stages=(stage("space"),), auto_approve=(AutoApprove(purposes=frozenset({"education"})),)
        ),
    )
    assert judge(space, ask=make_ask(purpose="education")).stages[0].auto_approved
    assert not judge(space, ask=make_ask(purpose="sports")).stages[0].auto_approved


def test_request_without_deciding_stage_gets_the_default_stage():
    d = judge((SPACE, Rules(stages=(stage("told", "notify"),))))
    assert d.mode == "request"
    assert d.stages == (
        PlannedStage(SPACE, stage("told", "notify")),
        PlannedStage(None, DEFAULT_STAGE),
    )
    assert Stage("owner_manager", "decide", None, "expire") == DEFAULT_STAGE
    assert d.needs_decision


def test_instant_space():
    assert judge(ask=make_ask(base_mode="instant")).mode == "instant"
    assert judge(ask=make_ask(base_mode="instant")).stages == ()
    # Notifying someone does not stop instant booking...
    d = judge((CITY, Rules(stages=(stage("told", "notify"),))), ask=make_ask(base_mode="instant"))
    assert d.mode == "instant" and not d.needs_decision
    # ...but a stage that decides turns it into a request.
    d = judge((CITY, Rules(stages=(stage("city"),))), ask=make_ask(base_mode="instant"))
    assert d.mode == "request"
    assert [p.source for p in d.stages] == [CITY]
    # A rule set may also demand requests.
    d = judge((OWNER, Rules(allocation="request")), ask=make_ask(base_mode="instant"))
    assert d.mode == "request" and d.stages == (PlannedStage(None, DEFAULT_STAGE),)
    # But never relax a request space into instant booking.
    assert judge((OWNER, Rules(allocation="instant"))).mode == "request"


WINDOW = LotteryWindow(frozenset({5}), 9 * 60, 18 * 60, draw_days_before=7, draw_minute=600)
SATURDAY = seoul(2026, 6, 13, 10)  # draw on Saturday 6 June 10:00 in Seoul


def test_lottery_before_and_after_the_draw():
    rules = (SPACE, Rules(allocation="lottery", lottery=(WINDOW,)))
    draw = seoul(2026, 6, 6, 10)
    d = judge(rules, ask=make_ask(SATURDAY, now=draw - timedelta(seconds=1)))
    assert (d.mode, d.lottery, d.draw_at) == ("lottery", WINDOW, draw)
    assert d.stages == (PlannedStage(None, DEFAULT_STAGE),)
    d = judge(rules, ask=make_ask(SATURDAY, now=draw))
    assert (d.mode, d.lottery, d.draw_at) == ("request", None, None)
    # Outside the windows a lottery space takes requests.
    d = judge(rules, ask=make_ask(seoul(2026, 6, 13, 18), now=NOW))
    assert (d.mode, d.lottery) == ("request", None)
    d = judge(rules, ask=make_ask(seoul(2026, 6, 12, 10), now=NOW))  # Friday
    assert d.mode == "request"


def test_lottery_window_without_lottery_allocation():
    rules = (SPACE, Rules(lottery=(WINDOW,)))
    d = judge(rules, ask=make_ask(SATURDAY, base_mode="instant"))
    assert d.mode == "lottery" and d.lottery == WINDOW
    d = judge(rules, ask=make_ask(SATURDAY, base_mode="request", now=seoul(2026, 6, 7)))
    assert d.mode == "request"


def test_lottery_window_for():
    windows = (WINDOW, LotteryWindow(frozenset({6}), 0, 1440))
    sat = lambda h1, h2: (seoul(2026, 6, 13, h1), seoul(2026, 6, 13, h2))  # noqa: E731
    assert lottery_window_for(windows, *sat(17, 19), SEOUL) == WINDOW  # overlaps the end
    assert lottery_window_for(windows, *sat(7, 10), SEOUL) == WINDOW
    assert lottery_window_for(windows, *sat(18, 20), SEOUL) is None  # touches only
    assert lottery_window_for(windows, *sat(7, 9), SEOUL) is None
    assert (
        lottery_window_for(windows, seoul(2026, 6, 14, 23), seoul(2026, 6, 15, 0), SEOUL)
        == windows[1]
    )
    # A booking over midnight is in no window.
    assert lottery_window_for(windows, seoul(2026, 6, 13, 17), seoul(2026, 6, 14, 1), SEOUL) is None
    assert lottery_window_for((), *sat(10, 12), SEOUL) is None


def test_draw_time():
    # Saturday 00:30 in Seoul is still Friday in UTC; the draw counts local days.
    start = seoul(2026, 6, 13, 0, 30).astimezone(UTC)
    assert draw_time(WINDOW, start, SEOUL) == seoul(2026, 6, 6, 10)
    w = LotteryWindow(frozenset({5}), 0, 600, draw_days_before=3, draw_minute=0)
    assert draw_time(w, start, SEOUL) == seoul(2026, 6, 10, 0)
    assert draw_time(w, start, SEOUL).utcoffset() == timedelta(hours=9)


# --- Price quotes ----------------------------------------------------------------------------
RATES = (("commercial", 50_000), ("non_resident", 20_000), ("resident", 10_000))
RESIDENT = Applicant(is_space_resident=True)


def price(fees: Fees | None, ask: Ask, app: Applicant = RESIDENT, waivers=()):
    rule_sets = [(SPACE, Rules(fees=fees, waivers=waivers))]
    q = evaluate(combine(rule_sets), ask, app).quote
    assert q.total == sum(line.amount for line in q.lines)
    return q


def amounts(q) -> dict[str, int]:
    return {line.code: line.amount for line in q.lines}


def test_base_rate_pro_rata():
    q = price(Fees((("resident", 10_000),)), make_ask(minutes=90))
    assert (q.category, q.rate, q.source) == ("resident", 10_000, SPACE)
    assert [(line.code, line.amount, line.params) for line in q.lines] == [
        ("base", 15_000, (("minutes", 90), ("rate", 10_000)))
    ]
    assert q.total == 15_000


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(10, 0), (30, 1), (60, 1), (90, 2), (150, 3), (1_000, 17), (29, 0), (31, 1)],
)
def test_rounding_half_up_in_won(rate, expected):
    """One minute at `rate` an hour: 0.5 rounds up (1), 1.5 to 2, 2.5 to 3, 16.67 to 17."""
    assert price(Fees((("resident", rate),)), make_ask(minutes=1)).total == expected


@pytest.mark.parametrize(
    ("rates", "applicant", "purpose", "category", "rate"),
    [
        (RATES, RESIDENT, "education", "resident", 10_000),
        (RATES, NOBODY, "education", "non_resident", 20_000),
        (RATES, RESIDENT, "commercial", "commercial", 50_000),
        (RATES, NOBODY, "commercial", "commercial", 50_000),
        ((("resident", 10_000),), NOBODY, "education", "non_resident", 10_000),
        ((("resident", 10_000),), RESIDENT, "commercial", "commercial", 10_000),
        (
            (("non_resident", 20_000), ("resident", 10_000)),
            RESIDENT,
            "commercial",
            "commercial",
            20_000,
        ),
        ((("commercial", 50_000), ("resident", 10_000)), NOBODY, "sports", "non_resident", 10_000),
    ],
)
def test_fee_category_and_rate_fallback(rates, applicant, purpose, category, rate):
    q = price(Fees(rates), make_ask(minutes=60, purpose=purpose), applicant)
    assert (q.category, q.rate, q.total) == (category, rate, rate)


def test_weekend_surcharge():
    fees = Fees((("resident", 10_000),), weekend_percent=20)
    q = price(fees, make_ask(seoul(2026, 6, 13, 10), seoul(2026, 6, 13, 12)))  # Saturday
    assert amounts(q) == {"base": 20_000, "weekend": 4_000}
    assert q.lines[1].params == (("minutes", 120), ("percent", 20))
    assert amounts(price(fees, make_ask(seoul(2026, 6, 12, 10)))) == {"base": 20_000}  # Friday
    # Friday 23:00 to Saturday 01:00: one weekend hour. Sunday 23:00 to Monday 01:00 likewise.
    for start in (seoul(2026, 6, 12, 23), seoul(2026, 6, 14, 23)):
        q = price(fees, make_ask(start, start + timedelta(hours=2)))
        assert amounts(q) == {"base": 20_000, "weekend": 2_000}
        assert dict(q.lines[1].params)["minutes"] == 60


NIGHT = Fees((("resident", 10_000),), night_percent=50, night_start=22 * 60, night_end=6 * 60)


@pytest.mark.parametrize(
    ("start", "end", "night_minutes"),
    [
        (seoul(2026, 6, 8, 21), seoul(2026, 6, 8, 23, 30), 90),
        (seoul(2026, 6, 8, 23), seoul(2026, 6, 9, 2), 180),  # crosses midnight
        (seoul(2026, 6, 9, 5), seoul(2026, 6, 9, 7), 60),
        (seoul(2026, 6, 8, 20), seoul(2026, 6, 9, 8), 480),
        (seoul(2026, 6, 8, 6), seoul(2026, 6, 8, 22), 0),
    ],
)
def test_night_surcharge_wrapping_midnight(start, end, night_minutes):
    q = price(NIGHT, make_ask(start, end))
    minutes = int((end - start).total_seconds() // 60)
    expected = {"base": minutes * 10_000 // 60}
    if night_minutes:
        expected["night"] = night_minutes * 10_000 * 50 // 6000
    assert amounts(q) == expected


def test_night_booking_2100_to_2330_by_hand():
    q = price(NIGHT, make_ask(seoul(2026, 6, 8, 21), seoul(2026, 6, 8, 23, 30)))
    assert [(line.code, line.amount) for line in q.lines] == [("base", 25_000), ("night", 7_500)]
    assert q.lines[1].params == (("minutes", 90), ("percent", 50))
    assert q.total == 32_500


def test_night_window_not_wrapping():
    fees = Fees((("resident", 6_000),), night_percent=100, night_start=0, night_end=360)
    q = price(fees, make_ask(seoul(2026, 6, 8, 23), seoul(2026, 6, 9, 2)))
    assert amounts(q) == {"base": 18_000, "night": 12_000}


def test_weekend_and_night_together():
    fees = Fees((("resident", 10_000),), weekend_percent=20, night_percent=50)
    q = price(fees, make_ask(seoul(2026, 6, 13, 21), seoul(2026, 6, 13, 23, 30)))
    assert amounts(q) == {"base": 25_000, "weekend": 5_000, "night": 7_500}
    assert q.total == 37_500


WAIVERS = (("disabled", 100), ("nonprofit", 50))


def test_waivers():
    fees = Fees((("resident", 10_000),), weekend_percent=20)
    sat = make_ask(seoul(2026, 6, 13, 10), seoul(2026, 6, 13, 12), waiver="nonprofit")
    q = price(fees, sat, waivers=WAIVERS)
    assert amounts(q) == {"base": 20_000, "weekend": 4_000, "waiver": -12_000}
    assert q.lines[-1].params == (("category", "nonprofit"), ("percent", 50))
    assert q.total == 12_000
    q = price(fees, make_ask(waiver="disabled"), waivers=WAIVERS)
    assert amounts(q) == {"base": 20_000, "waiver": -20_000} and q.total == 0
    # A waiver the rules do not grant, or no waiver asked, changes nothing.
    assert price(fees, make_ask(waiver="senior"), waivers=WAIVERS).total == 20_000
    assert price(fees, make_ask(), waivers=WAIVERS).total == 20_000
    assert price(fees, make_ask(waiver="nonprofit")).total == 20_000


def test_commercial_use_gets_no_waiver():
    q = price(Fees(RATES), make_ask(purpose="commercial", waiver="disabled"), waivers=WAIVERS)
    assert amounts(q) == {"base": 100_000} and q.category == "commercial"


def test_waiver_rounds_half_up():
    q = price(
        Fees((("resident", 15_001),)), make_ask(minutes=60, waiver="nonprofit"), waivers=WAIVERS
    )
    assert amounts(q) == {"base": 15_001, "waiver": -7_501}
    assert q.total == 7_500


def test_waiver_from_the_nearest_source():
    rule_sets = [
        (CITY, Rules(waivers=(("nonprofit", 50),))),
        (SPACE, Rules(fees=Fees((("resident", 10_000),)), waivers=(("nonprofit", 30),))),
    ]
    q = evaluate(combine(rule_sets), make_ask(waiver="nonprofit"), RESIDENT).quote
    assert amounts(q) == {"base": 20_000, "waiver": -6_000}


def test_no_fee_schedule_uses_the_spaces_own_rate():
    ask = make_ask(seoul(2026, 6, 13, 21), seoul(2026, 6, 13, 22, 30), default_rate=12_000)
    q = price(None, ask)
    assert (q.rate, q.source, amounts(q)) == (12_000, None, {"base": 18_000})
    assert price(None, ask, NOBODY).total == 18_000  # no categories without a schedule
    assert price(None, make_ask(minutes=90)).total == 0  # a free space
    # A waiver granted by a rule set still applies to the space's own rate.
    rule_sets = [(CITY, Rules(waivers=(("nonprofit", 50),)))]
    ask = make_ask(minutes=120, default_rate=12_000, waiver="nonprofit")
    assert evaluate(combine(rule_sets), ask, RESIDENT).quote.total == 12_000


def test_fees_from_the_nearest_source_that_has_them():
    rule_sets = [
        (CITY, Rules(fees=Fees((("resident", 1_000),)))),
        (OWNER, Rules(fees=Fees((("resident", 8_000),)))),
        (SPACE, Rules(max_attendees=100)),
    ]
    q = evaluate(combine(rule_sets), make_ask(minutes=60, default_rate=99_000), RESIDENT).quote
    assert (q.source, q.total) == (OWNER, 8_000)


# --- Daylight saving time --------------------------------------------------------------------
DST_FEES = Fees((("resident", 6_000),), weekend_percent=10, night_percent=50)


@pytest.mark.parametrize("as_utc", [False, True])
@pytest.mark.parametrize(
    ("day", "real_minutes"),
    [((2026, 3, 29), 120), ((2026, 10, 25), 240)],  # spring forward, fall back (Sundays)
)
def test_dst_day_in_berlin_counts_real_minutes(day, real_minutes, as_utc):
    start = datetime(*day, 1, 0, tzinfo=BERLIN)
    end = datetime(*day, 4, 0, tzinfo=BERLIN)
    if as_utc:
        start, end = start.astimezone(UTC), end.astimezone(UTC)
    ask = make_ask(start, end, zone=BERLIN, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert ask.minutes == real_minutes
    q = price(DST_FEES, ask)
    assert amounts(q) == {
        "base": real_minutes * 100,  # 6,000 an hour is 100 a minute
        "weekend": real_minutes * 10,
        "night": real_minutes * 50,  # all of 01:00–04:00 is night
    }
    assert dict(q.lines[0].params)["minutes"] == real_minutes
    assert dict(q.lines[2].params)["minutes"] == real_minutes


@pytest.mark.parametrize(
    ("start", "end", "real", "night"),
    [
        # Saturday 23:00 to Sunday 08:00 across the spring change: 8 real hours, 6 at night.
        ((2026, 3, 28, 23), (2026, 3, 29, 8), 480, 360),
        # The same across the autumn change: 10 real hours, 8 at night.
        ((2026, 10, 24, 23), (2026, 10, 25, 8), 600, 480),
    ],
)
def test_dst_change_inside_a_booking(start, end, real, night):
    ask = make_ask(
        datetime(*start, tzinfo=BERLIN).astimezone(UTC),
        datetime(*end, tzinfo=BERLIN).astimezone(UTC),
        zone=BERLIN,
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert ask.minutes == real
    q = price(DST_FEES, ask)
    assert amounts(q) == {"base": real * 100, "weekend": real * 10, "night": night * 50}


def test_same_wall_times_in_seoul_have_no_dst():
    ask = make_ask(seoul(2026, 3, 29, 1), seoul(2026, 3, 29, 4))
    assert ask.minutes == 180
    assert amounts(price(DST_FEES, ask)) == {"base": 18_000, "weekend": 1_800, "night": 9_000}


def test_hours_on_a_dst_day_are_wall_clock():
    rules = (SPACE, Rules(allowed_hours=week(sun=[(0, 5 * 60)])))
    ask = make_ask(
        datetime(2026, 3, 29, 1, tzinfo=BERLIN),
        datetime(2026, 3, 29, 5, tzinfo=BERLIN),
        zone=BERLIN,
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert judge(rules, ask=ask).allowed


# --- Refunds ---------------------------------------------------------------------------------
TIERS = parse_rules(
    {"refund_tiers": [{"days_before": 2, "percent": 50}, {"days_before": 7, "percent": 100}]}
).refund_tiers
START = seoul(2026, 6, 20, 10)


@pytest.mark.parametrize(
    ("before", "percent"),
    [
        (timedelta(days=30), 100),
        (timedelta(days=7), 100),  # exactly at the boundary
        (timedelta(days=7) - timedelta(seconds=1), 50),
        (timedelta(days=2), 50),
        (timedelta(days=2) - timedelta(seconds=1), 0),
        (timedelta(seconds=1), 0),
        (timedelta(0), 0),
        (-timedelta(hours=1), 0),
    ],
)
def test_refund_tiers(before, percent):
    assert (RefundTier(7, 100), RefundTier(2, 50)) == TIERS
    assert refund_percent(TIERS, START, START - before) == percent


def test_refund_without_tiers():
    assert refund_percent(None, START, START - timedelta(seconds=1)) == 100
    assert refund_percent(None, START, START - timedelta(days=100)) == 100
    assert refund_percent(None, START, START) == 0
    assert refund_percent(None, START, START + timedelta(days=1)) == 0


def test_refund_tier_of_zero_days():
    tiers = (RefundTier(3, 100), RefundTier(0, 20))
    assert refund_percent(tiers, START, START - timedelta(minutes=1)) == 20
    assert refund_percent(tiers, START, START) == 0


# --- Periods ---------------------------------------------------------------------------------
def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "period", "bounds"),
    [
        # Monday 00:30 in Seoul, still Sunday in UTC: the new week.
        (utc(2026, 6, 7, 15, 30), "week", (utc(2026, 6, 7, 15), utc(2026, 6, 14, 15))),
        # Sunday 23:59 in Seoul: the week before.
        (utc(2026, 6, 7, 14, 59), "week", (utc(2026, 5, 31, 15), utc(2026, 6, 7, 15))),
        (utc(2026, 6, 3, 3), "week", (utc(2026, 5, 31, 15), utc(2026, 6, 7, 15))),
        # 1 July 00:00 in Seoul is 30 June in UTC: July.
        (utc(2026, 6, 30, 15), "month", (utc(2026, 6, 30, 15), utc(2026, 7, 31, 15))),
        (utc(2026, 6, 30, 14, 59), "month", (utc(2026, 5, 31, 15), utc(2026, 6, 30, 15))),
        (utc(2026, 12, 31, 20), "month", (utc(2026, 12, 31, 15), utc(2027, 1, 31, 15))),
        (utc(2026, 12, 15), "month", (utc(2026, 11, 30, 15), utc(2026, 12, 31, 15))),
        (utc(2028, 2, 10), "month", (utc(2028, 1, 31, 15), utc(2028, 2, 29, 15))),
    ],
)
def test_period_bounds_in_seoul(instant, period, bounds):
    lo, hi = period_bounds(instant, period, SEOUL)
    assert (lo, hi) == bounds
    assert lo <= instant < hi


def test_period_bounds_week_with_a_dst_change():
    """The bounds are real instants: the week of the spring change lasts 167 hours."""
    lo, hi = period_bounds(utc(2026, 3, 27, 12), "week", BERLIN)
    assert (lo, hi) == (utc(2026, 3, 22, 23), utc(2026, 3, 29, 22))
    assert hi - lo == timedelta(hours=167)


# --- Hypothesis: the laws of combining --------------------------------------------------------
@st.composite
def split_sources(draw, max_a: int = 4):
    """Distinct sources: a list for A and one more for B."""
    order = draw(st.permutations(SOURCE_POOL))
    n = draw(st.integers(1, max_a))
    return list(order[:n]), order[n]


PROPERTY_SETTINGS = settings(max_examples=100, deadline=None)


@PROPERTY_SETTINGS
@given(data=st.data(), ask=asks(), applicant=applicants())
def test_adding_a_rule_set_never_permits_more(data, ask, applicant):
    a_sources, b_source = data.draw(split_sources())
    a = data.draw(parts(a_sources))
    b = data.draw(rules_strategy(level=b_source.level, sparse=True))
    before = evaluate(combine(a), ask, applicant)
    after = evaluate(combine([*a, (b_source, b)]), ask, applicant)
    if not before.allowed:
        assert not after.allowed
    assert set(codes(before)) <= set(codes(after))


@PROPERTY_SETTINGS
@given(data=st.data(), ask=asks(), applicant=applicants())
def test_combine_is_order_independent(data, ask, applicant):
    sources, _ = data.draw(split_sources(max_a=5))
    rule_sets = data.draw(parts(sources))
    shuffled = data.draw(st.permutations(rule_sets))
    assert combine(list(shuffled)) == combine(rule_sets)
    assert evaluate(combine(list(shuffled)), ask, applicant) == evaluate(
        combine(rule_sets), ask, applicant
    )


@PROPERTY_SETTINGS
@given(data=st.data(), ask=asks(), applicant=applicants())
def test_combined_refuses_exactly_when_some_part_refuses(data, ask, applicant):
    sources, _ = data.draw(split_sources(max_a=5))
    rule_sets = data.draw(parts(sources))
    combined = evaluate(combine(rule_sets), ask, applicant)
    alone = [evaluate(combine([part]), ask, applicant) for part in rule_sets]
    assert combined.allowed == all(d.allowed for d in alone)
    assert set(codes(combined)) == {code for d in alone for code in codes(d)}
    # Every reason of the combination is one that its own rule set gives alone: limits cite
    # the rule set with the strictest value, with that value.
    assert set(combined.reasons) <= {r for d in alone for r in d.reasons}
