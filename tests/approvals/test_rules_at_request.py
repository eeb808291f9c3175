"""The rules in force when a request is made: every refusal cites the rule set it comes from
(a jurisdiction, the owner or the space), nothing is stored after a refusal, the price breakdown
is frozen on the booking, and so are the rule-set versions it was judged by.

Requests sit in March of next year and every service gets an explicit `now`, except for the
no-show rules, which look back from the real current time.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.bookings import services
from app.bookings.models import Booking, BookingStage, BookingTransition
from app.errors import RuleViolation
from app.extensions import db
from app.rules.services import rule_sets_in_force
from tests.approvals import add_rules, school_world, seoul
from tests.conftest import next_weekday
from tests.factories import ALWAYS_OPEN

pytestmark = pytest.mark.usefixtures("english")

YEAR = date.today().year + 1
NOW = seoul(date(YEAR, 2, 1), 9)  # when the requests are made


def weekday_in_march(weekday: int, nth: int = 1) -> date:
    """The `nth` Monday (0) … Sunday (6) of March next year."""
    first = date(YEAR, 3, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


TUESDAY = weekday_in_march(1)
SATURDAY = weekday_in_march(5)
SUNDAY = weekday_in_march(6)


@pytest.fixture
def w(factories):
    """The school gym of 번동초등학교 under 강북구 and 서울특별시교육청, whose school rules
    already say: at most 80 people, ₩10,000 / ₩20,000 an hour, 50 % off for nonprofits."""
    return school_world(factories)


def refusal(w, user=None, **kw) -> list[dict]:
    kw.setdefault("start", seoul(TUESDAY, 18))
    kw.setdefault("now", NOW)
    with pytest.raises(RuleViolation) as caught:
        w.request(user, **kw)
    return caught.value.reasons


def cited(reasons) -> list[tuple[str, str, str]]:
    return [(r["code"], r["source"], r["source_level"]) for r in reasons]


def stored() -> tuple[int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Booking, BookingStage, BookingTransition)
    )


# --- Refusals and their sources ------------------------------------------------------------------
def test_a_purpose_refused_by_the_education_office(w):
    add_rules(
        jurisdiction_id=w.edu.id, version=2, body={"refused_purposes": ["political", "religious"]}
    )
    reasons = refusal(w, purpose_category="political")
    assert reasons == [
        {
            "code": "purpose_refused",
            "source": "서울특별시교육청",
            "source_level": "jurisdiction",
            "message": "서울특별시교육청 rules: Bookings for Political are refused.",
        }
    ]
    assert w.request(start=seoul(TUESDAY, 18), now=NOW, purpose_category="sports").id


def test_a_purpose_not_allowed_by_the_space(w):
    add_rules(space_id=w.gym.id, body={"allowed_purposes": ["sports", "education"]})
    reasons = refusal(w, purpose_category="community")
    assert cited(reasons) == [("purpose_not_allowed", "체육관", "space")]
    assert reasons[0]["message"] == "체육관 rules: Bookings for Community meeting are not allowed."


@pytest.fixture
def school_hours(w):
    """The school lets its gym on weekdays only 18:00–22:00 (lessons run until then), on
    Saturdays 09:00–18:00 and never on Sundays."""
    evenings = [[18 * 60, 22 * 60]]
    add_rules(
        organisation_id=w.school.id,
        version=2,
        body={
            "stages": [
                {"approver": "owner_manager", "deadline_days": 3, "on_deadline": "escalate"}
            ],
            "allowed_hours": {
                "0": evenings,
                "1": evenings,
                "2": evenings,
                "3": evenings,
                "4": evenings,
                "5": [[9 * 60, 18 * 60]],
                "6": [],
            },
            "hours_note": "수업 시간 제외",
        },
    )
    return w


def test_school_hours_refuse_a_weekday_morning(school_hours):
    w = school_hours
    reasons = refusal(w, start=seoul(TUESDAY, 10))
    assert cited(reasons) == [("hours", "번동초등학교", "owner")]
    assert reasons[0]["message"] == (
        "번동초등학교 rules: On Tue bookings are possible only 18:00–22:00. (수업 시간 제외)"
    )
    # Running past 22:00 is refused too; the evening itself is fine.
    assert cited(refusal(w, start=seoul(TUESDAY, 21))) == [("hours", "번동초등학교", "owner")]
    assert w.request(start=seoul(TUESDAY, 18), now=NOW).status == "requested"


def test_school_hours_allow_a_saturday_morning_and_no_sunday(school_hours):
    w = school_hours
    assert w.request(start=seoul(SATURDAY, 10), now=NOW).status == "requested"
    reasons = refusal(w, start=seoul(SUNDAY, 10))
    assert [r["message"] for r in reasons] == [
        "번동초등학교 rules: No bookings on Sun. (수업 시간 제외)"
    ]


@pytest.mark.parametrize(
    ("space_max", "org_max", "attendees", "source", "level", "limit"),
    [
        (30, 50, 40, "체육관", "space", 30),
        (30, 25, 28, "번동초등학교", "owner", 25),
        (30, 25, 45, "번동초등학교", "owner", 25),  # both broken: only the strictest is cited
    ],
)
def test_max_attendees_cites_the_most_restrictive_rule_set(
    w, space_max, org_max, attendees, source, level, limit
):
    add_rules(space_id=w.gym.id, body={"max_attendees": space_max})
    add_rules(organisation_id=w.school.id, version=2, body={"max_attendees": org_max})
    reasons = refusal(w, attendees=attendees)
    assert cited(reasons) == [("max_attendees", source, level)]
    assert reasons[0]["message"] == f"{source} rules: At most {limit} people may attend."
    assert w.request(start=seoul(TUESDAY, 18), now=NOW, attendees=min(limit, 25)).id


def test_min_notice_of_the_district(w):
    add_rules(jurisdiction_id=w.gangbuk.id, body={"min_notice_hours": 72})
    start = seoul(TUESDAY, 18)
    reasons = refusal(w, start=start, now=start - timedelta(hours=48))
    assert cited(reasons) == [("min_notice", "강북구", "jurisdiction")]
    assert reasons[0]["message"] == (
        "강북구 rules: Requests must be made at least 72 hours before the start."
    )
    assert w.request(start=start, now=start - timedelta(hours=72)).status == "requested"


@pytest.mark.parametrize(
    ("level", "who", "refused"),
    [
        ("gangbuk", "resident", False),
        ("gangbuk", "outsider", True),  # lives in 도봉구
        ("gangbuk", "nowhere", True),  # said nothing about where they live
        ("seoul", "outsider", False),  # 도봉구 is in Seoul too
        ("seoul", "nowhere", True),
    ],
)
def test_residents_only(w, level, who, refused):
    jurisdiction = {"gangbuk": w.gangbuk, "seoul": w.seoul}[level]
    add_rules(jurisdiction_id=jurisdiction.id, body={"eligibility": "residents"})
    user = {
        "resident": w.resident,
        "outsider": w.outsider(),
        "nowhere": w.factories.user(name="무주소", locale="en"),
    }[who]
    if refused:
        reasons = refusal(w, user)
        assert cited(reasons) == [("residents_only", jurisdiction.name, "jurisdiction")]
        assert reasons[0]["message"] == f"{jurisdiction.name} rules: Only residents may book."
    else:
        assert w.request(user, start=seoul(TUESDAY, 18), now=NOW).status == "requested"


def test_quota_per_person_per_month(w):
    add_rules(
        space_id=w.gym.id, body={"quotas": [{"per": "user", "period": "month", "max_bookings": 2}]}
    )
    first = w.request(start=seoul(weekday_in_march(1, 1), 18), now=NOW)
    w.request(start=seoul(weekday_in_march(1, 2), 18), now=NOW)
    reasons = refusal(w, start=seoul(weekday_in_march(1, 3), 18))
    assert cited(reasons) == [("quota_bookings", "체육관", "space")]
    assert reasons[0]["message"] == (
        "체육관 rules: At most 2 bookings per person per month; 2 already made."
    )
    # Another person, and another month, are not affected.
    assert w.request(w.neighbour(), start=seoul(weekday_in_march(1, 3), 20), now=NOW).id
    assert w.request(start=seoul(date(YEAR, 4, 6), 18), now=NOW).id
    # A cancelled booking no longer counts.
    services.cancel(first, w.resident, now=NOW)
    assert w.request(start=seoul(weekday_in_march(1, 3), 18), now=NOW).status == "requested"


def test_no_show_ban_of_the_owner(w, factories, now):
    """Real current time: the no-show marks are looked up from today."""
    add_rules(
        organisation_id=w.school.id,
        version=2,
        body={"no_show": {"count": 2, "within_days": 90, "ban_days": 30}},
    )
    other_space = factories.space(owner=w.school, name="음악실", hours=ALWAYS_OPEN)
    marks = []
    for days_ago in (20, 10):
        start = now - timedelta(days=days_ago)
        booking = services.create_booking(
            other_space,
            w.resident,
            start=start,
            end=start + timedelta(hours=1),
            purpose="합창 연습",
            attendees=5,
            now=start - timedelta(days=2),
        )
        booking.status = "no_show"
        marks.append(booking)
    start = next_weekday(1, 18)
    until = (marks[-1].start_at + timedelta(days=30)).astimezone(w.gym.zone).date()
    reasons = refusal(w, start=start, now=now)
    assert cited(reasons) == [("no_show", "번동초등학교", "owner")]
    assert reasons[0]["message"] == (
        f"번동초등학교 rules: After 2 no-shows, booking is suspended until {until.isoformat()}."
    )
    # After the ban, or with one no-show only, requests are judged as usual.
    later = marks[-1].start_at + timedelta(days=30)
    assert later < next_weekday(1, 18, weeks=5)
    assert w.request(start=next_weekday(1, 18, weeks=5), now=later).status == "requested"
    marks[0].status = "completed"
    assert w.request(start=start, now=now).status == "requested"


def test_nothing_is_stored_after_a_refusal_and_every_reason_is_given(w):
    add_rules(jurisdiction_id=w.edu.id, version=2, body={"refused_purposes": ["political"]})
    add_rules(
        space_id=w.gym.id, body={"allowed_hours": {str(d): [[18 * 60, 22 * 60]] for d in range(7)}}
    )
    assert stored() == (0, 0, 0)
    reasons = refusal(w, start=seoul(TUESDAY, 10), attendees=90, purpose_category="political")
    assert sorted(cited(reasons)) == [
        ("hours", "체육관", "space"),
        ("max_attendees", "번동초등학교", "owner"),
        ("purpose_refused", "서울특별시교육청", "jurisdiction"),
    ]
    db.session.commit()
    assert stored() == (0, 0, 0)


# --- The price frozen on the booking ---------------------------------------------------------
@pytest.fixture
def fees(w):
    """강북구 has a schedule of its own, but the school's (nearer) one applies: ₩10,000 an hour
    for residents, ₩20,000 for others, weekends 50 % more, 50 % off for nonprofits."""
    add_rules(
        jurisdiction_id=w.gangbuk.id,
        body={"fees": {"rates": {"resident": 1000}}, "waivers": {"senior": 100}},
    )
    add_rules(
        organisation_id=w.school.id,
        version=2,
        body={
            "fees": {"rates": {"resident": 10000, "non_resident": 20000}, "weekend_percent": 50},
            "waivers": {"nonprofit": 50},
        },
    )
    return w


@pytest.mark.parametrize(
    ("who", "day", "hours", "waiver", "purpose", "category", "lines", "total"),
    [
        # Resident, Tuesday evening, 2 h: 2 × 10,000.
        ("resident", TUESDAY, 2, None, "sports", "resident", [("base", 20000)], 20000),
        # Non-resident, Tuesday evening, 2 h: 2 × 20,000.
        ("outsider", TUESDAY, 2, None, "sports", "non_resident", [("base", 40000)], 40000),
        # Resident, Saturday, 3 h: 30,000 + 50 % weekend = 45,000; nonprofit 50 % off.
        (
            "resident",
            SATURDAY,
            3,
            "nonprofit",
            "sports",
            "resident",
            [("base", 30000), ("weekend", 15000), ("waiver", -22500)],
            22500,
        ),
        # Non-resident, Saturday, 2.5 h: 50,000 + 25,000 = 75,000; nonprofit 50 % off.
        (
            "outsider",
            SATURDAY,
            2.5,
            "nonprofit",
            "sports",
            "non_resident",
            [("base", 50000), ("weekend", 25000), ("waiver", -37500)],
            37500,
        ),
        # A waiver the school does not grant (only 강북구's schedule has it) changes nothing.
        ("resident", TUESDAY, 2, "senior", "sports", "resident", [("base", 20000)], 20000),
        # Commercial use pays the non-resident rate (no commercial rate) and gets no waiver.
        (
            "resident",
            SATURDAY,
            2,
            "nonprofit",
            "commercial",
            "commercial",
            [("base", 40000), ("weekend", 20000)],
            60000,
        ),
    ],
)
def test_the_price_breakdown_stored_on_the_booking(
    fees, who, day, hours, waiver, purpose, category, lines, total
):
    w = fees
    user = w.resident if who == "resident" else w.outsider()
    # The waiver claimed is verified on the person's profile: it is priced in at once.
    if waiver:
        w.factories.verified_waiver(user, waiver)
    booking = w.request(
        user,
        start=seoul(day, 18 if day == TUESDAY else 10),
        hours=hours,
        now=NOW,
        waiver=waiver,
        purpose_category=purpose,
    )
    booking_id = booking.id
    db.session.commit()
    db.session.expire_all()
    booking = db.session.get(Booking, booking_id)
    assert booking.price_amount == total
    breakdown = booking.price_breakdown
    assert [(line["code"], line["amount"]) for line in breakdown["lines"]] == lines
    assert breakdown["total"] == total == sum(amount for _code, amount in lines)
    assert breakdown["category"] == category
    assert breakdown["source"] == "번동초등학교"
    assert breakdown["currency"] == "KRW"
    assert breakdown["lines"][0]["params"]["minutes"] == hours * 60
    if waiver == "nonprofit" and purpose != "commercial":
        assert breakdown["lines"][-1]["params"] == {"category": "nonprofit", "percent": 50}


# --- Rule-set versions --------------------------------------------------------------------------
def test_a_version_effective_later_does_not_apply_now(w):
    later = NOW + timedelta(days=7)
    v2 = add_rules(
        organisation_id=w.school.id,
        version=2,
        effective_from=later,
        body={"max_attendees": 10, "fees": {"rates": {"resident": 50000}}},
    )
    booking = w.request(start=seoul(TUESDAY, 18), now=NOW, attendees=40)
    assert booking.status == "requested" and booking.price_amount == 20000
    assert sorted(booking.rule_version_ids) == sorted([w.org_rules.id, w.edu_rules.id])
    # Made once the new version is in force, the same request is refused by it.
    reasons = refusal(w, w.neighbour(), start=seoul(TUESDAY, 20), now=later, attendees=40)
    assert cited(reasons) == [("max_attendees", "번동초등학교", "owner")]
    accepted = w.request(w.neighbour(), start=seoul(TUESDAY, 20), now=later, attendees=10)
    assert sorted(accepted.rule_version_ids) == sorted([v2.id, w.edu_rules.id])
    assert accepted.price_amount == 100000
    # Version 2 has no stages: only the education office's chain is left.
    assert [s.approver for s in accepted.stages] == ["jurisdiction", "jurisdiction"]


def test_a_booking_keeps_the_versions_it_was_judged_by(w):
    space_rules = add_rules(space_id=w.gym.id, body={"max_attendees": 60})
    booking = w.request(start=seoul(TUESDAY, 18), now=NOW)
    judged = sorted([space_rules.id, w.org_rules.id, w.edu_rules.id])
    assert sorted(booking.rule_version_ids) == judged
    assert judged == sorted(rs.id for _s, _r, rs in rule_sets_in_force(w.gym, NOW))
    add_rules(
        organisation_id=w.school.id,
        version=2,
        effective_from=NOW + timedelta(hours=1),
        body={"fees": {"rates": {"resident": 30000}}},
    )
    booking_id = booking.id
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(Booking, booking_id)
    assert sorted(kept.rule_version_ids) == judged
    assert kept.price_amount == 20000
    assert len(kept.stages) == 4
