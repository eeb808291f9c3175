"""Verified residency and fee waivers: builders shared by this package's modules.

A meeting room of 번동주민센터 in 강북구 (a district of 서울특별시), whose owner's rules charge
₩10,000 an hour to residents of 강북구 and ₩20,000 to others and take 100 % off for seniors.
Requests are made in March of next year with an explicit `now`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PIL import Image
from pypdf import PdfWriter

from app.bookings import services as booking_services
from tests.approvals import add_rules

SEOUL = ZoneInfo("Asia/Seoul")
YEAR = date.today().year + 1
NOW = datetime(YEAR, 2, 1, 9, tzinfo=SEOUL).astimezone(UTC)
FEES = {"rates": {"resident": 10000, "non_resident": 20000}}


def seoul(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), SEOUL).astimezone(UTC)


TUESDAY = date(YEAR, 3, 3) + timedelta(days=(1 - date(YEAR, 3, 3).weekday()) % 7)


@dataclass
class Town:
    factories: object
    seoul_city: object
    gangbuk: object
    dobong: object
    org: object
    room: object
    manager: object
    officer: object
    seoul_officer: object
    other_officer: object

    def person(self, name: str = "김주민", *, verified: bool = False, district=None, **kw):
        district = district or self.gangbuk
        return self.factories.user(
            name=name, locale="en", home_district_id=district.id,
            home_district_verified_at=NOW - timedelta(days=30) if verified else None, **kw)

    def request(self, user, *, day: date = TUESDAY, hour: int = 18, hours: int = 2,
                now: datetime = NOW, space=None, **kw):
        return booking_services.create_booking(
            space or self.room, user, start=seoul(day, hour),
            end=seoul(day, hour) + timedelta(hours=hours), purpose="주민 모임", attendees=5,
            now=now, **kw)


def town(factories, *, mode: str = "request", rules: dict | None = None) -> Town:
    seoul_city = factories.jurisdiction(name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(name="강북구", parent=seoul_city)
    dobong = factories.jurisdiction(name="도봉구", parent=seoul_city)
    org = factories.org(name="번동주민센터", kind="community_center")
    room = factories.space(owner=org, name="회의실", jurisdictions=[gangbuk], booking_mode=mode)
    add_rules(organisation_id=org.id,
              body={"fees": FEES, "waivers": {"senior": 100, "nonprofit": 50}, **(rules or {})})
    return Town(
        factories=factories, seoul_city=seoul_city, gangbuk=gangbuk, dobong=dobong, org=org,
        room=room, manager=factories.manager(org, locale="en"),
        officer=factories.officer(gangbuk, locale="en"),
        seoul_officer=factories.officer(seoul_city, locale="en"),
        other_officer=factories.officer(dobong, locale="en"),
    )


def png_bytes(size: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
