"""Importing .ics files as closures: real-world shaped exports (Google, Outlook, hand-written
floating times), recurrence, re-imports, collisions and broken files."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.calendars.expansion import MAX_OCCURRENCES
from app.calendars.imports import MAX_BYTES, import_calendar
from app.calendars.models import ExternalCalendar
from app.errors import ValidationFailed
from app.spaces.models import Closure
from tests.conftest import next_weekday

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2025, 3, 1, tzinfo=UTC)  # the fixtures' files were exported around this day


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def space(factories):
    return factories.space(owner=factories.org())


def attach(db, space=None, org=None, name="학사일정") -> ExternalCalendar:
    ext = ExternalCalendar(
        space_id=space.id if space else None,
        organisation_id=org.id if org else None,
        name=name,
        filename="calendar.ics",
    )
    db.session.add(ext)
    db.session.flush()
    return ext


def closures(db, ext) -> list[Closure]:
    return list(
        db.session.scalars(
            select(Closure)
            .where(Closure.external_calendar_id == ext.id)
            .order_by(Closure.start_at, Closure.space_id)
        )
    )


def by_reason(rows) -> dict[str, list[Closure]]:
    result: dict[str, list[Closure]] = {}
    for row in rows:
        result.setdefault(row.reason, []).append(row)
    return result


def test_google_export(db, space, english):
    ext = attach(db, space)
    result = import_calendar(ext, fixture("google_school.ics"), NOW)
    db.session.commit()
    assert {k: result[k] for k in ("events", "added", "updated", "removed")} == {
        "events": 5, "added": 5, "updated": 0, "removed": 0,
    }
    assert result["collisions"] == []
    rows = by_reason(closures(db, ext))
    # All-day holiday (TRANSP:TRANSPARENT, still a closure): the whole day in Seoul.
    [holiday] = rows["삼일절"]
    assert (holiday.start_at, holiday.end_at) == (utc(2025, 2, 28, 15), utc(2025, 3, 1, 15))
    assert holiday.recurrence_id == ""
    [children] = rows["어린이날 연휴"]
    assert (children.start_at, children.end_at) == (utc(2025, 5, 4, 15), utc(2025, 5, 6, 15))
    # Weekly on Tuesdays 15:00–17:00 KST from 4 March until the end of March: 11 March is an
    # EXDATE, 18 March moved to Thursday 20 March 10:00, 25 March cancelled.
    [first] = rows["방과후 배드민턴 교실"]
    assert (first.start_at, first.end_at) == (utc(2025, 3, 4, 6), utc(2025, 3, 4, 8))
    assert first.recurrence_id == "2025-03-04T06:00:00Z"
    [moved] = rows["방과후 배드민턴 교실 (목요일로 변경)"]
    assert (moved.start_at, moved.end_at) == (utc(2025, 3, 20, 1), utc(2025, 3, 20, 3))
    assert moved.recurrence_id == "2025-03-18T06:00:00Z"
    assert moved.external_uid == first.external_uid == "6r2k8c1h4i9m0o3s5u7w@google.com"
    # UTC times are exact instants.
    [exam] = rows["중간고사 (체육관 사용)"]
    assert (exam.start_at, exam.end_at) == (utc(2025, 3, 10, 0), utc(2025, 3, 10, 3))
    # The cancelled event and last year's holiday (outside the window) are not closures.
    assert "전교 조회 (취소)" not in rows and "신정 (지난 해)" not in rows
    assert ext.last_synced_at == NOW and ext.last_error is None
    assert ext.last_result == {"events": 5, "added": 5, "updated": 0, "removed": 0,
                               "collisions": 0}


def test_outlook_export_with_windows_zone_names(db, space, english):
    ext = attach(db, space)
    result = import_calendar(ext, fixture("outlook_facilities.ics"), NOW)
    assert result["added"] == 4
    rows = by_reason(closures(db, ext))
    [works] = rows["체육관 바닥 공사"]  # TZID="Korea Standard Time" 09:00–18:00
    assert (works.start_at, works.end_at) == (utc(2025, 3, 14, 0), utc(2025, 3, 14, 9))
    [check] = rows["소방 점검"]  # UTC
    assert (check.start_at, check.end_at) == (utc(2025, 3, 21, 1), utc(2025, 3, 21, 5))
    [anniversary] = rows["개교기념일"]  # all-day, marked FREE by Outlook
    assert (anniversary.start_at, anniversary.end_at) == (utc(2025, 3, 31, 15),
                                                          utc(2025, 4, 1, 15))
    # "Eastern Standard Time" in July is daylight time: 10:00 EDT = 14:00 UTC.
    [call] = rows["Sister school video call"]
    assert (call.start_at, call.end_at) == (utc(2025, 7, 4, 14), utc(2025, 7, 4, 16))
    assert len(works.external_uid) <= 255


def test_floating_times_are_the_spaces_local_time(db, factories, english):
    seoul = factories.space()
    berlin = factories.space(timezone="Europe/Berlin")
    ext_seoul, ext_berlin = attach(db, seoul), attach(db, berlin)
    import_calendar(ext_seoul, fixture("floating.ics"), NOW)
    import_calendar(ext_berlin, fixture("floating.ics"), NOW)
    concert_seoul = by_reason(closures(db, ext_seoul))["학부모 음악회"][0]
    concert_berlin = by_reason(closures(db, ext_berlin))["학부모 음악회"][0]
    assert concert_seoul.start_at == utc(2025, 3, 12, 10)  # 19:00 KST
    assert concert_berlin.start_at == utc(2025, 3, 12, 18)  # 19:00 CET
    volleyball = by_reason(closures(db, ext_seoul))["교직원 배구"]
    assert [(c.start_at, c.end_at - c.start_at) for c in volleyball] == [
        (utc(2025, 3, 5 + 7 * i, 9), timedelta(minutes=90)) for i in range(3)
    ]
    assert [c.recurrence_id for c in volleyball] == [
        "2025-03-05T18:00:00", "2025-03-12T18:00:00", "2025-03-19T18:00:00",
    ]


def test_reimport_updates_adds_and_removes_without_duplicates(db, space, english):
    ext = attach(db, space)
    original = fixture("google_school.ics")
    import_calendar(ext, original, NOW)
    db.session.commit()
    ids = {(c.external_uid, c.recurrence_id): c.id for c in closures(db, ext)}

    again = import_calendar(ext, original, NOW)
    assert (again["added"], again["updated"], again["removed"]) == (0, 0, 0)
    assert len(closures(db, ext)) == 5

    changed = (
        original.decode()
        # The exam moves an hour later and is renamed; a one-off event keeps its closure.
        .replace("DTSTART:20250310T000000Z", "DTSTART:20250310T010000Z")
        .replace("DTEND:20250310T030000Z", "DTEND:20250310T040000Z")
        .replace("SUMMARY:중간고사 (체육관 사용)", "SUMMARY:중간고사 1일차")
        # The series loses its EXDATE: 11 March comes back.
        .replace("EXDATE;TZID=Asia/Seoul:20250311T150000\r\n", "")
    )
    # The holiday is removed from the calendar.
    changed = re.sub(
        r"BEGIN:VEVENT\r\n(?:(?!END:VEVENT).)*?UID:20250301_holiday_samiljeol.*?END:VEVENT\r\n",
        "", changed, flags=re.S,
    ).encode()
    result = import_calendar(ext, changed, NOW)
    db.session.commit()
    assert (result["added"], result["updated"], result["removed"]) == (1, 1, 1)
    rows = closures(db, ext)
    assert len(rows) == 5
    keys = [(c.space_id, c.external_uid, c.recurrence_id) for c in rows]
    assert len(keys) == len(set(keys))
    reasons = by_reason(rows)
    assert "삼일절" not in reasons
    [exam] = reasons["중간고사 1일차"]
    assert exam.id == ids[("0a1b2c3d4e5f@google.com", "")]
    assert exam.start_at == utc(2025, 3, 10, 1)
    assert [c.start_at for c in reasons["방과후 배드민턴 교실"]] == [
        utc(2025, 3, 4, 6), utc(2025, 3, 11, 6),
    ]
    assert ext.last_result["removed"] == 1


def test_closures_of_other_calendars_and_manual_ones_are_left_alone(db, factories, space,
                                                                    english):
    manual = factories.closure(space, utc(2025, 3, 2), utc(2025, 3, 3))
    other = attach(db, space, name="다른 달력")
    import_calendar(other, fixture("outlook_facilities.ics"), NOW)
    ext = attach(db, space)
    import_calendar(ext, fixture("google_school.ics"), NOW)
    import_calendar(ext, b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", NOW)
    assert closures(db, ext) == []
    assert len(closures(db, other)) == 4
    assert db.session.get(Closure, manual.id) is not None


def test_organisation_calendar_closes_every_space_in_its_zone(db, factories, english):
    org = factories.org()
    seoul = factories.space(owner=org, name="강당")
    berlin = factories.space(owner=org, name="Berlin hall", timezone="Europe/Berlin")
    elsewhere = factories.space()
    ext = attach(db, org=org)
    result = import_calendar(ext, fixture("google_school.ics"), NOW)
    assert result["events"] == 5 and result["added"] == 10
    rows = closures(db, ext)
    assert {c.space_id for c in rows} == {seoul.id, berlin.id}
    holiday = {c.space_id: c for c in rows if c.reason == "삼일절"}
    assert holiday[seoul.id].start_at == utc(2025, 2, 28, 15)
    assert holiday[berlin.id].start_at == utc(2025, 2, 28, 23)  # midnight in Berlin
    assert not any(c.space_id == elsewhere.id for c in rows)
    # A space that leaves the organisation loses the organisation's closures on re-import.
    berlin.owner = factories.org()
    db.session.flush()
    again = import_calendar(ext, fixture("google_school.ics"), NOW)
    assert (again["added"], again["updated"], again["removed"]) == (0, 0, 5)


def test_a_colliding_booking_is_listed_and_stays_active(db, factories, space, now, english):
    resident = factories.user()
    start = next_weekday(2, 10)  # a Wednesday 10:00 in Seoul, within opening hours
    booking = factories.booking(space, resident, start=start, end=start + timedelta(hours=2))
    clear = factories.booking(space, resident, start=start + timedelta(days=1),
                              end=start + timedelta(days=1, hours=1))
    status = booking.status
    stamp = lambda dt: dt.strftime("%Y%m%dT%H%M%SZ")  # noqa: E731
    data = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:inspection\r\nDTSTART:{stamp(start + timedelta(hours=1))}\r\n"
        f"DTEND:{stamp(start + timedelta(hours=5))}\r\nSUMMARY:안전 점검\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    ext = attach(db, space)
    result = import_calendar(ext, data, now)
    db.session.commit()
    assert result["added"] == 1
    assert [b.id for b in result["collisions"]] == [booking.id]
    assert clear.id not in [b.id for b in result["collisions"]]
    db.session.refresh(booking)
    assert booking.status == status and booking.is_active
    assert ext.last_result["collisions"] == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\n"
         b"DTSTART:20250310T100000Z\r\n", "damaged or incomplete"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:Open day\r\n"
         b"DTSTART:2025-03-10 ten\r\nDTEND:20250310T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
         "“Open day” has a DTSTART that cannot be read"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:Club\r\n"
         b"DTSTART:20250310T100000Z\r\nDTEND:20250310T110000Z\r\nRRULE:FREQ=SOMETIMES\r\n"
         b"END:VEVENT\r\nEND:VCALENDAR\r\n", "“Club” has a RRULE that cannot be read"),
        (b"<!DOCTYPE html><html><body>Sign in to continue</body></html>",
         "not an iCalendar"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not an iCalendar"),
        (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Kim\r\nEND:VCARD\r\n", "not an iCalendar"),
        (b"   \r\n", "empty"),
        (b"BEGIN:VCALENDAR\r\n" + b"X-FILLER:" + b"x" * MAX_BYTES + b"\r\nEND:VCALENDAR\r\n",
         "larger than 10 MB"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:hourly\r\n"
         b"DTSTART:20250301T000000Z\r\nDTEND:20250301T003000Z\r\nRRULE:FREQ=HOURLY\r\n"
         b"SUMMARY:Every hour\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", f"more than {MAX_OCCURRENCES:,}"
         .replace(",", "")),
    ],
    ids=["truncated", "bad-date", "bad-rrule", "html", "png", "vcard", "empty", "10mb",
         "too-many"],
)
def test_a_broken_file_changes_nothing(db, space, english, data, message):
    ext = attach(db, space)
    import_calendar(ext, fixture("google_school.ics"), NOW)
    db.session.commit()
    before = [(c.id, c.start_at, c.end_at, c.reason) for c in closures(db, ext)]
    with pytest.raises(ValidationFailed) as caught:
        import_calendar(ext, data, NOW + timedelta(days=1))
    assert message in caught.value.message
    db.session.rollback()
    assert [(c.id, c.start_at, c.end_at, c.reason) for c in closures(db, ext)] == before
    assert ext.last_synced_at == NOW and ext.last_result["added"] == 5


def test_events_without_length_close_nothing_and_all_day_without_end_is_one_day(db, space,
                                                                                 english):
    ext = attach(db, space)
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        b"BEGIN:VEVENT\r\nUID:reminder\r\nDTSTART:20250305T010000Z\r\nSUMMARY:Memo\r\n"
        b"END:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:day\r\nDTSTART;VALUE=DATE:20250306\r\nSUMMARY:  Sports\r\n  day"
        b"\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:nameless\r\nDTSTART:20250307T010000Z\r\n"
        b"DTEND:20250307T020000Z\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:long\r\nDTSTART:20250308T010000Z\r\nDTEND:20250308T020000Z\r\n"
        b"SUMMARY:" + "가".encode() * 300 + b"\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    result = import_calendar(ext, data, NOW)
    assert result["events"] == 3
    rows = closures(db, ext)
    assert [(c.external_uid, c.end_at - c.start_at) for c in rows] == [
        ("day", timedelta(days=1)), ("nameless", timedelta(hours=1)),
        ("long", timedelta(hours=1)),
    ]
    assert rows[0].reason == "Sports day"
    assert rows[1].reason == "학사일정"  # no SUMMARY: the calendar's name
    assert len(rows[2].reason) == 200
    assert db.session.scalar(select(func.count(Closure.id))) == 3
