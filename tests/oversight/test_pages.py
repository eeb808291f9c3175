"""Officer pages: spaces under my jurisdictions, counts by status, totals, the bookings list."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.conftest import next_weekday
from tests.manage.helpers import text_of


def counts_in(html: str, attr: str, key) -> dict[str, int]:
    """The numbers of the table row `<tr data-{attr}="{key}">`, by status."""
    row = re.search(rf'<tr data-{attr}="{key}">(.*?)</tr>', html, re.S)
    assert row, f"no row {attr}={key}"
    return {
        status: int(n)
        for status, n in re.findall(r'<td data-status="(\w+)">(\d+)</td>', row.group(1))
    }


@pytest.fixture
def world(factories, seoul, gangbuk, dobong, elsewhere, db):
    """Spaces: one under Gangbuk, one under Dobong, one tagged Seoul and Gangbuk, one in Busan."""
    start = next_weekday(2, 10)
    hour = timedelta(hours=1)
    s_gangbuk = factories.space(name="강북 강당", type="auditorium", jurisdictions=[gangbuk])
    s_dobong = factories.space(name="도봉 회의실", jurisdictions=[dobong])
    s_both = factories.space(name="서울 옥상", type="rooftop", jurisdictions=[seoul, gangbuk])
    s_busan = factories.space(name="부산 체육관", type="gym", jurisdictions=[elsewhere])
    resident = factories.user(name="이용자")

    def book(space, n, status=None, days=0):
        return factories.booking(
            space,
            resident,
            start=start + timedelta(days=days, hours=2 * n),
            end=start + timedelta(days=days, hours=2 * n) + hour,
            status=status,
        )

    book(s_gangbuk, 0)
    book(s_gangbuk, 1, "approved")
    book(s_gangbuk, 2, "rejected")
    book(s_gangbuk, 3, "requested", days=60)  # outside the default period
    book(s_dobong, 0, "confirmed")
    book(s_both, 0, "cancelled")
    book(s_both, 1, "approved")
    book(s_busan, 0, "approved")
    s_dobong.published = False  # officers see unpublished spaces too
    db.session.commit()
    return {"gangbuk": s_gangbuk, "dobong": s_dobong, "both": s_both, "busan": s_busan}


def test_seoul_officer_sees_every_district(factories, seoul, world, login, client, db):
    officer = factories.officer(seoul, locale="en")
    db.session.commit()
    login(officer)
    response = client.get("/oversight/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(response)
    for name in ("강북 강당", "도봉 회의실", "서울 옥상"):
        assert name in text
    assert "부산 체육관" not in text

    assert counts_in(html, "space", world["gangbuk"].id) == {
        "requested": 1,
        "approved": 1,
        "confirmed": 0,
        "rejected": 1,
        "cancelled": 0,
        "expired": 0,
        "completed": 0,
        "no_show": 0,
        "returned": 0,
        "entered": 0,
        "lost": 0,
        "awaiting_payment": 0,
        "all": 3,
    }
    both = counts_in(html, "space", world["both"].id)
    assert (both["cancelled"], both["approved"], both["all"]) == (1, 1, 2)


def test_totals_per_jurisdiction_count_each_space_once(
    factories, seoul, gangbuk, dobong, world, login, client, db
):
    officer = factories.officer(seoul, locale="en")
    db.session.commit()
    login(officer)
    html = client.get("/oversight/").get_data(as_text=True)
    # Seoul covers every district; the space tagged Seoul + Gangbuk counts once.
    assert counts_in(html, "jurisdiction", seoul.id)["all"] == 6
    assert counts_in(html, "jurisdiction", seoul.id)["approved"] == 2
    assert counts_in(html, "jurisdiction", gangbuk.id)["all"] == 5
    assert counts_in(html, "jurisdiction", dobong.id) == {
        "requested": 0,
        "approved": 0,
        "confirmed": 1,
        "rejected": 0,
        "cancelled": 0,
        "expired": 0,
        "completed": 0,
        "no_show": 0,
        "returned": 0,
        "entered": 0,
        "lost": 0,
        "awaiting_payment": 0,
        "all": 1,
    }
    assert counts_in(html, "jurisdiction", "all")["all"] == 6
    assert re.search(rf'<tr data-jurisdiction="{seoul.id}">.*?<td>3</td>', html, re.S)


def test_district_officer_sees_only_their_district(
    factories, gangbuk, dobong, world, login, client, db
):
    officer = factories.officer(gangbuk, locale="en")
    db.session.commit()
    login(officer)
    text = text_of(client.get("/oversight/"))
    assert "강북 강당" in text and "서울 옥상" in text
    assert "도봉 회의실" not in text
    # Another district's id in the filter is refused, not shown.
    response = client.get(f"/oversight/?jurisdiction={dobong.id}")
    assert response.status_code == 200
    assert "Choose one of your jurisdictions." in text_of(response)
    assert "도봉 회의실" not in text_of(response)


def test_filter_by_jurisdiction_type_and_period(
    factories, seoul, gangbuk, dobong, world, login, client, db
):
    officer = factories.officer(seoul, locale="en")
    db.session.commit()
    login(officer)
    text = text_of(client.get(f"/oversight/?jurisdiction={dobong.id}"))
    assert "도봉 회의실" in text and "강북 강당" not in text
    text = text_of(client.get("/oversight/?type=rooftop"))
    assert "서울 옥상" in text and "강북 강당" not in text
    start = next_weekday(2, 10)
    later = (start + timedelta(days=59)).date().isoformat()
    far = (start + timedelta(days=61)).date().isoformat()
    html = client.get(f"/oversight/?jurisdiction={gangbuk.id}&from={later}&to={far}").get_data(
        as_text=True
    )
    assert counts_in(html, "space", world["gangbuk"].id)["requested"] == 1
    assert counts_in(html, "space", world["gangbuk"].id)["all"] == 1


def test_bad_filters_get_messages_not_errors(factories, seoul, world, login, client, db):
    officer = factories.officer(seoul, locale="en")
    db.session.commit()
    login(officer)
    response = client.get("/oversight/?from=yesterday&to=2020-01-01&type=castle&jurisdiction=x")
    assert response.status_code == 200
    text = text_of(response)
    assert "Enter a date such as" in text
    assert "Unknown space type." in text
    for query in ("from=0001-01-01&to=0001-12-31", "to=9999-12-31"):
        for page in ("/oversight/", "/oversight/bookings"):
            response = client.get(f"{page}?{query}")
            assert response.status_code == 200
            assert "Enter a date between 2000 and 2100." in text_of(response)
    response = client.get("/oversight/?from=2026-05-01&to=2026-04-01")
    assert "The end of the period cannot be before its start." in text_of(response)
    response = client.get("/oversight/bookings?status=vanished")
    assert response.status_code == 200 and "Unknown booking status." in text_of(response)


def test_bookings_list_filters_by_status(factories, seoul, gangbuk, world, login, client, db):
    officer = factories.officer(seoul, locale="en")
    db.session.commit()
    login(officer)
    html = client.get("/oversight/bookings").get_data(as_text=True)
    assert html.count("data-booking=") == 6
    html = client.get("/oversight/bookings?status=approved").get_data(as_text=True)
    assert html.count("data-booking=") == 2
    html = client.get(f"/oversight/bookings?space={world['dobong'].id}").get_data(as_text=True)
    assert html.count("data-booking=") == 1 and "도봉 회의실" in html
    html = client.get(f"/oversight/bookings?space={world['busan'].id}").get_data(as_text=True)
    assert html.count("data-booking=") == 0


def test_non_officers_get_403(factories, world, login, client, db):
    manager = factories.manager(world["gangbuk"].owner, locale="en")
    resident = factories.user(locale="en")
    db.session.commit()
    for user in (resident, manager):
        login(user)
        assert client.get("/oversight/").status_code == 403
        assert client.get("/oversight/bookings").status_code == 403
    client.post("/logout")
    assert client.get("/oversight/").status_code == 302


def test_admin_sees_everything(factories, world, login, client, db):
    admin = factories.user(is_admin=True, locale="en")
    db.session.commit()
    login(admin)
    text = text_of(client.get("/oversight/"))
    assert "부산 체육관" in text and "강북 강당" in text


def test_oversight_pages_run_a_bounded_number_of_queries(
    factories, seoul, gangbuk, world, login, queries_of_get, db
):
    officer = factories.officer(seoul, locale="en")
    db.session.commit()
    login(officer)
    before = (queries_of_get("/oversight/"), queries_of_get("/oversight/bookings"))
    start = next_weekday(3, 9)
    for n in range(6):
        space = factories.space(name=f"추가 {n}", owner=factories.org(), jurisdictions=[gangbuk])
        factories.booking(space, factories.user(), start=start, end=start + timedelta(hours=1))
    db.session.commit()
    assert (queries_of_get("/oversight/"), queries_of_get("/oversight/bookings")) == before
