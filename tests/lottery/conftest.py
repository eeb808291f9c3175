"""A space whose rule set holds a Saturday-morning lottery, and helpers to enter it.

Dates sit in June and July of next year and every service gets an explicit `now`, so the
tests never depend on today's date or on a month boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.bookings import services as booking_services
from app.rules.models import RuleSet
from tests.factories import VERIFIED

SEOUL = ZoneInfo("Asia/Seoul")
YEAR = date.today().year + 1
WINDOW = {
    "weekdays": [5],
    "start": 540,
    "end": 720,
    "draw_days_before": 7,
    "draw_minute": 600,
    "cap_per_month": 1,
    "resident_priority": True,
}


def saturday(month: int, nth: int = 1) -> date:
    """The `nth` Saturday of `month` next year."""
    first = date(YEAR, month, 1)
    return first + timedelta(days=(5 - first.weekday()) % 7 + 7 * (nth - 1))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Seoul wall time on `day`, as an aware UTC instant."""
    return datetime.combine(day, time(hour, minute), SEOUL).astimezone(UTC)


def draw_time(day: date) -> datetime:
    """When the lottery for Saturday `day` is drawn: 7 days before, at 10:00."""
    return at(day - timedelta(days=7), 10)


@dataclass
class Setup:
    space: object
    district: object
    other: object
    org: object
    factories: object

    def resident(self, name: str = "김민수"):
        return self.factories.user(name=name, home_district_id=self.district.id,
                                   home_district_verified_at=VERIFIED)

    def outsider(self, name: str = "박지훈", home=True):
        return self.factories.user(name=name, home_district_id=self.other.id if home else None,
                                   home_district_verified_at=VERIFIED if home else None)

    def enter(self, user, day: date, start_hour: int, end_hour: int, *, group_id=None):
        return booking_services.create_booking(
            self.space,
            user,
            start=at(day, start_hour),
            end=at(day, end_hour),
            purpose="배드민턴 모임",
            attendees=4,
            group_id=group_id,
            now=draw_time(day) - timedelta(days=2),
        )


@pytest.fixture
def make_setup(factories, db):
    """`make_setup(**window_changes, rules={...})`: a published space in a district with one
    space-level rule set holding the lottery window (changed as asked) and any other rules."""

    def _make(rules: dict | None = None, **window_changes) -> Setup:
        district = factories.jurisdiction(name="강북구")
        other = factories.jurisdiction(name="도봉구")
        org = factories.org()
        space = factories.space(owner=org, jurisdictions=[district], name="번동 체육관")
        db.session.add(
            RuleSet(
                space_id=space.id,
                version=1,
                effective_from=datetime(YEAR - 1, 1, 1, tzinfo=UTC),
                body={"lottery": [{**WINDOW, **window_changes}], **(rules or {})},
            )
        )
        db.session.flush()
        return Setup(space, district, other, org, factories)

    return _make


@pytest.fixture
def setup(make_setup) -> Setup:
    return make_setup()
