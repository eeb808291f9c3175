"""Before new opening hours or a closure are saved, the manager sees the upcoming bookings they
would affect and chooses to keep them (residents told) or cancel them (owner cancellation, full
refund); the change and the cancellations are saved together or not at all."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.bookings import services as booking_services
from app.bookings.models import Booking
from app.errors import InvalidTransition
from app.notifications.models import Notification
from app.rules.editing import Scope, save_rule_set
from app.spaces.models import Closure
from tests.conftest import next_weekday
from tests.manage.helpers import text_of
from tests.manage.test_hours import selected, week

SEOUL = ZoneInfo("Asia/Seoul")


def every_day(opens="09:00", closes="22:00", **changes) -> dict:
    data = {}
    for d in range(7):
        data[f"open_{d}_0"], data[f"close_{d}_0"] = opens, closes
    data.update(changes)
    return data


def listed(response) -> list[int]:
    html = response.get_data(as_text=True)
    section = html[html.index('id="affected"'):] if 'id="affected"' in html else ""
    return [int(x) for x in re.findall(r'<li data-booking="(\d+)"', section)]


def hidden(response, name) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', response.get_data(as_text=True))
    assert match, name
    return match.group(1)


def kinds(db, booking) -> list[str]:
    return list(db.session.scalars(
        select(Notification.kind).where(Notification.booking_id == booking.id)
    ))


@pytest.fixture
def mornings(factories, space, resident, db):
    """Two Monday-morning bookings (next week and the week after) and one Monday evening."""
    first = next_weekday(0, 10)
    later = next_weekday(0, 10, weeks=2)
    evening = next_weekday(0, 19)
    made = [
        factories.booking(space, resident, start=t, end=t + timedelta(hours=1), status=s)
        for t, s in ((first, "approved"), (later, "confirmed"), (evening, "requested"))
    ]
    db.session.commit()
    return made


def test_new_hours_preview_lists_bookings_outside_them_and_saves_nothing(
    manager, space, mornings, login, client, db
):
    first, later, evening = mornings
    login(manager)
    response = client.post(
        f"/manage/spaces/{space.id}/hours", data=every_day(open_0_0="12:00")
    )
    assert response.status_code == 200
    assert listed(response) == [first.id, later.id]  # the evening booking still fits
    text = text_of(response)
    assert "2 upcoming bookings are affected. Nothing is saved until you confirm." in text
    assert "These bookings fall outside the new opening hours." in text
    assert (0, 540, 1320) in week(space.id, db)  # unchanged
    assert selected(response.get_data(as_text=True), "open_0_0") == "12:00"  # kept in the form


def test_effective_date_leaves_earlier_bookings_untouched(
    manager, space, mornings, login, client, db
):
    first, later, _evening = mornings
    login(manager)
    day = (first.start_at.astimezone(SEOUL) + timedelta(days=1)).date().isoformat()
    data = every_day(open_0_0="12:00", effective_from=day)
    response = client.post(f"/manage/spaces/{space.id}/hours", data=data)
    assert listed(response) == [later.id]
    response = client.post(
        f"/manage/spaces/{space.id}/hours",
        data={**data, "confirm": "1", "affected_ids": str(later.id),
              "affected_action": "cancel", "affected_note": "공사로 오전 운영 중단"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, first.id).status == "approved"
    assert db.session.get(Booking, later.id).status == "cancelled"
    assert (0, 720, 1320) in week(space.id, db)


def test_past_or_malformed_effective_dates_are_refused(manager, space, login, client, db):
    login(manager)
    yesterday = (datetime.now(SEOUL) - timedelta(days=1)).date().isoformat()
    for value, message in ((yesterday, "cannot be in the past"), ("12/01", "YYYY-MM-DD")):
        response = client.post(
            f"/manage/spaces/{space.id}/hours", data=every_day(effective_from=value)
        )
        assert response.status_code == 422
        assert message in text_of(response)


def test_keep_and_notify(manager, space, mornings, resident, login, client, db):
    first, later, evening = mornings
    login(manager)
    data = every_day(open_0_0="12:00")
    ids = hidden(client.post(f"/manage/spaces/{space.id}/hours", data=data), "affected_ids")
    response = client.post(
        f"/manage/spaces/{space.id}/hours",
        data={**data, "confirm": "1", "affected_ids": ids, "affected_action": "notify",
              "affected_note": "오전에는 관리인이 없습니다"},
    )
    assert response.status_code == 302
    assert "2 bookings were kept; their residents have been told." in text_of(
        client.get(response.headers["Location"])
    )
    db.session.expire_all()
    for booking in (first, later):
        assert db.session.get(Booking, booking.id).status in ("approved", "confirmed")
        assert "booking_affected" in kinds(db, booking)
    assert "booking_affected" not in kinds(db, evening)
    note = db.session.scalars(
        select(Notification).where(Notification.kind == "booking_affected")
    ).first()
    assert note.params["change"]["kind"] == "hours"
    assert note.params["change"]["note"] == "오전에는 관리인이 없습니다"
    assert (0, 720, 1320) in week(space.id, db)


def test_cancel_goes_through_the_owner_cancellation(
    manager, space, mornings, login, client, db, monkeypatch
):
    first, later, _evening = mornings
    calls = []
    real = booking_services.cancel

    def spy(booking, actor, **kw):
        calls.append((booking.id, actor.id, kw.get("reason")))
        return real(booking, actor, **kw)

    monkeypatch.setattr(booking_services, "cancel", spy)
    login(manager)
    data = every_day(open_0_0="12:00")
    ids = hidden(client.post(f"/manage/spaces/{space.id}/hours", data=data), "affected_ids")
    # Cancelling without a reason for the residents is refused; nothing saved.
    response = client.post(
        f"/manage/spaces/{space.id}/hours",
        data={**data, "confirm": "1", "affected_ids": ids, "affected_action": "cancel"},
    )
    assert "Give the residents a reason for the cancellation." in text_of(response)
    assert calls == [] and (0, 540, 1320) in week(space.id, db)
    response = client.post(
        f"/manage/spaces/{space.id}/hours",
        data={**data, "confirm": "1", "affected_ids": ids, "affected_action": "cancel",
              "affected_note": "오전 휴관"},
    )
    assert response.status_code == 302
    assert sorted(calls) == sorted([(first.id, manager.id, "오전 휴관"),
                                    (later.id, manager.id, "오전 휴관")])
    assert "2 bookings were cancelled and will be refunded in full." in text_of(
        client.get(response.headers["Location"])
    )
    db.session.expire_all()
    assert db.session.get(Booking, first.id).status == "cancelled"
    assert db.session.get(Booking, later.id).status == "cancelled"


def test_a_failed_cancellation_saves_nothing(
    manager, space, mornings, login, client, db, monkeypatch
):
    first, later, _evening = mornings
    real = booking_services.cancel

    def second_fails(booking, actor, **kw):
        if booking.id == later.id:
            raise InvalidTransition("이미 처리된 예약입니다")
        return real(booking, actor, **kw)

    monkeypatch.setattr(booking_services, "cancel", second_fails)
    login(manager)
    data = every_day(open_0_0="12:00")
    response = client.post(
        f"/manage/spaces/{space.id}/hours",
        data={**data, "confirm": "1", "affected_ids": f"{first.id},{later.id}",
              "affected_action": "cancel", "affected_note": "오전 휴관"},
    )
    assert response.status_code == 422
    assert "이미 처리된 예약입니다" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Booking, first.id).status == "approved"  # rolled back with the rest
    assert (0, 540, 1320) in week(space.id, db)


def test_a_booking_made_since_the_preview_is_shown_again(
    factories, manager, space, mornings, resident, login, client, db
):
    first, later, _evening = mornings
    login(manager)
    data = every_day(open_0_0="12:00")
    ids = hidden(client.post(f"/manage/spaces/{space.id}/hours", data=data), "affected_ids")
    t = next_weekday(0, 9, weeks=3)
    newer = factories.booking(space, resident, start=t, end=t + timedelta(hours=1))
    db.session.commit()
    response = client.post(
        f"/manage/spaces/{space.id}/hours",
        data={**data, "confirm": "1", "affected_ids": ids, "affected_action": "notify"},
    )
    assert response.status_code == 200
    assert listed(response) == [first.id, later.id, newer.id]
    assert "The affected bookings changed since the preview." in text_of(response)
    assert (0, 540, 1320) in week(space.id, db)


def test_hours_outside_the_rules_limits_are_refused_naming_the_rule(
    manager, space, login, client, db
):
    hours = {str(d): [[9 * 60, 22 * 60]] for d in range(7)}
    save_rule_set(manager, Scope("space", space), {"allowed_hours": hours},
                  datetime.now(SEOUL).date())  # fmt: skip
    db.session.commit()
    login(manager)
    page = text_of(client.get(f"/manage/spaces/{space.id}/hours"))
    assert f"The rules of {space.name} allow bookings only between 09:00 and 22:00." in page
    response = client.post(
        f"/manage/spaces/{space.id}/hours",
        data=every_day(open_0_0="07:00", close_4_0="23:00"),
    )
    assert response.status_code == 422
    text = text_of(response)
    assert (f"Mon: opening at 07:00 is not allowed. The rules of {space.name} allow no "
            "bookings before 09:00.") in text
    assert "Fri: closing at 23:00 is not allowed." in text
    assert week(space.id, db)[0] == (0, 540, 1320)
    # Within the limits it saves.
    ok = client.post(f"/manage/spaces/{space.id}/hours", data=every_day(open_0_0="10:00"))
    assert ok.status_code == 302


def test_copy_monday_to_weekdays_without_javascript(manager, space, login, client, db):
    login(manager)
    data = every_day(open_0_0="08:00", close_0_0="12:00", open_0_1="13:00", close_0_1="20:00")
    response = client.post(f"/manage/spaces/{space.id}/hours", data={**data, "copy": "weekdays"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Monday's hours were copied to Tuesday–Friday. Nothing is saved yet" in text_of(
        response
    )
    for d in range(1, 5):
        assert (selected(html, f"open_{d}_0"), selected(html, f"close_{d}_1")) == ("08:00",
                                                                                   "20:00")
    assert selected(html, "open_5_0") == "09:00" and selected(html, "open_5_1") == ""
    assert week(space.id, db)[0] == (0, 540, 1320)  # nothing saved yet
    # Submitting the copied rows saves them.
    form = {**data}
    for d in range(1, 5):
        form.update({f"open_{d}_0": "08:00", f"close_{d}_0": "12:00",
                     f"open_{d}_1": "13:00", f"close_{d}_1": "20:00"})
    assert client.post(f"/manage/spaces/{space.id}/hours", data=form).status_code == 302
    saved = week(space.id, db)
    assert [(w, o, c) for w, o, c in saved if w == 3] == [(3, 480, 720), (3, 780, 1200)]
    assert [(w, o, c) for w, o, c in saved if w == 6] == [(6, 540, 1320)]


def test_copy_a_closed_monday_to_all_days(manager, space, login, client, db):
    login(manager)
    data = every_day(closed_0="1")
    html = client.post(f"/manage/spaces/{space.id}/hours",
                       data={**data, "copy": "all"}).get_data(as_text=True)  # fmt: skip
    for d in range(7):
        assert f'name="closed_{d}" value="1" checked' in html


def test_closure_preview_and_cancel_choice(
    factories, manager, space, resident, login, client, db
):
    start = next_weekday(3, 10)
    inside = factories.booking(space, resident, start=start, end=start + timedelta(hours=1),
                               status="approved")  # fmt: skip
    db.session.commit()
    login(manager)
    fmt = "%Y-%m-%dT%H:%M"
    data = {"start": (start - timedelta(hours=1)).astimezone(SEOUL).strftime(fmt),
            "end": (start + timedelta(hours=3)).astimezone(SEOUL).strftime(fmt),
            "reason": "소독"}  # fmt: skip
    preview = client.post(f"/manage/spaces/{space.id}/closures", data=data)
    assert listed(preview) == [inside.id]
    assert "These bookings fall inside the closure." in text_of(preview)
    assert db.session.scalars(select(Closure)).all() == []
    response = client.post(
        f"/manage/spaces/{space.id}/closures",
        data={**data, "confirm": "1", "affected_ids": str(inside.id),
              "affected_action": "cancel", "affected_note": "소독 작업"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, inside.id).status == "cancelled"
    assert len(db.session.scalars(select(Closure)).all()) == 1
    # Cancelled before the closure: no "a closure affects your booking" message on top.
    assert "closure_conflict" not in kinds(db, inside)


def test_an_invalid_closure_shows_its_errors_not_a_preview(
    factories, manager, space, resident, login, client, db
):
    start = next_weekday(3, 10)
    factories.booking(space, resident, start=start, end=start + timedelta(hours=1))
    db.session.commit()
    login(manager)
    fmt = "%Y-%m-%dT%H:%M"
    response = client.post(f"/manage/spaces/{space.id}/closures", data={
        "start": (start - timedelta(hours=1)).astimezone(SEOUL).strftime(fmt),
        "end": (start + timedelta(hours=3)).astimezone(SEOUL).strftime(fmt),
        "reason": "x" * 600,
    })
    assert response.status_code == 422
    assert listed(response) == []
    assert db.session.scalars(select(Closure)).all() == []


def test_hours_preview_runs_a_bounded_number_of_queries(
    factories, manager, space, resident, login, client, db, count_queries
):
    login(manager)
    data = every_day(open_0_0="12:00")

    def measure() -> int:
        client.post(f"/manage/spaces/{space.id}/hours", data=data)
        with count_queries() as q:
            assert client.post(f"/manage/spaces/{space.id}/hours", data=data).status_code == 200
        return q.count

    t = next_weekday(0, 10)
    factories.booking(space, resident, start=t, end=t + timedelta(hours=1))
    db.session.commit()
    few = measure()
    for n in range(6):
        t = next_weekday(0, 9, weeks=n + 2)
        factories.booking(space, factories.user(name=f"주민{n}"), start=t,
                          end=t + timedelta(hours=1))  # fmt: skip
    db.session.commit()
    assert measure() == few

