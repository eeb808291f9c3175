"""Saving a rule set that existing bookings would break: first the list and a choice (keep them
and tell the residents, or cancel them), then the save and the choice in one transaction."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from app.bookings.models import Booking
from app.notifications.models import Notification
from app.rules.models import RuleSet
from tests.conftest import next_weekday
from tests.manage.helpers import text_of
from tests.rules_ui.conftest import today


def _booking(factories, space, user, attendees, hour=10):
    start = next_weekday(2, hour)
    return factories.booking(space, user, start=start, end=start + timedelta(hours=1),
                             attendees=attendees, status="approved")  # fmt: skip


def _save(client, space, **extra):
    data = {"max_attendees": "10", "effective_from": today(), "save": "1", **extra}
    return client.post(f"/rules/space/{space.id}", data=data)


def _versions(db) -> int:
    return db.session.scalar(select(func.count(RuleSet.id)))


def test_save_first_shows_the_bookings_then_keeps_and_notifies(
    factories, users, space, login, client, db
):
    big = _booking(factories, space, users["resident"], 30)
    small = _booking(factories, space, factories.user(name="박주민"), 5, hour=14)
    db.session.commit()
    login(users["manager"])
    response = _save(client, space)
    assert response.status_code == 200
    assert _versions(db) == 0
    html = response.get_data(as_text=True)
    section = html[html.index('id="affected"'):]
    assert re.findall(r'<li data-booking="(\d+)"', section) == [str(big.id)]
    assert "Nothing is saved until you confirm." in text_of(response)
    response = _save(client, space, confirm="1", affected_ids=str(big.id),
                     affected_action="notify")  # fmt: skip
    assert response.status_code == 302
    assert _versions(db) == 1
    db.session.expire_all()
    assert db.session.get(Booking, big.id).status == "approved"
    kinds = db.session.scalars(select(Notification.kind).where(
        Notification.booking_id == big.id)).all()  # fmt: skip
    assert "booking_affected" in kinds
    assert "booking_affected" not in db.session.scalars(select(Notification.kind).where(
        Notification.booking_id == small.id)).all()  # fmt: skip


def test_save_and_cancel_the_broken_bookings(factories, users, space, login, client, db):
    big = _booking(factories, space, users["resident"], 30)
    db.session.commit()
    login(users["manager"])
    response = _save(client, space, confirm="1", affected_ids=str(big.id),
                     affected_action="cancel", affected_note="인원 제한 강화")  # fmt: skip
    assert response.status_code == 302
    assert "1 booking was cancelled and will be refunded in full." in text_of(
        client.get(response.headers["Location"])
    )
    db.session.expire_all()
    assert db.session.get(Booking, big.id).status == "cancelled"
    assert _versions(db) == 1


def test_an_officer_who_cannot_cancel_may_only_keep_them(
    factories, users, space, gangbuk, login, client, db
):
    big = _booking(factories, space, users["resident"], 30)
    db.session.commit()
    login(users["officer"])
    url = f"/rules/jurisdiction/{gangbuk.id}"
    data = {"max_attendees": "10", "effective_from": today(), "save": "1"}
    response = client.post(url, data=data)
    assert response.status_code == 200
    assert 'value="cancel"' not in response.get_data(as_text=True)
    response = client.post(url, data={**data, "confirm": "1", "affected_ids": str(big.id),
                                      "affected_action": "cancel", "affected_note": "x"})
    assert "You may not cancel some of these bookings." in text_of(response)
    assert _versions(db) == 0
    db.session.expire_all()
    assert db.session.get(Booking, big.id).status == "approved"


def test_a_save_nobody_is_affected_by_saves_at_once(factories, users, space, login, client, db):
    _booking(factories, space, users["resident"], 5)
    db.session.commit()
    login(users["manager"])
    assert _save(client, space).status_code == 302
    assert _versions(db) == 1
