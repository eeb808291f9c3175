"""The space verbs: validation of every field, opening hours, closures and geocoding."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.bookings import conflicts
from app.bookings.models import Booking
from app.errors import NotAllowed, ValidationFailed
from app.spaces import services
from app.spaces.models import Closure, OpeningHours, Space
from tests.conftest import next_weekday
from tests.fake_nominatim import fake_nominatim_for

# The messages asserted here are the English ones.
pytestmark = pytest.mark.usefixtures("english")

ADDRESS = "서울특별시 강북구 도봉로 89길 13"


@pytest.fixture
def geocoder(app):
    with fake_nominatim_for(app) as fake:
        fake.places[ADDRESS] = (37.6397, 127.0256)
        yield fake


@pytest.fixture
def org(factories):
    return factories.org()


@pytest.fixture
def manager(factories, org):
    return factories.manager(org)


def make(manager, org, **fields):
    values = {"name": "다목적실", "type": "meeting_room", "capacity": 20}
    values.update(fields)
    return services.create_space(manager, org, **values)


def errors_of(call) -> dict:
    with pytest.raises(ValidationFailed) as info:
        call()
    return info.value.errors


# --- create / update -------------------------------------------------------------------------
def test_create_space_with_defaults(manager, org, db):
    space = make(manager, org, amenities=["wifi", "projector", "wifi"], jurisdiction_ids=[])
    assert space.id and space.owner is org
    assert space.amenities == ["projector", "wifi"]
    assert space.timezone == "Asia/Seoul"
    assert space.booking_mode == "request"
    assert space.published is False
    assert space.price_per_hour == 0
    assert space.geocode_outcome is None


def test_create_space_with_everything(manager, org, factories, db):
    seoul = factories.jurisdiction(name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(name="강북구", parent=seoul)
    space = make(
        manager,
        org,
        name="  옥상 정원 ",
        type="rooftop",
        description="햇빛이 좋은 옥상",
        capacity="40",
        address="서울 강북구",
        latitude=37.63,
        longitude=127.02,
        timezone="Asia/Seoul",
        price_per_hour=15000,
        min_minutes=30,
        max_minutes=180,
        buffer_minutes=15,
        booking_mode="instant",
        published=True,
        jurisdiction_ids=[gangbuk.id, seoul.id],
    )
    db.session.expire_all()
    space = db.session.get(Space, space.id)
    assert space.name == "옥상 정원"
    assert space.capacity == 40
    assert (space.latitude, space.longitude) == (37.63, 127.02)
    assert [j.id for j in space.jurisdictions] == [seoul.id, gangbuk.id]
    assert space.booking_mode == "instant" and space.published


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Please enter a name."),
        ({"name": "   "}, "name", "Please enter a name."),
        ({"name": "x" * 161}, "name", "The name may be at most 160 characters."),
        ({"type": "castle"}, "type", "Choose a type of space from the list."),
        (
            {"description": "x" * 5001},
            "description",
            "The description may be at most 5000 characters.",
        ),
        ({"address": "x" * 301}, "address", "The address may be at most 300 characters."),
        ({"capacity": 0}, "capacity", "The capacity must be a whole number from 1 to 100,000."),
        (
            {"capacity": 100001},
            "capacity",
            "The capacity must be a whole number from 1 to 100,000.",
        ),
        (
            {"capacity": "many"},
            "capacity",
            "The capacity must be a whole number from 1 to 100,000.",
        ),
        ({"capacity": 2.5}, "capacity", "The capacity must be a whole number from 1 to 100,000."),
        ({"capacity": True}, "capacity", "The capacity must be a whole number from 1 to 100,000."),
        (
            {"price_per_hour": -1},
            "price_per_hour",
            "The price per hour must be a whole number of won from 0 to 10,000,000.",
        ),
        (
            {"price_per_hour": 1000.5},
            "price_per_hour",
            "The price per hour must be a whole number of won from 0 to 10,000,000.",
        ),
        (
            {"min_minutes": 10},
            "min_minutes",
            "The shortest booking must be from 15 to 10080 minutes.",
        ),
        (
            {"max_minutes": 10},
            "max_minutes",
            "The longest booking must be from 15 to 10080 minutes.",
        ),
        (
            {"min_minutes": 120, "max_minutes": 60},
            "max_minutes",
            "The longest booking cannot be shorter than the shortest (120 minutes).",
        ),
        (
            {"buffer_minutes": -5},
            "buffer_minutes",
            "The buffer between bookings must be from 0 to 240 minutes.",
        ),
        (
            {"buffer_minutes": 241},
            "buffer_minutes",
            "The buffer between bookings must be from 0 to 240 minutes.",
        ),
        (
            {"timezone": "Mars/Olympus"},
            "timezone",
            "Unknown time zone. Use a name such as Asia/Seoul.",
        ),
        (
            {"timezone": "../../etc/passwd"},
            "timezone",
            "Unknown time zone. Use a name such as Asia/Seoul.",
        ),
        ({"timezone": ""}, "timezone", "Unknown time zone. Use a name such as Asia/Seoul."),
        (
            {"latitude": 91, "longitude": 127},
            "latitude",
            "The latitude must be between -90 and 90.",
        ),
        (
            {"latitude": "north", "longitude": 127},
            "latitude",
            "The latitude must be between -90 and 90.",
        ),
        (
            {"latitude": 37, "longitude": -181},
            "longitude",
            "The longitude must be between -180 and 180.",
        ),
        (
            {"latitude": 37, "longitude": float("nan")},
            "longitude",
            "The longitude must be between -180 and 180.",
        ),
        ({"latitude": 37.5}, "longitude", "Enter both the latitude and the longitude, or neither."),
        (
            {"longitude": 127.0},
            "latitude",
            "Enter both the latitude and the longitude, or neither.",
        ),
        ({"booking_mode": "lottery"}, "booking_mode", "Choose how the space is booked."),
        ({"published": "yes"}, "published", "Published must be yes or no."),
        ({"amenities": ["wifi", "jacuzzi"]}, "amenities", "Unknown amenity: jacuzzi."),
        ({"amenities": "wifi"}, "amenities", "Give the amenities as a list."),
        ({"jurisdiction_ids": [999999]}, "jurisdiction_ids", "Unknown jurisdiction."),
        ({"jurisdiction_ids": ["abc"]}, "jurisdiction_ids", "Unknown jurisdiction."),
        ({"colour": "red"}, "colour", "Unknown field."),
    ],
)
def test_create_space_rejects_bad_fields(manager, org, db, fields, field, message):
    errors = errors_of(lambda: make(manager, org, **fields))
    assert errors[field] == [message]
    assert db.session.scalars(select(Space)).all() == []


def test_create_space_requires_name_type_and_capacity(manager, org, db):
    errors = errors_of(lambda: services.create_space(manager, org))
    assert errors == {
        "name": ["Please enter a name."],
        "type": ["Choose a type of space from the list."],
        "capacity": ["The capacity must be a whole number from 1 to 100,000."],
    }


def test_only_managers_of_the_owner_create_spaces(factories, org, db):
    other = factories.manager(factories.org())
    resident = factories.user()
    for actor in (other, resident):
        with pytest.raises(NotAllowed):
            make(actor, org)
    admin = factories.user(is_admin=True)
    assert make(admin, org).owner is org


def test_update_space_changes_only_given_fields(manager, org, db):
    space = make(manager, org, price_per_hour=5000, amenities=["wifi"])
    services.update_space(space, manager, capacity=30, amenities=["piano", "showers"])
    db.session.expire_all()
    space = db.session.get(Space, space.id)
    assert space.capacity == 30
    assert space.price_per_hour == 5000
    assert space.amenities == ["piano", "showers"]


def test_update_space_checks_lengths_against_stored_values(manager, org, db):
    space = make(manager, org, min_minutes=60, max_minutes=120)
    errors = errors_of(lambda: services.update_space(space, manager, max_minutes=30))
    assert errors == {
        "max_minutes": ["The longest booking cannot be shorter than the shortest (60 minutes)."]
    }
    db.session.expire_all()
    assert db.session.get(Space, space.id).max_minutes == 120


def test_update_space_clears_coordinates_together(manager, org, db):
    space = make(manager, org, latitude=37.6, longitude=127.0)
    errors = errors_of(lambda: services.update_space(space, manager, latitude=None))
    assert errors == {"latitude": ["Enter both the latitude and the longitude, or neither."]}
    services.update_space(space, manager, latitude=None, longitude="")
    assert (space.latitude, space.longitude) == (None, None)


def test_only_managers_of_the_owner_update(factories, manager, org, db):
    space = make(manager, org)
    with pytest.raises(NotAllowed):
        services.update_space(space, factories.manager(factories.org()), name="남의 공간")
    assert space.name == "다목적실"


# --- opening hours -----------------------------------------------------------------------------
def hours_of(space):
    return [
        (h.weekday, h.open_minute, h.close_minute)
        for h in sorted(space.opening_hours, key=lambda h: (h.weekday, h.open_minute))
    ]


def test_set_opening_hours_replaces_the_week(factories, manager, org, db):
    space = factories.space(owner=org)
    services.set_opening_hours(
        space, manager, [(0, 540, 720), (0, 780, 1080), (5, 600, 1440), (0, 720, 780)]
    )
    db.session.expire_all()
    space = db.session.get(Space, space.id)
    assert hours_of(space) == [(0, 540, 720), (0, 720, 780), (0, 780, 1080), (5, 600, 1440)]
    services.set_opening_hours(space, manager, [])
    assert db.session.scalars(select(OpeningHours)).all() == []


@pytest.mark.parametrize(
    ("ranges", "key", "message"),
    [
        (
            [(0, 600, 540)],
            "weekday_0",
            "Mon: the opening time 10:00 must be before the closing time 09:00.",
        ),
        (
            [(2, 600, 600)],
            "weekday_2",
            "Wed: the opening time 10:00 must be before the closing time 10:00.",
        ),
        ([(1, -10, 600)], "weekday_1", "Tue: times must be between 00:00 and 24:00."),
        ([(6, 600, 1441)], "weekday_6", "Sun: times must be between 00:00 and 24:00."),
        ([(3, "nine", 600)], "weekday_3", "Thu: times must be between 00:00 and 24:00."),
        (
            [(4, 540, 720), (4, 700, 900)],
            "weekday_4",
            "Fri: the ranges 09:00–12:00 and 11:40–15:00 overlap.",
        ),
        (
            [(5, 540, 1440), (5, 540, 600)],
            "weekday_5",
            "Sat: the ranges 09:00–10:00 and 09:00–24:00 overlap.",
        ),
        ([(7, 540, 600)], "hours", "Weekdays are numbered from 0 (Monday) to 6 (Sunday)."),
        (
            [(0, 540)],
            "hours",
            "Give each opening range as a weekday, an opening and a closing time.",
        ),
    ],
)
def test_set_opening_hours_rejects_bad_ranges(factories, manager, org, db, ranges, key, message):
    space = factories.space(owner=org, hours={0: [(540, 1080)]})
    errors = errors_of(lambda: services.set_opening_hours(space, manager, ranges))
    assert errors[key] == [message]
    db.session.expire_all()
    assert hours_of(db.session.get(Space, space.id)) == [(0, 540, 1080)]


def test_set_opening_hours_needs_a_manager(factories, org, db):
    space = factories.space(owner=org)
    with pytest.raises(NotAllowed):
        services.set_opening_hours(space, factories.user(), [])


# --- closures ----------------------------------------------------------------------------------
def test_add_closure_returns_active_bookings_and_cancels_nothing(factories, manager, org, db):
    space = factories.space(owner=org)
    start = next_weekday(2, 10)
    requested = factories.booking(space, start=start, end=start + timedelta(hours=2))
    confirmed = factories.booking(
        space, start=start + timedelta(hours=3), end=start + timedelta(hours=4), status="confirmed"
    )
    factories.booking(
        space, start=start + timedelta(hours=5), end=start + timedelta(hours=6), status="cancelled"
    )
    factories.booking(
        space, start=start + timedelta(days=1), end=start + timedelta(days=1, hours=1)
    )

    closure = services.add_closure(
        space, manager, start - timedelta(hours=1), start + timedelta(hours=7), "정기 점검"
    )
    affected = conflicts.active_bookings_between(space, closure.start_at, closure.end_at)
    assert [b.id for b in affected] == [requested.id, confirmed.id]
    assert all(b.status in ("requested", "confirmed") for b in affected)
    closure = db.session.scalars(select(Closure)).one()
    assert closure.reason == "정기 점검" and closure.created_by_id == manager.id
    assert conflicts.closure_conflicts([closure]) == {closure.id: affected}


def test_add_closure_validation(factories, manager, org, db, now):
    space = factories.space(owner=org)
    later = now + timedelta(days=1)
    cases = [
        ((later, later), {"end": ["The end must be after the start."]}),
        ((later, later - timedelta(hours=1)), {"end": ["The end must be after the start."]}),
        (
            (now - timedelta(days=2), now - timedelta(days=1)),
            {"end": ["The closure must end in the future."]},
        ),
        ((later.replace(tzinfo=None), later), {"start": ["Enter the start date and time."]}),
        ((later, None), {"end": ["Enter the end date and time."]}),
    ]
    for (start, end), expected in cases:
        assert errors_of(lambda s=start, e=end: services.add_closure(space, manager, s, e)) == (
            expected
        )
    ten_years = timedelta(days=3661)
    for start, end in ((later, now + ten_years), (now - ten_years, later)):
        errors = errors_of(lambda s=start, e=end: services.add_closure(space, manager, s, e))
        assert errors == {"end": ["A closure must lie within ten years of today."]}
    errors = errors_of(
        lambda: services.add_closure(space, manager, later, later + timedelta(hours=1), "x" * 201)
    )
    assert errors == {"reason": ["The reason may be at most 200 characters."]}
    assert db.session.scalars(select(Closure)).all() == []


def test_closures_need_a_manager(factories, manager, org, db, now):
    space = factories.space(owner=org)
    stranger = factories.manager(factories.org())
    with pytest.raises(NotAllowed):
        services.add_closure(space, stranger, now + timedelta(hours=1), now + timedelta(hours=2))
    closure = factories.closure(space, now + timedelta(hours=1), now + timedelta(hours=2))
    with pytest.raises(NotAllowed):
        services.delete_closure(closure, stranger)
    services.delete_closure(closure, manager)
    assert db.session.scalars(select(Closure)).all() == []
    assert db.session.scalars(select(Booking)).all() == []


# --- geocoding ---------------------------------------------------------------------------------
def test_geocode_address_through_nominatim(geocoder, app):
    assert services.geocode_address(ADDRESS) == pytest.approx((37.6397, 127.0256))
    request = geocoder.requests[-1]
    assert request["path"] == "/search"
    assert request["query"]["q"] == ADDRESS
    assert request["query"]["format"] == "json"
    assert request["user_agent"] == "gonggan-tests"


def test_geocode_address_not_found(geocoder):
    assert services.geocode_address("어디에도 없는 주소") is None
    assert services.geocode_address("   ") is None


@pytest.mark.parametrize("mode", ["error", "slow", "garbage"])
def test_geocode_address_failures_give_none(geocoder, mode):
    geocoder.mode = mode
    geocoder.delay = 2.0
    assert services.geocode_address(ADDRESS) is None


def test_geocode_address_server_gone(app, geocoder):
    port = geocoder.port
    geocoder.stop()
    app.config["GEOCODER_DOMAIN"] = f"127.0.0.1:{port}"
    assert services.geocode_address(ADDRESS) is None


def test_geocoder_off_asks_nothing(app, geocoder):
    app.config["GEOCODER"] = "none"
    assert services.geocode_address(ADDRESS) is None
    assert geocoder.requests == []


def test_create_space_geocodes_a_new_address(geocoder, manager, org, db):
    space = make(manager, org, address=ADDRESS)
    assert (space.latitude, space.longitude) == pytest.approx((37.6397, 127.0256))
    assert space.geocode_outcome == "found"


def test_create_space_keeps_given_coordinates(geocoder, manager, org, db):
    space = make(manager, org, address=ADDRESS, latitude=37.5, longitude=127.1)
    assert (space.latitude, space.longitude) == (37.5, 127.1)
    assert space.geocode_outcome is None
    assert geocoder.requests == []


def test_create_space_saves_even_when_geocoding_fails(geocoder, manager, org, db):
    geocoder.mode = "error"
    space = make(manager, org, address=ADDRESS)
    assert space.id and (space.latitude, space.longitude) == (None, None)
    assert space.geocode_outcome == "not_found"


def test_update_space_regeocodes_a_changed_address(geocoder, manager, org, db):
    geocoder.places["서울 강북구 삼양로 1"] = (37.62, 127.01)
    space = make(manager, org, address=ADDRESS)
    # The form sends the old coordinates back unchanged with the new address.
    services.update_space(
        space, manager, address="서울 강북구 삼양로 1", latitude=37.6397, longitude=127.0256
    )
    assert (space.latitude, space.longitude) == pytest.approx((37.62, 127.01))
    assert space.geocode_outcome == "found"
    calls = len(geocoder.requests)
    services.update_space(space, manager, name="새 이름")
    assert len(geocoder.requests) == calls and space.geocode_outcome is None


def test_update_space_keeps_coordinates_when_lookup_fails(geocoder, manager, org, db):
    space = make(manager, org, address=ADDRESS)
    geocoder.mode = "slow"
    services.update_space(space, manager, address="서울 어딘가")
    assert space.geocode_outcome == "not_found"
    assert (space.latitude, space.longitude) == pytest.approx((37.6397, 127.0256))
