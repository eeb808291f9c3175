"""Closures: listed in the space's zone, added with the bookings they affect, removed."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.bookings.models import Booking
from app.spaces.models import Closure
from tests.conftest import next_weekday
from tests.manage.helpers import text_of

SEOUL = ZoneInfo("Asia/Seoul")


def local_input(instant) -> str:
    return instant.astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M")


def test_add_closure_lists_affected_bookings_and_cancels_none(
    factories, manager, resident, space, login, client, db
):
    start = next_weekday(3, 10)
    hour = timedelta(hours=1)
    requested = factories.booking(space, resident, start=start, end=start + 2 * hour)
    approved = factories.booking(
        space, resident, start=start + 3 * hour, end=start + 4 * hour, status="approved"
    )
    factories.booking(space, start=start + 5 * hour, end=start + 6 * hour, status="rejected")
    outside = factories.booking(
        space, start=start + timedelta(days=1), end=start + timedelta(days=1, hours=1)
    )
    db.session.commit()
    login(manager)
    data = {
        "start": local_input(start - hour),
        "end": local_input(start + 8 * hour),
        "reason": "전기 점검",
    }
    preview = client.post(f"/manage/spaces/{space.id}/closures", data=data)
    assert preview.status_code == 200  # first the bookings it affects; nothing added yet
    assert db.session.scalars(select(Closure)).all() == []
    shown = preview.get_data(as_text=True)
    assert f'name="affected_ids" value="{requested.id},{approved.id}"' in shown
    response = client.post(
        f"/manage/spaces/{space.id}/closures",
        data={**data, "confirm": "1", "affected_ids": f"{requested.id},{approved.id}",
              "affected_action": "notify"},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    text = text_of(page)
    assert "2 bookings were kept; their residents have been told." in text
    assert "전기 점검" in text
    html = page.get_data(as_text=True)
    closure = db.session.scalars(select(Closure)).one()
    section = html[html.index(f'id="closure-{closure.id}"') :]
    assert f'href="/bookings/{requested.id}"' in section
    assert f'href="/bookings/{approved.id}"' in section
    assert f'href="/bookings/{outside.id}"' not in section
    # The closure shows in Seoul time: next Thursday 09:00 to 18:00.
    day = start.astimezone(SEOUL).date().isoformat()
    assert f"{day} (Thu) 09:00 – {day} (Thu) 18:00" in text
    db.session.expire_all()
    assert db.session.get(Booking, requested.id).status == "requested"
    assert db.session.get(Booking, approved.id).status == "approved"


def test_closure_without_bookings(manager, space, login, client, db):
    db.session.commit()
    login(manager)
    start = next_weekday(4, 10)
    response = client.post(
        f"/manage/spaces/{space.id}/closures",
        data={"start": local_input(start), "end": local_input(start + timedelta(days=2))},
        follow_redirects=True,
    )
    assert "The closure was added. No bookings are affected." in text_of(response)
    assert "No active bookings in this time." in text_of(response)


def test_closure_form_errors(manager, space, login, client, db):
    db.session.commit()
    login(manager)
    start = next_weekday(4, 10)
    url = f"/manage/spaces/{space.id}/closures"
    cases = [
        (
            {"start": local_input(start), "end": local_input(start)},
            "The end must be after the start.",
        ),
        ({"start": "", "end": local_input(start)}, "Enter the start date and time."),
        ({"start": "내일", "end": local_input(start)}, "Not a valid datetime value."),
        (
            {"start": "0001-01-01T00:00", "end": "0001-01-02T00:00"},
            "A closure must lie within ten years of today.",
        ),
        (
            {"start": local_input(start), "end": "9999-12-31T23:59"},
            "A closure must lie within ten years of today.",
        ),
        (
            {"start": "2020-01-01T10:00", "end": "2020-01-02T10:00"},
            "The closure must end in the future.",
        ),
        (
            {
                "start": local_input(start),
                "end": local_input(start + timedelta(hours=1)),
                "reason": "x" * 201,
            },
            "Field cannot be longer than 200 characters.",
        ),
    ]
    for data, message in cases:
        response = client.post(url, data=data)
        assert response.status_code == 422, data
        assert message in text_of(response), message
    assert db.session.scalars(select(Closure)).all() == []


def test_past_closures_are_not_listed_and_delete_works(
    factories, manager, space, login, client, now, db
):
    factories.closure(space, now - timedelta(days=3), now - timedelta(days=2), reason="지난 휴관")
    future = factories.closure(
        space, now + timedelta(days=2), now + timedelta(days=3), reason="설 연휴"
    )
    db.session.commit()
    login(manager)
    text = text_of(client.get(f"/manage/spaces/{space.id}/closures"))
    assert "설 연휴" in text and "지난 휴관" not in text
    response = client.post(
        f"/manage/spaces/{space.id}/closures/{future.id}/delete", follow_redirects=True
    )
    assert "The closure was removed" in text_of(response)
    assert [c.reason for c in db.session.scalars(select(Closure))] == ["지난 휴관"]


def test_closure_of_another_space_is_not_found(
    factories, org, manager, space, login, client, now, db
):
    other_space = factories.space(owner=org, name="다른 공간")
    closure = factories.closure(other_space, now + timedelta(days=1), now + timedelta(days=2))
    db.session.commit()
    login(manager)
    response = client.post(f"/manage/spaces/{space.id}/closures/{closure.id}/delete")
    assert response.status_code == 404
    assert db.session.get(Closure, closure.id) is not None
