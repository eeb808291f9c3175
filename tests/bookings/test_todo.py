"""My bookings as a to-do list: what needs action (pay, change a returned request, a closure)
first with the action on the card, then what is coming; rejected and cancelled bookings go
with the past ones. A bounded number of queries however many bookings there are."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.bookings import services
from app.extensions import db
from app.payments import services as payments
from tests.conftest import next_weekday
from tests.factories import ALWAYS_OPEN


@pytest.fixture(autouse=True)
def _english(app, monkeypatch):
    monkeypatch.setattr(app.extensions["babel"], "locale_selector", lambda: "en")


def section(html: str, title_id: str) -> str:
    """The HTML of the page's section labelled by `title_id` ("" when it is not there)."""
    found = re.search(rf'<section[^>]*aria-labelledby="{title_id}".*?</section>', html, re.S)
    return found.group(0) if found else ""


def ids_in(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/bookings/(\d+)"', html)]


def make_bookings(factories, me, *, copies: int = 1) -> dict[str, list]:
    """Bookings of `me` in every situation, `copies` of each, in weeks 1.. ahead."""
    org = factories.org()
    manager = factories.manager(org)
    free = factories.space(owner=org, name="마을 회의실")
    paid = factories.space(owner=org, name="강당", price_per_hour=10_000)
    made: dict[str, list] = {k: [] for k in
                             ("due", "returned", "closed", "plain", "rejected", "cancelled")}
    for n in range(copies):
        def at(weekday: int, hour: int = 10, space=free, week=n + 1):
            start = next_weekday(weekday, hour, weeks=week)
            return factories.booking(space, me, start=start, end=start + timedelta(hours=1))

        due = at(0, space=paid)
        services.approve(due, manager)
        made["due"].append(due)
        returned = at(1)
        services.return_to_resident(returned, manager, reason="인원을 줄여 주세요")
        made["returned"].append(returned)
        closed = at(2)
        factories.closure(free, closed.start_at - timedelta(hours=1),
                          closed.end_at + timedelta(hours=1), reason="전기 점검")
        made["closed"].append(closed)
        made["plain"].append(at(3))
        rejected = at(4)
        services.reject(rejected, manager, reason="행사 일정과 겹칩니다")
        made["rejected"].append(rejected)
        cancelled = at(5)
        services.cancel(cancelled, me, reason="일정 변경")
        made["cancelled"].append(cancelled)
        # Paid, then cancelled: its badge says where the refund stands (payments and refunds read).
        refunded = at(6, space=paid)
        services.approve(refunded, manager)
        payments.record_offline(refunded, manager, method="cash",
                                amount=refunded.price_amount, reference=f"영수증 {n}")
        services.cancel(refunded, me, reason="일정 변경")
        made["cancelled"].append(refunded)
    db.session.commit()
    return made


def test_needs_action_comes_first_with_the_action_on_the_card(client, factories, login,
                                                              monkeypatch):
    monkeypatch.setattr("app.payments.gateway.configured", lambda: True)  # pay online
    me = factories.user()
    made = make_bookings(factories, me)
    login(me)
    html = client.get("/bookings").get_data(as_text=True)
    todo, upcoming = section(html, "todo-title"), section(html, "upcoming-title")
    assert html.index('id="todo-title"') < html.index('id="upcoming-title"')
    [due], [returned], [closed] = made["due"], made["returned"], made["closed"]
    # The payment deadline first, then by start.
    later = sorted([returned, closed], key=lambda b: b.start_at)
    assert ids_in(todo) == [due.id, *(b.id for b in later)]
    assert ids_in(upcoming) == [made["plain"][0].id]
    # Each card carries its action.
    assert f'action="/bookings/{due.id}/pay"' in todo and "Pay by " in todo
    assert f'href="/bookings/{returned.id}#resubmit-title"' in todo and "Changes requested" in todo
    assert "Affected by a closure" in todo and "전기 점검" in todo
    assert f'href="/bookings/{closed.id}#closure-note"' in todo
    # Rejected and cancelled bookings are not among those to come.
    for gone in (*made["rejected"], *made["cancelled"]):
        assert f"/bookings/{gone.id}\"" not in html
    # The active tab says so.
    assert re.search(r'<a href="/bookings/?" aria-current="page"', html)


def test_rejected_and_cancelled_are_with_the_past(client, factories, login, now):
    me = factories.user()
    made = make_bookings(factories, me)
    space = factories.space(hours=ALWAYS_OPEN)  # open at whatever hour the suite runs
    start = now - timedelta(days=3)
    over = factories.booking(space, me, start=start, end=start + timedelta(hours=1),
                             now=start - timedelta(days=1), status="completed")
    db.session.commit()
    login(me)
    html = client.get("/bookings?when=past").get_data(as_text=True)
    past = section(html, "past-title")
    # Latest first: the (future) cancelled and rejected dates, then what is over.
    called_off = sorted([*made["cancelled"], *made["rejected"]], key=lambda b: b.start_at,
                        reverse=True)
    assert ids_in(past) == [*(b.id for b in called_off), over.id]
    assert "Rejected" in past and "Cancelled" in past
    assert re.search(r'href="/bookings/?\?when=past" aria-current="page"', html)
    assert section(html, "todo-title") == ""  # the to-do is on the first tab only


def test_paying_takes_a_booking_off_the_to_do(client, factories, login):
    me = factories.user()
    made = make_bookings(factories, me)
    [due] = made["due"]
    from app.payments import services as payments

    manager = due.space.owner.memberships[0].user
    payments.record_offline(due, manager, method="bank_transfer", amount=due.price_amount,
                            reference="농협 123")
    db.session.commit()
    login(me)
    html = client.get("/bookings").get_data(as_text=True)
    assert due.id not in ids_in(section(html, "todo-title"))
    assert due.id in ids_in(section(html, "upcoming-title"))


def test_my_bookings_cost_the_same_queries_for_many_bookings(client, factories, login,
                                                             queries_of_get):
    me = factories.user()
    make_bookings(factories, me)
    login(me)
    few = queries_of_get("/bookings"), queries_of_get("/bookings?when=past")
    make_bookings(factories, me, copies=4)
    many = queries_of_get("/bookings"), queries_of_get("/bookings?when=past")
    assert many == few, (few, many)
    assert few[0] <= 8


def test_the_booking_page_mentions_a_closure_that_meets_it(client, factories, login):
    me = factories.user()
    made = make_bookings(factories, me)
    [closed], [plain] = made["closed"], made["plain"]
    login(me)
    html = client.get(f"/bookings/{closed.id}").get_data(as_text=True)
    assert 'id="closure-note"' in html and "Affected by a closure" in html
    assert "전기 점검" in html and "has not been cancelled" in html
    assert 'id="closure-note"' not in client.get(f"/bookings/{plain.id}").get_data(as_text=True)
