"""The manager's workspace: landing on the queue, the counts in the navigation, the approver's
page of one request (decision, conflicts, history, waiver claim), the approved-but-unpaid list
and one wording of deadlines in the queue and in the messages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.bookings.models import Booking
from app.formatting import deadline
from app.notifications import render
from app.notifications.announce import _stage_params, booking_params
from app.notifications.models import Notification
from tests.conftest import next_weekday
from tests.manage.helpers import text_of

HOUR = timedelta(hours=1)
SEOUL = ZoneInfo("Asia/Seoul")


def nav_count(response, which: str) -> int:
    """The count shown next to "Requests" in the navigation (0 when no badge)."""
    html = response.get_data(as_text=True)
    nav = html.split('class="main-nav"', 1)[1].split("</nav>", 1)[0]
    found = re.search(rf'data-count="{which}">(\d+)<', nav)
    return int(found.group(1)) if found else 0


def request_cards(response) -> dict[int, str]:
    html = response.get_data(as_text=True)
    card = r'<article class="panel request" id="booking-(\d+)".*?>(.*?)</article>'
    return {int(m.group(1)): m.group(2) for m in re.finditer(card, html, re.S)}


@pytest.fixture
def paid_space(factories, org):
    return factories.space(owner=org, name="체육관", price_per_hour=10_000)


def _approved_unpaid(factories, space, resident, manager, start):
    from app.bookings import services as booking_services

    booking = factories.booking(space, resident, start=start, end=start + 2 * HOUR)
    booking_services.approve(booking, manager)
    return booking


# --------------------------------------------------------------------------- landing
def test_a_manager_lands_on_the_queue_and_a_resident_on_the_search(
    manager, resident, client, db
):
    db.session.commit()
    answer = client.post("/login", data={"email": manager.email, "password": "password123"})
    assert answer.headers["Location"] == "/manage/queue"
    client.post("/logout")
    answer = client.post("/login", data={"email": resident.email, "password": "password123"})
    assert answer.headers["Location"] != "/manage/queue"
    assert answer.headers["Location"].startswith("/spaces")


def test_a_safe_next_wins_over_the_queue_and_an_unsafe_one_is_ignored(manager, client, db):
    db.session.commit()
    answer = client.post("/login?next=/account",
                         data={"email": manager.email, "password": "password123"})
    assert answer.headers["Location"] == "/account"
    client.post("/logout")
    answer = client.post("/login?next=//evil.example/x",
                         data={"email": manager.email, "password": "password123"})
    assert answer.headers["Location"] == "/manage/queue"


def test_an_officer_lands_on_the_queue(factories, client, db):
    officer = factories.officer(factories.jurisdiction(slug="gangbuk", name="강북구"))
    db.session.commit()
    answer = client.post("/login", data={"email": officer.email, "password": "password123"})
    assert answer.headers["Location"] == "/manage/queue"


# --------------------------------------------------------------------------- nav counts
def test_the_navigation_counts_requests_to_decide_and_approved_unpaid(
    factories, space, paid_space, other_org, resident, manager, login, client, db
):
    start = next_weekday(1, 10)
    factories.booking(space, resident, start=start, end=start + HOUR)
    factories.booking(space, resident, start=start + 2 * HOUR, end=start + 3 * HOUR)
    _approved_unpaid(factories, paid_space, resident, manager, start)
    theirs = factories.space(owner=other_org, name="남의 공간")
    factories.booking(theirs, resident, start=start, end=start + HOUR)
    db.session.commit()
    login(manager)
    page = client.get("/account")
    assert (nav_count(page, "pending"), nav_count(page, "unpaid")) == (2, 1)
    assert "2 to decide, 1 approved and not paid" in text_of(page)
    # The resident sees no such counts.
    client.post("/logout")
    login(resident)
    page = client.get("/account")
    assert 'class="nav-queue"' not in page.get_data(as_text=True)


def test_the_navigation_counts_cost_the_same_whatever_the_number_of_requests(
    factories, space, resident, manager, login, client, db, queries_of_get
):
    start = next_weekday(2, 9)
    factories.booking(space, resident, start=start, end=start + HOUR)
    db.session.commit()
    login(manager)
    few = queries_of_get("/account")
    for n in range(1, 9):
        factories.booking(space, factories.user(), start=start + n * HOUR,
                          end=start + (n + 1) * HOUR)
    db.session.commit()
    assert queries_of_get("/account") == few
    assert nav_count(client.get("/account"), "pending") == 9


# --------------------------------------------------------------------------- the request page
@pytest.fixture
def contested(factories, org, space, other_org, resident, db):
    """A request with a lottery entry for the same time, a closure over its end, and the
    resident's history at this organisation and at another one."""
    start = next_weekday(3, 14)
    rival = factories.user(name="박경쟁")
    entry = factories.booking(space, rival, start=start + HOUR, end=start + 2 * HOUR,
                              status="entered", purpose="추첨 신청")
    booking = factories.booking(space, resident, start=start, end=start + 2 * HOUR,
                                purpose="합창 연습")
    closure = factories.closure(space, start + 90 * timedelta(minutes=1), start + 3 * HOUR,
                                reason="방역")
    music = factories.space(owner=org, name="음악실")
    past = {}
    for n, status in enumerate(["completed", "completed", "no_show", "cancelled"], start=1):
        past[status] = factories.booking(music, resident, start=start + timedelta(days=n),
                                         end=start + timedelta(days=n, hours=1), status=status)
    elsewhere = factories.space(owner=other_org, name="남의 강당")
    factories.booking(elsewhere, resident, start=start + timedelta(days=8),
                      end=start + timedelta(days=8, hours=1), status="no_show",
                      purpose="다른 기관 모임")
    db.session.commit()
    return {"booking": booking, "entry": entry, "closure": closure, "past": past}


