"""The proof of work on the booking form: asked only when the space says so, refused when
missing, forged, expired or sent twice, never asked of the "check" button or the API."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.bookings.models import Booking, BookingSeries
from app.security.models import BOOKING_REQUESTED, CHALLENGE_FAILED, SecurityEvent
from tests.manage.helpers import text_of
from tests.security.conftest import NOW, form, slot, solve

WIDGET = "<altcha-widget"
NEEDS_JS = "needs JavaScript right now"


def bookings(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Booking.id)))


def events(db, kind: str) -> list[SecurityEvent]:
    db.session.expire_all()
    return db.session.scalars(
        select(SecurityEvent).where(SecurityEvent.kind == kind).order_by(SecurityEvent.id)
    ).all()


@pytest.fixture
def resident(factories):
    return factories.user(name="김주민", locale="en")


def test_a_space_that_does_not_ask_takes_requests_without_the_widget(
    factories, db, client, login, frozen, resident
):
    space = factories.space(challenge_mode="off")
    db.session.commit()
    login(resident)
    start, end = slot(3)
    page = client.get(f"/spaces/{space.id}/book")
    assert WIDGET not in page.get_data(as_text=True)
    assert client.post(f"/spaces/{space.id}/book", data=form(start, end)).status_code == 302
    assert bookings(db) == 1
    logged = events(db, BOOKING_REQUESTED)
    assert [(e.space_id, e.user_id, e.detail["via"]) for e in logged] == [
        (space.id, resident.id, "form")]
    assert events(db, CHALLENGE_FAILED) == []


def test_always_shows_the_widget_served_from_this_site(factories, db, client, login, frozen,
                                                       resident):
    space = factories.space(challenge_mode="always")
    db.session.commit()
    login(resident)
    html = client.get(f"/spaces/{space.id}/book").get_data(as_text=True)
    assert WIDGET in html and f'challenge="/spaces/{space.id}/challenge"' in html
    assert 'src="/static/vendor/altcha/altcha.min.js"' in html
    assert 'data-worker="/static/vendor/altcha/pbkdf2.js"' in html
    assert "<noscript>" in html and NEEDS_JS in html
    assert "https://" not in html.split(WIDGET)[1].split("</altcha-widget>")[0]
    # The files the page names are served by the app itself.
    for path in ("vendor/altcha/altcha.min.js", "vendor/altcha/altcha.css",
                 "vendor/altcha/pbkdf2.js", "js/challenge.js"):
        assert client.get(f"/static/{path}").status_code == 200


def test_a_request_without_the_check_is_refused_and_changes_nothing(
    factories, db, client, login, frozen, resident
):
    space = factories.space(challenge_mode="always")
    db.session.commit()
    login(resident)
    start, end = slot(3)
    response = client.post(f"/spaces/{space.id}/book", data=form(start, end))
    assert response.status_code == 422
    assert "short automatic check against macro programs" in text_of(response)
    assert "Nothing was sent." in text_of(response)
    assert WIDGET in response.get_data(as_text=True)  # the form offers the check again
    assert bookings(db) == 0
    failed = events(db, CHALLENGE_FAILED)
    assert [(e.space_id, e.user_id, e.detail["reason"]) for e in failed] == [
        (space.id, resident.id, "missing")]
    assert len(events(db, BOOKING_REQUESTED)) == 1  # the attempt counts all the same


def test_a_solved_check_sends_the_request(factories, db, client, login, frozen, resident):
    space = factories.space(challenge_mode="always")
    db.session.commit()
    login(resident)
    start, end = slot(3)
    response = client.post(f"/spaces/{space.id}/book",
                           data=form(start, end, payload=solve(client, space.id)))
    assert response.status_code == 302 and "/bookings/" in response.headers["Location"]
    assert bookings(db) == 1
    assert events(db, CHALLENGE_FAILED) == []


def test_the_check_button_never_needs_the_proof(factories, db, client, login, frozen, resident):
    space = factories.space(challenge_mode="always")
    db.session.commit()
    login(resident)
    start, end = slot(3)
    data = form(start, end)
    del data["send"]
    data["check"] = "1"
    response = client.post(f"/spaces/{space.id}/book", data=data)
    assert response.status_code == 200
    assert "automatic check" not in text_of(response).split("To keep macro programs")[0]
    assert events(db, CHALLENGE_FAILED) == [] and events(db, BOOKING_REQUESTED) == []
    assert bookings(db) == 0


def test_a_solution_is_accepted_once(factories, db, client, login, frozen, resident):
    space = factories.space(challenge_mode="always")
    db.session.commit()
    login(resident)
    payload = solve(client, space.id)
    first, second = slot(3), slot(4)
    assert client.post(f"/spaces/{space.id}/book",
                       data=form(*first, payload=payload)).status_code == 302
    replay = client.post(f"/spaces/{space.id}/book", data=form(*second, payload=payload))
    assert replay.status_code == 422
    assert "already used for another request" in text_of(replay)
    assert bookings(db) == 1
    assert [e.detail["reason"] for e in events(db, CHALLENGE_FAILED)] == ["reused"]


def test_a_solution_stays_spent_when_the_booking_is_refused(
    factories, db, client, login, frozen, resident
):
    """The slot is taken: the request is refused (409), and its solution cannot be sent again."""
    space = factories.space(challenge_mode="always")
    start, end = slot(3)
    factories.booking(space, factories.user(), start=start, end=end)
    db.session.commit()
    login(resident)
    payload = solve(client, space.id)
    assert client.post(f"/spaces/{space.id}/book",
                       data=form(start, end, payload=payload)).status_code == 409
    again = client.post(f"/spaces/{space.id}/book", data=form(*slot(4), payload=payload))
    assert again.status_code == 422 and bookings(db) == 1
    assert len(events(db, BOOKING_REQUESTED)) == 2


def test_an_expired_solution_is_refused(factories, db, client, login, frozen, resident):
    space = factories.space(challenge_mode="always")
    db.session.commit()
    login(resident)
    payload = solve(client, space.id)
    frozen.shift(timedelta(minutes=10, seconds=1))
    response = client.post(f"/spaces/{space.id}/book", data=form(*slot(3), payload=payload))
    assert response.status_code == 422 and "expired" in text_of(response)
    assert bookings(db) == 0
    assert [e.detail["reason"] for e in events(db, CHALLENGE_FAILED)] == ["expired"]


def _tampered(payload: str) -> str:
    data = json.loads(base64.b64decode(payload))
    data["challenge"]["parameters"]["cost"] = 1  # cheaper work, same signature
    return base64.b64encode(json.dumps(data).encode()).decode()


@pytest.mark.parametrize("case", ["other space", "other account", "tampered", "garbage", "huge"])
def test_a_forged_or_borrowed_solution_is_refused(factories, db, client, login, frozen, resident,
                                                  case):
    space = factories.space(challenge_mode="always")
    other_space = factories.space(challenge_mode="always", owner=space.owner)
    someone = factories.user(locale="en")
    db.session.commit()
    if case == "other space":
        login(resident)
        payload = solve(client, other_space.id)
    elif case == "other account":
        login(someone)
        payload = solve(client, space.id)
        login(resident)
    elif case == "tampered":
        login(resident)
        payload = _tampered(solve(client, space.id))
    elif case == "garbage":
        login(resident)
        payload = "bm90IGEgc29sdXRpb24=%%%"
    else:
        login(resident)
        payload = "A" * 100_000
    response = client.post(f"/spaces/{space.id}/book", data=form(*slot(3), payload=payload))
    assert response.status_code == 422
    assert "did not pass" in text_of(response)
    assert bookings(db) == 0
    assert [e.detail["reason"] for e in events(db, CHALLENGE_FAILED)] == ["invalid"]


def test_a_repeating_request_needs_the_check_too(factories, db, client, login, frozen, resident):
    space = factories.space(challenge_mode="always")
    db.session.commit()
    login(resident)
    start, end = slot(3)
    series = {"repeat": "weekly", "interval": "1", "count": "3"}
    refused = client.post(f"/spaces/{space.id}/book", data=form(start, end, **series))
    assert refused.status_code == 422 and "Nothing was sent." in text_of(refused)
    assert db.session.scalar(select(BookingSeries)) is None
    sent = client.post(f"/spaces/{space.id}/book",
                       data=form(start, end, payload=solve(client, space.id), **series))
    assert sent.status_code == 302 and "/bookings/series/" in sent.headers["Location"]
    assert bookings(db) == 3
    assert len(events(db, BOOKING_REQUESTED)) == 2  # one per request, not per date


def test_api_requests_are_logged_but_never_asked(factories, db, client, api_token, frozen,
                                                 resident):
    space = factories.space(challenge_mode="always")
    db.session.commit()
    start, end = slot(3)
    response = client.post(
        "/api/v1/bookings", headers=api_token(resident),
        json={"space_id": space.id, "start": start.isoformat(), "end": end.isoformat(),
              "purpose": "주민 합창 연습", "attendees": 12},
    )
    assert response.status_code == 201, response.get_json()
    logged = events(db, BOOKING_REQUESTED)
    assert [(e.space_id, e.user_id, e.detail["via"]) for e in logged] == [
        (space.id, resident.id, "api")]
    assert events(db, CHALLENGE_FAILED) == []


def test_the_challenge_endpoint(factories, db, client, login, app, monkeypatch, frozen,
                                resident):
    space = factories.space(challenge_mode="always")
    hidden = factories.space(published=False)
    db.session.commit()
    assert client.get(f"/spaces/{space.id}/challenge").status_code == 302  # log in first
    login(resident)
    response = client.get(f"/spaces/{space.id}/challenge")
    body = response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    assert body["parameters"]["algorithm"] == "PBKDF2/SHA-256"
    assert body["parameters"]["expiresAt"] == int((NOW + timedelta(minutes=10)).timestamp())
    assert body["parameters"]["data"] == {"space": space.id, "user": resident.id}
    assert body["signature"]
    assert client.get(f"/spaces/{hidden.id}/challenge").status_code == 404
    monkeypatch.setitem(app.config, "RATELIMIT_CHALLENGE_PER_ACCOUNT", "2 per minute")
    codes = [client.get(f"/spaces/{space.id}/challenge").status_code for _ in range(3)]
    assert codes[-1] == 429

