"""The pages of multi-stage approval: the request form's rules, approval path and price; the
resident's booking page ("Stage k of n"); the queue of each approver with its filters, bulk
decisions and return-for-changes; bounded queries. Everybody reads English (locale "en")."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from app.accounts.models import User
from app.bookings import services
from app.bookings.models import Booking, BookingStage
from app.extensions import db
from app.formatting import local
from tests.approvals import (
    MANAGER_WHO,
    OFFICER_STAGE,
    OFFICER_WHO,
    PRINCIPAL_WHO,
    SEOUL,
    add_rules,
    school_world,
    seoul,
)
from tests.conftest import next_weekday
from tests.factories import ALWAYS_OPEN
from tests.manage.helpers import text_of


@pytest.fixture
def w(factories):
    """The school gym with a chain of three deciding stages (no notification stage), open
    around the clock so requests can sit anywhere in time."""
    return school_world(factories, notify=False, hours=ALWAYS_OPEN)


@pytest.fixture
def start():
    """Tuesday 18:00 in Seoul, two weeks ahead."""
    return next_weekday(1, 18, weeks=2)


def request_ids(response) -> list[int]:
    assert response.status_code == 200
    return [
        int(i)
        for i in re.findall(
            r'<article class="panel request" id="booking-(\d+)"', response.get_data(as_text=True)
        )
    ]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def form_for(start, **changes) -> dict:
    local_start = start.astimezone(SEOUL)
    data = {
        "date": f"{local_start:%Y-%m-%d}",
        "start_time": f"{local_start:%H:%M}",
        "end_time": f"{local_start + timedelta(hours=2):%H:%M}",
        "attendees": "20",
        "purpose": "배드민턴 동호회 정기 모임",
        "purpose_category": "sports",
        "waiver": "",
    }
    return data | changes


def fresh(booking_id: int) -> Booking:
    db.session.expire_all()
    return db.session.get(Booking, booking_id)


# --- The request form ------------------------------------------------------------------------
@pytest.fixture
def edu_refuses_politics(w):
    add_rules(
        jurisdiction_id=w.edu.id,
        version=2,
        body={"stages": [OFFICER_STAGE], "refused_purposes": ["political"]},
    )
    db.session.commit()
    return w


def test_the_form_lists_the_rules_with_their_sources(edu_refuses_politics, login, client, start):
    w = edu_refuses_politics
    login(w.resident)
    local_start = start.astimezone(SEOUL)
    response = client.get(
        f"/spaces/{w.gym.id}/book",
        query_string={
            "start": local_start.isoformat(),
            "end": (local_start + timedelta(hours=2)).isoformat(),
        },
    )
    assert response.status_code == 200
    text = text_of(response)
    assert "Rules that apply" in text
    for line in (
        "서울특별시교육청 rules: Refused purposes: Political.",
        "번동초등학교 rules: At most 80 people.",
        "번동초등학교 rules: Fee waivers: Registered nonprofit 50%.",
        "번동초등학교 rules: Facility managers and staff of the owner: decide within 3 working "
        "days; if they do not: pass to the next stage.",
        "번동초등학교 rules: Head of the owner organisation: decide within 2 working days; "
        "if they do not: expire the request and release the time.",
        "서울특별시교육청 rules: Officers of the jurisdiction: decide within 5 working days; "
        "if they do not: expire the request and release the time.",
    ):
        assert line in text


def test_check_previews_path_and_price_without_booking(edu_refuses_politics, login, client, start):
    w = edu_refuses_politics
    # The resident's nonprofit waiver is verified on their profile: the preview prices it in.
    w.factories.verified_waiver(w.resident, "nonprofit")
    db.session.commit()
    login(w.resident)
    response = client.post(
        f"/spaces/{w.gym.id}/book", data=form_for(start, waiver="nonprofit", check="1")
    )
    assert response.status_code == 200
    text = text_of(response)
    assert "The rules allow this request." in text
    assert (
        "Approval: Facility managers and staff of the owner — 번동초등학교 (within 3 working days)"
        " Head of the owner organisation — 번동초등학교 (within 2 working days)"
        " Officers of the jurisdiction — 서울특별시교육청 (within 5 working days)"
    ) in text
    assert "Price — resident rate (번동초등학교 rules)" in text
    assert "₩10,000 per hour × 2 h ₩20,000" in text
    assert "Waiver: Registered nonprofit 50% -₩10,000" in text
    assert "Total ₩10,000" in text
    assert count(Booking) == 0


def test_a_non_resident_sees_the_non_resident_price(edu_refuses_politics, login, client, start):
    w = edu_refuses_politics
    login(w.outsider())
    text = text_of(client.post(f"/spaces/{w.gym.id}/book", data=form_for(start, check="1")))
    assert "Price — non-resident rate (번동초등학교 rules)" in text
    assert "₩20,000 per hour × 2 h ₩40,000" in text and "Total ₩40,000" in text


def test_a_refused_request_shows_every_reason_and_stores_nothing(
    edu_refuses_politics, login, client, start
):
    w = edu_refuses_politics
    login(w.resident)
    data = form_for(start, purpose_category="political", attendees="90", send="1")
    response = client.post(f"/spaces/{w.gym.id}/book", data=data)
    assert response.status_code == 422
    text = text_of(response)
    assert "서울특별시교육청 rules: Bookings for Political are refused." in text
    assert "번동초등학교 rules: At most 80 people may attend." in text
    assert "The rules do not allow this request:" in text
    assert (count(Booking), count(BookingStage)) == (0, 0)
    # Checking the same request says the same and is not an error.
    response = client.post(f"/spaces/{w.gym.id}/book", data=data | {"check": "1"})
    assert response.status_code == 200
    assert "서울특별시교육청 rules: Bookings for Political are refused." in text_of(response)


def test_the_sent_request_shows_stage_1_of_3_and_its_deadline(w, login, client, start):
    db.session.commit()
    login(w.resident)
    response = client.post(f"/spaces/{w.gym.id}/book", data=form_for(start, send="1"))
    assert response.status_code == 302
    booking = db.session.scalars(select(Booking)).one()
    assert response.headers["Location"] == f"/bookings/{booking.id}"
    due = booking.current_stage.due_at
    assert booking.stage_position == 0 and due is not None
    text = text_of(client.get(f"/bookings/{booking.id}"))
    assert "Your request was sent; it goes through the approval stages shown below." in text
    assert f"Stage 1 of 3: {MANAGER_WHO}" in text
    shown = local(due, SEOUL)
    assert f"decides by {shown}" in text and f"Deadline: {shown}" in text
    assert f"{MANAGER_WHO} — Deciding now" in text
    assert f"{PRINCIPAL_WHO} — Waiting" in text and f"{OFFICER_WHO} — Waiting" in text


def test_the_booking_page_follows_the_stages(w, login, client, start, now):
    booking = w.request(start=start, now=now)
    services.approve(booking, w.manager, reason="시설 점검 완료", now=now)
    db.session.commit()
    login(w.resident)
    text = text_of(client.get(f"/bookings/{booking.id}"))
    assert f"Stage 2 of 3: {PRINCIPAL_WHO}" in text
    assert f"{MANAGER_WHO} — Approved" in text and "Why: 시설 점검 완료" in text
    services.approve(fresh(booking.id), w.principal)
    services.approve(fresh(booking.id), w.officer)
    db.session.commit()
    text = text_of(client.get(f"/bookings/{booking.id}"))
    assert "Stage " not in text
    assert f"{OFFICER_WHO} — Approved" in text and "Approved" in text


# --- The queue, stage by stage -----------------------------------------------------------------
def test_each_stage_goes_to_its_own_approvers(w, login, client, start, now):
    booking = w.request(start=start, now=now)
    db.session.commit()

    def sees(user) -> bool:
        login(user)
        return booking.id in request_ids(client.get("/manage/queue"))

    assert sees(w.manager) and sees(w.staff) and sees(w.admin)
    assert not sees(w.principal) and not sees(w.officer)
    text = text_of(client.get("/manage/queue"))  # still the officer, who may open the queue
    assert "No requests are waiting." in text

    services.approve(fresh(booking.id), w.manager, now=now)
    db.session.commit()
    assert sees(w.principal)
    assert not sees(w.manager) and not sees(w.officer)
    login(w.principal)
    assert f"Stage 2 of 3: {PRINCIPAL_WHO}" in text_of(client.get("/manage/queue"))

    services.approve(fresh(booking.id), w.principal, now=now)
    db.session.commit()
    assert sees(w.officer) and sees(w.seoul_officer)
    assert not sees(w.principal) and not sees(w.other_officer) and not sees(w.manager)
    login(w.officer)
    text = text_of(client.get("/manage/queue"))
    assert f"Stage 3 of 3: {OFFICER_WHO}" in text
    assert f"Earlier stages {MANAGER_WHO}: Approved {PRINCIPAL_WHO}: Approved" in text


def test_the_officer_decides_from_the_queue(w, login, client, start, now):
    booking = w.request(start=start, now=now)
    services.approve(booking, w.manager, now=now)
    db.session.commit()
    login(w.officer)
    # Not yet the officer's stage: visible to officers of the space, not theirs to decide.
    response = client.post(f"/manage/bookings/{booking.id}/approve")
    assert response.status_code == 403
    services.approve(fresh(booking.id), w.principal, now=now)
    db.session.commit()
    response = client.post(f"/manage/bookings/{booking.id}/approve", follow_redirects=True)
    assert "Approved: 김주민, 체육관" in text_of(response)
    assert fresh(booking.id).status == "approved"


def test_residents_cannot_open_the_queue(w, login, client):
    db.session.commit()
    login(w.resident)
    assert client.get("/manage/queue").status_code == 403


@pytest.fixture
def three(w, now):
    """A: a sports request at stage 1 in two weeks; B: a community request at stage 2 on the
    same day; D: a community request at stage 1 for tomorrow (its deadline is its start)."""
    day = start_day = next_weekday(1, 10, weeks=2)
    a = w.request(start=start_day, now=now - timedelta(days=2), purpose_category="sports")
    b = w.request(
        w.neighbour(),
        start=day + timedelta(hours=4),
        now=now - timedelta(days=1),
        purpose_category="community",
    )
    services.approve(b, w.manager, now=now - timedelta(days=1) + timedelta(hours=1))
    tomorrow = (now.astimezone(SEOUL) + timedelta(days=1)).date()
    d = w.request(
        w.outsider(),
        start=seoul(tomorrow, 10),
        now=now - timedelta(hours=1),
        purpose_category="community",
    )
    assert d.current_stage.due_at == d.start_at
    db.session.commit()
    return {
        "a": a.id,
        "b": b.id,
        "d": d.id,
        "day": start_day.astimezone(SEOUL).date(),
        "tomorrow": tomorrow,
    }


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, ["a", "b", "d"]),  # oldest request first
        ({"approver": "owner_manager"}, ["a", "d"]),
        ({"approver": "owner_principal"}, ["b"]),
        ({"approver": "jurisdiction"}, []),
        ({"purpose": "community"}, ["b", "d"]),
        ({"approver": "owner_manager", "purpose": "sports"}, ["a"]),
        ({"from": "day", "to": "day"}, ["a", "b"]),
        ({"to": "tomorrow"}, ["d"]),
        ({"from": "tomorrow", "to": "tomorrow", "purpose": "sports"}, []),
        ({"sort": "start"}, ["d", "a", "b"]),
        ({"approver": "bogus", "purpose": "nonsense", "from": "13/13"}, ["a", "b", "d"]),
    ],
)
def test_queue_filters(w, three, login, client, args, expected):
    login(w.admin)
    query = {k: three[v].isoformat() if v in ("day", "tomorrow") else v for k, v in args.items()}
    assert request_ids(client.get("/manage/queue", query_string=query)) == [
        three[key] for key in expected
    ]


def test_queue_sorted_by_deadline(w, three, login, client):
    login(w.admin)
    ids = request_ids(client.get("/manage/queue?sort=due"))
    due = {b.id: b.current_stage.due_at for b in db.session.scalars(select(Booking))}
    assert ids[0] == three["d"]
    assert ids == sorted(ids, key=lambda i: (due[i], i))
    # The manager sees only the first-stage requests, in the same order.
    login(w.manager)
    assert request_ids(client.get("/manage/queue?sort=due")) == [three["d"], three["a"]]


def test_the_filters_tell_when_nothing_matches(w, three, login, client):
    login(w.manager)
    text = text_of(client.get("/manage/queue?approver=owner_principal"))
    assert "No requests match these filters." in text and "0 requests." in text


# --- Bulk decisions --------------------------------------------------------------------------
@pytest.mark.parametrize("blocked", ["started", "decided"])
def test_bulk_approve_decides_what_it_can_and_reports_the_rest(
    w, login, client, start, now, blocked
):
    ok = [w.request(w.neighbour(), start=start + timedelta(days=n), now=now) for n in range(2)]
    if blocked == "started":
        stuck = w.request(start=now - timedelta(hours=1), now=now - timedelta(days=1))
        why = "The requested time has already begun, so the request can no longer be approved."
    else:
        stuck = w.request(start=start + timedelta(days=3), now=now)
        services.reject(stuck, w.staff, reason="다른 직원이 먼저 거절", now=now)
        why = "A booking that is Rejected cannot be changed that way."
    db.session.commit()
    login(w.manager)
    response = client.post(
        "/manage/queue/bulk",
        data={
            "ids": [str(b.id) for b in [*ok, stuck]],
            "action": "approve",
            "next": "/manage/queue?sort=due",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/manage/queue?sort=due"
    text = text_of(client.get("/manage/queue"))
    assert "Approved 2 requests." in text
    assert f"Not changed: #{stuck.id}: {why}" in text
    # The two moved on to the principal; the stuck one is as it was.
    for b in ok:
        assert fresh(b.id).stage_position == 1
    after = fresh(stuck.id)
    assert (after.status, after.stage_position) == (
        ("requested", 0) if blocked == "started" else ("rejected", None)
    )


def test_bulk_reject_needs_a_reason_and_bulk_is_per_stage(w, login, client, start, now):
    ids = [w.request(w.neighbour(), start=start + timedelta(days=n), now=now).id for n in range(2)]
    db.session.commit()
    login(w.manager)
    text = text_of(
        client.post(
            "/manage/queue/bulk", data={"ids": ids, "action": "reject"}, follow_redirects=True
        )
    )
    assert "Please give a reason for the rejection." in text
    assert {fresh(i).status for i in ids} == {"requested"}
    # The principal does not decide the first stage: nothing changes.
    login(w.principal)
    text = text_of(
        client.post(
            "/manage/queue/bulk", data={"ids": ids, "action": "approve"}, follow_redirects=True
        )
    )
    assert "Approved" not in text
    assert f"#{ids[0]}: You do not decide the current stage of this request." in text
    assert {fresh(i).stage_position for i in ids} == {0}
    login(w.manager)
    text = text_of(
        client.post(
            "/manage/queue/bulk",
            data={"ids": ids, "action": "reject", "reason": "공사 기간"},
            follow_redirects=True,
        )
    )
    assert "Rejected 2 requests." in text
    assert [s.state for s in fresh(ids[0]).stages] == ["rejected", "skipped", "skipped"]


# --- Return for changes -------------------------------------------------------------------------
def test_return_from_the_queue_then_the_resident_resubmits(w, login, client, start, now):
    booking = w.request(start=start, now=now, attendees=60)
    services.approve(booking, w.manager, now=now)
    db.session.commit()
    login(w.principal)
    response = client.post(
        f"/manage/bookings/{booking.id}/return", data={"reason": " "}, follow_redirects=True
    )
    assert "Nothing was changed: Please say what the resident should change." in text_of(response)
    response = client.post(
        f"/manage/bookings/{booking.id}/return",
        data={"reason": "인원을 40명 이하로 줄여 주세요"},
        follow_redirects=True,
    )
    text = text_of(response)
    assert "Returned to the resident for changes: 김주민, 체육관" in text
    assert booking.id not in request_ids(response)
    returned = fresh(booking.id)
    assert returned.status == "returned"
    answer_by = local(returned.current_stage.due_at, SEOUL)

    login(w.resident)
    text = text_of(client.get(f"/bookings/{booking.id}"))
    assert "Change and send again" in text
    assert f"{PRINCIPAL_WHO}: 인원을 40명 이하로 줄여 주세요" in text
    assert f"Please answer by {answer_by}, or the request expires." in text
    form = {
        "purpose": "배드민턴 모임",
        "attendees": "0",
        "purpose_category": "sports",
        "waiver": "",
        "group_id": "",
    }
    response = client.post(f"/bookings/{booking.id}/resubmit", data=form)
    assert response.status_code == 422
    assert "Enter a number from 1 to 100,000." in text_of(response)
    response = client.post(f"/bookings/{booking.id}/resubmit", data=form | {"attendees": "90"})
    assert response.status_code == 422
    assert "번동초등학교 rules: At most 80 people may attend." in text_of(response)
    assert fresh(booking.id).status == "returned"

    response = client.post(
        f"/bookings/{booking.id}/resubmit", data=form | {"attendees": "35"}, follow_redirects=True
    )
    text = text_of(response)
    assert "Your changed request was sent." in text
    assert f"Stage 2 of 3: {PRINCIPAL_WHO}" in text
    assert "Change and send again" not in text
    # The reopened stage is not shown as decided; the return is in the history.
    assert f"{PRINCIPAL_WHO} — Deciding now Deadline:" in text
    assert "Returned for changes · 교장 Why: 인원을 40명 이하로 줄여 주세요" in text
    after = fresh(booking.id)
    assert (after.status, after.attendees, after.stage_position) == ("requested", 35, 1)

    login(w.principal)
    assert booking.id in request_ids(client.get("/manage/queue"))
    # Somebody else cannot answer it for the resident.
    services.return_to_resident(fresh(booking.id), w.principal, reason="한 번 더", now=now)
    db.session.commit()
    response = client.post(f"/bookings/{booking.id}/resubmit", data=form | {"attendees": "30"})
    assert response.status_code == 403
    assert fresh(booking.id).status == "returned"


# --- Bounded queries ------------------------------------------------------------------------------
def _requests(w, start, now, n: int, first: int = 0, stage: int = 0) -> None:
    for i in range(first, first + n):
        booking = w.request(w.neighbour(), start=start + timedelta(days=i), now=now)
        for approver in (w.manager, w.principal)[:stage]:
            services.approve(booking, approver, now=now)
    db.session.commit()


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_the_queue_runs_the_same_queries_for_2_and_12_requests(
    w, login, client, queries_of_get, start, now, stage
):
    approver = (w.manager, w.principal, w.officer)[stage]
    _requests(w, start, now, 2, stage=stage)
    login(approver)
    few = queries_of_get("/manage/queue")
    assert len(request_ids(client.get("/manage/queue"))) == 2
    _requests(w, start, now, 10, first=2, stage=stage)
    assert len(request_ids(client.get("/manage/queue"))) == 12
    assert queries_of_get("/manage/queue") == few
    assert (
        queries_of_get(
            "/manage/queue?sort=due&approver="
            + ("owner_manager", "owner_principal", "jurisdiction")[stage]
        )
        == few
    )


@pytest.fixture
def cold_queries(client, count_queries):
    """`cold_queries(url)`: (statements, response) of one GET as a production request runs it,
    with nothing loaded beforehand. The test shares its app context, and so its session and
    `flask.g`, with the requests it makes: `queries_of_get` reuses the objects the warm-up GET
    loaded (a lazy load of a jurisdiction costs nothing there) and the logged-in user with the
    roles it cached. Here everything is expired and the user is loaded again."""

    def _measure(url: str):
        client.get(url)
        db.session.expire_all()
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, User):
                obj.__dict__.pop("org_roles", None)
                obj.__dict__.pop("officer_jurisdiction_ids", None)
        g.pop("_login_user", None)
        with count_queries() as q:
            response = client.get(url)
        assert response.status_code == 200
        return q.count, response

    return _measure


def test_the_queue_of_an_officer_over_many_jurisdictions_is_bounded(
    factories, w, login, cold_queries, start, now
):
    """A Seoul officer decides for the stages of twelve education offices at once."""
    bookings = []
    for n in range(12):
        office = factories.jurisdiction(
            name=f"교육지원청 {n}", kind="education_office", parent=w.seoul
        )
        add_rules(jurisdiction_id=office.id, body={"stages": [OFFICER_STAGE]})
        gym = factories.space(
            owner=factories.org(name=f"학교 {n}"),
            name=f"체육관 {n}",
            jurisdictions=[office],
            hours=ALWAYS_OPEN,
        )
        bookings.append(
            services.create_booking(
                gym,
                w.resident,
                start=start,
                end=start + timedelta(hours=1),
                purpose="모임",
                attendees=5,
                now=now,
            )
        )
    db.session.commit()
    login(w.seoul_officer)
    many, response = cold_queries("/manage/queue")
    assert len(request_ids(response)) == 12
    assert "Stage 1 of 1: Officers of 교육지원청 11" in text_of(response)
    for booking in bookings[2:]:
        services.approve(fresh(booking.id), w.admin, now=now)
    db.session.commit()
    few, response = cold_queries("/manage/queue")
    assert len(request_ids(response)) == 2
    assert many == few


@pytest.mark.parametrize("stage", [0, 2])
def test_the_queue_is_bounded_on_a_fresh_session(w, login, cold_queries, start, now, stage):
    approver = (w.manager, w.principal, w.officer)[stage]
    _requests(w, start, now, 12, stage=stage)
    login(approver)
    many, response = cold_queries("/manage/queue")
    assert len(request_ids(response)) == 12
    booking_ids = request_ids(response)
    for booking_id in booking_ids[2:]:
        services.reject(fresh(booking_id), w.admin, reason="정리", now=now)
    db.session.commit()
    few, response = cold_queries("/manage/queue")
    assert request_ids(response) == booking_ids[:2]
    assert many == few


def test_the_booking_page_runs_the_same_queries_at_every_stage(
    w, login, queries_of_get, start, now
):
    fresh_request = w.request(start=start, now=now)
    decided = w.request(start=start + timedelta(days=1), now=now)
    services.approve(decided, w.manager, reason="확인", now=now)
    services.approve(decided, w.principal, reason="승인", now=now)
    returned = w.request(start=start + timedelta(days=2), now=now)
    services.return_to_resident(returned, w.manager, reason="목적을 적어 주세요", now=now)
    db.session.commit()
    login(w.resident)
    first = queries_of_get(f"/bookings/{fresh_request.id}")
    assert queries_of_get(f"/bookings/{decided.id}") == first
    # The returned request adds the change form (the resident's groups): one query at most.
    assert queries_of_get(f"/bookings/{returned.id}") <= first + 1


def test_the_booking_page_is_bounded_on_a_fresh_session(w, login, cold_queries, start, now):
    waiting = w.request(start=start, now=now)
    decided = w.request(start=start + timedelta(days=1), now=now)
    services.approve(decided, w.staff, reason="확인", now=now)
    services.approve(decided, w.principal, reason="승인", now=now)
    services.approve(decided, w.seoul_officer, reason="교육청 승인", now=now)
    db.session.commit()
    login(w.resident)
    first, response = cold_queries(f"/bookings/{waiting.id}")
    assert f"Stage 1 of 3: {MANAGER_WHO}" in text_of(response)
    second, response = cold_queries(f"/bookings/{decided.id}")
    assert "Why: 교육청 승인" in text_of(response)
    assert second == first
