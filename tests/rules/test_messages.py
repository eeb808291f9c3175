"""Plain-language text for rule decisions: reasons name their rule set, every reason code the
engine can emit renders in both languages, and the summary lists each rule with its source.

Korean translations of these messages are added separately, so the Korean checks here rely
only on structure (the source name first, the times and numbers present)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale, get_locale

import app.rules.engine as engine_module
from app.rules.engine import Applicant, Ask, Reason, Source, combine, evaluate
from app.rules.messages import (
    line_text,
    quote_dict,
    reason_dict,
    reason_text,
    summary,
)
from app.rules.schema import parse_rules

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)

EDU = Source("j:2", "jurisdiction", "서울특별시교육청", 100)
CITY = Source("j:1", "jurisdiction", "서울특별시", 100)
DISTRICT = Source("j:3", "jurisdiction", "강남구", 99)
OWNER = Source("o:5", "owner", "서울중학교", 1)
SPACE = Source("s:7", "space", "대강당", 0)

HOURS_REASON = Reason("hours", EDU, (("weekday", 0), ("ranges", ((1080, 1320),)), ("note", "")))


def test_korean_is_the_default_language():
    assert str(get_locale()) == "ko"


def test_reason_text_names_its_rule_set_first():
    text = reason_text(HOURS_REASON)
    assert text.startswith("서울특별시교육청")
    assert "18:00–22:00" in text


def test_reason_text_in_english(english):
    assert reason_text(HOURS_REASON) == (
        "서울특별시교육청 rules: On Mon bookings are possible only 18:00–22:00."
    )
    closed = Reason("hours", EDU, (("weekday", 6), ("ranges", ()), ("note", "방학 중")))
    assert reason_text(closed) == "서울특별시교육청 rules: No bookings on Sun. (방학 중)"
    two = Reason(
        "hours", SPACE, (("weekday", 2), ("ranges", ((540, 720), (780, 1440))), ("note", ""))
    )
    assert reason_text(two) == (
        "대강당 rules: On Wed bookings are possible only 09:00–12:00, 13:00–24:00."
    )


def test_reason_dict(english):
    assert reason_dict(HOURS_REASON) == {
        "code": "hours",
        "source": "서울특별시교육청",
        "source_level": "jurisdiction",
        "message": "서울특별시교육청 rules: On Mon bookings are possible only 18:00–22:00.",
    }


# --- Every code the engine emits ---------------------------------------------------------------
def engine_codes() -> set[str]:
    """The reason codes written in the engine's source (so a new code needs a message here)."""
    source = Path(engine_module.__file__).read_text(encoding="utf-8")
    return set(re.findall(r'Reason\(\s*"([a-z_]+)"', source))


def emitted_reasons() -> list[Reason]:
    """Reasons with the parameters the engine really gives, from two requests that break every
    kind of rule."""
    rule_sets = [
        (
            SPACE,
            parse_rules(
                {
                    "min_notice_hours": 24,
                    "max_days_ahead": 30,
                    "min_minutes": 60,
                    "max_minutes": 240,
                    "max_attendees": 100,
                    "allowed_hours": {"0": [[1080, 1320]]},
                    "hours_note": "학기 중",
                    "no_show": {"count": 1, "within_days": 90, "ban_days": 30},
                }
            ),
        ),
        (
            OWNER,
            parse_rules(
                {
                    "allowed_purposes": ["education"],
                    "quotas": [
                        {"per": "user", "period": "week", "max_hours": 2},
                        {"per": "group", "period": "month", "max_bookings": 1},
                    ],
                }
            ),
        ),
        (CITY, parse_rules({"refused_purposes": ["political"]}, level="jurisdiction")),
        (DISTRICT, parse_rules({"eligibility": "residents"}, level="jurisdiction")),
        (
            EDU,
            parse_rules(
                {"eligibility": "residents_first", "residents_first_days": 3}, level="jurisdiction"
            ),
        ),
    ]
    effective = combine(rule_sets)
    app = Applicant(
        has_group=True,
        usage={("o:5", 0): (90, 1), ("o:5", 1): (120, 1)},
        no_shows={"s:7": (NOW - timedelta(days=3),)},
    )
    soon = NOW + timedelta(hours=1)
    far = NOW + timedelta(days=60)
    reasons = []
    for start, minutes, attendees in ((soon, 30, 500), (far, 600, 5)):
        ask = Ask(start, start + timedelta(minutes=minutes), SEOUL, NOW, "political", attendees)
        reasons.extend(evaluate(effective, ask, app).reasons)
    return reasons


