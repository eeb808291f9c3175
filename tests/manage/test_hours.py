"""The weekly opening-hours editor."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.spaces.models import OpeningHours
from tests.manage.helpers import text_of


def week(space_id, db):
    return [
        (h.weekday, h.open_minute, h.close_minute)
        for h in db.session.scalars(
            select(OpeningHours)
            .where(OpeningHours.space_id == space_id)
            .order_by(OpeningHours.weekday, OpeningHours.open_minute)
        )
    ]


def selected(html: str, name: str) -> str:
    """The chosen time of a select in the editor ("" when none)."""
    start = html.index(f'name="{name}"')
    block = html[start:html.index("</select>", start)]
    match = re.search(r'<option value="([^"]*)" selected>', block)
    return match.group(1) if match else ""


def all_closed() -> dict:
    return {f"closed_{d}": "1" for d in range(7)}


def test_editor_shows_the_current_hours(factories, org, manager, login, client, db):
    space = factories.space(owner=org, hours={0: [(540, 720), (780, 1080)], 5: [(600, 1440)]})
    db.session.commit()
    login(manager)
    html = client.get(f"/manage/spaces/{space.id}/hours").get_data(as_text=True)
    assert selected(html, "open_0_0") == "09:00"
    assert selected(html, "close_0_1") == "18:00"
    assert selected(html, "close_5_0") == "24:00"
    assert 'name="closed_1" value="1" checked' in html
    assert 'name="closed_0" value="1">' in html


def test_save_split_hours_and_midnight(factories, org, manager, login, client, db):
    space = factories.space(owner=org)
    db.session.commit()
    login(manager)
    data = all_closed()
    del data["closed_0"], data["closed_6"]
    data.update(
        {
            "open_0_0": "09:00",
            "close_0_0": "12:00",
            "open_0_1": "13:00",
            "close_0_1": "18:30",
            "open_6_0": "18:00",
            "close_6_0": "24:00",
            "open_3_0": "10:00",
            "close_3_0": "11:00",  # Thursday is ticked closed: ignored
        }
    )
    response = client.post(f"/manage/spaces/{space.id}/hours", data=data)
    assert response.status_code == 302
    assert week(space.id, db) == [(0, 540, 720), (0, 780, 1110), (6, 1080, 1440)]
    assert "The opening hours were saved." in text_of(client.get(response.headers["Location"]))


def test_overlapping_ranges_are_refused_next_to_the_day(factories, org, manager, login, client, db):
    space = factories.space(owner=org, hours={2: [(600, 900)]})
    db.session.commit()
    login(manager)
    data = {"open_2_0": "09:00", "close_2_0": "12:00", "open_2_1": "11:30", "close_2_1": "15:00"}
    response = client.post(f"/manage/spaces/{space.id}/hours", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    day = html[html.index('id="day-2"') : html.index('id="day-3"')]
    assert "Wed: the ranges 09:00–12:00 and 11:30–15:00 overlap." in day
    assert 'value="11:30"' in day  # the input is kept
    assert "Nothing was saved" in text_of(response)
    assert week(space.id, db) == [(2, 600, 900)]


def test_malformed_times_are_refused(factories, org, manager, login, client, db):
    space = factories.space(owner=org, hours={4: [(600, 900)]})
    db.session.commit()
    login(manager)
    for opens, closes, message in [
        ("9시", "18:00", "Enter times as HH:MM, for example 09:00 or 24:00."),
        ("09:00", "25:00", "Enter times as HH:MM, for example 09:00 or 24:00."),
        ("09:60", "18:00", "Enter times as HH:MM, for example 09:00 or 24:00."),
        ("09:00", "", "Give both the opening and the closing time."),
        ("18:00", "09:00", "Fri: the opening time 18:00 must be before the closing time 09:00."),
    ]:
        response = client.post(
            f"/manage/spaces/{space.id}/hours", data={"open_4_0": opens, "close_4_0": closes}
        )
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html[html.index('id="day-4"') : html.index('id="day-5"')]
        assert week(space.id, db) == [(4, 600, 900)]


def test_every_day_closed_is_allowed(factories, org, manager, login, client, db):
    space = factories.space(owner=org)
    db.session.commit()
    login(manager)
    assert client.post(f"/manage/spaces/{space.id}/hours", data=all_closed()).status_code == 302
    assert week(space.id, db) == []