def test_the_request_page_shows_conflicts_history_and_the_decision(
    contested, manager, login, client
):
    booking = contested["booking"]
    login(manager)
    response = client.get(f"/manage/bookings/{booking.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(response)
    # The decision, with one main action.
    assert f'action="/manage/bookings/{booking.id}/approve"' in html
    assert f'formaction="/manage/bookings/{booking.id}/return"' in html
    # Not the resident's page.
    assert "My bookings ›" not in text and "You can pay" not in text
    # What competes for the same time: the lottery entry (linked) and the closure.
    assert f'href="/manage/bookings/{contested["entry"].id}"' in html
    assert "박경쟁" in text and f'data-closure="{contested["closure"].id}"' in html
    assert "방역" in text
    # The history at this organisation only.
    assert "Came: 2" in text and "Did not show up: 1" in text and "Cancelled: 1" in text
    assert "음악실" in text and "남의 강당" not in text
    assert len(re.findall(r"data-past=", html)) == 4


def test_the_request_page_costs_the_same_with_a_long_history(
    contested, factories, org, resident, manager, login, client, db, queries_of_get
):
    booking = contested["booking"]
    login(manager)
    short = queries_of_get(f"/manage/bookings/{booking.id}")
    gym = factories.space(owner=org, name="체육관")
    start = next_weekday(4, 9, weeks=2)
    for n in range(15):
        factories.booking(gym, resident, start=start + timedelta(days=n),
                          end=start + timedelta(days=n, hours=1), status="completed")
    db.session.commit()
    assert queries_of_get(f"/manage/bookings/{booking.id}") == short
    text = text_of(client.get(f"/manage/bookings/{booking.id}"))
    assert "Came: 17" in text


def test_only_those_who_decide_or_manage_open_the_request_page(
    contested, resident, other_manager, factories, login, client, db
):
    booking = contested["booking"]
    stranger = factories.user(email="stranger@example.kr")
    db.session.commit()
    url = f"/manage/bookings/{booking.id}"
    assert client.get(url).status_code == 302  # to the login page
    login(other_manager)
    assert client.get(url).status_code == 404
    client.post("/logout")
    login(stranger)
    assert client.get(url).status_code == 404
    client.post("/logout")
    login(resident)
    assert client.get(url).status_code == 403
    assert client.get("/manage/bookings/999999").status_code == 404


def test_approving_from_the_request_page_goes_back_to_the_queue(
    contested, manager, login, client, db
):
    booking = contested["booking"]
    login(manager)
    answer = client.post(f"/manage/bookings/{booking.id}/approve",
                         data={"next": "/manage/queue"})
    assert answer.headers["Location"] == "/manage/queue"
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "approved"
    # Decided: the page stays for the record, without the decision.
    html = client.get(f"/manage/bookings/{booking.id}").get_data(as_text=True)
    assert f'action="/manage/bookings/{booking.id}/approve"' not in html


def test_a_claimed_waiver_shows_on_the_request_page(
    factories, space, resident, manager, login, client, db
):
    start = next_weekday(2, 15)
    booking = factories.booking(space, resident, start=start, end=start + HOUR)
    booking.waiver_category = "senior"
    booking.waiver_state = "claimed"
    db.session.commit()
    login(manager)
    response = client.get(f"/manage/bookings/{booking.id}")
    text = text_of(response)
    assert "Fee waiver claimed" in text
    assert "No claim on the profile" in text
    assert 'name="evidence_seen"' in response.get_data(as_text=True)


# --------------------------------------------------------------------------- queue cards
def test_a_queue_card_has_one_main_action_a_conflict_badge_and_a_link_to_its_page(
    contested, manager, login, client
):
    booking = contested["booking"]
    login(manager)
    cards = request_cards(client.get("/manage/queue"))
    card = cards[booking.id]
    assert f'href="/manage/bookings/{booking.id}"' in card
    assert 'data-conflicts="2"' in card  # the lottery entry and the closure
    # One reason box, folded away with the other decisions; the note folded too.
    assert card.count("<textarea") == 2
    folded = card.split('<details class="other-decisions">', 1)[1]
    assert "<textarea" in folded and 'name="reason"' in folded
    assert card.count('type="submit"') == 3
    assert "Reject or return for changes" in card


# --------------------------------------------------------------------------- deadlines
def test_a_deadline_reads_the_same_in_the_queue_and_in_the_message(
    factories, space, resident, manager, login, client, db
):
    start = next_weekday(4, 10, weeks=2)
    booking = factories.booking(space, resident, start=start, end=start + HOUR)
    stage = booking.current_stage
    assert stage is not None
    day = start.astimezone(SEOUL).date() - timedelta(days=3)
    # Local midnight: the end of the day before.
    stage.due_at = datetime(day.year, day.month, day.day, tzinfo=SEOUL).astimezone(UTC)
    db.session.commit()
    login(manager)
    queue_text = text_of(client.get("/manage/queue"))
    params = booking_params(booking)
    params["stage"] = _stage_params(stage)
    note = Notification(kind="approval_deadline", params=params, user=manager,
                        booking_id=booking.id)
    with render.email_context("en"):
        subject = render.subject_of(note, manager)
        expected = deadline(stage.due_at, SEOUL)
    before = day - timedelta(days=1)
    assert expected.endswith(" 24:00") and f"{before:%Y-%m-%d}" in expected
    assert f"decide by {expected}" in queue_text
    assert expected in subject
    page = text_of(client.get(f"/manage/bookings/{booking.id}"))
    assert f"decide by {expected}" in page


# --------------------------------------------------------------------------- unpaid
def test_the_unpaid_list_shows_approved_bookings_with_their_pay_by_deadline(
    factories, paid_space, other_org, resident, manager, login, client, db, queries_of_get
):
    from app.payments import services as payments

    start = next_weekday(1, 10)
    unpaid = _approved_unpaid(factories, paid_space, resident, manager, start)
    settled = _approved_unpaid(factories, paid_space, resident, manager, start + 3 * HOUR)
    payments.record_offline(settled, manager, method="cash", amount=settled.price_amount,
                            reference="영수증 7")
    theirs = factories.space(owner=other_org, name="남의 체육관", price_per_hour=5_000)
    _approved_unpaid(factories, theirs, resident, factories.manager(other_org), start)
    db.session.commit()
    assert unpaid.payment_due_at is not None
    login(manager)
    response = client.get("/manage/queue/unpaid")
    html = response.get_data(as_text=True)
    assert re.findall(r'data-booking="(\d+)"', html) == [str(unpaid.id)]
    text = text_of(response)
    assert f"to be paid by {deadline(unpaid.payment_due_at, SEOUL)}" in text
    assert "남의 체육관" not in text and "₩20,000" in text
    assert nav_count(response, "unpaid") == 1
    # Bounded: more unpaid bookings cost no more queries.
    once = queries_of_get("/manage/queue/unpaid")
    for n in range(1, 5):
        _approved_unpaid(factories, paid_space, factories.user(),
                         manager, start + timedelta(days=n))
    db.session.commit()
    assert queries_of_get("/manage/queue/unpaid") == once


def test_the_unpaid_list_is_for_managers(factories, resident, login, client, db):
    officer = factories.officer(factories.jurisdiction(slug="gangbuk", name="강북구"))
    db.session.commit()
    login(resident)
    assert client.get("/manage/queue/unpaid").status_code == 403
    client.post("/logout")
    login(officer)
    assert client.get("/manage/queue/unpaid").status_code == 403
