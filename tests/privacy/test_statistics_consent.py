"""Consent to the statistics (purpose `statistics`): a person who withdrew it (or never gave it)
is not counted as a person — distinct people, repeat users, residency — from then on and when
the facts are rebuilt; their bookings still count as bookings and booked hours."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.accounts import consents
from app.extensions import db
from app.stats import events, facts
from app.stats.models import AREA_ALL, AreaPeople
from app.stats.queries import Filters, Scope, dashboard
from tests.stats.test_queries import World, at

pytestmark = pytest.mark.usefixtures("english")

MARCH = Filters(date(2031, 3, 1), date(2031, 3, 31))


@pytest.fixture
def w(factories):
    world = World(factories)
    db.session.commit()
    return world


def figures(filters=MARCH) -> dict:
    d = dashboard(Scope(everything=True), filters)
    people = {row["what"]: row["count"] for row in d.tables["people"].rows}
    residency = {row["id"]: row["count"] for row in d.tables["residency"].rows}
    return {"people": people["Distinct people who asked"],
            "repeat": people["Repeat users (two or more requests)"],
            "residency": residency, "requests": d.summary["requests"],
            "booked_hours": d.summary["booked_hours"]}


def march(w, *, closed: bool):
    """The resident asks twice and the outsider once in March (booked 2 h each)."""
    for day, user in ((3, w.resident), (4, w.resident), (5, w.outsider)):
        booking = w.approved(w.s2, at(2031, 3, day, 10), 2, user)
        booking.created_at = at(2031, 3, day, 9)
    db.session.commit()
    if closed:
        events.close_days(through=date(2031, 3, 31))
        db.session.commit()


def withdraw(client, login, user) -> None:
    login(user)
    response = client.post("/account/privacy", data={"booking": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert consents.STATISTICS not in consents.current(user.id)


def rows_of(user) -> int:
    return db.session.scalar(select(func.count()).select_from(AreaPeople)
                             .where(AreaPeople.user_id == user.id))


@pytest.mark.parametrize("closed", [False, True], ids=["live", "closed days"])
def test_withdrawing_removes_the_person_not_their_bookings(client, login, w, closed):
    march(w, closed=closed)
    before = figures()
    assert before["people"] == 2 and before["repeat"] == 1
    # The meeting room is in the outsider's district: they are its resident.
    assert before["residency"] == {"resident": 1, "non_resident": 2}
    assert before["booked_hours"] == 6.0 and before["requests"] == 3
    assert (rows_of(w.resident) > 0) == closed

    withdraw(client, login, w.resident)
    after = figures()
    assert after["people"] == 1 and after["repeat"] == 0
    assert rows_of(w.resident) == 0
    # Their bookings are still counted as bookings and booked hours.
    assert after["booked_hours"] == 6.0 and after["requests"] == 3
    if not closed:  # residency describes the person: counted only with consent
        assert after["residency"] == {"resident": 1, "non_resident": 0}


def test_giving_it_again_counts_new_requests_and_rebuild_respects_it(client, login, w):
    march(w, closed=True)
    withdraw(client, login, w.resident)
    # Given again: the closed days stay without them; new requests count them again.
    assert client.post("/account/privacy", data={"booking": "y", "statistics": "y"}
                       ).status_code == 302
    db.session.expire_all()
    april = Filters(date(2031, 4, 1), date(2031, 4, 30))
    booking = w.approved(w.s2, at(2031, 4, 7, 10), 1, w.resident)
    booking.created_at = at(2031, 4, 7, 9)
    db.session.commit()
    assert figures()["people"] == 1
    assert figures(april)["people"] == 1
    # Withdrawn again, then the facts rebuilt: the person is not counted anywhere.
    assert client.post("/account/privacy", data={"booking": "y"}).status_code == 302
    db.session.expire_all()
    events.reclose()
    db.session.commit()
    assert rows_of(w.resident) == 0
    assert figures()["people"] == 1 and figures(april)["people"] == 0
    assert figures()["booked_hours"] == 6.0 and figures(april)["booked_hours"] == 1.0


def test_people_who_never_gave_it_are_not_counted_as_people(w, factories):
    stranger = factories.user(statistics=False)
    w.approved(w.s2, at(2031, 3, 10, 10), 3, stranger).created_at = at(2031, 3, 10, 9)
    march(w, closed=False)
    assert figures()["people"] == 2
    events.close_days(through=date(2031, 3, 31))
    facts.rebuild_booked()
    db.session.commit()
    assert rows_of(stranger) == 0
    assert figures()["people"] == 2 and figures()["booked_hours"] == 9.0
    assert events.people(None, MARCH.first, MARCH.last, AREA_ALL) == (2, 1, 0)


def test_deleting_the_account_removes_the_person_from_the_statistics(w, db):
    from datetime import UTC, datetime

    march(w, closed=True)
    consents.withdraw_all(w.outsider.id, datetime(2031, 4, 2, tzinfo=UTC))
    db.session.commit()
    assert rows_of(w.outsider) == 0
    assert figures()["people"] == 1 and figures()["booked_hours"] == 6.0
