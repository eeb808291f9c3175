"""The owner's API for spaces: creating and changing spaces, weekly hours and closures, with the
same checks and messages as the manager's pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.spaces.fields import SPACE_FIELDS
from app.spaces.models import Closure, Space
from tests.api.helpers import assert_error, seoul_iso
from tests.api.test_nasty_input import RAW_BODIES
from tests.conftest import next_weekday

NEW = {
    "name": "번동초 음악실",
    "type": "classroom",
    "capacity": 30,
    "address": "서울 강북구 번동 2",
    "latitude": 37.64,
    "longitude": 127.03,
    "timezone": "Asia/Seoul",
    "price_per_hour": 15000,
    "booking_mode": "instant",
    "buffer_minutes": 15,
    "min_minutes": 30,
    "max_minutes": 180,
    "amenities": ["piano", "wifi"],
    "accessibility": ["lift", "step_free_entrance"],
    "published": True,
}


def _count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Space.id)))


def _message(name: str) -> str:
    return str(SPACE_FIELDS[name].message)


# --- Creating a space -------------------------------------------------------------------------


def test_a_manager_creates_a_space_of_their_organisation(api, db, org, manager):
    response = api.post(
        "/api/v1/spaces", {"organisation_id": org.id, **NEW}, user=manager,
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/spaces/{body['id']}")
    assert body["owner"] == {"id": org.id, "name": org.name}
    assert body["price_per_hour"] == {"amount": 15000, "currency": "KRW"}
    assert (body["buffer_minutes"], body["min_minutes"], body["max_minutes"]) == (15, 30, 180)
    assert body["amenities"] == ["piano", "wifi"]
    assert body["accessibility"] == ["step_free_entrance", "lift"]
    assert (body["cover_photo"], body["photos"], body["opening_hours"]) == (None, [], [])
    assert body["published"] is True and body["booking_mode"] == "instant"
    space = db.session.get(Space, body["id"])
    assert space.owner_id == org.id and space.name == "번동초 음악실"
    # Published, so anyone finds it.
    assert api.get(f"/api/v1/spaces/{space.id}").get_json()["accessibility"] == [
        "step_free_entrance", "lift",
    ]


def test_defaults_fill_the_fields_left_out(api, org, manager):
    body = api.post(
        "/api/v1/spaces",
        {"organisation_id": org.id, "name": "강당", "type": "auditorium", "capacity": 200},
        user=manager,
    ).get_json()
    assert body["published"] is False and body["booking_mode"] == "request"
    assert body["price_per_hour"]["amount"] == 0 and body["timezone"] == "Asia/Seoul"
    assert (body["latitude"], body["longitude"]) == (None, None)


def test_only_managers_of_the_organisation_create_its_spaces(api, db, factories, org, resident):
    other_manager = factories.manager(factories.org(name="다른 기관"))
    before = _count(db)
    for user in (resident, other_manager):
        response = api.post("/api/v1/spaces", {"organisation_id": org.id, **NEW}, user=user)
        assert_error(response, 403, "forbidden")
    assert_error(api.post("/api/v1/spaces", {"organisation_id": org.id, **NEW}), 401,
                 "unauthorized")
    assert _count(db) == before


def test_a_refusal_of_the_creation_service_is_a_403(api, db, org, manager, monkeypatch):
    """The service decides which organisations may offer spaces; its refusal is the API's 403
    in the usual envelope, and nothing is created."""
    from app.errors import NotAllowed
    from app.spaces import services

    def refuse(actor, owner, **fields):
        raise NotAllowed("This organisation may not offer spaces yet.")

    monkeypatch.setattr(services, "create_space", refuse)
    before = _count(db)
    response = api.post("/api/v1/spaces", {"organisation_id": org.id, **NEW}, user=manager)
    error = assert_error(response, 403, "forbidden")
    assert error["message"] == "This organisation may not offer spaces yet."
    assert _count(db) == before


def test_messages_are_korean_by_default(api, org, manager):
    response = api.post("/api/v1/spaces", {"organisation_id": org.id, "capacity": "많이"},
                        user=manager)
    assert response.headers["Content-Language"] == "ko"
    details = assert_error(response, 422, "invalid")["details"]
    assert details["capacity"] == ["정수를 입력해 주세요."]


def test_an_unknown_organisation_is_a_field_error(api, manager):
    for org_id in (999_999, 0, -1, 2**31 - 1):
        response = api.post("/api/v1/spaces", {"organisation_id": org_id, **NEW}, user=manager)
        error = assert_error(response, 422, "invalid")
        assert list(error["details"]) == ["organisation_id"]


def test_missing_and_invalid_fields_are_reported_together_in_the_services_words(
    api, db, org, manager
):
    before = _count(db)
    response = api.post(
        "/api/v1/spaces",
        {
            "organisation_id": org.id,
            "type": "castle",
            "capacity": 0,
            "price_per_hour": 500,
            "min_minutes": 120,
            "max_minutes": 60,
            "latitude": 37.5,
            "timezone": "Mars/Olympus",
            "amenities": ["moat"],
            "accessibility": ["wifi"],
            "buffer_minutes": 10_000,
        },
        user=manager,
        headers={"Accept-Language": "en"},
    )
    details = assert_error(response, 422, "invalid")["details"]
    assert details["name"] == ["Please enter a name."]
    assert details["type"] == [_message("type")]
    assert details["capacity"] == [_message("capacity")]
    assert details["timezone"] == [_message("timezone")]
    assert details["buffer_minutes"] == [_message("buffer_minutes")]
    assert "at least" in details["price_per_hour"][0]
    assert details["max_minutes"] and details["longitude"]
    assert details["amenities"] == ["Unknown amenity: moat."]
    assert details["accessibility"] == ["Unknown accessibility feature: wifi."]
    assert _count(db) == before


def test_unknown_fields_are_refused(api, org, manager):
    response = api.post(
        "/api/v1/spaces", {"organisation_id": org.id, **NEW, "publshed": True}, user=manager,
        headers={"Accept-Language": "en"},
    )
    assert assert_error(response, 422, "invalid")["details"] == {"publshed": ["Unknown field."]}


BAD_VALUES = [
    {"capacity": "thirty"},
    {"capacity": 10**40},
    {"capacity": 30.5},
    {"capacity": True},
    {"capacity": None},
    {"name": "강\x00당"},
    {"name": "\ud800"},
    {"name": ["강당"]},
    {"name": "x" * 5000},
    {"type": 3},
    {"latitude": "north", "longitude": 127},
    {"latitude": 10**400, "longitude": 127},
    {"latitude": 1e308, "longitude": -1e308},
    {"timezone": "../../etc/passwd"},
    {"timezone": "Asia/Seoul\x00"},
    {"price_per_hour": -1},
    {"price_per_hour": 2**31},
    {"published": "yes"},
    {"published": 1},
    {"amenities": "wifi"},
    {"amenities": [["wifi"]]},
    {"amenities": [{"a": 1}]},
    {"accessibility": {"lift": True}},
    {"jurisdiction_ids": [10**30]},
    {"jurisdiction_ids": ["x"]},
    {"jurisdiction_ids": "1"},
    {"jurisdiction_ids": [[1]]},
    {"jurisdiction_ids": [999_999]},
    {"booking_mode": "whenever"},
    {"challenge_mode": None},
    {"organisation_id": "1"},
    {"organisation_id": 10**20},
]


@pytest.mark.parametrize("bad", BAD_VALUES, ids=[str(list(b))[:40] for b in BAD_VALUES])
def test_bad_values_answer_422_and_create_nothing(api, db, org, manager, bad):
    before = _count(db)
    body = {"organisation_id": org.id, **NEW, **bad}
    response = api.post("/api/v1/spaces", body, user=manager)
    assert_error(response, 422, "invalid")
    assert _count(db) == before


@pytest.mark.parametrize(
    ("raw", "status"),
    [(b"[1, 2]", 422), (b"{", 400), (b'"space"', 422), (b"null", 422), (b"1e999999", 422)],
)
def test_bodies_that_are_no_object_are_refused(api, manager, raw, status):
    response = api.client.post(
        "/api/v1/spaces", data=raw, content_type="application/json",
        headers=api.headers(manager),
    )
    assert response.status_code == status
    assert response.get_json()["error"]["code"] in ("invalid", "bad_request")


# --- Changing a space ---------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(api, db, space, manager):
    before = (space.name, space.capacity, space.price_per_hour)
    response = api.send(
        "PATCH", f"/api/v1/spaces/{space.id}",
        {"capacity": 45, "accessibility": ["hearing_loop"], "published": False}, user=manager,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["capacity"] == 45 and body["published"] is False
    assert body["accessibility"] == ["hearing_loop"]
    assert (body["name"], body["price_per_hour"]["amount"]) == (before[0], before[2])
    db.session.expire_all()
    assert db.session.get(Space, space.id).capacity == 45


def test_patch_checks_values_against_the_stored_ones(api, db, space, manager):
    """The shortest booking is checked against the stored longest one (240 minutes)."""
    response = api.send("PATCH", f"/api/v1/spaces/{space.id}", {"min_minutes": 300},
                        user=manager)
    assert "max_minutes" in assert_error(response, 422, "invalid")["details"]
    db.session.expire_all()
    assert db.session.get(Space, space.id).min_minutes == 60


@pytest.mark.parametrize("bad", BAD_VALUES[:-2], ids=[str(list(b))[:40] for b in BAD_VALUES[:-2]])
def test_patch_refuses_bad_values_and_changes_nothing(api, db, space, manager, bad):
    name = space.name
    response = api.send("PATCH", f"/api/v1/spaces/{space.id}", bad, user=manager)
    assert_error(response, 422, "invalid")
    db.session.expire_all()
    assert db.session.get(Space, space.id).name == name


def test_patch_cannot_move_a_space_to_another_organisation(api, factories, space, manager):
    other = factories.org(name="다른 기관")
    response = api.send("PATCH", f"/api/v1/spaces/{space.id}", {"organisation_id": other.id},
                        user=manager)
    assert "organisation_id" in assert_error(response, 422, "invalid")["details"]


def test_who_may_change_a_space(api, factories, org, resident):
    district = factories.jurisdiction(name="강북구")
    space = factories.space(owner=org, jurisdictions=[district])
    officer = factories.officer(district)
    other_manager = factories.manager(factories.org(name="다른 기관"))
    path = f"/api/v1/spaces/{space.id}"
    assert_error(api.send("PATCH", path, {"capacity": 5}, user=officer), 403, "forbidden")
    assert_error(api.send("PATCH", path, {"capacity": 5}, user=other_manager), 404, "not_found")
    assert_error(api.send("PATCH", path, {"capacity": 5}, user=resident), 404, "not_found")
    assert_error(api.send("PATCH", path, {"capacity": 5}), 401, "unauthorized")
    assert_error(api.send("PATCH", "/api/v1/spaces/999999", {}, user=officer), 404,
                 "not_found")


# --- Weekly hours -------------------------------------------------------------------------


def _hours(db, space) -> list[tuple[int, int, int]]:
    db.session.expire_all()
    return [(h.weekday, h.open_minute, h.close_minute)
            for h in db.session.get(Space, space.id).opening_hours]


def test_put_hours_replaces_the_week(api, db, space, manager):
    response = api.send(
        "PUT", f"/api/v1/spaces/{space.id}/hours",
        {"hours": [
            {"weekday": 0, "open": "13:00", "close": "18:00"},
            {"weekday": 0, "open": "09:00", "close": "12:00"},
            {"weekday": 6, "open": "10:00", "close": "24:00"},
        ]},
        user=manager,
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["opening_hours"] == [
        {"weekday": 0, "open": "09:00", "close": "12:00"},
        {"weekday": 0, "open": "13:00", "close": "18:00"},
        {"weekday": 6, "open": "10:00", "close": "24:00"},
    ]
    assert _hours(db, space) == [(0, 540, 720), (0, 780, 1080), (6, 600, 1440)]
    # An empty list closes every day.
    assert api.send("PUT", f"/api/v1/spaces/{space.id}/hours", {"hours": []},
                    user=manager).get_json()["opening_hours"] == []


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        ([{"weekday": 1, "open": "09:00", "close": "12:00"},
          {"weekday": 1, "open": "11:00", "close": "13:00"}], "weekday_1"),
        ([{"weekday": 2, "open": "18:00", "close": "09:00"}], "weekday_2"),
        ([{"weekday": 2, "open": "09:00", "close": "09:00"}], "weekday_2"),
        ([{"weekday": 7, "open": "09:00", "close": "12:00"}], "hours"),
        ([{"weekday": -1, "open": "09:00", "close": "12:00"}], "hours"),
        ([{"weekday": 10**30, "open": "09:00", "close": "12:00"}], "hours"),
        ([{"weekday": "mon", "open": "09:00", "close": "12:00"}], "hours.0.weekday"),
        ([{"weekday": True, "open": "09:00", "close": "12:00"}], "hours.0.weekday"),
        ([{"weekday": 0, "open": "25:00", "close": "26:00"}], "hours.0.open"),
        ([{"weekday": 0, "open": "9am", "close": "12:00"}], "hours.0.open"),
        ([{"weekday": 0, "open": 540, "close": "12:00"}], "hours.0.open"),
        ([{"weekday": 0, "open": "09:00", "close": "24:30"}], "hours.0.close"),
        ([{"weekday": 0, "open": "09:00"}], "hours.0.close"),
        ([{"weekday": 0, "open": "09:60", "close": "12:00"}], "hours.0.open"),
        ([{"weekday": 0, "open": "\x00", "close": "12:00"}], "hours.0.open"),
        (["09:00-12:00"], "hours.0"),
        ([None], "hours.0"),
        ({"0": "09:00"}, "hours"),
        ("09:00-18:00", "hours"),
        ([{"weekday": 0, "open": "09:00", "close": "10:00"}] * 100, "hours"),
        (None, "hours"),
    ],
)
def test_bad_hours_answer_422_and_change_nothing(api, db, space, manager, hours, field):
    before = _hours(db, space)
    response = api.send("PUT", f"/api/v1/spaces/{space.id}/hours", {"hours": hours},
                        user=manager, headers={"Accept-Language": "en"})
    details = assert_error(response, 422, "invalid")["details"]
    assert field in details, details
    assert _hours(db, space) == before


def test_hours_are_for_the_spaces_managers(api, factories, space, resident):
    other_manager = factories.manager(factories.org())
    path = f"/api/v1/spaces/{space.id}/hours"
    assert_error(api.send("PUT", path, {"hours": []}, user=other_manager), 404, "not_found")
    assert_error(api.send("PUT", path, {"hours": []}, user=resident), 404, "not_found")


# --- Closures -----------------------------------------------------------------------------


def test_a_closure_lists_the_bookings_it_affects_without_cancelling_them(
    api, db, factories, space, manager, resident
):
    start = next_weekday(2, 10)
    booking = factories.booking(space, resident, start=start, end=start + timedelta(hours=2))
    response = api.post(
        f"/api/v1/spaces/{space.id}/closures",
        {"start": (start - timedelta(hours=1)).isoformat(),
         "end": (start + timedelta(days=1)).isoformat(), "reason": "방역"},
        user=manager,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["affected_booking_ids"] == [booking.id]
    assert body["reason"] == "방역"
    assert body["start"] == seoul_iso(start - timedelta(hours=1))
    db.session.expire_all()
    assert db.session.get(Closure, body["id"]).space_id == space.id
    assert booking.status == "requested" or booking.status  # not cancelled by the closure
    from app.bookings.models import Booking

    assert db.session.get(Booking, booking.id).status == booking.status


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "2030-01-02T10:00:00+09:00", "end": "2030-01-01T10:00:00+09:00"}, "end"),
        ({"start": "2030-01-01T10:00:00", "end": "2030-01-02T10:00:00+09:00"}, "start"),
        ({"start": "2030-01-01", "end": "2030-01-02T10:00:00+09:00"}, "start"),
        ({"start": "2020-01-01T10:00:00+09:00", "end": "2020-01-02T10:00:00+09:00"}, "end"),
        ({"start": "2030-01-01T10:00:00+09:00", "end": "2999-01-02T10:00:00+09:00"}, "end"),
        ({"start": "2030-01-01T10:00:00+09:00", "end": "9999-01-02T10:00:00+09:00"}, "end"),
        ({"start": 1, "end": "2030-01-02T10:00:00+09:00"}, "start"),
        ({"end": "2030-01-02T10:00:00+09:00"}, "start"),
        ({"start": "2030-01-01T10:00:00+09:00", "end": "2030-01-02T10:00:00+09:00",
          "reason": "x" * 201}, "reason"),
        ({"start": "2030-01-01T10:00:00+09:00", "end": "2030-01-02T10:00:00+09:00",
          "reason": 5}, "reason"),
    ],
)
def test_bad_closures_answer_422(api, db, space, manager, body, field):
    response = api.post(f"/api/v1/spaces/{space.id}/closures", body, user=manager)
    assert field in assert_error(response, 422, "invalid")["details"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Closure.id))) == 0


def test_deleting_a_closure(api, db, factories, space, manager):
    start = next_weekday(3, 9)
    closure = factories.closure(space, start, start + timedelta(hours=5))
    other = factories.closure(factories.space(owner=space.owner), start,
                              start + timedelta(hours=5))
    other_space_path = f"/api/v1/spaces/{space.id}/closures/{other.id}"
    assert_error(api.send("DELETE", other_space_path, user=manager), 404, "not_found")
    response = api.send("DELETE", f"/api/v1/spaces/{space.id}/closures/{closure.id}",
                        user=manager)
    assert response.status_code == 204 and response.data == b""
    db.session.expire_all()
    assert db.session.get(Closure, closure.id) is None
    assert db.session.get(Closure, other.id) is not None
    again = api.send("DELETE", f"/api/v1/spaces/{space.id}/closures/{closure.id}", user=manager)
    assert_error(again, 404, "not_found")


def test_closures_are_for_the_spaces_managers(api, factories, space, resident):
    start = next_weekday(3, 9)
    closure = factories.closure(space, start, start + timedelta(hours=5))
    other_manager = factories.manager(factories.org())
    body = {"start": "2030-01-01T10:00:00+09:00", "end": "2030-01-02T10:00:00+09:00"}
    for user in (resident, other_manager):
        assert_error(api.post(f"/api/v1/spaces/{space.id}/closures", body, user=user), 404,
                     "not_found")
        assert_error(api.send("DELETE", f"/api/v1/spaces/{space.id}/closures/{closure.id}",
                              user=user), 404, "not_found")


# --- Whatever is sent -----------------------------------------------------------------------

ENDPOINTS = [
    ("POST", "/api/v1/spaces"),
    ("PATCH", "/api/v1/spaces/{id}"),
    ("PUT", "/api/v1/spaces/{id}/hours"),
    ("POST", "/api/v1/spaces/{id}/closures"),
    ("PUT", "/api/v1/spaces/{id}/photos/order"),
]


@pytest.mark.parametrize(("method", "template"), ENDPOINTS)
@pytest.mark.parametrize(("raw", "status"), RAW_BODIES, ids=lambda v: repr(v)[:30])
def test_raw_bodies_never_500(api, db, space, manager, method, template, raw, status):
    if method == "PATCH" and not raw.strip():
        status = 200  # an empty body changes nothing
    headers = {**api.headers(manager), "Content-Type": "application/json"}
    db.session.commit()
    response = api.client.open(template.format(id=space.id), method=method, data=raw,
                               headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if status != 200:
        assert response.get_json()["error"]["message"]
