"""The statistics dashboard: who sees what, filters that cannot be used (a message, never a 500),
drill-down links and breadcrumbs, and a number of queries that does not grow with the spaces."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.bookings import services
from app.extensions import db
from app.stats import facts

SEOUL = ZoneInfo("Asia/Seoul")
THEN = datetime(2031, 1, 10, tzinfo=UTC)  # "now" for the bookings, made ahead in 2031
FIRST, LAST = date(2031, 2, 1), date(2031, 2, 28)
PERIOD = f"from={FIRST.isoformat()}&to={LAST.isoformat()}"


def book(factories, space, manager, day: int, hour: int = 10, hours: int = 2):
    start = datetime(2031, 2, day, hour, tzinfo=SEOUL).astimezone(UTC)
    booking = factories.booking(space, start=start, end=start + timedelta(hours=hours), now=THEN)
    services.approve(booking, manager, now=THEN)
    return booking


@pytest.fixture
def world(factories):
    seoul = factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구", parent=seoul)
    jongno = factories.jurisdiction(slug="jongno", name="종로구", parent=seoul)
    school = factories.org(name="번동초등학교")
    centre = factories.org(name="종로 주민센터")
    school_manager = factories.manager(school, email="manager@bundong.example")
    centre_manager = factories.manager(centre, email="manager@jongno.example")
    gym = factories.space(owner=school, name="번동초 체육관", type="gym",
                          jurisdictions=[gangbuk])
    hall = factories.space(owner=centre, name="종로 대강당", jurisdictions=[jongno])
    book(factories, gym, school_manager, 3)
    book(factories, gym, school_manager, 4, hour=14, hours=3)
    book(factories, hall, centre_manager, 5)
    db.session.commit()
    facts.rebuild_open(FIRST, LAST, space_ids=[gym.id, hall.id])
    db.session.commit()
    return {
        "seoul": seoul, "gangbuk": gangbuk, "jongno": jongno, "school": school,
        "centre": centre, "gym": gym, "hall": hall, "school_manager": school_manager,
        "officer": factories.officer(gangbuk, email="officer@gangbuk.example"),
        "resident": factories.user(email="kim@example.kr"),
    }


def page_text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return html.unescape(response.get_data(as_text=True))


def test_an_officer_sees_their_districts_spaces_only(client, login, world):
    db.session.commit()
    login(world["officer"])
    body = page_text(client.get(f"/stats/?{PERIOD}&tab=usage"))
    # Five booked hours of the gym in the summary.
    assert re.search(r'data-figure="booked_hours"><dt>[^<]*</dt><dd>5\.0</dd>', body)
    assert 'role="img"' in body and "stats-chart-data" in body
    assert "stats-heatmap" in body
    body = page_text(client.get(f"/stats/?{PERIOD}&tab=spaces"))
    assert "번동초 체육관" in body
    assert "종로 대강당" not in body


def test_a_manager_sees_their_organisation_only(client, login, world):
    login(world["school_manager"])
    body = page_text(client.get(f"/stats/?{PERIOD}&tab=spaces"))
    assert "번동초 체육관" in body
    assert "종로 대강당" not in body


def test_a_resident_is_refused_and_anonymous_is_sent_to_log_in(client, login, world):
    response = client.get("/stats/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(world["resident"])
    assert client.get("/stats/").status_code == 403


def test_the_nav_links_to_statistics_for_those_with_a_scope(client, login, world):
    login(world["officer"])
    assert 'href="/stats/"' in page_text(client.get("/"))
    client.post("/logout")
    login(world["resident"])
    assert 'href="/stats/"' not in page_text(client.get("/"))


@pytest.mark.parametrize("query", [
    "from=2026-13-40",
    "from=2031-02-10&to=2031-02-01",
    "district={jongno}",
    "owner=abc",
    "owner=99999999999999999999999999",
    "space=99999999999999999999&district=-1",
    "from=99999-01-01&to=0001-01-01",
    "type=castle&space={hall}",
])
def test_filters_that_cannot_be_used_are_marked_not_a_500(client, login, world, query):
    login(world["officer"])
    url = "/stats/?tab=usage&" + query.format(jongno=world["jongno"].id, hall=world["hall"].id)
    body = page_text(client.get(url))
    assert "has-error" in body
    assert 'role="alert"' in body
    assert "종로 대강당" not in body


def test_rows_drill_down_keeping_the_period_and_breadcrumbs_lead_back(client, login, world):
    login(world["officer"])
    gangbuk, gym, school = world["gangbuk"], world["gym"], world["school"]
    body = page_text(client.get(f"/stats/?{PERIOD}&tab=spaces"))
    assert f'href="?{PERIOD}&tab=spaces&district={gangbuk.id}"' in body
    assert f'href="?{PERIOD}&tab=spaces&owner={school.id}"' in body
    assert f'href="?{PERIOD}&tab=spaces&space={gym.id}"' in body
    assert f"/stats/export/by_district.csv?{PERIOD}" in body
    assert f"/stats/export/all.xlsx?{PERIOD}" in body
    assert f"/stats/open-data?{PERIOD}" in body

    body = page_text(client.get(f"/stats/?{PERIOD}&district={gangbuk.id}&owner={school.id}"))
    crumbs = body.split('class="stats-crumbs"')[1].split("</nav>")[0]
    assert f'href="?{PERIOD}"' in crumbs  # back to everything, the period kept
    assert f'href="?{PERIOD}&district={gangbuk.id}"' in crumbs
    assert "강북구" in crumbs
    assert '<li aria-current="page">' in crumbs and "번동초등학교" in crumbs


def test_an_empty_period_says_so(client, login, world):
    login(world["officer"])
    body = page_text(client.get("/stats/?from=2030-01-01&to=2030-01-31&tab=usage"))
    assert "stats-empty" in body


@pytest.mark.parametrize("tab", ["", "usage", "money", "people", "spaces", "open"])
def test_the_number_of_queries_does_not_grow_with_the_spaces(
    client, login, factories, queries_of_get, tab
):
    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구")
    school = factories.org(name="번동초등학교")
    manager = factories.manager(school)
    officer = factories.officer(gangbuk, email="officer@gangbuk.example")
    spaces = []

    def add(n):
        for i in range(n):
            space = factories.space(owner=school, name=f"공간 {len(spaces)}",
                                    jurisdictions=[gangbuk])
            spaces.append(space)
            book(factories, space, manager, 1 + i % 27)
        db.session.commit()
        facts.rebuild_open(FIRST, LAST, space_ids=[s.id for s in spaces])
        db.session.commit()

    add(2)
    login(officer)
    url = f"/stats/?{PERIOD}&tab={tab}"
    few = queries_of_get(url)
    add(18)
    many = queries_of_get(url)
    assert few == many, (few, many)
    print(f"queries per dashboard: {few}")


def test_every_table_is_captioned_and_every_chart_points_to_its_table(client, login, world):
    login(world["officer"])
    main = "".join(
        page_text(client.get(f"/stats/?{PERIOD}&lang=en&tab={tab}")).split('id="main"')[1]
        for tab in ("usage", "money", "people", "spaces"))
    body = page_text(client.get(f"/stats/?{PERIOD}&lang=en&tab=usage"))
    tables = main.count("<table")
    assert tables >= 10
    assert main.count("<caption") == tables
    assert 'scope="col"' in main and 'scope="row"' in main
    canvases = re.findall(r"<canvas [^>]*>", main)
    assert canvases
    for canvas in canvases:
        assert 'role="img"' in canvas and "aria-label=" in canvas
        assert re.search(r'aria-describedby="stats-\w+-caption"', canvas)
    assert "Peak times" in main and "Utilisation by district" in main
    assert 'src="/static/vendor/chart.js/chart.umd.min.js"' in body
