"""The rule-set document: every rule parses, every malformed or contradictory document is refused
with a message on the right field, and `rules_to_doc` is the inverse of `parse_rules`."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import ValidationFailed
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
    rules_to_doc,
)
from tests.rules.strategies import rules

EMPTY_WEEK = {str(d): [] for d in range(7)}


def errors_of(doc, level: str = "space") -> dict:
    with pytest.raises(ValidationFailed) as caught:
        parse_rules(doc, level=level)
    errors = caught.value.errors
    assert errors and all(messages and all(messages) for messages in errors.values())
    return errors


# --- Every rule type parses ------------------------------------------------------------------
def test_empty_document_says_nothing():
    assert parse_rules({}) == Rules()
    assert parse_rules({}).is_empty()
    assert rules_to_doc(Rules()) == {}


def test_eligibility_and_residents_first():
    assert parse_rules({"eligibility": "residents"}).eligibility == "residents"
    assert parse_rules({"eligibility": "anyone"}).eligibility == "anyone"
    r = parse_rules({"eligibility": "residents_first", "residents_first_days": 3})
    assert (r.eligibility, r.residents_first_days) == ("residents_first", 3)
    # The days mean nothing without residents_first and are not kept.
    r = parse_rules({"eligibility": "residents", "residents_first_days": 3})
    assert r.residents_first_days is None


def test_purposes():
    r = parse_rules({"allowed_purposes": ["education", "culture"], "refused_purposes": ["sports"]})
    assert r.allowed_purposes == frozenset({"education", "culture"})
    assert r.refused_purposes == frozenset({"sports"})
    r = parse_rules({"refused_purposes": ["political", "religious"]})
    assert r.allowed_purposes is None
    assert r.refused_purposes == frozenset({"political", "religious"})


def test_limits():
    r = parse_rules(
        {
            "min_notice_hours": 48,
            "max_days_ahead": 30,
            "min_minutes": 60,
            "max_minutes": 240,
            "max_attendees": 80,
        }
    )
    assert (r.min_notice_hours, r.max_days_ahead) == (48, 30)
    assert (r.min_minutes, r.max_minutes, r.max_attendees) == (60, 240, 80)
    # Equal minimum and maximum length is a fixed length, not a contradiction.
    assert parse_rules({"min_minutes": 120, "max_minutes": 120}).max_minutes == 120
    # Zero notice is allowed, an empty string is "not given".
    assert parse_rules({"min_notice_hours": 0}).min_notice_hours == 0
    assert parse_rules({"max_attendees": ""}).max_attendees is None


def test_allowed_hours_sorted_per_weekday():
    r = parse_rules(
        {
            "allowed_hours": {"0": [[1080, 1320], [540, 720]], "5": [[600, 1440]]},
            "hours_note": "  학사일정 중 평일 저녁만  ",
        }
    )
    assert r.allowed_hours == (
        ((540, 720), (1080, 1320)),
        (),
        (),
        (),
        (),
        ((600, 1440),),
        (),
    )
    assert r.hours_note == "학사일정 중 평일 저녁만"
    # Touching ranges do not overlap.
    r = parse_rules({"allowed_hours": {"2": [[540, 720], [720, 900]]}})
    assert r.allowed_hours[2] == ((540, 720), (720, 900))
    assert parse_rules({"allowed_hours": EMPTY_WEEK}).allowed_hours == ((),) * 7


def test_quotas():
    r = parse_rules(
        {
            "quotas": [
                {"per": "user", "period": "week", "max_hours": 4},
                {"per": "group", "period": "month", "max_bookings": 8, "max_hours": 20},
            ]
        }
    )
    assert r.quotas == (Quota("user", "week", 4, None), Quota("group", "month", 20, 8))


def test_fees_with_defaults():
    r = parse_rules({"fees": {"rates": {"resident": 10000, "commercial": 50000}}})
    assert r.fees == Fees((("commercial", 50000), ("resident", 10000)), 0, 0, 1320, 360)
    r = parse_rules(
        {
            "fees": {
                "rates": {"resident": 0, "non_resident": 5000},
                "weekend_percent": 20,
                "night_percent": 50,
                "night_start": 1260,
                "night_end": 420,
            }
        }
    )
    assert r.fees == Fees((("non_resident", 5000), ("resident", 0)), 20, 50, 1260, 420)
    assert r.fees.rate_for("non_resident") == 5000
    assert r.fees.rate_for("commercial") is None


def test_waivers_sorted():
    r = parse_rules({"waivers": {"nonprofit": 50, "disabled": 100}})
    assert r.waivers == (("disabled", 100), ("nonprofit", 50))


def test_refund_tiers_sorted_longest_first():
    r = parse_rules(
        {
            "refund_tiers": [
                {"days_before": 2, "percent": 50},
                {"days_before": 7, "percent": 100},
                {"days_before": 0, "percent": 0},
            ]
        }
    )
    assert r.refund_tiers == (RefundTier(7, 100), RefundTier(2, 50), RefundTier(0, 0))
    # Equal percentages at different days are fine; an empty list is "no refunds".
    r = parse_rules(
        {"refund_tiers": [{"days_before": 7, "percent": 50}, {"days_before": 1, "percent": 50}]}
    )
    assert [t.percent for t in r.refund_tiers] == [50, 50]
    assert parse_rules({"refund_tiers": []}).refund_tiers == ()


def test_no_show_penalty():
    r = parse_rules({"no_show": {"count": 2, "within_days": 90, "ban_days": 30}})
    assert r.no_show == NoShowPenalty(2, 90, 30)
    # The window defaults to a year.
    assert parse_rules({"no_show": {"count": 3, "ban_days": 14}}).no_show == NoShowPenalty(
        3, 365, 14
    )


def test_stages_and_auto_approve():
    r = parse_rules(
        {
            "stages": [
                {
                    "approver": "owner_manager",
                    "deadline_days": 3,
                    "on_deadline": "escalate",
                    "label": " 시설 담당자 ",
                },
                {"approver": "owner_principal", "on_deadline": "approve", "deadline_days": 5},
                {
                    "approver": "owner_principal",
                    "mode": "notify",
                    "deadline_days": 9,
                    "on_deadline": "expire",
                },
                {"approver": "owner_manager"},
            ],
            "auto_approve": [{"residents_only": True, "purposes": ["education"]}, {}],
        }
    )
    assert r.stages == (
        Stage("owner_manager", "decide", 3, "escalate", "시설 담당자"),
        Stage("owner_principal", "decide", 5, "approve", ""),
        # A notifying stage has no deadline and passes straight on.
        Stage("owner_principal", "notify", None, "escalate", ""),
        Stage("owner_manager", "decide", None, "expire", ""),
    )
    assert r.auto_approve == (
        AutoApprove(True, frozenset({"education"})),
        AutoApprove(False, frozenset()),
    )


def test_jurisdiction_approver_in_a_jurisdiction_rule_set():
    r = parse_rules(
        {"stages": [{"approver": "jurisdiction", "deadline_days": 5, "on_deadline": "escalate"}]},
        level="jurisdiction",
    )
    assert r.stages == (Stage("jurisdiction", "decide", 5, "escalate"),)


def test_allocation_and_lottery_windows():
    r = parse_rules(
        {
            "allocation": "lottery",
            "lottery": [
                {"weekdays": [5, 6], "start": 540, "end": 1080},
                {
                    "weekdays": [2],
                    "start": 0,
                    "end": 1440,
                    "draw_days_before": 14,
                    "draw_minute": 1440,
                    "cap_per_month": 2,
                    "resident_priority": False,
                },
            ],
        }
    )
    assert r.allocation == "lottery"
    assert r.lottery == (
        LotteryWindow(frozenset({5, 6}), 540, 1080, 7, 600, None, True),
        LotteryWindow(frozenset({2}), 0, 1440, 14, 1439, 2, False),
    )
    for mode in ("instant", "request"):
        assert parse_rules({"allocation": mode}).allocation == mode


def test_a_full_document_at_each_level():
    doc = {
        "eligibility": "residents_first",
        "residents_first_days": 7,
        "allowed_purposes": ["education", "community"],
        "refused_purposes": ["political"],
        "min_notice_hours": 24,
        "max_days_ahead": 60,
        "min_minutes": 60,
        "max_minutes": 240,
        "allowed_hours": {"0": [[1080, 1320]]},
        "quotas": [{"per": "user", "period": "month", "max_hours": 10}],
        "max_attendees": 200,
        "fees": {"rates": {"resident": 10000}},
        "waivers": {"senior": 30},
        "refund_tiers": [{"days_before": 3, "percent": 100}],
        "no_show": {"count": 2, "ban_days": 30},
        "stages": [{"approver": "owner_manager"}],
        "auto_approve": [{"residents_only": True}],
        "allocation": "request",
    }
    for level in ("jurisdiction", "owner", "space"):
        r = parse_rules(doc, level=level)
        assert parse_rules(rules_to_doc(r), level=level) == r
    assert parse_rules(json.loads(json.dumps(doc))) == parse_rules(doc)


# --- Refused documents -----------------------------------------------------------------------
STAGE = {"approver": "owner_manager"}
REFUSED = [
    # (name, document, level, the field key the message is on)
    ("not an object", ["eligibility"], "space", None),
    ("not an object (string)", "residents", "space", None),
    ("unknown rule", {"eligibilty": "residents"}, "space", None),
    ("unknown eligibility", {"eligibility": "everyone"}, "space", "eligibility"),
    (
        "residents_first without days",
        {"eligibility": "residents_first"},
        "space",
        "residents_first_days",
    ),
    (
        "residents_first days out of range",
        {"eligibility": "residents_first", "residents_first_days": 0},
        "space",
        "residents_first_days",
    ),
    ("empty allowed purposes", {"allowed_purposes": []}, "space", "allowed_purposes"),
    (
        "unknown purpose",
        {"allowed_purposes": ["education", "karaoke"]},
        "space",
        "allowed_purposes",
    ),
    ("purposes not a list", {"refused_purposes": "political"}, "space", "refused_purposes"),
    (
        "purpose both allowed and refused",
        {"allowed_purposes": ["education", "sports"], "refused_purposes": ["sports"]},
        "space",
        "refused_purposes",
    ),
    (
        "notice equal to window",
        {"min_notice_hours": 24 * 7, "max_days_ahead": 7},
        "space",
        "min_notice_hours",
    ),
    (
        "notice longer than window",
        {"min_notice_hours": 500, "max_days_ahead": 7},
        "space",
        "min_notice_hours",
    ),
    ("negative notice", {"min_notice_hours": -1}, "space", "min_notice_hours"),
    ("max days ahead zero", {"max_days_ahead": 0}, "space", "max_days_ahead"),
    ("min longer than max", {"min_minutes": 121, "max_minutes": 120}, "space", "max_minutes"),
    ("length over a day", {"max_minutes": 1441}, "space", "max_minutes"),
    ("boolean where a number is expected", {"min_minutes": True}, "space", "min_minutes"),
    ("float where a whole number is expected", {"max_attendees": 10.5}, "space", "max_attendees"),
    ("string number", {"max_days_ahead": "30"}, "space", "max_days_ahead"),
    ("boolean attendees", {"max_attendees": False}, "space", "max_attendees"),
    ("hours not per weekday", {"allowed_hours": [[540, 1080]]}, "space", "allowed_hours"),
    ("hours weekday 7", {"allowed_hours": {"7": [[540, 1080]]}}, "space", "allowed_hours"),
    ("hours range backwards", {"allowed_hours": {"0": [[1080, 540]]}}, "space", "allowed_hours"),
    ("hours range empty", {"allowed_hours": {"0": [[540, 540]]}}, "space", "allowed_hours"),
    ("hours past midnight", {"allowed_hours": {"0": [[1320, 1500]]}}, "space", "allowed_hours"),
    ("hours negative", {"allowed_hours": {"0": [[-60, 60]]}}, "space", "allowed_hours"),
    ("hours range of three", {"allowed_hours": {"0": [[540, 600, 660]]}}, "space", "allowed_hours"),
    ("hours boolean minute", {"allowed_hours": {"0": [[True, 600]]}}, "space", "allowed_hours"),
    ("hours day not a list", {"allowed_hours": {"0": "09:00-18:00"}}, "space", "allowed_hours"),
    (
        "overlapping hours",
        {"allowed_hours": {"3": [[540, 780], [720, 900]]}},
        "space",
        "allowed_hours",
    ),
    ("hours note too long", {"hours_note": "가" * 201}, "space", "hours_note"),
    ("hours note not text", {"hours_note": 5}, "space", "hours_note"),
    ("hours note false", {"hours_note": False}, "space", "hours_note"),
    ("quotas not a list", {"quotas": {"per": "user"}}, "space", "quotas"),
    ("quota without period", {"quotas": [{"per": "user", "max_hours": 4}]}, "space", "quotas.0"),
    ("quota without maximum", {"quotas": [{"per": "user", "period": "week"}]}, "space", "quotas.0"),
    (
        "quota unknown per",
        {"quotas": [{"per": "family", "period": "week", "max_hours": 4}]},
        "space",
        "quotas.0",
    ),
    (
        "second quota with boolean hours",
        {
            "quotas": [
                {"per": "user", "period": "week", "max_hours": 4},
                {"per": "user", "period": "month", "max_hours": True},
            ]
        },
        "space",
        "quotas.1",
    ),
    (
        "21 quotas",
        {"quotas": [{"per": "user", "period": "week", "max_hours": 4}] * 21},
        "space",
        "quotas",
    ),
    ("fees not an object", {"fees": 10000}, "space", "fees"),
    (
        "fee schedule without resident rate",
        {"fees": {"rates": {"non_resident": 20000}}},
        "space",
        "fees.resident",
    ),
    ("fee schedule without rates", {"fees": {"weekend_percent": 20}}, "space", "fees.resident"),
    ("fee rates as a list", {"fees": {"rates": [10000]}}, "space", "fees"),
    ("unknown fee category", {"fees": {"rates": {"resident": 1, "tourist": 2}}}, "space", "fees"),
    ("negative rate", {"fees": {"rates": {"resident": -1}}}, "space", "fees.resident"),
    (
        "boolean rate",
        {"fees": {"rates": {"resident": 1000, "commercial": True}}},
        "space",
        "fees.commercial",
    ),
    (
        "weekend percent too high",
        {"fees": {"rates": {"resident": 1}, "weekend_percent": 501}},
        "space",
        "fees.weekend_percent",
    ),
    (
        "night start out of the day",
        {"fees": {"rates": {"resident": 1}, "night_percent": 50, "night_start": 1441}},
        "space",
        "fees.night_start",
    ),
    (
        "night starting where it ends",
        {
            "fees": {
                "rates": {"resident": 1},
                "night_percent": 50,
                "night_start": 0,
                "night_end": 1440,
            }
        },
        "space",
        "fees.night_start",
    ),
    ("waivers not an object", {"waivers": ["nonprofit"]}, "space", "waivers"),
    ("unknown waiver", {"waivers": {"vip": 50}}, "space", "waivers"),
    ("waiver of 0 percent", {"waivers": {"senior": 0}}, "space", "waivers.senior"),
    ("waiver over 100 percent", {"waivers": {"senior": 101}}, "space", "waivers.senior"),
    ("refund tiers not a list", {"refund_tiers": {"days_before": 7}}, "space", "refund_tiers"),
    (
        "refund tier without percent",
        {"refund_tiers": [{"days_before": 7}]},
        "space",
        "refund_tiers.0",
    ),
    (
        "refund over 100 percent",
        {"refund_tiers": [{"days_before": 7, "percent": 110}]},
        "space",
        "refund_tiers.0",
    ),
    (
        "earlier cancellation refunds less",
        {"refund_tiers": [{"days_before": 7, "percent": 50}, {"days_before": 2, "percent": 100}]},
        "space",
        "refund_tiers",
    ),
    (
        "duplicate tier days",
        {"refund_tiers": [{"days_before": 7, "percent": 100}, {"days_before": 7, "percent": 50}]},
        "space",
        "refund_tiers",
    ),
    (
        "21 refund tiers",
        {"refund_tiers": [{"days_before": d, "percent": 100} for d in range(21)]},
        "space",
        "refund_tiers",
    ),
    ("no-show not an object", {"no_show": 2}, "space", "no_show"),
    ("no-show without ban", {"no_show": {"count": 2}}, "space", "no_show"),
    ("no-show count zero", {"no_show": {"count": 0, "ban_days": 5}}, "space", "no_show.count"),
    ("stage without approver", {"stages": [{"mode": "decide"}]}, "space", "stages.0"),
    ("stage unknown approver", {"stages": [{"approver": "mayor"}]}, "space", "stages.0"),
    (
        "jurisdiction approver at space level",
        {"stages": [{"approver": "jurisdiction"}]},
        "space",
        "stages.0",
    ),
    (
        "jurisdiction approver at owner level",
        {"stages": [STAGE, {"approver": "jurisdiction"}]},
        "owner",
        "stages.1",
    ),
    (
        "escalate without deadline",
        {"stages": [{"approver": "owner_manager", "on_deadline": "escalate"}]},
        "space",
        "stages.0",
    ),
    (
        "deadline of 0 days",
        {"stages": [{"approver": "owner_manager", "deadline_days": 0}]},
        "space",
        "stages.0",
    ),
    (
        "boolean deadline",
        {"stages": [{"approver": "owner_manager", "deadline_days": True}]},
        "space",
        "stages.0",
    ),
    (
        "stage label too long",
        {"stages": [{"approver": "owner_manager", "label": "x" * 81}]},
        "space",
        "stages.0",
    ),
    ("stages not a list of objects", {"stages": ["owner_manager"]}, "space", "stages"),
    ("21 stages", {"stages": [STAGE] * 21}, "space", "stages"),
    (
        "auto-approve without stages",
        {"auto_approve": [{"residents_only": True}]},
        "space",
        "auto_approve",
    ),
    (
        "auto-approve residents_only not yes/no",
        {"stages": [STAGE], "auto_approve": [{"residents_only": 1}]},
        "space",
        "auto_approve.0",
    ),
    (
        "auto-approve unknown purpose",
        {"stages": [STAGE], "auto_approve": [{"purposes": ["gaming"]}]},
        "space",
        "auto_approve.0",
    ),
    ("unknown allocation", {"allocation": "auction"}, "space", "allocation"),
    (
        "lottery at owner level",
        {"lottery": [{"weekdays": [5], "start": 540, "end": 1080}]},
        "owner",
        "lottery",
    ),
    (
        "lottery at jurisdiction level",
        {"lottery": [{"weekdays": [5], "start": 540, "end": 1080}]},
        "jurisdiction",
        "lottery",
    ),
    (
        "lottery without weekdays",
        {"lottery": [{"weekdays": [], "start": 540, "end": 1080}]},
        "space",
        "lottery.0",
    ),
    (
        "lottery weekday 7",
        {"lottery": [{"weekdays": [7], "start": 540, "end": 1080}]},
        "space",
        "lottery.0",
    ),
    (
        "lottery boolean weekday",
        {"lottery": [{"weekdays": [True], "start": 540, "end": 1080}]},
        "space",
        "lottery.0",
    ),
    (
        "lottery start after end",
        {"lottery": [{"weekdays": [5], "start": 1080, "end": 540}]},
        "space",
        "lottery.0",
    ),
    ("lottery without end", {"lottery": [{"weekdays": [5], "start": 540}]}, "space", "lottery.0"),
    (
        "lottery priority not yes/no",
        {"lottery": [{"weekdays": [5], "start": 540, "end": 1080, "resident_priority": "yes"}]},
        "space",
        "lottery.0",
    ),
    (
        "lottery cap zero",
        {"lottery": [{"weekdays": [5], "start": 540, "end": 1080, "cap_per_month": 0}]},
        "space",
        "lottery.0",
    ),
]


@pytest.mark.parametrize(
    ("doc", "level", "key"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_refused_documents_name_the_field(doc, level, key):
    errors = errors_of(doc, level)
    assert key in errors, errors


def test_every_problem_is_reported_at_once():
    errors = errors_of(
        {
            "min_minutes": 200,
            "max_minutes": 100,
            "allowed_purposes": [],
            "fees": {"rates": {}},
            "bogus": 1,
        }
    )
    assert set(errors) == {"max_minutes", "allowed_purposes", "fees.resident", None}


def test_refusal_messages_are_clear(english):
    assert errors_of({"min_minutes": 121, "max_minutes": 120})["max_minutes"] == [
        "The maximum length must not be shorter than the minimum."
    ]
    assert errors_of({"min_minutes": True})["min_minutes"] == ["Enter a whole number."]
    assert errors_of({"max_minutes": 2000})["max_minutes"] == ["Enter a number from 1 to 1440."]
    assert errors_of(
        {"allowed_purposes": ["education"], "refused_purposes": ["education", "sports"]}
    )["refused_purposes"] == ["A purpose cannot be both allowed and refused: Education."]
    assert errors_of({"min_notice_hours": 48, "max_days_ahead": 2})["min_notice_hours"] == [
        "The minimum notice must be shorter than the booking window."
    ]
    assert errors_of({"allowed_hours": {"0": [[540, 780], [720, 900]]}})["allowed_hours"] == [
        "The ranges of one day overlap."
    ]
    tiers = [{"days_before": 7, "percent": 50}, {"days_before": 2, "percent": 100}]
    assert errors_of({"refund_tiers": tiers})["refund_tiers"] == [
        "Cancelling earlier must never refund less than later."
    ]
    tiers = [{"days_before": 3, "percent": 50}, {"days_before": 3, "percent": 50}]
    assert errors_of({"refund_tiers": tiers})["refund_tiers"] == [
        "Two refund tiers have the same number of days."
    ]
    assert errors_of({"eligibility": "residents_first"})["residents_first_days"] == [
        "Say how many days before the start others may book."
    ]
    assert errors_of({"fees": {"rates": {"non_resident": 1}}})["fees.resident"] == [
        "A fee schedule needs at least the resident rate."
    ]
    assert errors_of({"nonsense": 1, "eligibility": "anyone"})[None] == ["Unknown rule: nonsense."]
    assert errors_of({"stages": [{"approver": "jurisdiction"}]})["stages.0"] == [
        "Only a jurisdiction's rule set can name its officers as approvers."
    ]
    assert errors_of({"stages": [{"approver": "owner_manager", "on_deadline": "escalate"}]})[
        "stages.0"
    ] == ["A stage that passes the request on needs a deadline."]
    assert errors_of({"auto_approve": [{}]})["auto_approve"] == [
        "Automatic approval needs approval stages of this rule set."
    ]
    lottery = [{"weekdays": [5], "start": 540, "end": 1080}]
    assert errors_of({"lottery": lottery}, "owner")["lottery"] == [
        "Lottery windows belong to a single space's rule set."
    ]
    assert errors_of({"stages": [STAGE] * 21})["stages"] == ["At most 20 entries."]
    assert errors_of([1, 2])[None] == ["A rule set must be an object."]
    # The exception's own message is the first problem, for callers that show one line.
    with pytest.raises(ValidationFailed) as caught:
        parse_rules({"max_attendees": 0})
    assert caught.value.message == "Enter a number from 1 to 100000."


def test_twenty_entries_are_fine():
    r = parse_rules(
        {"quotas": [{"per": "user", "period": "week", "max_hours": h} for h in range(1, 21)]}
    )
    assert len(r.quotas) == 20


def test_unknown_key_is_cut_short_in_the_message(english):
    (message,) = errors_of({"x" * 100: 1})[None]
    assert message == f"Unknown rule: {'x' * 40}."


# --- Round trip ------------------------------------------------------------------------------
LEVELS = st.sampled_from(["space", "owner", "jurisdiction"])


@settings(max_examples=200, deadline=None)
@given(data=st.data(), level=LEVELS)
def test_round_trip(data, level):
    r = data.draw(rules(level=level))
    doc = rules_to_doc(r)
    assert parse_rules(doc, level=level) == r
    # Stored as JSON (tuples become lists, keys strings) it still reads back the same.
    assert parse_rules(json.loads(json.dumps(doc)), level=level) == r
    assert (doc == {}) == r.is_empty()
