"""The titles of imported calendar events are staff information: a school's staff calendar says
who is on leave and which meetings are held. Only the space's managers (its organisation's
members) and admins read them; everyone else is told the space is closed. Reasons a manager
typed on the closures page are written for residents and stay visible to all."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.calendars.imports import import_calendar
from app.calendars.models import ExternalCalendar
from app.notifications import render
from app.notifications.models import Notification
from tests.calendars.test_import_pages import ics
from tests.calendars.test_views import SEOUL, cell
from tests.spaces.test_pages import form_data

TITLE = "교직원 연수 (김선생 병가)"
CALENDAR = "교직원 일정"
TYPED = "보일러 점검"
NOW = datetime(2027, 2, 1, 0, 0, tzinfo=UTC)  # Monday 09:00 in Seoul
HIDDEN = ["anonymous", "resident", "officer", "other_manager"]
SHOWN = ["manager", "admin"]
EN = {"Accept-Language": "en"}


def at(day: int, hour: int) -> datetime:
    return datetime(2027, 2, day, hour, tzinfo=SEOUL).astimezone(UTC)


@pytest.fixture
def world(factories, db, time_machine):
    time_machine.move_to(NOW, tick=False)
    district = factories.jurisdiction()
    org = factories.org()
    space = factories.space(owner=org, jurisdictions=[district])
    people = {
        "manager": factories.manager(org, locale="en"),
        "resident": factories.user(locale="en"),
        "officer": factories.officer(district, locale="en"),  # oversees, does not manage
        "other_manager": factories.manager(factories.org(), locale="en"),
        "admin": factories.user(locale="en", is_admin=True),
    }
    booking = factories.booking(space, people["resident"], start=at(10, 11), end=at(10, 13))
    db.session.commit()
    staff = ExternalCalendar(space_id=space.id, name=CALENDAR, filename="staff.ics")
    db.session.add(staff)
    db.session.flush()
    import_calendar(staff, ics(("leave@school", at(10, 10), at(10, 12), TITLE)), NOW)
    factories.closure(space, at(12, 9), at(12, 12), reason=TYPED)
    db.session.commit()
    return {"space": space, "people": people, "booking": booking}


@pytest.fixture
def as_(client, login, world):
    def _as(role: str):
        client.get("/logout")
        if role != "anonymous":
            login(world["people"][role])
        return client

    return _as


def closures_list(page: str) -> str:
    found = re.search(r'<ul class="closures">(.*?)</ul>', page, re.S)
    assert found, "no closures listed"
    return found.group(1)


@pytest.mark.parametrize("role", HIDDEN + SHOWN)
def test_the_space_page_lists_imported_closures_without_their_title(world, as_, role):
    space = world["space"]
    page = as_(role).get(f"/spaces/{space.id}?week=2027-02-08&lang=en", headers=EN)
    listed = closures_list(page.get_data(as_text=True))
    assert listed.count("<li>") == 2 and TYPED in listed
    assert (TITLE in listed) is (role in SHOWN)


@pytest.mark.parametrize("role", HIDDEN + SHOWN)
def test_the_month_view_shows_closed_without_the_title_or_calendar_name(world, as_, role):
    space = world["space"]
    page = as_(role).get(f"/spaces/{space.id}/month?month=2027-02&lang=en",
                         headers=EN).get_data(as_text=True)
    imported = cell(page, date(2027, 2, 10))
    assert "Closed 10:00–12:00" in imported and "Imported" in imported
    assert TYPED in cell(page, date(2027, 2, 12))
    assert (TITLE in page) is (role in SHOWN)
    assert (CALENDAR in page) is (role in SHOWN)


def test_a_refused_request_says_closed_not_the_title(world, as_, api_token):
    space = world["space"]
    data = form_data(at(10, 10), at(10, 11), purpose="독서 모임", attendees="5")
    refused = as_("resident").post(f"/spaces/{space.id}/book?lang=en", data=data, headers=EN)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "The space is closed at that time (closed)." in page and TITLE not in page

    body = {"space_id": space.id, "start": at(10, 10).isoformat(),
            "end": at(10, 11).isoformat(), "purpose": "독서 모임", "attendees": 5}
    api = as_("anonymous").post("/api/v1/bookings", json=body,
                                headers={**api_token(world["people"]["resident"]), **EN})
    assert api.status_code == 422 and TITLE not in api.get_data(as_text=True)
    assert "closed" in api.get_json()["error"]["message"]

    # A typed reason is meant for residents; the manager reads the imported title.
    typed = as_("resident").post(f"/spaces/{space.id}/book?lang=en",
                                 data=form_data(at(12, 10), at(12, 11)), headers=EN)
    assert f"The space is closed at that time ({TYPED})." in typed.get_data(as_text=True)
    managers = as_("anonymous").post("/api/v1/bookings", json=body,
                                     headers={**api_token(world["people"]["manager"]), **EN})
    assert managers.status_code == 422 and TITLE in managers.get_json()["error"]["message"]


def test_the_resident_told_of_the_collision_is_not_told_the_title(world, db, as_, api_token):
    resident = world["people"]["resident"]
    [note] = db.session.scalars(select(Notification).where(
        Notification.user_id == resident.id, Notification.kind == "closure_conflict")).all()
    assert note.booking_id == world["booking"].id
    assert note.params["closure"]["reason"] is None
    with render.email_context("en"):
        email = render.render_email(note, user=resident)
    assert TITLE not in email.text and TITLE not in email.html
    assert "No reason was given for the closure." in email.text
    inbox = as_("resident").get("/notifications?lang=en").get_data(as_text=True)
    assert "Closure affects your booking" in inbox and TITLE not in inbox
    api = as_("anonymous").get("/api/v1/notifications", headers=api_token(resident))
    assert api.status_code == 200 and TITLE not in api.get_data(as_text=True)


def test_feeds_and_availability_never_carry_closure_titles(world, as_, api_token):
    """Guards: these answers had no closure reasons before either."""
    space = world["space"]
    client = as_("anonymous")
    busy = client.get(f"/spaces/{space.id}/busy.ics")
    assert busy.status_code == 200 and TITLE not in busy.get_data(as_text=True)
    headers = api_token(world["people"]["resident"])
    for url in (f"/api/v1/spaces/{space.id}/availability?from=2027-02-08&to=2027-02-14",
                f"/api/v1/spaces/{space.id}"):
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200 and TITLE not in answer.get_data(as_text=True)
