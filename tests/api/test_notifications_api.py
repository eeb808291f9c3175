"""The notifications API: the inbox, marking read, and preferences (refused input: 422 naming
the field, nothing saved). Answers validate against the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from app.extensions import db
from app.notifications import services
from app.notifications.models import Notification, NotificationPreference
from tests.conftest import next_weekday

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def booking(factories, space, resident):
    start = next_weekday(2, 10)
    booking = factories.booking(space, resident, start=start, end=start + timedelta(hours=2))
    db.session.commit()
    return booking


def notes_of(user) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    ))


def add_copies(note: Notification, n: int) -> None:
    for i in range(n):
        db.session.add(Notification(user_id=note.user_id, kind=note.kind, channel="in_app",
                                    booking_id=note.booking_id, params=note.params,
                                    created_at=note.created_at + timedelta(minutes=i + 1)))
    db.session.commit()


def put(api, path, body, user):
    db.session.commit()
    return api.client.put(path, json=body, headers=api.headers(user))


def check_schema(api, name, response):
    document = api.get("/api/v1/openapi.json").get_json()
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    Draft202012Validator(schema).validate(response.get_json())


def test_the_list_newest_first_with_title_url_and_booking(api, booking, resident):
    [note] = notes_of(resident)
    add_copies(note, 2)
    response = api.get("/api/v1/notifications", user=resident)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 3 and body["unread"] == 3 and body["page"] == 1
    first = body["items"][0]
    assert [i["id"] for i in body["items"]] == sorted((i["id"] for i in body["items"]),
                                                      reverse=True)
    assert first["kind"] == "booking_received" and first["read"] is False
    assert first["title"].startswith("Request received: 번동초 다목적실")
    assert first["url"] == f"http://localhost/bookings/{booking.id}"
    assert first["booking_id"] == booking.id
    check_schema(api, "NotificationPage", response)
    paged = api.get("/api/v1/notifications?per_page=2&page=2", user=resident).get_json()
    assert len(paged["items"]) == 1 and paged["total"] == 3


def test_only_one_s_own_and_the_unread_filter(api, booking, resident, manager, factories):
    [note] = notes_of(resident)
    stranger = factories.user(email="someone@example.kr")
    assert api.get("/api/v1/notifications", user=stranger).get_json()["items"] == []
    body = api.post("/api/v1/notifications/read", {"ids": [note.id]}, user=stranger).get_json()
    assert body == {"marked": 0, "unread": 0}
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is None
    assert api.get("/api/v1/notifications").status_code == 401


def test_mark_some_then_all_read(api, booking, resident):
    [note] = notes_of(resident)
    add_copies(note, 2)
    a, b, c = notes_of(resident)
    response = api.post("/api/v1/notifications/read", {"ids": [a.id, a.id]}, user=resident)
    assert response.status_code == 200 and response.get_json() == {"marked": 1, "unread": 2}
    check_schema(api, "MarkedRead", response)
    unread = api.get("/api/v1/notifications?unread=true", user=resident).get_json()
    assert {i["id"] for i in unread["items"]} == {b.id, c.id}
    assert api.get("/api/v1/notifications?unread=false", user=resident).get_json()["total"] == 3
    body = api.post("/api/v1/notifications/read", {"all": True}, user=resident).get_json()
    assert body == {"marked": 2, "unread": 0}


@pytest.mark.parametrize(("body", "field"), [
    ({}, "ids"),
    ({"ids": []}, "ids"),
    ({"ids": ["1"]}, "ids"),
    ({"ids": [0]}, "ids"),
    ({"ids": list(range(1, 502))}, "ids"),
    ({"all": False}, "all"),
    ({"all": "yes"}, "all"),
    ({"ids": [1], "all": True}, "all"),
    ({"every": True}, "every"),
])
def test_mark_read_refuses_bad_bodies(api, booking, resident, body, field):
    response = api.post("/api/v1/notifications/read", body, user=resident)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["details"]
    db.session.expire_all()
    assert all(n.read_at is None for n in notes_of(resident))


def test_bad_query_arguments_are_422(api, resident):
    for query, field in (("unread=maybe", "unread"), ("per_page=1000", "per_page"),
                         ("page=0", "page")):
        response = api.get(f"/api/v1/notifications?{query}", user=resident)
        assert response.status_code == 422 and field in response.get_json()["error"]["details"]


def test_preferences_read_and_change(api, manager):
    response = api.get("/api/v1/notifications/preferences", user=manager)
    assert response.status_code == 200
    check_schema(api, "NotificationPreferences", response)
    body = response.get_json()
    kinds = {k["kind"]: k for k in body["kinds"]}
    assert kinds["approval_requested"]["channel"] == "email"
    assert "digest" in kinds["approval_requested"]["choices"]
    assert kinds["payment_due"]["mandatory"] and "off" not in kinds["payment_due"]["choices"]
    assert "weekly_summary" not in kinds  # officers only
    assert body["reminder_hours"] == 24 and body["reminder_choices"] == [0, 2, 24, 48]

    response = put(api, "/api/v1/notifications/preferences",
                   {"channels": {"approval_requested": "digest", "payment_due": "in_app"},
                    "reminder_hours": 0}, manager)
    assert response.status_code == 200, response.get_json()
    check_schema(api, "NotificationPreferences", response)
    db.session.expire_all()
    prefs = services.preferences_of(manager)
    assert prefs["approval_requested"] == "digest" and prefs["payment_due"] == "in_app"
    assert manager.reminder_hours == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"channels": {"payment_due": "off"}}, "channels.payment_due"),
    ({"channels": {"booking_rejected": "digest"}}, "channels.booking_rejected"),
    ({"channels": {"no_such_kind": "email"}}, "channels.no_such_kind"),
    ({"channels": {"approval_requested": "email"}}, "channels.approval_requested"),
    ({"channels": {"booking_rejected": 3}}, "channels.booking_rejected"),
    ({"channels": ["email"]}, "channels"),
    ({"reminder_hours": 5}, "reminder_hours"),
    ({"reminder_hours": "24"}, "reminder_hours"),
    ({"reminder_hours": True}, "reminder_hours"),
    ({"colour": "blue"}, "colour"),
])
def test_refused_preferences_name_the_field_and_save_nothing(api, resident, body, field):
    good = {"channels": {"booking_received": "in_app"}, "reminder_hours": 2}
    merged = {**good, **body}
    if "channels" in body and isinstance(body["channels"], dict):
        merged["channels"] = {**good["channels"], **body["channels"]}
    response = put(api, "/api/v1/notifications/preferences", merged, resident)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["details"]
    db.session.expire_all()
    assert db.session.scalars(select(NotificationPreference)).all() == []
    assert resident.reminder_hours == 24


def test_a_body_that_is_not_an_object_is_refused(api, resident):
    response = api.client.put("/api/v1/notifications/preferences", data="[1]",
                              content_type="application/json", headers=api.headers(resident))
    assert response.status_code == 422
    response = api.client.put("/api/v1/notifications/preferences", data="{",
                              content_type="application/json", headers=api.headers(resident))
    assert response.status_code == 400


def test_the_list_runs_as_many_queries_for_30_as_for_1(api, booking, resident, count_queries):
    headers = api.headers(resident)

    def measure() -> int:
        api.client.get("/api/v1/notifications", headers=headers)
        with count_queries() as q:
            assert api.client.get("/api/v1/notifications", headers=headers).status_code == 200
        return q.count

    one = measure()
    [note] = notes_of(resident)
    add_copies(note, 29)
    assert measure() == one