def test_the_scenario_covers_every_engine_code():
    assert {r.code for r in emitted_reasons()} == engine_codes()
    assert len(engine_codes()) >= 13


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_every_reason_renders(locale):
    with force_locale(locale):
        for reason in emitted_reasons():
            text = reason_text(reason)
            assert text.startswith(reason.source.name), text
            assert not text.endswith(reason.code)  # a code without a message falls through
            assert "%(" not in text
            assert reason_dict(reason)["message"] == text


def test_every_reason_in_english(english):
    mon = "대강당 rules: On Mon bookings are possible only 18:00–22:00. (학기 중)"
    no_show = "대강당 rules: After 1 no-shows, booking is suspended until 2026-06-28."
    not_allowed = "서울중학교 rules: Bookings for Political are not allowed."
    group_quota = (
        "서울중학교 rules: At most 1 bookings per resident group per month; 1 already made."
    )
    residents = "강남구 rules: Only residents may book."
    refused = "서울특별시 rules: Bookings for Political are refused."
    assert [(r.code, reason_text(r)) for r in emitted_reasons()] == [
        # Monday 10:00, an hour ahead: limits first, then each rule set nearest first.
        ("min_notice", "대강당 rules: Requests must be made at least 24 hours before the start."),
        ("min_length", "대강당 rules: A booking must last at least 60 minutes."),
        ("max_attendees", "대강당 rules: At most 100 people may attend."),
        ("hours", mon),
        ("no_show", no_show),
        ("purpose_not_allowed", not_allowed),
        ("quota_bookings", group_quota),
        ("residents_only", residents),
        ("purpose_refused", refused),
        # Friday, 60 days ahead, ten hours long.
        ("max_ahead", "대강당 rules: Bookings can be made at most 30 days ahead."),
        ("max_length", "대강당 rules: A booking may last at most 240 minutes."),
        ("hours", "대강당 rules: No bookings on Fri. (학기 중)"),
        ("no_show", no_show),
        ("purpose_not_allowed", not_allowed),
        (
            "quota_hours",
            "서울중학교 rules: At most 2 hours per person per week; 1.5 hours are already booked.",
        ),
        ("quota_bookings", group_quota),
        ("residents_only", residents),
        ("purpose_refused", refused),
        (
            "residents_first",
            "서울특별시교육청 rules: Non-residents may book only 3 days before "
            "the start (from 2026-07-28).",
        ),
    ]


# --- Summary -----------------------------------------------------------------------------------
def summary_effective():
    return combine(
        [
            (
                EDU,
                parse_rules(
                    {
                        "eligibility": "residents_first",
                        "residents_first_days": 3,
                        "refused_purposes": ["political", "religious"],
                        "allowed_hours": {"0": [[1080, 1320]], "5": [[540, 720], [780, 1080]]},
                        "hours_note": "학기 중",
                        "min_notice_hours": 72,
                        "stages": [
                            {
                                "approver": "jurisdiction",
                                "deadline_days": 3,
                                "on_deadline": "escalate",
                                "label": "교육청 담당관",
                            }
                        ],
                    },
                    level="jurisdiction",
                ),
            ),
            (
                OWNER,
                parse_rules(
                    {
                        "eligibility": "residents",
                        "allowed_purposes": ["education", "community"],
                        "quotas": [
                            {"per": "user", "period": "week", "max_hours": 4, "max_bookings": 2},
                            {"per": "group", "period": "month", "max_bookings": 3},
                        ],
                        "waivers": {"nonprofit": 50, "disabled": 100},
                        "stages": [{"approver": "owner_principal", "mode": "notify"}],
                    },
                    level="owner",
                ),
            ),
            (
                SPACE,
                parse_rules(
                    {
                        "min_notice_hours": 24,
                        "max_days_ahead": 30,
                        "min_minutes": 60,
                        "max_minutes": 240,
                        "max_attendees": 80,
                        "no_show": {"count": 2, "within_days": 90, "ban_days": 30},
                        "refund_tiers": [
                            {"days_before": 7, "percent": 100},
                            {"days_before": 2, "percent": 50},
                        ],
                        "stages": [{"approver": "owner_manager"}],
                    }
                ),
            ),
        ]
    )


