"""Demo rule sets, resident groups and the bookings that show them off, for `flask seed demo`.

- 서울특별시교육청 (Seoul Office of Education): school spaces only after lessons, no commercial,
  religious or political use, fee waivers, a no-show penalty, and the office is notified of
  every school request.
- 강북구 (Gangbuk-gu): residents first (others from 14 days before), 30 hours a month each,
  refund tiers.
- 번동초등학교: the facility manager, then the principal decide.
- 강북구 주민센터·마을활력소: community centers approve their own residents' community use at once.
- (주)해방촌 코워킹's rooftop: daylight only and at most 20 people, for safety.
- 미아중학교 체육관: Saturday mornings are allocated by lottery; a fee schedule by category.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.accounts.group_models import ResidentGroup, ResidentGroupMember
from app.accounts.models import User
from app.bookings import services as bs
from app.bookings.lottery import run_due_draws
from app.bookings.services import space_availability
from app.bookings.states import BookingStatus, PaymentState
from app.errors import DomainError
from app.extensions import db
from app.orgs.models import Jurisdiction, Organisation
from app.payments.services import record_offline
from app.rules.engine import draw_time
from app.rules.models import RuleSet
from app.rules.schema import LotteryWindow, parse_rules
from app.spaces.availability import local_instant
from app.spaces.models import Space

SCHOOL_HOURS = {
    **{str(d): [[18 * 60, 22 * 60]] for d in range(5)},
    **{str(d): [[9 * 60, 18 * 60]] for d in (5, 6)},
}

JURISDICTION_RULES: dict[str, dict[str, Any]] = {
    "seoul-edu": {
        "allowed_hours": SCHOOL_HOURS,
        "hours_note": "학기 중 평일에는 수업이 끝난 18시 이후에만 개방합니다",
        "refused_purposes": ["commercial", "religious", "political"],
        "min_notice_hours": 24,
        "max_days_ahead": 60,
        "waivers": {"nonprofit": 50, "senior": 100, "disabled": 100, "national_merit": 100},
        "no_show": {"count": 2, "within_days": 90, "ban_days": 30},
        "stages": [{"approver": "jurisdiction", "mode": "notify", "label": "교육청 통보"}],
    },
    "gangbuk": {
        "eligibility": "residents_first",
        "residents_first_days": 14,
        "quotas": [{"per": "user", "period": "month", "max_hours": 30}],
        "refund_tiers": [
            {"days_before": 7, "percent": 100},
            {"days_before": 2, "percent": 50},
            {"days_before": 0, "percent": 0},
        ],
    },
}

ORG_RULES: dict[str, dict[str, Any]] = {
    "bundong-es": {
        "stages": [
            {
                "approver": "owner_manager",
                "deadline_days": 3,
                "on_deadline": "escalate",
                "label": "행정실 검토",
            },
            {
                "approver": "owner_principal",
                "deadline_days": 2,
                "on_deadline": "expire",
                "label": "교장 승인",
            },
        ],
    },  # fmt: skip
    "gangbuk-centers": {
        "refused_purposes": ["commercial"],
        "stages": [{"approver": "owner_manager", "deadline_days": 2, "on_deadline": "expire"}],
        "auto_approve": [
            {"residents_only": True, "purposes": ["community", "education", "culture"]}
        ],
    },
}

SPACE_RULES: dict[str, dict[str, Any]] = {
    "haebangchon-rooftop": {
        "allowed_hours": {str(d): [[10 * 60, 18 * 60]] for d in range(7)},
        "hours_note": "안전을 위해 해가 있는 시간에만 이용할 수 있습니다",
        "max_attendees": 20,
    },
    "mia-gym": {
        "fees": {
            "rates": {"resident": 30000, "non_resident": 45000, "commercial": 90000},
            "weekend_percent": 20,
            "night_percent": 30,
            "night_start": 21 * 60,
            "night_end": 6 * 60,
        },
        "lottery": [
            {
                "weekdays": [5],
                "start": 9 * 60,
                "end": 13 * 60,
                "draw_days_before": 7,
                "draw_minute": 10 * 60,
                "cap_per_month": 1,
                "resident_priority": True,
            }
        ],
    },  # fmt: skip
}

GROUPS = (("수유동 배드민턴 동호회", ("resident@example.kr", "resident2@example.kr")),)


def seed_rule_sets(
    jurisdictions: dict[str, Jurisdiction],
    orgs: dict[str, Organisation],
    spaces: dict[str, Space],
    users: dict[str, User],
    now: datetime,
) -> int:
    """Create the demo rule sets that are missing (version 1, in force for 90 days already)."""
    since = now - timedelta(days=90)
    admin = users["admin@gonggan.kr"]
    wanted: list[tuple[dict, dict]] = []
    for slug, doc in JURISDICTION_RULES.items():
        wanted.append(({"jurisdiction_id": jurisdictions[slug].id}, doc))
    for slug, doc in ORG_RULES.items():
        wanted.append(({"organisation_id": orgs[slug].id}, doc))
    for key, doc in SPACE_RULES.items():
        wanted.append(({"space_id": spaces[key].id}, doc))
    made = 0
    for scope, doc in wanted:
        level = (
            "jurisdiction" if "jurisdiction_id" in scope
            else "owner" if "organisation_id" in scope else "space"
        )  # fmt: skip
        parse_rules(doc, level=level)  # the demo documents must be valid
        column, ident = next(iter(scope.items()))
        exists = db.session.scalar(
            select(RuleSet.id).where(getattr(RuleSet, column) == ident).limit(1)
        )
        if exists is None:
            db.session.add(
                RuleSet(
                    **scope,
                    version=1,
                    effective_from=since,
                    body=doc,
                    note="데모 규정",
                    created_by=admin,
                    created_at=since,
                )
            )
            made += 1
    db.session.flush()
    return made


def seed_groups(users: dict[str, User]) -> dict[str, ResidentGroup]:
    found = {}
    for name, emails in GROUPS:
        group = db.session.scalar(select(ResidentGroup).where(ResidentGroup.name == name))
        if group is None:
            group = ResidentGroup(name=name, created_by=users[emails[0]])
            for i, email in enumerate(emails):
                group.members.append(ResidentGroupMember(user=users[email], is_leader=i == 0))
            db.session.add(group)
        found[name] = group
    db.session.flush()
    return found


def _slot(space: Space, day, start_minute: int, minutes: int):
    """The UTC range of a local slot on `day` if the space is open and free then, else None."""

    start = local_instant(day, start_minute, space.zone)
    end = start + timedelta(minutes=minutes)
    availability = space_availability(space, start - timedelta(hours=1), end + timedelta(hours=1))
    return (
        (start, end)
        if availability.is_open(start, end) and availability.is_free(start, end)
        else None
    )


def seed_rule_demos(
    spaces: dict[str, Space], users: dict[str, User], now: datetime, *, decider
) -> int:
    """Bookings that show the rules at work: a school request at its second stage, a request
    returned for changes, a Saturday-morning lottery already drawn and one still open."""

    r1, r2, en = (users[e] for e in ("resident@example.kr", "resident2@example.kr",
                                     "en.resident@example.kr"))  # fmt: skip
    zone = spaces["mia-gym"].zone
    today = now.astimezone(zone).date()
    made = 0

    def book(space, user, day, minute, minutes, purpose, category, attendees, created):
        slot = _slot(space, day, minute, minutes)
        if slot is None:
            return None
        try:
            with db.session.begin_nested():
                return bs.create_booking(
                    space, user, start=slot[0], end=slot[1], purpose=purpose,
                    purpose_category=category, attendees=attendees, now=created,
                )  # fmt: skip
        except DomainError:
            return None

    # A school request the facility manager approved; the principal decides next.
    gym = spaces["bundong-gym"]
    thursday = today + timedelta(days=(3 - today.weekday()) % 7 or 7) + timedelta(weeks=1)
    waiting = book(gym, r2, thursday, 19 * 60, 120, "주민 배구 모임", "sports", 16,
                   now - timedelta(days=1))  # fmt: skip
    if waiting is not None:
        bs.approve(waiting, decider(waiting, waiting.current_stage), now=now - timedelta(hours=20))
        made += 1

    # A request sent back to the resident to change.
    room = spaces["bundong-class"]
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7) + timedelta(weeks=2)
    returned = book(room, r1, tuesday, 19 * 60, 120, "학부모 독서 모임", "community", 28,
                    now - timedelta(days=2))  # fmt: skip
    if returned is not None:
        bs.return_to_resident(
            returned, decider(returned, returned.current_stage),
            reason="교실 정원(30명)에 가깝습니다. 실제 참석 인원과 책상 배치를 다시 알려 주세요.",
            now=now - timedelta(days=1),
        )  # fmt: skip
        made += 1

    # The gym's Saturday mornings go by lottery, drawn 7 days ahead at 10:00.
    mia = spaces["mia-gym"]
    window = LotteryWindow(frozenset({5}), 9 * 60, 13 * 60, 7, 10 * 60, 1, True)
    last_saturday = today - timedelta(days=(today.weekday() - 5) % 7 or 7)
    drawn_at = draw_time(window, datetime.combine(last_saturday, datetime.min.time(), zone), zone)
    entries = [
        book(mia, user, last_saturday, 10 * 60, 120, purpose, "sports", people,
             drawn_at - timedelta(days=2, hours=i))
        for i, (user, purpose, people) in enumerate(
            ((r2, "도봉 배드민턴 모임", 20), (r1, "수유동 배드민턴 동호회", 24),
             (en, "Saturday basketball", 10))
        )
    ]  # fmt: skip
    if all(entries):
        run_due_draws(drawn_at + timedelta(minutes=1))
        for entry in entries:
            if entry.status == BookingStatus.REQUESTED:
                approve_all_stages(entry, decider, drawn_at + timedelta(hours=2))
                # the winner paid the school by transfer
                if entry.payment_status == PaymentState.DUE:
                    record_offline(entry, decider(entry, None), method="bank_transfer",
                                   amount=entry.price_amount, reference=f"DEMO-{entry.id:05d}",
                                   now=drawn_at + timedelta(hours=5))
                bs.mark_attendance(
                    entry, decider(entry, None), showed_up=True,
                    now=entry.end_at + timedelta(minutes=30),
                )  # fmt: skip
        made += len(entries)
    saturday = last_saturday + timedelta(weeks=1)
    while draw_time(window, datetime.combine(saturday, datetime.min.time(), zone), zone) <= now:
        saturday += timedelta(weeks=1)
    for i, user in enumerate((r1, r2)):
        made += book(mia, user, saturday, 10 * 60, 120, "배드민턴 동호회 정기 모임", "sports", 16,
                     now - timedelta(hours=5 - i)) is not None  # fmt: skip
    return made


def approve_all_stages(booking, decider, when: datetime) -> None:
    """Approve stage after stage, each by the person who decides it, an hour apart."""

    while booking.status == BookingStatus.REQUESTED:
        bs.approve(booking, decider(booking, booking.current_stage), now=when)
        when += timedelta(hours=1)
