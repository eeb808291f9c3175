"""What each person can actually book: the week calendar judges every free slot by the rules
for the viewer; a search carries its time and headcount into the results and the space's page;
the form's check runs every check the send runs.

The clock stands still at a Tuesday 10:00 in Seoul next year (time_machine), so notice periods,
windows and draws are judged at a known instant whatever the hour of the run.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.bookings.models import Booking
from app.extensions import db
from tests.approvals import add_rules
from tests.manage.helpers import text_of

SEOUL = ZoneInfo("Asia/Seoul")
YEAR = date.today().year + 1
TUESDAY = date(YEAR, 3, 2) + timedelta(days=(1 - date(YEAR, 3, 2).weekday()) % 7)
NOW = datetime.combine(TUESDAY, time(10), SEOUL).astimezone(UTC)


def at(day: date, hour: int, minute: int = 0) -> str:
    """The local ISO start of a calendar cell, as the page writes it."""
    return datetime.combine(day, time(hour, minute), SEOUL).isoformat()


def cells(page: str) -> dict[str, tuple[set[str], str]]:
    """Calendar cells: local ISO start -> (classes, tooltip)."""
    out = {}
    for tag in re.findall(r"<td [^>]*data-start=[^>]*>", page):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        title = html.unescape(attrs.get("title", ""))
        out[attrs["data-start"]] = (set(attrs["class"].split()), title)
    return out


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def town(factories, db):
    """A gym of a school in 강북구 (capacity 80, open 09–22), a resident and a non-resident."""
    gangbuk = factories.jurisdiction(name="강북구")
    dobong = factories.jurisdiction(name="도봉구")
    org = factories.org()
    gym = factories.space(owner=org, name="체육관", capacity=80, jurisdictions=[gangbuk],
                          price_per_hour=30000)
    verified = NOW - timedelta(days=30)
    resident = factories.user(name="주민", locale="en", home_district_id=gangbuk.id,
                              home_district_verified_at=verified)
    outsider = factories.user(name="외부인", locale="en", home_district_id=dobong.id,
                              home_district_verified_at=verified)
    db.session.commit()
    return gym, org, resident, outsider


def page_of(client, space, **args) -> str:
    response = client.get(f"/spaces/{space.id}", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_slots_inside_the_notice_period_are_not_bookable(frozen, town, client, login):
    gym, org, resident, _ = town
    add_rules(space_id=gym.id, body={"min_notice_hours": 24})
    db.session.commit()
    login(resident)
    grid = cells(page_of(client, gym))
    classes, why = grid[at(TUESDAY, 15)]
    assert "refused" in classes and "at least 24 hours before the start" in why
    assert "refused" in grid[at(TUESDAY + timedelta(days=1), 9, 30)][0]  # 23.5 hours ahead
    assert "free" in grid[at(TUESDAY + timedelta(days=1), 10, 30)][0]  # 24.5 hours ahead


def test_residents_first_window_refuses_non_residents_only(frozen, town, client, login):
    gym, org, resident, outsider = town
    add_rules(organisation_id=org.id,
              body={"eligibility": "residents_first", "residents_first_days": 7})
    db.session.commit()
    week_after = (TUESDAY + timedelta(days=7)).isoformat()
    soon, later = TUESDAY + timedelta(days=5), TUESDAY + timedelta(days=8)

    login(outsider)
    grid = cells(page_of(client, gym))
    assert "free" in grid[at(soon, 18)][0]  # within 7 days: open to everybody
    grid = cells(page_of(client, gym, week=week_after))
    classes, why = grid[at(later, 18)]
    assert "refused" in classes
    assert "Non-residents may book only 7 days before the start" in why
    client.get("/logout")

    login(resident)
    assert "free" in cells(page_of(client, gym, week=week_after))[at(later, 18)][0]


def test_anonymous_visitors_see_the_general_rules_and_a_sign_in_hint(frozen, town, client):
    gym, org, *_ = town
    add_rules(organisation_id=org.id, body={"eligibility": "residents", "min_notice_hours": 24})
    db.session.commit()
    page = page_of(client, gym)
    grid = cells(page)
    assert "refused" in grid[at(TUESDAY, 15)][0]  # the notice period binds everybody
    assert "free" in grid[at(TUESDAY + timedelta(days=2), 15)][0]  # residency is not known
    assert 'class="hint sign-in-hint"' in page and "/login?next=" in page


def test_lottery_slots_are_marked_as_lottery(frozen, town, client, login):
    gym, org, resident, _ = town
    window = {"weekdays": [5], "start": 540, "end": 720, "draw_days_before": 7,
              "draw_minute": 600, "cap_per_month": 1}
    add_rules(space_id=gym.id, body={"lottery": [window]})
    db.session.commit()
    login(resident)
    saturday = TUESDAY + timedelta(days=11)  # drawn on the Saturday before: still ahead
    grid = cells(page_of(client, gym, week=saturday.isoformat()))
    classes, why = grid[at(saturday, 10)]
    assert {"free", "lottery"} <= classes and "drawn, not first come" in why
    assert "lottery" not in grid[at(saturday, 13)][0]
    # This week's Saturday was drawn already: what is left goes first come.
    this_saturday = TUESDAY + timedelta(days=4)
    assert cells(page_of(client, gym))[at(this_saturday, 10)][0] == {"free"}


def test_more_people_than_the_space_holds_makes_every_slot_unbookable(frozen, town, client,
                                                                      login):
    gym, _, resident, _ = town
    login(resident)
    grid = cells(page_of(client, gym, people=200))
    classes, why = grid[at(TUESDAY + timedelta(days=1), 15)]
    assert "refused" in classes and "holds at most 80 people" in why
    assert "free" in cells(page_of(client, gym, people=80))[at(TUESDAY + timedelta(days=1), 15)][0]


def test_closures_say_so_with_their_reason(frozen, town, client, factories, login):
    gym, _, resident, _ = town
    wednesday = TUESDAY + timedelta(days=1)
    factories.closure(gym, datetime.combine(wednesday, time(14), SEOUL),
                      datetime.combine(wednesday, time(16), SEOUL), reason="바닥 공사")
    db.session.commit()
    login(resident)
    grid = cells(page_of(client, gym))
    assert grid[at(wednesday, 14, 30)] == ({"closure"}, "바닥 공사")
    assert "free" in grid[at(wednesday, 16)][0]


def test_a_used_quota_makes_the_week_unbookable(frozen, town, client, factories, login):
    gym, org, resident, _ = town
    add_rules(organisation_id=org.id,
              body={"quotas": [{"per": "user", "period": "week", "max_bookings": 1}]})
    thursday = datetime.combine(TUESDAY + timedelta(days=2), time(18), SEOUL)
    factories.booking(gym, resident, start=thursday, end=thursday + timedelta(hours=1))
    db.session.commit()
    login(resident)
    grid = cells(page_of(client, gym))
    classes, why = grid[at(TUESDAY + timedelta(days=3), 15)]
    assert "refused" in classes and "At most 1 bookings" in why
    next_week = cells(page_of(client, gym, week=(TUESDAY + timedelta(days=7)).isoformat()))
    assert "free" in next_week[at(TUESDAY + timedelta(days=8), 15)][0]


def test_the_judged_calendar_runs_a_bounded_number_of_queries(frozen, town, client, factories,
                                                             login, queries_of_get):
    """Quotas per week and per month, bookings and closures: the count does not grow with
    them or with the number of slots (a week across a month's end included)."""
    gym, org, resident, _ = town
    add_rules(organisation_id=org.id, body={"quotas": [
        {"per": "user", "period": "week", "max_bookings": 50},
        {"per": "user", "period": "month", "max_hours": 100},
    ]})
    db.session.commit()
    login(resident)
    # The week holding the end of March: two months, so two sets of quota usage.
    week = date(YEAR, 3, 31).isoformat()
    few = queries_of_get(f"/spaces/{gym.id}?week={week}")
    for i in range(12):
        start = datetime.combine(date(YEAR, 3, 30) + timedelta(days=i % 5), time(9 + i // 5),
                                 SEOUL)
        factories.booking(gym, resident, start=start, end=start + timedelta(hours=1))
        factories.closure(gym, start + timedelta(hours=5), start + timedelta(hours=5, minutes=30))
    db.session.commit()
    many = queries_of_get(f"/spaces/{gym.id}?week={week}")
    assert few == many <= 20


def test_a_search_carries_its_time_and_headcount_to_the_space(frozen, town, client, login):
    gym, _, resident, _ = town
    login(resident)
    wednesday = (TUESDAY + timedelta(days=1)).isoformat()
    response = client.get("/spaces", query_string={
        "date": wednesday, "from_time": "18:00", "to_time": "20:00", "min_capacity": "30"})
    page = response.get_data(as_text=True)
    assert "Available · ₩60,000" in text_of(response)
    link = html.unescape(re.search(rf'href="(/spaces/{gym.id}\?[^"]+)"', page).group(1))
    for arg in (f"date={wednesday}", "start=18:00", "end=20:00", "people=30"):
        assert arg in link.replace("%3A", ":")

    space_page = client.get(link)
    grid = cells(space_page.get_data(as_text=True))
    chosen = {start for start, (classes, _) in grid.items() if "chosen" in classes}
    day = TUESDAY + timedelta(days=1)
    assert chosen == {at(day, 18), at(day, 18, 30), at(day, 19), at(day, 19, 30)}
    text = text_of(space_page)
    assert "Available · ₩60,000" in text and "30 people" in text
    form_link = html.unescape(re.search(r'href="(/spaces/\d+/book\?[^"]+)"[^>]*>Request this time',
                                        space_page.get_data(as_text=True)).group(1))
    form = client.get(form_link).get_data(as_text=True)
    assert re.search(r'name="attendees"[^>]*value="30"', form)
    assert re.search(r'name="start_time"[^>]*value="18:00"', form)
    assert re.search(r'name="end_time"[^>]*value="20:00"', form)


def test_a_search_result_says_why_the_searched_time_cannot_be_booked(frozen, town, client,
                                                                     login):
    gym, org, _, outsider = town
    add_rules(organisation_id=org.id,
              body={"eligibility": "residents_first", "residents_first_days": 7})
    db.session.commit()
    login(outsider)
    response = client.get("/spaces", query_string={
        "date": (TUESDAY + timedelta(days=9)).isoformat(), "from_time": "18:00",
        "to_time": "20:00"})
    assert "Not bookable: Residents first until" in text_of(response)


def form_for(day: date, **changes) -> dict:
    return {"date": day.isoformat(), "start_time": "18:00", "end_time": "20:00",
            "attendees": "20", "purpose": "배드민턴 모임", "purpose_category": "sports",
            "waiver": ""} | changes


@pytest.mark.parametrize("button", ["check", "send"])
def test_the_check_refuses_what_sending_refuses(frozen, town, client, login, button):
    gym, _, resident, _ = town
    login(resident)
    data = form_for(TUESDAY + timedelta(days=1), attendees="200") | {button: "1"}
    response = client.post(f"/spaces/{gym.id}/book", data=data)
    text = text_of(response)
    assert response.status_code == 422
    assert "This space holds at most 80 people." in text
    assert "The rules allow this request." not in text
    assert db.session.query(Booking).count() == 0


def test_the_check_sees_a_taken_time_like_sending(frozen, town, client, login, factories):
    gym, _, resident, outsider = town
    wednesday = TUESDAY + timedelta(days=1)
    start = datetime.combine(wednesday, time(18), SEOUL)
    factories.booking(gym, outsider, start=start, end=start + timedelta(hours=2))
    db.session.commit()
    login(resident)
    for button in ("check", "send"):
        response = client.post(f"/spaces/{gym.id}/book", data=form_for(wednesday) | {button: "1"})
        assert response.status_code == 409
        assert "The rules allow this request." not in text_of(response)
    ok = client.post(f"/spaces/{gym.id}/book",
                     data=form_for(wednesday, start_time="10:00", end_time="12:00", check="1"))
    assert ok.status_code == 200 and "The rules allow this request." in text_of(ok)
