"""Hostile repeat rules: a calendar file is refused with a message naming the event instead of
keeping a worker busy, and the calendar's closures stay as they were. A normal academic
calendar with long-running rules still imports.

The timeouts only turn a hang of the old code into a failure; nothing here measures time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.calendars import expansion
from app.calendars.imports import import_calendar
from app.calendars.models import ExternalCalendar
from app.errors import ValidationFailed
from app.spaces.models import Closure

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2025, 3, 1, tzinfo=UTC)
SEOUL = ZoneInfo("Asia/Seoul")


def calendar(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{event.strip()}\r\nEND:VEVENT\r\n" for event in events)
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    return f"{head}{body}END:VCALENDAR\r\n".encode()


def event(uid: str, summary: str, *lines: str) -> str:
    return "\r\n".join([f"UID:{uid}", f"SUMMARY:{summary}", *lines])


HOSTILE = calendar(event(
    "boom", "Every seven seconds",
    "DTSTART:19700101T000000Z", "DTEND:19700101T000001Z", "RRULE:FREQ=SECONDLY;INTERVAL=7",
))
MINUTELY = calendar(event(
    "minutes", "Bell", "DTSTART:20250301T000000Z", "DTEND:20250301T000030Z",
    "RRULE:FREQ=MINUTELY;INTERVAL=15",
))
HOURLY_1970 = calendar(event(
    "hours", "Hourly check", "DTSTART:19700101T000000Z", "DTEND:19700101T001000Z",
    "RRULE:FREQ=HOURLY",
))
NEVER = calendar(event(
    "never", "Thirtieth of February", "DTSTART:20250101T090000Z", "DTEND:20250101T100000Z",
    "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
))


@pytest.fixture
def space(factories):
    return factories.space(owner=factories.org())


@pytest.fixture
def ext(db, space):
    ext = ExternalCalendar(space_id=space.id, name="학사일정", filename="calendar.ics")
    db.session.add(ext)
    db.session.flush()
    import_calendar(ext, (FIXTURES / "google_school.ics").read_bytes(), NOW)
    db.session.commit()
    return ext


def closures(db, ext) -> list[tuple]:
    return [
        (c.id, c.start_at, c.end_at, c.reason)
        for c in db.session.scalars(
            select(Closure).where(Closure.external_calendar_id == ext.id).order_by(Closure.id)
        )
    ]


def refused(db, ext, data: bytes) -> str:
    """The message a refused import gives; asserts it changed nothing."""
    before = closures(db, ext)
    assert before
    with pytest.raises(ValidationFailed) as caught:
        try:
            import_calendar(ext, data, NOW + timedelta(days=1))
        except pytest.fail.Exception as exc:
            # A timeout inside dateutil's generators: on Python 3.11 pytest cannot render
            # that traceback (INTERNALERROR, ending the run), so fail without it.
            raise pytest.fail.Exception(exc.msg, pytrace=False) from None
    db.session.rollback()
    assert closures(db, ext) == before
    assert ext.last_synced_at == NOW
    return caught.value.message


@pytest.mark.timeout(10)
def test_the_every_seven_seconds_since_1970_file_is_refused(db, ext, english):
    message = refused(db, ext, HOSTILE)
    assert "“Every seven seconds” repeats more often than every hour" in message
    assert "FREQ=SECONDLY" in message


@pytest.mark.timeout(10)
def test_a_minutely_rule_is_refused(db, ext, english):
    message = refused(db, ext, MINUTELY)
    assert "“Bell” repeats more often than every hour (FREQ=MINUTELY)" in message


@pytest.mark.timeout(10)
def test_the_korean_message_names_the_event(db, ext):
    assert "Every seven seconds" in refused(db, ext, HOSTILE)


@pytest.mark.timeout(30)
def test_an_hourly_rule_from_1970_without_an_end_is_refused(db, ext, english):
    """Half a million hours lie between its start and the window: the budget counts them."""
    message = refused(db, ext, HOURLY_1970)
    assert "“Hourly check” takes too long to work out" in message
    assert "UNTIL or COUNT" in message


@pytest.mark.timeout(30)
def test_a_rule_that_never_matches_is_refused(db, ext, english):
    """dateutil would search day after day until the year 9999 for a 30th of February."""
    assert "“Thirtieth of February” takes too long" in refused(db, ext, NEVER)


@pytest.mark.timeout(30)
def test_the_budget_is_shared_by_every_event_of_the_file(db, ext, english, monkeypatch):
    """Each rule alone fits; together they are too much."""
    daily = [
        event(f"d{i}", f"Daily {i}", "DTSTART:20000101T090000Z", "DTEND:20000101T100000Z",
              "RRULE:FREQ=DAILY")
        for i in range(3)
    ]
    # One daily rule from 2000 costs about 11 steps a day for 26 years: about 105,000.
    monkeypatch.setattr(expansion, "MAX_STEPS", 250_000)
    import_calendar(ext, calendar(*daily[:2]), NOW)
    db.session.rollback()
    assert "“Daily 2” takes too long" in refused(db, ext, calendar(*daily))


def test_a_huge_list_of_dates_is_refused(db, ext, english, monkeypatch):
    monkeypatch.setattr(expansion, "MAX_STEPS", 20_000)
    dates = ",".join(
        (datetime(2020, 1, 1) + timedelta(days=i)).strftime("%Y%m%dT090000Z")
        for i in range(2_001)
    )
    data = calendar(event("many", "Listed", "DTSTART:20200101T090000Z",
                          "DTEND:20200101T100000Z", f"RDATE:{dates}"))
    assert "“Listed” lists too many dates" in refused(db, ext, data)


def test_the_time_budget_refuses_too(db, ext, english, monkeypatch):
    monkeypatch.setattr(expansion, "MAX_SECONDS", -1)
    data = calendar(event("weekly", "Choir", "DTSTART:20250303T090000Z",
                          "DTEND:20250303T100000Z", "RRULE:FREQ=WEEKLY;COUNT=3"))
    assert "“Choir” takes too long" in refused(db, ext, data)


def _days(first: date, last: date, weekdays: set[int]) -> list[date]:
    out, day = [], first
    while day <= last:
        if day.weekday() in weekdays:
            out.append(day)
        day += timedelta(days=1)
    return out


@pytest.mark.timeout(30)
def test_a_weekly_academic_calendar_running_for_years_still_imports(db, space, english):
    """Long-running rules of a real school: weekly club days since 2016 with a cancelled day,
    a founding day every year since 1988 and a daily lunch break since 2001."""
    data = calendar(
        event("club", "방과후 오케스트라", "DTSTART;TZID=Asia/Seoul:20160302T160000",
              "DTEND;TZID=Asia/Seoul:20160302T180000", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE",
              "EXDATE;TZID=Asia/Seoul:20250305T160000"),
        event("founding", "개교기념일", "DTSTART;VALUE=DATE:19880520",
              "DTEND;VALUE=DATE:19880521", "RRULE:FREQ=YEARLY"),
        event("lunch", "점심시간", "DTSTART;TZID=Asia/Seoul:20010302T120000",
              "DTEND;TZID=Asia/Seoul:20010302T130000", "RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"),
    )
    ext = ExternalCalendar(space_id=space.id, name="학사일정", filename="school.ics")
    db.session.add(ext)
    db.session.flush()
    result = import_calendar(ext, data, NOW)
    rows = list(db.session.scalars(
        select(Closure).where(Closure.external_calendar_id == ext.id).order_by(Closure.start_at)
    ))
    low, high = expansion.window(NOW)
    first, last = low.astimezone(SEOUL).date(), high.astimezone(SEOUL).date()

    def local(reason):
        return [(c.start_at.astimezone(SEOUL), c.end_at.astimezone(SEOUL))
                for c in rows if c.reason == reason]

    club = _days(first, last, {0, 2})
    club.remove(date(2025, 3, 5))
    assert [(s.date(), s.hour, e.hour) for s, e in local("방과후 오케스트라")] == [
        (day, 16, 18) for day in club
    ]
    assert [(s.date(), e.date()) for s, e in local("개교기념일")] == [
        (date(2025, 5, 20), date(2025, 5, 21))
    ]
    lunch = local("점심시간")
    assert [s.date() for s, _ in lunch] == _days(first, last, {0, 1, 2, 3, 4})
    assert {(s.hour, e.hour) for s, e in lunch} == {(12, 13)}
    assert result["events"] == len(rows) == len(club) + 1 + len(lunch)
