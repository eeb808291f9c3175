""""Automatic" (the default): the check turns itself on for a space once its booking requests
in the last minute pass the threshold, stays on for the hold period, then goes away. And the
manager's switch on the space form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.bookings.models import Booking
from app.spaces.models import Space
from tests.manage.helpers import text_of
from tests.manage.test_spaces import form_data
from tests.security.conftest import NOW, form, slot

WIDGET = "<altcha-widget"


@pytest.fixture(autouse=True)
def _small_surge(app, monkeypatch, roomy_limits):
    """A surge is more than 3 requests within a minute; it keeps the check on for 30 minutes."""
    monkeypatch.setitem(app.config, "CHALLENGE_SURGE_REQUESTS", 3)
    monkeypatch.setitem(app.config, "CHALLENGE_SURGE_MINUTES", 30)


def send(client, login, user, space, days, payload=None):
    login(user)
    return client.post(f"/spaces/{space.id}/book", data=form(*slot(days), payload=payload))


def widget_shown(client, login, user, space) -> bool:
    login(user)
    return WIDGET in client.get(f"/spaces/{space.id}/book").get_data(as_text=True)


def test_a_new_space_is_automatic(factories, db):
    space = factories.space()
    db.session.commit()
    assert space.challenge_mode == "auto" and space.challenge_until is None


def test_a_surge_turns_the_check_on_and_it_goes_off_after_the_hold(
    factories, db, client, login, frozen
):
    space = factories.space()
    people = [factories.user(locale="en") for _ in range(6)]
    db.session.commit()

    # Four requests within a minute, from four people (each is sent: nothing was asked yet).
    for n, person in enumerate(people[:4]):
        frozen.shift(timedelta(seconds=10))
        assert send(client, login, person, space, days=n + 1).status_code == 302
    db.session.expire_all()
    assert db.session.get(Space, space.id).challenge_until == NOW + timedelta(seconds=40,
                                                                              minutes=30)

    # From now on the form shows the check, and a request without it is refused.
    assert widget_shown(client, login, people[4], space)
    refused = send(client, login, people[4], space, days=5)
    assert refused.status_code == 422
    assert "short automatic check against macro programs" in text_of(refused)

    # Still on 29 minutes later; gone after 30 minutes (no more surges meanwhile).
    frozen.shift(timedelta(minutes=29))
    assert widget_shown(client, login, people[5], space)
    frozen.shift(timedelta(minutes=2))
    assert not widget_shown(client, login, people[5], space)
    assert send(client, login, people[5], space, days=6).status_code == 302
    db.session.expire_all()
    assert len(db.session.scalars(select(Booking)).all()) == 5


def test_requests_spread_over_minutes_do_not_turn_it_on(factories, db, client, login, frozen):
    space = factories.space()
    person = factories.user(locale="en")
    db.session.commit()
    for n in range(9):  # three a minute, for three minutes: never more than three in a minute
        frozen.shift(timedelta(seconds=20))
        assert send(client, login, person, space, days=n + 1).status_code == 302
    assert not widget_shown(client, login, person, space)
    db.session.expire_all()
    assert db.session.get(Space, space.id).challenge_until is None


def test_refused_requests_count_towards_a_surge(factories, db, client, login, frozen):
    """A macro hammering a taken slot gets 409s; those requests count all the same."""
    space = factories.space()
    start, end = slot(1)
    factories.booking(space, factories.user(), start=start, end=end)
    bot = factories.user(locale="en")
    db.session.commit()
    for _ in range(4):
        frozen.shift(timedelta(seconds=5))
        assert send(client, login, bot, space, days=1).status_code == 409
    assert widget_shown(client, login, bot, space)


def test_api_requests_count_towards_a_surge(factories, db, client, login, api_token, frozen):
    space = factories.space()
    bot = factories.user(locale="en")
    db.session.commit()
    headers = api_token(bot)
    for n in range(4):
        start, end = slot(n + 1)
        response = client.post("/api/v1/bookings", headers=headers, json={
            "space_id": space.id, "start": start.isoformat(), "end": end.isoformat(),
            "purpose": "매크로", "attendees": 2})
        assert response.status_code == 201
    assert widget_shown(client, login, factories.user(locale="en"), space)


def test_off_never_turns_on_and_other_spaces_are_not_touched(factories, db, client, login,
                                                           frozen):
    calm = factories.space(challenge_mode="off")
    neighbour = factories.space()
    person = factories.user(locale="en")
    db.session.commit()
    for n in range(6):
        assert send(client, login, person, calm, days=n + 1).status_code == 302
    assert not widget_shown(client, login, person, calm)
    assert not widget_shown(client, login, person, neighbour)


def test_the_manager_switches_the_check_and_sees_a_surge(factories, db, client, login, frozen):
    org = factories.org()
    manager = factories.manager(org, locale="en")
    space = factories.space(owner=org, name="강당", capacity=50)
    db.session.commit()
    login(manager)
    page = client.get(f"/manage/spaces/{space.id}/edit")
    html = page.get_data(as_text=True)
    assert ('<input checked id="challenge_mode-0" name="challenge_mode" type="radio" '
            'value="auto">') in html
    assert "more than 3 requests reach the space within a minute" in text_of(page)
    assert "On now because of a surge" not in text_of(page)

    response = client.post(f"/manage/spaces/{space.id}/edit",
                           data=form_data(name="강당", challenge_mode="always"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Space, space.id).challenge_mode == "always"

    bad = client.post(f"/manage/spaces/{space.id}/edit",
                      data=form_data(name="바뀐 이름", challenge_mode="sometimes"))
    assert bad.status_code == 200 and "Not a valid choice" in text_of(bad)
    db.session.expire_all()
    assert db.session.get(Space, space.id).name == "강당"

    space = db.session.get(Space, space.id)
    space.challenge_mode, space.challenge_until = "auto", NOW + timedelta(minutes=12)
    db.session.commit()
    page = client.get(f"/manage/spaces/{space.id}/edit")
    assert "On now because of a surge of requests, until 2030-03-04 (Mon) 10:12." in text_of(page)


def test_the_service_refuses_an_unknown_mode(factories, db, english):
    from app.errors import ValidationFailed
    from app.spaces import services

    org = factories.org()
    manager = factories.manager(org)
    space = factories.space(owner=org)
    with pytest.raises(ValidationFailed) as caught:
        services.update_space(space, manager, challenge_mode="sometimes")
    assert caught.value.errors == {
        "challenge_mode": ["Choose when requests need the check against macros."]}
    services.update_space(space, manager, challenge_mode="off")
    assert space.challenge_mode == "off"
