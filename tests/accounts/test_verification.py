"""An unconfirmed address may browse and keep its profile, not send booking requests or
lottery entries (pages, series, groups, instant spaces, the API); confirming lets it book."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.accounts.group_models import ResidentGroup, ResidentGroupMember
from app.accounts.services import verification_token
from app.bookings import series as series_services
from app.bookings import services as booking_services
from app.bookings.models import Booking
from app.errors import EmailUnverified
from app.notifications.delivery import _content
from app.notifications.models import EmailDelivery
from app.security.models import SecurityEvent
from tests.conftest import next_weekday

MESSAGE = "Confirm your email address before you send a booking request or enter a lottery"


def _form(start, hours: int = 2, **extra):
    local = start.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Seoul"))
    end = local + timedelta(hours=hours)
    return {"date": local.date().isoformat(), "start_time": f"{local:%H:%M}",
            "end_time": f"{end:%H:%M}", "purpose": "주민 합창 연습", "attendees": "12", **extra}


@pytest.fixture
def unverified(factories, db):
    return factories.user(email="new@example.org", email_verified_at=None)


def test_the_booking_page_explains_and_offers_a_new_link(client, db, factories, login,
                                                         unverified):
    space = factories.space()
    db.session.commit()
    login(unverified)
    page = client.get(f"/spaces/{space.id}/book")
    assert page.status_code == 200  # browsing is fine
    text = page.get_data(as_text=True)
    assert MESSAGE in text and "Send the link again" in text
    assert f'action="/account/verify-email?next=/spaces/{space.id}/book"' in text


@pytest.mark.parametrize("mode", ["request", "instant"])
def test_sending_a_request_is_refused_with_the_message(client, db, factories, login,
                                                       unverified, mode):
    space = factories.space(booking_mode=mode)
    db.session.commit()
    login(unverified)
    response = client.post(f"/spaces/{space.id}/book", data=_form(next_weekday(3, 18)))
    assert response.status_code == 403
    assert MESSAGE in response.get_data(as_text=True)
    assert db.session.scalars(select(Booking)).first() is None
    # Nothing was logged as a request sent (nor counted towards a surge).
    assert db.session.scalars(
        select(SecurityEvent).where(SecurityEvent.kind == "booking_requested")).first() is None


def test_a_series_and_a_group_request_are_refused_too(client, db, factories, login,
                                                      unverified):
    space = factories.space()
    group = ResidentGroup(name="합창단")
    group.members.append(ResidentGroupMember(user=unverified, is_leader=True))
    db.session.add(group)
    db.session.commit()
    login(unverified)
    start = next_weekday(3, 18)
    for extra in ({"repeat": "weekly", "count": "3", "weekdays": str(start.weekday())},
                  {"group_id": str(group.id)}):
        response = client.post(f"/spaces/{space.id}/book", data=_form(start, **extra))
        assert response.status_code == 403, extra
        assert MESSAGE in response.get_data(as_text=True)
    assert db.session.scalars(select(Booking)).first() is None


def test_every_service_path_refuses(db, factories, unverified):
    """The pages and the API go through these; so do lottery entries, instant bookings and
    group requests (all one service)."""
    space = factories.space(booking_mode="instant")
    start = next_weekday(3, 18)
    with pytest.raises(EmailUnverified):
        booking_services.create_booking(space, unverified, start=start,
                                        end=start + timedelta(hours=1), purpose="모임",
                                        attendees=3)
    with pytest.raises(EmailUnverified):
        series_services.create_series(
            space, unverified, series_services.Repeat(freq="weekly", count=2),
            date.fromisoformat(start.date().isoformat()), 18 * 60, 60,
            {"purpose": "모임", "attendees": 3}, skip_conflicts=True)


def test_the_api_answers_403_email_unverified(client, db, factories, api_token, unverified):
    space = factories.space()
    db.session.commit()
    headers = api_token(unverified)
    start = next_weekday(3, 18)
    response = client.post("/api/v1/bookings", headers=headers, json={
        "space_id": space.id, "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(), "purpose": "회의", "attendees": 3})
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "email_unverified" and error["message"]
    assert db.session.scalars(select(Booking)).first() is None
    # Reading is fine.
    assert client.get("/api/v1/bookings", headers=headers).status_code == 200


def test_the_profile_can_be_saved(client, db, login, unverified):
    db.session.commit()
    login(unverified)
    response = client.post("/account", data={
        "action": "profile", "profile-name": "새 이름", "profile-locale": "en",
        "profile-phone": "", "profile-district": "0"})
    assert response.status_code == 302
    db.session.refresh(unverified)
    assert unverified.name == "새 이름"


def test_the_new_link_is_throttled_and_returns_to_the_page(app, client, db, login, unverified,
                                                           monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_VERIFICATION_PER_ACCOUNT", "2 per hour")
    db.session.commit()
    login(unverified)
    first = client.post("/account/verify-email?next=/spaces/1/book")
    assert first.status_code == 302 and first.headers["Location"].endswith("/spaces/1/book")
    # Never elsewhere than this site.
    assert client.post("/account/verify-email?next=https://evil.example/").headers[
        "Location"].endswith("/account")
    assert client.post("/account/verify-email").status_code == 429
    kinds = db.session.scalars(select(EmailDelivery.kind)).all()
    assert kinds == ["email_verification", "email_verification"]


def test_once_confirmed_the_same_request_goes_through(client, db, factories, login, unverified):
    space = factories.space()
    db.session.commit()
    login(unverified)
    start = next_weekday(3, 18)
    assert client.post(f"/spaces/{space.id}/book", data=_form(start)).status_code == 403
    client.post("/account/verify-email")
    mail = db.session.scalars(select(EmailDelivery)).one()
    _content(mail)
    link = re.search(r"http://gonggan\.test(/verify-email/\S+)", mail.body_text or "")
    assert link and client.get(link.group(1)).status_code == 302
    assert client.post(f"/spaces/{space.id}/book", data=_form(start)).status_code == 302
    assert db.session.scalars(select(Booking)).one().user_id == unverified.id
    assert verification_token(unverified)  # the link was for this address
