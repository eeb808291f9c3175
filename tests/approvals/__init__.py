"""Tests of approval chains, stage deadlines, the rules applied at request time and the pages
around them.

This package has no conftest of its own: the builders shared by its modules live here. Every
builder only flushes; tests commit before their first web request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.bookings import services as booking_services
from app.extensions import db
from app.orgs.models import OrgMembership
from app.rules.models import RuleSet
from tests.factories import VERIFIED

SEOUL = ZoneInfo("Asia/Seoul")
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)

# The stages of the school's own rule set and of the education office's.
MANAGER_STAGE = {"approver": "owner_manager", "deadline_days": 3, "on_deadline": "escalate"}
PRINCIPAL_STAGE = {"approver": "owner_principal", "deadline_days": 2, "on_deadline": "expire"}
OFFICER_STAGE = {"approver": "jurisdiction", "deadline_days": 5, "on_deadline": "expire"}
NOTIFY_STAGE = {"approver": "jurisdiction", "mode": "notify"}

MANAGER_WHO = "Facility managers and staff of the owner (번동초등학교)"
PRINCIPAL_WHO = "Head of the owner organisation (번동초등학교)"
OFFICER_WHO = "Officers of 서울특별시교육청"

# The school's fee schedule: ₩10,000 an hour for residents of the district, ₩20,000 for others.
SCHOOL_FEES = {"rates": {"resident": 10000, "non_resident": 20000}}


def seoul(day: date, hour: int, minute: int = 0) -> datetime:
    """Seoul wall time on `day`, as an aware UTC instant."""
    return datetime.combine(day, time(hour, minute), SEOUL).astimezone(UTC)


def end_of(day: date) -> datetime:
    """The end (next local midnight) of `day` in Seoul, as an aware UTC instant."""
    return seoul(day + timedelta(days=1), 0)


def add_rules(*, body: dict, version: int = 1, effective_from: datetime = LONG_AGO, **scope):
    """A rule-set version of exactly one scope: jurisdiction_id=, organisation_id= or space_id=."""
    rule_set = RuleSet(version=version, effective_from=effective_from, body=body, **scope)
    db.session.add(rule_set)
    db.session.flush()
    return rule_set


def make_principal(factories, org, **kw):
    user = factories.user(name="교장", **kw)
    db.session.add(OrgMembership(user=user, organisation=org, role="principal"))
    db.session.flush()
    return user


@dataclass
class School:
    """A school gym under 강북구 (district of 서울특별시) and 서울특별시교육청 (the Seoul
    Office of Education, under 서울특별시), with everybody who takes part in its requests."""

    factories: object
    seoul: object
    gangbuk: object
    dobong: object
    edu: object
    school: object
    gym: object
    org_rules: RuleSet
    edu_rules: RuleSet
    manager: object
    staff: object
    principal: object
    officer: object
    seoul_officer: object
    other_officer: object
    admin: object
    resident: object

    def neighbour(self, name: str = "이웃", **kw):
        """Another resident of 강북구."""
        return self.factories.user(name=name, home_district_id=self.gangbuk.id,
                                      home_district_verified_at=VERIFIED, locale="en", **kw)

    def outsider(self, name: str = "도봉 주민", **kw):
        """A resident of 도봉구, a neighbouring district."""
        return self.factories.user(name=name, home_district_id=self.dobong.id,
                                      home_district_verified_at=VERIFIED, locale="en", **kw)

    def request(
        self,
        user=None,
        *,
        start: datetime,
        hours: float = 2,
        now: datetime | None = None,
        purpose: str = "배드민턴 모임",
        attendees: int = 12,
        **kw,
    ):
        return booking_services.create_booking(
            self.gym,
            user or self.resident,
            start=start,
            end=start + timedelta(hours=hours),
            purpose=purpose,
            attendees=attendees,
            now=now,
            **kw,
        )


def school_world(factories, *, notify: bool = True, hours=None) -> School:
    """The school gym with its chain: facility manager (3 working days, then passed on), the
    principal (2 working days, then expired), an officer of the education office (5 working
    days, then expired) and, when `notify`, a notification of the education office. The gym
    opens 09:00–22:00 every day unless `hours` says otherwise."""
    seoul_city = factories.jurisdiction(name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(name="강북구", kind="district", parent=seoul_city)
    dobong = factories.jurisdiction(name="도봉구", kind="district", parent=seoul_city)
    edu = factories.jurisdiction(
        name="서울특별시교육청", kind="education_office", parent=seoul_city
    )
    school = factories.org(name="번동초등학교", kind="school")
    gym = factories.space(
        owner=school,
        name="체육관",
        type="gym",
        capacity=100,
        jurisdictions=[gangbuk, edu],
        hours=hours,
    )
    org_rules = add_rules(
        organisation_id=school.id,
        body={
            "stages": [MANAGER_STAGE, PRINCIPAL_STAGE],
            "fees": SCHOOL_FEES,
            "waivers": {"nonprofit": 50},
            "max_attendees": 80,
        },
    )
    edu_rules = add_rules(
        jurisdiction_id=edu.id,
        body={"stages": [OFFICER_STAGE, NOTIFY_STAGE] if notify else [OFFICER_STAGE]},
    )
    manager = factories.manager(school, locale="en")
    staff = factories.user(name="행정실 직원", locale="en")
    db.session.add(OrgMembership(user=staff, organisation=school, role="staff"))
    principal = make_principal(factories, school, locale="en")
    return School(
        factories=factories,
        seoul=seoul_city,
        gangbuk=gangbuk,
        dobong=dobong,
        edu=edu,
        school=school,
        gym=gym,
        org_rules=org_rules,
        edu_rules=edu_rules,
        manager=manager,
        staff=staff,
        principal=principal,
        officer=factories.officer(edu, locale="en"),
        seoul_officer=factories.officer(seoul_city, locale="en"),
        other_officer=factories.officer(dobong, locale="en"),
        admin=factories.user(name="관리자", is_admin=True, locale="en"),
        resident=factories.user(name="김주민", home_district_id=gangbuk.id,
                               home_district_verified_at=VERIFIED, locale="en"),
    )
