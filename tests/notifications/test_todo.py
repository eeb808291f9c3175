"""The inbox as a to-do list: requests for action first, the rest one entry per booking;
a request for action is done (read) when the person does it — pays, sends the changed
request — or when the booking ends; a closure notice opens a page that mentions the closure;
links in emails follow the address served."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.bookings import services as booking_services
from app.extensions import db
from app.notifications import render
from app.notifications.models import Notification
from app.payments import services as payments
from config import default_base_url, problems
from tests.conftest import next_weekday
from tests.notifications.test_pages import add_copies, unread_badge

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def w(factories):
    org = factories.org(name="번동초등학교")
    manager = factories.manager(org)
    resident = factories.user(name="김주민")
    space = factories.space(owner=org, name="번동초 다목적실")
    hall = factories.space(owner=org, name="번동초 강당", price_per_hour=10_000)

    def book(space, weekday):
        start = next_weekday(weekday, 10)
        return factories.booking(space, resident, start=start, end=start + timedelta(hours=2))

    plain, due, returned = book(space, 0), book(hall, 1), book(space, 2)
    booking_services.approve(due, manager)
    booking_services.return_to_resident(returned, manager, reason="인원을 줄여 주세요")
    db.session.commit()
    return {"manager": manager, "resident": resident, "space": space, "plain": plain,
            "due": due, "returned": returned}


def note(user, kind, booking=None) -> Notification:
    query = select(Notification).where(Notification.user_id == user.id,
                                       Notification.kind == kind)
    if booking is not None:
        query = query.where(Notification.booking_id == booking.id)
    return db.session.scalars(query.order_by(Notification.id.desc())).first()


def section(html: str, title_id: str) -> str:
    found = re.search(rf'<section aria-labelledby="{title_id}".*?</section>', html, re.S)
    return found.group(0) if found else ""


def test_requests_for_action_first_and_the_rest_one_entry_per_booking(client, login, w):
    about_plain = note(w["resident"], "booking_received", w["plain"])
    add_copies(about_plain, 68)  # the demo's 69 alike messages
    login(w["resident"])
    html = client.get("/notifications").get_data(as_text=True)
    todo, rest = section(html, "inbox-actions-title"), section(html, "inbox-rest-title")
    assert html.index("Needs your action") < html.index("Everything else")
    due, returned = note(w["resident"], "payment_due"), note(w["resident"], "booking_returned")
    assert f'id="notification-{due.id}"' in todo and f'id="notification-{returned.id}"' in todo
    assert f'href="/bookings/{w["due"].id}#payment-title"' in todo
    assert f'href="/bookings/{w["returned"].id}#resubmit-title"' in todo
    # 69 messages about one booking are one entry, its newest on top.
    assert rest.count('class="inbox-item') == 3  # plain, due and returned bookings
    assert "68 earlier messages about this booking" in rest and "and 59 more" in rest
    newest = note(w["resident"], "booking_received", w["plain"])
    entry = rest[rest.index(f'id="notification-{newest.id}"'):]
    entry = entry[:entry.index('<li class="inbox-item')] if '<li class="inbox-item' in entry \
        else entry
    assert entry.count(">Request received: 번동초 다목적실") == 1 + 9  # newest + 9 earlier
    assert unread_badge(html) == str(69 + 2 + 2)  # + the two received messages of the others


def test_paying_resolves_payment_due(client, login, w):
    login(w["resident"])
    before = unread_badge(client.get("/notifications").get_data(as_text=True))
    due = note(w["resident"], "payment_due")
    # Opening it does not tick it off: it stays until it is paid.
    assert client.get(f"/notifications/{due.id}/open").headers["Location"].endswith(
        f"/bookings/{w['due'].id}")
    db.session.expire_all()
    assert note(w["resident"], "payment_due").read_at is None
    payments.record_offline(w["due"], w["manager"], method="bank_transfer", amount=20_000,
                            reference="농협 123")
    db.session.commit()
    db.session.expire_all()
    assert note(w["resident"], "payment_due").read_at is not None
    html = client.get("/notifications").get_data(as_text=True)
    todo = section(html, "inbox-actions-title")
    assert f'id="notification-{due.id}"' not in todo
    # Paid: "payment due" is done, "payment received" arrives; the count says so.
    assert int(unread_badge(html)) == int(before) - 1 + 1
    assert note(w["resident"], "payment_received").read_at is None


def test_resubmitting_resolves_returned(client, login, w):
    login(w["resident"])
    returned = w["returned"]
    response = client.post(f"/bookings/{returned.id}/resubmit", data={
        "purpose": "동아리 모임", "attendees": "3", "purpose_category": "community",
        "waiver": "", "group_id": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert returned.status == "requested"
    assert note(w["resident"], "booking_returned").read_at is not None
    html = client.get("/notifications").get_data(as_text=True)
    assert "#resubmit-title" not in html


def test_a_closure_notice_opens_the_booking_at_its_closure_note(client, login, w, factories):
    plain = w["plain"]
    factories.closure(w["space"], plain.start_at - timedelta(hours=1),
                      plain.end_at + timedelta(hours=1), reason="전기 점검")
    db.session.commit()
    closure = note(w["resident"], "closure_conflict")
    assert closure is not None and closure.booking_id == plain.id
    login(w["resident"])
    target = client.get(f"/notifications/{closure.id}/open").headers["Location"]
    assert target.endswith(f"/bookings/{plain.id}#closure-note")
    page = client.get(f"/bookings/{plain.id}").get_data(as_text=True)
    assert 'id="closure-note"' in page and "전기 점검" in page
    # Cancelling the booking leaves nothing to do about the closure.
    booking_services.cancel(plain, w["resident"], reason="휴관")
    db.session.commit()
    db.session.expire_all()
    assert note(w["resident"], "closure_conflict").read_at is not None


def test_mark_as_read_on_an_entry_marks_its_booking_s_messages(client, login, w):
    about_plain = note(w["resident"], "booking_received", w["plain"])
    add_copies(about_plain, 4)
    latest = note(w["resident"], "booking_received", w["plain"])
    login(w["resident"])
    client.post(f"/notifications/{latest.id}/read", data={"group": "1"})
    db.session.expire_all()
    left = db.session.scalars(select(Notification).where(
        Notification.user_id == w["resident"].id, Notification.booking_id == w["plain"].id,
        Notification.read_at.is_(None))).all()
    assert left == []
    # Requests for action about other bookings are untouched.
    assert note(w["resident"], "payment_due").read_at is None


def test_the_grouped_inbox_costs_the_same_queries_for_many_bookings(w, login, factories,
                                                                    queries_of_get):
    login(w["resident"])
    few = queries_of_get("/notifications"), queries_of_get("/notifications?show=unread")
    for weekday in range(7):
        for weeks in (2, 3, 4):
            start = next_weekday(weekday, 15, weeks=weeks)
            factories.booking(w["space"], w["resident"], start=start,
                              end=start + timedelta(hours=1))
    db.session.commit()
    add_copies(note(w["resident"], "booking_received", w["plain"]), 10)
    many = queries_of_get("/notifications"), queries_of_get("/notifications?show=unread")
    assert many == few, (few, many)
    page_two = queries_of_get("/notifications?page=2")
    assert page_two <= few[0] + 1


# --------------------------------------------------------------------------- base URL
def test_the_default_base_url_follows_the_served_port():
    assert default_base_url({"PORT": "5123"}) == "http://127.0.0.1:5123"
    assert default_base_url({}) == "http://127.0.0.1:5000"
    assert default_base_url({"PORT": "nonsense"}) == "http://127.0.0.1:5000"


def test_email_links_use_the_port_served_without_base_url(app, w, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", None)
    monkeypatch.setenv("PORT", "5123")
    due = note(w["resident"], "payment_due")
    with render.email_context("en"):
        link = render.link_for(due, external=True)
    assert link == f"http://127.0.0.1:5123/bookings/{w['due'].id}"
    monkeypatch.setitem(app.config, "BASE_URL", "https://gonggan.example.kr")
    with render.email_context("en"):
        assert render.link_for(due, external=True).startswith("https://gonggan.example.kr/")


def test_production_needs_base_url():
    base = {"SECRET_KEY": "k" * 64}
    assert any("BASE_URL is not set" in p for p in problems(base))
    assert problems({**base, "BASE_URL": "https://gonggan.example.kr"}) == []
