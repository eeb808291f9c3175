"""Booking through the API: create, list, read, approve, reject, cancel, and who may do what."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

import pytest
from sqlalchemy import select

from app.bookings.models import Booking
from tests.api.helpers import assert_error, seoul_iso
from tests.conftest import next_weekday

EN = {"Accept-Language": "en"}


def request_body(space, at, hours: float = 2, **changes) -> dict:
    body = {
        "space_id": space.id,
        "start": seoul_iso(at),
        "end": seoul_iso(at + timedelta(hours=hours)),
        "purpose": "주민 독서모임",
        "attendees": 8,
    }
    body.update(changes)
    return body


def active_bookings(db, space) -> list[Booking]:
    db.session.commit()  # see what the requests committed
    return db.session.scalars(
        select(Booking).where(
            Booking.space_id == space.id,
            Booking.status.in_(("requested", "approved", "confirmed")),
        )
    ).all()


# --- Create -----------------------------------------------------------------------------------


def test_create_answers_201_with_location_and_the_booking(api, space, resident):
    start = next_weekday(1, 19)
    response = api.post("/api/v1/bookings", request_body(space, start), user=resident)

    assert response.status_code == 201, response.get_json()
    booking = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/bookings/{booking['id']}")
    assert booking["status"] == "requested"
    assert booking["space"] == {"id": space.id, "name": space.name, "timezone": "Asia/Seoul"}
    assert booking["user"] == {"id": resident.id, "name": "김주민"}
    assert booking["start"] == seoul_iso(start)
    assert booking["start"].endswith("T19:00:00+09:00")
    assert booking["end"].endswith("T21:00:00+09:00")
    assert booking["purpose"] == "주민 독서모임"
    assert booking["attendees"] == 8
    assert booking["price"] == {"amount": 24000, "currency": "KRW"}
    assert booking["decided_at"] is None and booking["reason"] is None
    assert booking["history"] == [
        {
            "from": None,
            "to": "requested",
            "at": booking["created_at"],
            "actor": {"id": resident.id, "name": "김주민"},
            "reason": None,
        }
    ]
    # The Location is where the same booking can be read again.
    again = api.get(response.headers["Location"], user=resident)
    assert again.status_code == 200
    assert again.get_json() == booking


def test_instant_space_confirms_at_once(api, factories, resident):
    space = factories.space(booking_mode="instant")
    response = api.post("/api/v1/bookings", request_body(space, next_weekday(2, 10)), user=resident)
    assert response.status_code == 201
    assert response.get_json()["status"] == "confirmed"


OFFSET_FORMS = {
    "Z": lambda t: t.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    "Z-millis": lambda t: t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    "+00:00": lambda t: t.astimezone(UTC).isoformat(),
    "-05:00": lambda t: t.astimezone(timezone(timedelta(hours=-5))).isoformat(),
    "+05:30": lambda t: t.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat(),
    "+09:00": seoul_iso,
}


@pytest.mark.parametrize("form", OFFSET_FORMS)
def test_times_round_trip_whatever_the_offset_sent(api, db, space, resident, form):
    start = next_weekday(3, 14)
    end = start + timedelta(hours=1, minutes=30)
    sent_start, sent_end = OFFSET_FORMS[form](start), OFFSET_FORMS[form](end)
    response = api.post(
        "/api/v1/bookings",
        request_body(space, start, start=sent_start, end=sent_end),
        user=resident,
    )
    assert response.status_code == 201, response.get_json()
    # Answered in the space's zone, the same instants.
    assert response.get_json()["start"] == seoul_iso(start)
    assert response.get_json()["end"] == seoul_iso(end)
    stored = db.session.get(Booking, response.get_json()["id"])
    assert (stored.start_at, stored.end_at) == (start, end)


def test_time_without_offset_is_refused(api, db, space, resident):
    start = next_weekday(3, 14)
    naive = start.astimezone(UTC).replace(tzinfo=None).isoformat()
    response = api.post(
        "/api/v1/bookings", request_body(space, start, start=naive), user=resident, headers=EN
    )
    error = assert_error(response, 422, "invalid")
    assert "UTC offset" in error["details"]["start"][0]
    assert not active_bookings(db, space)


def test_taken_slot_answers_409_slot_taken(api, db, factories, space, resident):
    start = next_weekday(4, 18)
    factories.booking(space, start=start, end=start + timedelta(hours=2))
    response = api.post(
        "/api/v1/bookings", request_body(space, start + timedelta(hours=1)), user=resident
    )
    assert_error(response, 409, "slot_taken")
    assert len(active_bookings(db, space)) == 1


def test_buffer_keeps_the_next_booking_away(api, factories, resident):
    space = factories.space(buffer_minutes=30)
    start = next_weekday(4, 10)
    factories.booking(space, start=start, end=start + timedelta(hours=2))
    too_close = api.post(
        "/api/v1/bookings",
        request_body(space, start + timedelta(hours=2, minutes=15), hours=1),
        user=resident,
    )
    assert_error(too_close, 409, "slot_taken")
    far_enough = api.post(
        "/api/v1/bookings",
        request_body(space, start + timedelta(hours=2, minutes=30), hours=1),
        user=resident,
    )
    assert far_enough.status_code == 201


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"attendees": 500}, "attendees"),
        ({"attendees": 0}, "attendees"),
        ({"purpose": "   "}, "purpose"),
        ({"purpose": "x" * 2001}, "purpose"),
        ({"hours": 0.5}, "end"),  # shorter than the space's minimum
        ({"hours": 5}, "end"),  # longer than its maximum
        ({"hours": -1}, "end"),  # end before start
    ],
)
def test_invalid_requests_answer_422_per_field(api, db, space, resident, changes, field):
    hours = changes.pop("hours", 2)
    body = request_body(space, next_weekday(0, 12), hours=hours, **changes)
    error = assert_error(api.post("/api/v1/bookings", body, user=resident), 422, "invalid")
    assert field in error["details"]
    assert not active_bookings(db, space)


def test_past_start_is_refused(api, space, resident, now):
    body = request_body(space, now - timedelta(days=1))
    error = assert_error(api.post("/api/v1/bookings", body, user=resident), 422, "invalid")
    assert "start" in error["details"]


def test_closed_or_outside_opening_hours_is_refused(api, factories, space, resident):
    start = next_weekday(5, 10)
    factories.closure(space, start - timedelta(hours=1), start + timedelta(hours=5), "학교 행사")
    closed = api.post("/api/v1/bookings", request_body(space, start), user=resident, headers=EN)
    error = assert_error(closed, 422, "invalid")
    assert "학교 행사" in error["message"]
    late = api.post(
        "/api/v1/bookings", request_body(space, next_weekday(6, 21)), user=resident, headers=EN
    )
    assert_error(late, 422, "invalid")


def test_unknown_or_hidden_space_is_a_field_error(api, factories, resident):
    hidden = factories.space(published=False)
    for space_id in (999999, hidden.id):
        body = request_body(hidden, next_weekday(1, 10), space_id=space_id)
        error = assert_error(api.post("/api/v1/bookings", body, user=resident), 422, "invalid")
        assert "space_id" in error["details"]


def test_unpublished_space_is_bookable_by_its_manager_only(api, factories, org, manager):
    hidden = factories.space(owner=org, published=False, jurisdictions=[factories.jurisdiction()])
    officer = factories.officer(hidden.jurisdictions[0])
    body = request_body(hidden, next_weekday(1, 10))
    assert_error(api.post("/api/v1/bookings", body, user=officer), 403, "forbidden")
    assert api.post("/api/v1/bookings", body, user=manager).status_code == 201


# --- List ---------------------------------------------------------------------------------------


def _bookings(factories, space, user, n: int, **kw) -> list[Booking]:
    first = next_weekday(0, 9)
    return [
        factories.booking(
            space,
            user,
            start=first + timedelta(days=i),
            end=first + timedelta(days=i, hours=1),
            **kw,
        )
        for i in range(n)
    ]


def test_list_shows_my_bookings_latest_start_first_paginated(api, factories, space, resident):
    mine = _bookings(factories, space, resident, 5)
    other_space = factories.space()
    _bookings(factories, other_space, factories.user(), 2)

    response = api.get("/api/v1/bookings?per_page=2&page=1", user=resident)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 2, 5)
    assert [b["id"] for b in body["items"]] == [mine[4].id, mine[3].id]
    last = api.get("/api/v1/bookings?per_page=2&page=3", user=resident).get_json()
    assert [b["id"] for b in last["items"]] == [mine[0].id]
    beyond = api.get("/api/v1/bookings?per_page=2&page=9", user=resident).get_json()
    assert beyond["items"] == [] and beyond["total"] == 5


def test_list_filters_by_status(api, factories, space, resident):
    requested = _bookings(factories, space, resident, 2)
    requested[0].status = "cancelled"
    response = api.get("/api/v1/bookings?status=requested,approved", user=resident)
    assert [b["id"] for b in response.get_json()["items"]] == [requested[1].id]
    cancelled = api.get("/api/v1/bookings?status=cancelled", user=resident).get_json()
    assert [b["id"] for b in cancelled["items"]] == [requested[0].id]


def test_per_page_is_capped(api, app, factories, space, resident):
    _bookings(factories, space, resident, 3)
    cap = app.config["API_MAX_PER_PAGE"]
    ok = api.get(f"/api/v1/bookings?per_page={cap}", user=resident)
    assert ok.status_code == 200 and ok.get_json()["per_page"] == cap
    error = assert_error(
        api.get(f"/api/v1/bookings?per_page={cap + 1}", user=resident), 422, "invalid"
    )
    assert "per_page" in error["details"]
    default = api.get("/api/v1/bookings", user=resident).get_json()
    assert default["per_page"] == app.config["SEARCH_PER_PAGE"]


@pytest.mark.parametrize(
    "query",
    ["status=maybe", "scope=everyone", "page=0", "page=abc", "per_page=-1", "per_page=1e3"],
)
def test_list_refuses_bad_arguments(api, resident, query):
    error = assert_error(api.get(f"/api/v1/bookings?{query}", user=resident), 422, "invalid")
    assert query.split("=")[0] in error["details"]


def test_managed_scope_lists_the_bookings_of_my_spaces(api, factories, space, manager, resident):
    ours = _bookings(factories, space, resident, 2)
    _bookings(factories, factories.space(), resident, 2)  # another organisation's space
    body = api.get("/api/v1/bookings?scope=managed", user=manager).get_json()
    assert sorted(b["id"] for b in body["items"]) == sorted(b.id for b in ours)
    assert body["items"][0]["user"] == {"id": resident.id, "name": "김주민"}
    # An administrator manages every space.
    admin = factories.user(is_admin=True)
    assert api.get("/api/v1/bookings?scope=managed", user=admin).get_json()["total"] == 4


def test_managed_scope_is_for_managers(api, resident):
    assert_error(api.get("/api/v1/bookings?scope=managed", user=resident), 403, "forbidden")


# --- Read -----------------------------------------------------------------------------------


def test_who_can_read_a_booking(api, factories, space, manager, resident):
    district = factories.jurisdiction()
    space.jurisdictions = [district]
    booking = _bookings(factories, space, resident, 1)[0]
    path = f"/api/v1/bookings/{booking.id}"

    assert api.get(path, user=resident).status_code == 200
    assert api.get(path, user=manager).status_code == 200
    assert api.get(path, user=factories.officer(district)).status_code == 200
    assert_error(api.get(path, user=factories.user()), 404, "not_found")
    assert_error(api.get(path, user=factories.manager()), 404, "not_found")


@pytest.mark.parametrize("ident", ["999999", "0", "99999999999999999999999"])
def test_missing_booking_is_404(api, resident, ident):
    assert_error(api.get(f"/api/v1/bookings/{ident}", user=resident), 404, "not_found")


# --- Decide -----------------------------------------------------------------------------------


@pytest.fixture
def requested(factories, space, resident):
    start = next_weekday(2, 15)
    return factories.booking(space, resident, start=start, end=start + timedelta(hours=2))


def test_manager_approves(api, requested, manager):
    response = api.post(f"/api/v1/bookings/{requested.id}/approve", user=manager)
    assert response.status_code == 200, response.get_json()
    booking = response.get_json()
    assert booking["status"] == "approved"
    assert booking["decided_at"].endswith("+09:00")
    assert [(h["from"], h["to"]) for h in booking["history"]] == [
        (None, "requested"),
        ("requested", "approved"),
    ]
    assert booking["history"][1]["actor"] == {"id": manager.id, "name": manager.name}
    # Approving twice is not a transition the state machine has.
    again = api.post(f"/api/v1/bookings/{requested.id}/approve", user=manager)
    assert_error(again, 409, "invalid_transition")


def test_approve_with_a_note(api, requested, manager):
    response = api.post(
        f"/api/v1/bookings/{requested.id}/approve", {"reason": "열쇠는 경비실"}, user=manager
    )
    assert response.get_json()["reason"] == "열쇠는 경비실"


@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_who_may_decide(api, db, factories, space, requested, resident, verb):
    district = factories.jurisdiction()
    space.jurisdictions = [district]
    path = f"/api/v1/bookings/{requested.id}/{verb}"
    body = {"reason": "안 됩니다"}
    # Those who can see the booking but not decide on it: 403.
    assert_error(api.post(path, body, user=resident), 403, "forbidden")
    assert_error(api.post(path, body, user=factories.officer(district)), 403, "forbidden")
    # Those who cannot even see it: 404, as if it did not exist.
    assert_error(api.post(path, body, user=factories.manager()), 404, "not_found")
    assert_error(api.post(path, body, user=factories.user()), 404, "not_found")
    db.session.refresh(requested)
    assert requested.status == "requested"


@pytest.mark.parametrize("body", [None, {}, {"reason": None}, {"reason": "  "}])
def test_reject_needs_a_reason(api, db, requested, manager, body):
    response = api.post(f"/api/v1/bookings/{requested.id}/reject", body, user=manager)
    error = assert_error(response, 422, "invalid")
    assert "reason" in error["details"]
    db.session.refresh(requested)
    assert requested.status == "requested"


def test_reject_records_the_reason_and_frees_the_slot(api, requested, space, manager, factories):
    response = api.post(
        f"/api/v1/bookings/{requested.id}/reject", {"reason": "시설 점검"}, user=manager
    )
    assert response.status_code == 200
    booking = response.get_json()
    assert (booking["status"], booking["reason"]) == ("rejected", "시설 점검")
    assert booking["history"][-1]["reason"] == "시설 점검"
    retry = api.post(
        "/api/v1/bookings", request_body(space, requested.start_at), user=factories.user()
    )
    assert retry.status_code == 201


def test_resident_cancels_own_booking_and_the_slot_is_free_again(
    api, requested, space, resident, factories
):
    path = f"/api/v1/bookings/{requested.id}/cancel"
    response = api.post(path, {"reason": "일정 변경"}, user=resident)
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["reason"]) == (
        "cancelled",
        "일정 변경",
    )
    assert_error(api.post(path, user=resident), 409, "invalid_transition")
    retry = api.post(
        "/api/v1/bookings", request_body(space, requested.start_at), user=factories.user()
    )
    assert retry.status_code == 201


def test_cancel_permissions(api, factories, requested, manager):
    path = f"/api/v1/bookings/{requested.id}/cancel"
    assert_error(api.post(path, user=factories.user()), 404, "not_found")
    assert_error(api.post(path, user=factories.manager()), 404, "not_found")
    # The owner cancelling a resident's booking must say why; the booking stays as it was.
    error = assert_error(api.post(path, user=manager), 422, "invalid")
    assert "reason" in error["details"]
    response = api.post(path, {"reason": "배관 공사"}, user=manager)
    assert response.get_json()["status"] == "cancelled"


@pytest.mark.parametrize("verb", ["approve", "reject", "cancel"])
def test_actions_on_missing_bookings_are_404(api, manager, verb):
    response = api.post(f"/api/v1/bookings/424242/{verb}", {"reason": "x"}, user=manager)
    assert_error(response, 404, "not_found")


def test_actions_are_post_only(api, requested, manager):
    response = api.get(f"/api/v1/bookings/{requested.id}/approve", user=manager)
    assert_error(response, 405, "method_not_allowed")
