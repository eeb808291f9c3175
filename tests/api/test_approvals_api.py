"""Approvals through the API: stage by stage (manager, principal, officer), who may decide
which stage, returning a request and resubmitting it, the approval queue and bulk decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.bookings.models import Booking
from tests.api.helpers import assert_error, seoul_iso, validate_against
from tests.conftest import next_weekday

EN = {"Accept-Language": "en"}


def make_request(chain, factories, *, hour=10, day=2, category="community", user=None):
    start = next_weekday(day, hour)
    return factories.booking_with(
        chain.space,
        user or chain.resident,
        start=start,
        end=start + timedelta(hours=1),
        purpose_category=category,
    )


@pytest.fixture
def factories(factories):
    """The shared factories, plus requests with a purpose category."""
    from app.bookings import services as booking_services
    from app.extensions import db

    def booking_with(space, user, *, start, end, purpose_category):
        booking = booking_services.create_booking(
            space,
            user,
            start=start,
            end=end,
            purpose="주민 모임",
            attendees=5,
            purpose_category=purpose_category,
        )
        db.session.flush()
        return booking

    factories.booking_with = booking_with
    return factories


def status_of(db, booking_id: int) -> str:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Booking, booking_id).status


def approval(response) -> tuple:
    data = response.get_json()["approval"]
    return data["stage"], data["of"], [s["state"] for s in data["stages"]]


# --- Stage by stage ---------------------------------------------------------------------------


def test_each_stage_is_decided_by_its_approver(api, db, factories, chain):
    booking = make_request(chain, factories)
    path = f"/api/v1/bookings/{booking.id}/approve"

    # Stage 1: the owner's manager. The principal and the officer see it but do not decide yet.
    assert_error(api.post(path, user=chain.principal), 403, "forbidden")
    assert_error(api.post(path, user=chain.officer), 403, "forbidden")
    response = api.post(path, {"reason": "확인"}, user=chain.manager)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "requested"
    assert approval(response) == (2, 3, ["approved", "pending", "waiting"])

    # Stage 2: the principal.
    assert_error(api.post(path, user=chain.manager), 403, "forbidden")
    response = api.post(path, user=chain.principal)
    assert approval(response) == (3, 3, ["approved", "approved", "pending"])
    who = api.get(f"/api/v1/bookings/{booking.id}", user=chain.resident, headers=EN)
    assert who.get_json()["approval"]["who"] == "Officers of 강북구"

    # Stage 3: the district's officers; the manager cannot decide the officer's stage.
    assert_error(api.post(path, user=chain.manager, headers=EN), 403, "forbidden")
    assert_error(
        api.post(f"/api/v1/bookings/{booking.id}/reject", {"reason": "x"}, user=chain.manager),
        403,
        "forbidden",
    )
    response = api.post(path, user=chain.officer)
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "approved"
    assert data["approval"]["stage"] is None and data["approval"]["of"] == 3
    assert [s["state"] for s in data["approval"]["stages"]] == ["approved"] * 3
    assert all(s["decided_at"] for s in data["approval"]["stages"])


def test_the_officer_rejects_at_the_jurisdiction_stage(api, db, factories, chain):
    booking = make_request(chain, factories)
    path = f"/api/v1/bookings/{booking.id}"
    api.post(f"{path}/approve", user=chain.manager)
    api.post(f"{path}/approve", user=chain.principal)
    response = api.post(f"{path}/reject", {"reason": "행사 중복"}, user=chain.officer)
    assert response.status_code == 200
    assert response.get_json()["status"] == "rejected"
    assert response.get_json()["approval"]["stages"][2]["reason"] == "행사 중복"


def test_who_may_not_see_gets_404_and_the_resident_403(api, factories, chain):
    booking = make_request(chain, factories)
    stranger = factories.officer(factories.jurisdiction(name="도봉구"))
    path = f"/api/v1/bookings/{booking.id}/approve"
    assert_error(api.post(path, user=stranger), 404, "not_found")
    assert_error(api.post(path, user=factories.user()), 404, "not_found")
    assert_error(api.post(path, user=chain.resident), 403, "forbidden")


# --- Return and resubmit ----------------------------------------------------------------------


def test_return_and_resubmit_round_trip(api, db, factories, chain, document):
    booking = make_request(chain, factories)
    path = f"/api/v1/bookings/{booking.id}"

    missing = api.post(f"{path}/return", {}, user=chain.manager)
    assert "reason" in assert_error(missing, 422, "invalid")["details"]
    assert_error(api.post(f"{path}/return", {"reason": "x"}, user=chain.officer), 403, "forbidden")

    returned = api.post(f"{path}/return", {"reason": "인원을 줄여 주세요"}, user=chain.manager)
    assert returned.status_code == 200, returned.get_json()
    data = returned.get_json()
    assert data["status"] == "returned"
    assert data["approval"]["stage"] == 1
    assert data["approval"]["stages"][0]["state"] == "returned"
    assert data["approval"]["stages"][0]["reason"] == "인원을 줄여 주세요"
    assert data["approval"]["due_at"] is not None  # the resident's answer is due
    validate_against(document, "Booking", data)

    # Only the person who booked resubmits; others who see it get 403, the rest 404.
    assert_error(api.post(f"{path}/resubmit", {}, user=chain.manager), 403, "forbidden")
    assert_error(api.post(f"{path}/resubmit", {}, user=factories.user()), 404, "not_found")
    # The rules judge the change again.
    refused = api.post(f"{path}/resubmit", {"purpose_category": "commercial"}, user=chain.resident)
    assert assert_error(refused, 422, "rule_violation")["reasons"][0]["source"] == "강북구"
    assert status_of(db, booking.id) == "returned"

    again = api.post(
        f"{path}/resubmit",
        {"attendees": 3, "purpose": "인원 조정했습니다", "purpose_category": "culture"},
        user=chain.resident,
    )
    assert again.status_code == 200, again.get_json()
    data = again.get_json()
    assert data["status"] == "requested"
    assert (data["attendees"], data["purpose"], data["purpose_category"]) == (
        3,
        "인원 조정했습니다",
        "culture",
    )
    assert approval(again) == (1, 3, ["pending", "waiting", "waiting"])
    assert [h["to"] for h in data["history"]] == ["requested", "returned", "requested"]

    # A request that is not returned cannot be resubmitted.
    assert_error(api.post(f"{path}/resubmit", {}, user=chain.resident), 409, "invalid_transition")


def test_resubmit_keeps_what_is_left_out(api, db, factories, chain):
    booking = make_request(chain, factories, category="education")
    path = f"/api/v1/bookings/{booking.id}"
    api.post(f"{path}/return", {"reason": "목적을 자세히"}, user=chain.manager)
    data = api.post(f"{path}/resubmit", {"purpose": "수학 공부방"}, user=chain.resident).get_json()
    assert data["purpose"] == "수학 공부방"
    assert data["attendees"] == 5 and data["purpose_category"] == "education"


# --- The queue --------------------------------------------------------------------------------


def queue_ids(api, user, query: str = "") -> list[int]:
    response = api.get(f"/api/v1/approvals{query}", user=user)
    assert response.status_code == 200, response.get_json()
    return [b["id"] for b in response.get_json()["items"]]


def test_the_queue_shows_only_what_the_caller_decides_now(api, db, factories, chain, document):
    first = make_request(chain, factories, hour=10)
    second = make_request(chain, factories, hour=13, category="education")
    assert queue_ids(api, chain.manager) == [first.id, second.id]
    assert queue_ids(api, chain.principal) == []
    assert queue_ids(api, chain.officer) == []

    api.post(f"/api/v1/bookings/{first.id}/approve", user=chain.manager)
    assert queue_ids(api, chain.manager) == [second.id]
    assert queue_ids(api, chain.principal) == [first.id]

    api.post(f"/api/v1/bookings/{first.id}/approve", user=chain.principal)
    response = api.get("/api/v1/approvals", user=chain.officer)
    page = response.get_json()
    assert [b["id"] for b in page["items"]] == [first.id]
    assert page["total"] == 1 and page["page"] == 1
    assert page["items"][0]["approval"]["stage"] == 3
    validate_against(document, "ApprovalPage", page)


def test_queue_filters_and_pages(api, db, factories, chain, org):
    first = make_request(chain, factories, hour=10)
    second = make_request(chain, factories, hour=13, category="education")
    other_space = factories.space(owner=org, name="음악실")
    start = next_weekday(3, 10)
    third = factories.booking_with(
        other_space, chain.resident, start=start, end=start + timedelta(hours=1),
        purpose_category="community",
    )  # fmt: skip
    manager = chain.manager
    assert queue_ids(api, manager, "?purpose=education") == [second.id]
    assert queue_ids(api, manager, f"?space={other_space.id}") == [third.id]
    assert queue_ids(api, manager, "?approver=owner_principal") == []
    assert queue_ids(api, manager, "?sort=start") == [first.id, second.id, third.id]
    day = seoul_iso(start)[:10]
    assert queue_ids(api, manager, f"?from={day}&to={day}") == [third.id]
    page = api.get("/api/v1/approvals?per_page=2&page=2", user=manager).get_json()
    assert (page["total"], len(page["items"])) == (3, 1)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?approver=mayor", "approver"),
        ("?purpose=wedding", "purpose"),
        ("?sort=random", "sort"),
        ("?space=abc", "space"),
        ("?space=99999999999", "space"),
        ("?from=2026-02-30", "from"),
        ("?from=2026-12-02&to=2026-12-01", "to"),
        ("?per_page=100000", "per_page"),
        ("?overdue=yes", "overdue"),
    ],
)
def test_queue_refuses_bad_filters(api, chain, query, field):
    response = api.get(f"/api/v1/approvals{query}", user=chain.manager)
    assert field in assert_error(response, 422, "invalid")["details"]


def test_residents_have_no_queue(api, chain):
    assert_error(api.get("/api/v1/approvals", user=chain.resident), 403, "forbidden")
    assert_error(api.get("/api/v1/approvals"), 401, "unauthorized")


# --- Bulk -------------------------------------------------------------------------------------


def test_bulk_approve_with_one_failing_id(api, db, factories, chain, document):
    first = make_request(chain, factories, hour=10)
    second = make_request(chain, factories, hour=13)
    at_officer = make_request(chain, factories, hour=16)
    for user in (chain.manager, chain.principal):
        api.post(f"/api/v1/bookings/{at_officer.id}/approve", user=user)
    ids = [first.id, 99999, at_officer.id, second.id, first.id]
    response = api.post(
        "/api/v1/approvals/bulk", {"action": "approve", "ids": ids}, user=chain.manager
    )
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    validate_against(document, "BulkResult", data)
    assert (data["done"], data["failed"]) == (2, 2)
    results = {r["id"]: r for r in data["results"]}
    assert [r["id"] for r in data["results"]] == [first.id, 99999, at_officer.id, second.id]
    assert results[first.id] == {"id": first.id, "ok": True, "status": "requested", "error": None}
    assert results[99999]["error"]["code"] == "not_found"
    assert results[at_officer.id]["error"]["code"] == "forbidden"
    assert results[second.id]["ok"] is True
    # The successes are kept; each moved on to the principal's stage.
    assert queue_ids(api, chain.principal) == [first.id, second.id]
    assert queue_ids(api, chain.officer) == [at_officer.id]


def test_bulk_reject_keeps_going_after_a_domain_error(api, db, factories, chain):
    first = make_request(chain, factories, hour=10)
    second = make_request(chain, factories, hour=13)
    api.post(f"/api/v1/bookings/{first.id}/reject", {"reason": "중복"}, user=chain.manager)
    response = api.post(
        "/api/v1/approvals/bulk",
        {"action": "reject", "ids": [first.id, second.id], "reason": "공사"},
        user=chain.manager,
    )
    data = response.get_json()
    assert data["results"][0]["ok"] is False
    assert data["results"][0]["error"]["code"] == "invalid_transition"
    assert data["results"][1] == {"id": second.id, "ok": True, "status": "rejected", "error": None}
    assert status_of(db, second.id) == "rejected"


def test_bulk_reject_needs_a_reason_and_changes_nothing(api, db, factories, chain):
    booking = make_request(chain, factories)
    response = api.post(
        "/api/v1/approvals/bulk", {"action": "reject", "ids": [booking.id]}, user=chain.manager
    )
    assert "reason" in assert_error(response, 422, "invalid")["details"]
    assert status_of(db, booking.id) == "requested"


def test_residents_cannot_bulk_decide(api, factories, chain):
    booking = make_request(chain, factories)
    response = api.post(
        "/api/v1/approvals/bulk", {"action": "approve", "ids": [booking.id]}, user=chain.resident
    )
    assert_error(response, 403, "forbidden")


@pytest.fixture
def document(api):
    return api.get("/api/v1/openapi.json").get_json()