def test_summary_lists_each_rule_with_its_source(english):
    assert summary(summary_effective()) == [
        ("대강당", "After 2 no-shows within 90 days, no bookings for 30 days."),
        ("서울중학교", "Only residents may book."),
        ("서울중학교", "Allowed purposes: Community meeting, Education."),
        ("서울중학교", "At most 4 hours / 2 bookings per person per week."),
        ("서울중학교", "At most 3 bookings per resident group per month."),
        ("서울특별시교육청", "Residents first: others may book from 3 days before the start."),
        ("서울특별시교육청", "Refused purposes: Political, Religious."),
        (
            "서울특별시교육청",
            "Bookable hours: Mon 18:00–22:00; Tue —; Wed —; Thu —; Fri —; "
            "Sat 09:00–12:00, 13:00–18:00; Sun —. (학기 중)",
        ),
        # Limits once each, from the rule set with the strictest value.
        ("서울특별시교육청", "Request at least 72 hours ahead."),
        ("대강당", "Book at most 30 days ahead."),
        ("대강당", "At least 60 minutes per booking."),
        ("대강당", "At most 240 minutes per booking."),
        ("대강당", "At most 80 people."),
        ("서울중학교", "Fee waivers: Person with a disability 100%, Registered nonprofit 50%."),
        (
            "대강당",
            "Cancel up to 7 days before the start for a full refund. Cancel up to 2 days before "
            "the start for a 50% refund. No refund when you cancel later than that.",
        ),
        # The approval chain, nearest first.
        ("대강당", "Facility managers and staff of the owner: approve or decline the request."),
        (
            "서울중학교",
            "Head of the owner organisation: told of the booking, with nothing to decide.",
        ),
        (
            "서울특별시교육청",
            "교육청 담당관 (Officers of the jurisdiction): decide within 3 working days; "
            "if they do not: pass to the next stage.",
        ),
    ]


def test_summary_in_korean_has_the_same_lines():
    effective = summary_effective()
    korean = summary(effective)
    with force_locale("en"):
        english = summary(effective)
    assert [source for source, _ in korean] == [source for source, _ in english]
    assert all(text and "%(" not in text for _, text in korean)


def test_summary_of_no_rules_is_empty():
    assert summary(combine([])) == []


# --- Price lines -------------------------------------------------------------------------------
def test_quote_lines_in_english(english):
    effective = combine(
        [
            (
                SPACE,
                parse_rules(
                    {
                        "fees": {
                            "rates": {"resident": 10000},
                            "weekend_percent": 20,
                            "night_percent": 50,
                        },
                        "waivers": {"nonprofit": 50},
                    }
                ),
            )
        ]
    )
    start = datetime(2026, 6, 13, 21, tzinfo=SEOUL)  # Saturday
    ask = Ask(start, start + timedelta(minutes=150), SEOUL, NOW, "education", 5, waiver="nonprofit")
    quote = evaluate(effective, ask, Applicant(is_space_resident=True)).quote
    won = "₩{:,}".format
    assert [(line_text(line, won), line.amount) for line in quote.lines] == [
        ("₩10,000 per hour × 2.5 h", 25_000),
        ("Weekend surcharge 20% (150 min)", 5_000),
        ("Night surcharge 50% (90 min)", 7_500),
        ("Waiver: Registered nonprofit 50%", -18_750),
    ]
    stored = quote_dict(quote, "KRW")
    assert stored["total"] == 18_750 and stored["source"] == "대강당"
    assert stored["category"] == "resident" and stored["rate_per_hour"] == 10_000
    assert [line["code"] for line in stored["lines"]] == ["base", "weekend", "night", "waiver"]
