"""Who may open which manager URL: 404 hides what is not mine, 403 where the object is visible."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.bookings.models import Booking
from app.spaces.models import Closure, Space
from tests.conftest import next_weekday

SPACE_URLS = [
    ("GET", "/manage/spaces/{s}/edit"),
    ("POST", "/manage/spaces/{s}/edit"),
    ("GET", "/manage/spaces/{s}/hours"),
    ("POST", "/manage/spaces/{s}/hours"),
    ("GET", "/manage/spaces/{s}/closures"),
    ("POST", "/manage/spaces/{s}/closures"),
    ("POST", "/manage/spaces/{s}/closures/{c}/delete"),
    ("GET", "/manage/spaces/{s}/calendar"),
]
BOOKING_URLS = [
    ("POST", "/manage/bookings/{b}/approve"),
    ("POST", "/manage/bookings/{b}/reject"),
    ("POST", "/manage/bookings/{b}/cancel"),
    ("POST", "/manage/bookings/{b}/attendance"),
]
LIST_URLS = [
    ("GET", "/manage/spaces"),
    ("GET", "/manage/queue"),
    ("GET", "/manage/spaces/new"),
    ("POST", "/manage/spaces/new"),
]
# Everything a form could send, so a request that got through would change something.
DATA = {
    "name": "해킹",
    "type": "gym",
    "capacity": "5",
    "timezone": "Asia/Seoul",
    "price_per_hour": "0",
    "min_minutes": "60",
    "max_minutes": "120",
    "buffer_minutes": "0",
    "booking_mode": "instant",
    "closed_0": "1",
    "note": "ok",
    "reason": "because",
    "outcome": "completed",
}


@pytest.fixture
def objects(factories, space, resident, now, db):
    start = next_weekday(2, 10)
    booking = factories.booking(space, resident, start=start, end=start + timedelta(hours=1))
    closure = factories.closure(space, now + timedelta(days=30), now + timedelta(days=31))
    db.session.commit()
    return {"s": space.id, "b": booking.id, "c": closure.id}


def call(client, method, url, objects):
    url = url.format(**objects)
    return client.open(url, method=method, data=DATA if method == "POST" else None)


def unchanged(db, objects):
    db.session.expire_all()
    space = db.session.get(Space, objects["s"])
    return (
        space.name == "강당"
        and len(space.opening_hours) == 7
        and db.session.get(Booking, objects["b"]).status == "requested"
        and db.session.get(Closure, objects["c"]) is not None
        and len(space.closures) == 1
    )


@pytest.mark.parametrize(("method", "url"), SPACE_URLS + BOOKING_URLS)
def test_manager_of_another_org_gets_404(objects, other_manager, login, client, db, method, url):
    login(other_manager)
    assert call(client, method, url, objects).status_code == 404
    assert unchanged(db, objects)


@pytest.mark.parametrize(("method", "url"), SPACE_URLS + BOOKING_URLS)
def test_other_resident_gets_404(objects, factories, login, client, db, method, url):
    stranger = factories.user(locale="en")
    db.session.commit()
    login(stranger)
    assert call(client, method, url, objects).status_code == 404
    assert unchanged(db, objects)


@pytest.mark.parametrize(("method", "url"), LIST_URLS)
def test_residents_get_403_on_manager_lists(objects, resident, login, client, method, url):
    login(resident)
    assert call(client, method, url, objects).status_code == 403


@pytest.mark.parametrize(("method", "url"), BOOKING_URLS)
def test_the_booker_sees_403_on_decisions(objects, resident, login, client, db, method, url):
    login(resident)
    assert call(client, method, url, objects).status_code == 403
    assert unchanged(db, objects)


@pytest.mark.parametrize(("method", "url"), SPACE_URLS)
def test_an_overseeing_officer_gets_403(objects, factories, space, login, client, db, method, url):
    district = factories.jurisdiction()
    space.jurisdictions = [district]
    officer = factories.officer(district, locale="en")
    db.session.commit()
    login(officer)
    assert call(client, method, url, objects).status_code == 403
    assert unchanged(db, objects)


@pytest.mark.parametrize(("method", "url"), SPACE_URLS + BOOKING_URLS + LIST_URLS)
def test_anonymous_visitors_go_to_the_login(objects, client, db, method, url):
    response = call(client, method, url, objects)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert unchanged(db, objects)


@pytest.mark.parametrize(("method", "url"), SPACE_URLS + BOOKING_URLS)
def test_unknown_ids_are_404(objects, manager, login, client, method, url):
    login(manager)
    assert call(client, method, url, {"s": 999999, "b": 999999, "c": 999999}).status_code == 404


@pytest.mark.parametrize(
    ("method", "url"), [u for u in SPACE_URLS if u[0] == "GET"] + LIST_URLS[:3]
)
def test_my_manager_pages_open(objects, manager, login, client, method, url):
    login(manager)
    assert call(client, method, url, objects).status_code == 200
