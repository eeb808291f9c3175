"""The statistics as a busy officer reads them: an overview first (this month so far, next
month's demand, what needs attention), tabs per theme as links, a district drill-down that shows
the district's spaces, charts scaled to their data, pending refunds, the words of the figures
and CSV headers, the same count on the oversight index and in the statistics, and open data
with a preview, a licence, a column guide and the month in progress marked."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from app.accounts.verification_models import Verification, VerificationKind
from app.bookings import services
from app.bookings.states import StageState
from app.extensions import db
from app.payments.models import Payment, Refund
from app.payments.states import PaymentStatus, RefundStatus
from app.stats import facts
from app.stats.tables import Column, Table
from app.web.stats.routes import chart_spec, nice_max

SEOUL = ZoneInfo("Asia/Seoul")
TODAY = date(2031, 2, 15)
NOW = datetime(2031, 2, 15, 12, tzinfo=SEOUL)  # "now" of every page in this file
MADE = datetime(2031, 1, 10, tzinfo=UTC)  # when the bookings were made


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SEOUL).astimezone(UTC)


def approved(factories, space, manager, day: date, hour: int = 10, hours: int = 2):
    booking = factories.booking(space, start=at(day, hour),
                                end=at(day, hour) + timedelta(hours=hours), now=MADE)
    services.approve(booking, manager, now=MADE)
    return booking


@pytest.fixture
def world(factories):
    seoul = factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구", parent=seoul)
    dobong = factories.jurisdiction(slug="dobong", name="도봉구", parent=seoul)
    school = factories.org(name="번동초등학교")
    centre = factories.org(name="도봉 주민센터")
    manager = factories.manager(school, email="manager@bundong.example")
    centre_manager = factories.manager(centre, email="manager@dobong.example")
    gym = factories.space(owner=school, name="번동초 체육관", type="gym", jurisdictions=[gangbuk])
    room = factories.space(owner=school, name="번동초 회의실", jurisdictions=[gangbuk])
    hall = factories.space(owner=centre, name="도봉 강당", jurisdictions=[dobong])
    # This month so far: 5 hours in the gym, 2 in the hall.
    approved(factories, gym, manager, date(2031, 2, 3))
    paid = approved(factories, gym, manager, date(2031, 2, 4), hour=14, hours=3)
    approved(factories, hall, centre_manager, date(2031, 2, 5))
    # Next month: 4 booked hours in the gym, one request of 3 hours waiting, past its deadline.
    approved(factories, gym, manager, date(2031, 3, 2), hours=4)
    waiting = factories.booking(room, start=at(date(2031, 3, 9), 10),
                                end=at(date(2031, 3, 9), 13), now=MADE)
    stage = waiting.stages[0]
    stage.state, stage.due_at = StageState.PENDING, NOW - timedelta(days=1)
    # A payment with a refund written today, not yet confirmed by Stripe.
    payment = Payment(booking_id=paid.id, amount=30_000, currency="KRW", method="card",
                      status=PaymentStatus.SUCCEEDED, paid_at=at(date(2031, 2, 1), 9))
    db.session.add(payment)
    db.session.flush()
    db.session.add(Refund(payment_id=payment.id, amount=15_000, status=RefundStatus.PENDING,
                          created_at=NOW.astimezone(UTC)))
    resident = factories.user(email="kim@example.kr")
    db.session.add(Verification(user=resident, kind=VerificationKind.RESIDENCY,
                                jurisdiction_id=gangbuk.id))
    db.session.commit()
    facts.rebuild_open(date(2031, 1, 1), date(2031, 3, 31),
                       space_ids=[gym.id, room.id, hall.id])
    db.session.commit()
    return {"seoul": seoul, "gangbuk": gangbuk, "dobong": dobong, "school": school,
            "gym": gym, "room": room, "hall": hall, "waiting": waiting,
            "officer": factories.officer(seoul, email="officer@seoul.example"),
            "gangbuk_officer": factories.officer(gangbuk, email="officer@gangbuk.example")}


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def body_of(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return html.unescape(response.get_data(as_text=True))


def figure(body: str, key: str) -> str:
    match = re.search(rf'data-figure="{key}"><dt>[^<]*</dt><dd>([^<]*)</dd>', body)
    assert match, f"no figure {key}"
    return match.group(1)


def section(body: str, marker: str) -> str:
    start = body.index(marker)
    return body[start:body.index("</section>", start)]


def test_the_overview_shows_this_month_next_months_demand_and_what_needs_attention(
        client, login, world, frozen):
    login(world["officer"])
    body = body_of(client.get("/stats/"))
    month = section(body, 'data-overview="month"')
    assert "2031-02-01 – 2031-02-15" in month
    assert figure(month, "bookings") == "3"
    assert figure(month, "booked_hours") == "7.0"
    coming = section(body, 'data-overview="next_month"')
    assert "2031-03-01 – 2031-03-31" in coming
    assert figure(coming, "next_bookings") == "1"
    assert figure(coming, "next_booked_hours") == "4.0"
    assert figure(coming, "next_requested") == "1"
    assert "3.0" in coming  # the hours the waiting request asks for
    # The link to the coming weeks covers today to the end of next month.
    assert "tab=usage&from=2031-02-15&to=2031-03-31" in coming

    attention = section(body, 'data-overview="attention"')
    assert 'data-attention="overdue"' in attention
    assert 'data-attention="refunds_pending"' in attention and "₩15,000" in attention
    assert 'data-attention="claims"' in attention
    # Every space was used for less than 5 % of its open hours: all listed as worth promoting.
    low = attention.split('data-attention="low"')[1]
    assert "번동초 체육관" in low and "도봉 강당" in low


def test_the_overview_of_a_district_counts_its_spaces_only(client, login, world, frozen):
    login(world["officer"])
    body = body_of(client.get(f"/stats/?district={world['dobong'].id}"))
    month = section(body, 'data-overview="month"')
    assert figure(month, "bookings") == "1"
    assert figure(month, "booked_hours") == "2.0"
    attention = section(body, 'data-overview="attention"')
    assert "번동초 체육관" not in attention
    assert 'data-attention="refunds_pending"' not in attention  # the refund is Gangbuk's


def test_tabs_are_links_with_the_current_one_marked(client, login, world, frozen):
    login(world["officer"])
    period = "from=2031-02-01&to=2031-02-28"
    body = body_of(client.get(f"/stats/?{period}&tab=money"))
    tabs = body.split('class="stats-tabs"')[1].split("</nav>")[0]
    current = re.findall(r'<a href="([^"]*)" data-tab="(\w+)" aria-current="page"', tabs)
    assert [t for _h, t in current] == ["money"]
    assert f'href="?{period}&tab=people" data-tab="people"' in tabs
    assert f'href="?{period}" data-tab="overview"' in tabs
    # Each tab holds its own theme: money has no heatmap, use has no money table.
    assert 'id="stats-money"' in body and "stats-heatmap" not in body
    usage = body_of(client.get(f"/stats/?{period}&tab=usage"))
    assert "stats-heatmap" in usage and 'id="stats-money"' not in usage
    # The filter form keeps the tab.
    assert '<input type="hidden" name="tab" value="usage">' in usage
    # An unknown tab is the overview.
    assert 'data-overview="month"' in body_of(client.get("/stats/?tab=nonsense"))


def test_a_district_drill_down_shows_its_spaces_not_one_bar(client, login, world, frozen):
    login(world["officer"])
    period = "from=2031-02-01&to=2031-02-28&tab=spaces"
    city = body_of(client.get(f"/stats/?{period}"))
    assert 'id="stats-by_district"' in city
    assert f'data-district="{world["gangbuk"].id}"' in city
    district = body_of(client.get(f"/stats/?{period}&district={world['gangbuk'].id}"))
    assert 'id="stats-by_district"' not in district  # it would be a single bar
    by_space = section(district, 'id="stats-by_space"')
    assert "번동초 체육관" in by_space and "번동초 회의실" in by_space
    assert "도봉 강당" not in by_space


def test_charts_are_scaled_to_their_data():
    assert nice_max(0.011, percent=True) == 0.02
    assert nice_max(0.3, percent=True) == 0.5
    assert nice_max(0.97, percent=True) == 1.0
    assert nice_max(7.0) == 10.0
    assert nice_max(42) == 50.0
    assert nice_max(0) == 1.0
    table = Table("by_space", "Use", [Column("name", "Space"),
                                      Column("utilisation", "Utilisation", "percent")],
                  [{"name": "A", "utilisation": 0.01}, {"name": "B", "utilisation": 0.004}])
    spec = chart_spec(table)
    assert spec is not None
    assert spec["axes"]["y"]["max"] == 0.02  # not 100 %
    assert spec["axes"]["y"]["title"] == "Utilisation (%)"
    trend = Table("trend_week", "Trend", [
        Column("period", "Week", "date"), Column("booked_hours", "Booked hours", "hours"),
        Column("open_hours", "Open hours", "hours"),
        Column("utilisation", "Utilisation", "percent")],
        [{"period": "2031-02-03", "booked_hours": 7.0, "open_hours": 180.0,
          "utilisation": 0.039}])
    spec = chart_spec(trend)
    assert spec is not None
    assert spec["axes"]["y"]["max"] == 200.0 and spec["axes"]["y1"]["max"] == 0.05


def test_the_page_s_chart_axes_come_from_the_data(client, login, world, frozen):
    login(world["officer"])
    body = body_of(client.get("/stats/?from=2031-02-01&to=2031-02-28&tab=spaces&lang=en"))
    block = re.search(r'data-canvas="stats-by_space-chart">(.*?)</script>', body, re.S)
    assert block
    assert '"max": 0.02' in block.group(1) or '"max": 0.05' in block.group(1)
    assert "Utilisation (%)" in block.group(1)


def test_a_refund_in_progress_is_shown_apart_from_refunds_made(client, login, world, frozen):
    login(world["officer"])
    body = body_of(client.get("/stats/?from=2031-02-01&to=2031-02-15&tab=money"))
    assert figure(body, "refunds") == "₩0"
    assert figure(body, "refunds_pending") == "₩15,000"
    assert 'data-note="refunds_pending"' in body
    money = section(body, 'id="stats-money"')
    assert "진행 중인 환불" in money


def test_bookings_are_counted_in_words_and_csv_headers_say_so(client, login, world, frozen):
    login(world["officer"])
    body = body_of(client.get("/stats/?from=2031-02-01&to=2031-02-28&tab=usage"))
    assert "예약 목록" not in body.split('id="main"')[1]
    assert re.search(r'data-figure="bookings"><dt>예약 건수</dt>', body)
    response = client.get("/stats/export/by_space.csv?from=2031-02-01&to=2031-02-28")
    header = next(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert "예약 건수" in header and "예약 목록" not in header
    lead = body_of(client.get("/stats/?from=2031-02-01&to=2031-02-28&tab=usage"))
    assert "처리 주체" not in lead


def test_the_oversight_index_and_the_statistics_agree_for_the_same_period(
        client, login, world, frozen):
    login(world["gangbuk_officer"])
    period = "from=2031-02-01&to=2031-03-31"
    oversight = body_of(client.get(f"/oversight/?{period}"))
    total = re.search(r'<tfoot><tr data-jurisdiction="all">.*?</tr></tfoot>', oversight, re.S)
    assert total
    counted = re.search(r'data-counted="statistics">(\d+)<', total.group(0))
    everything = re.search(r'data-status="all">(\d+)<', total.group(0))
    assert counted and everything
    # The waiting request counts on the oversight index but is no booking in the statistics.
    assert (int(everything.group(1)), int(counted.group(1))) == (4, 3)
    assert "(2031-02-01 – 2031-03-31)" in oversight
    link = re.search(r'href="(/stats/\?[^"]*)" data-link="stats"', oversight)
    assert link and "from=2031-02-01" in link.group(1) and "to=2031-03-31" in link.group(1)
    stats = body_of(client.get(link.group(1)))
    assert figure(stats, "bookings") == counted.group(1)


def test_open_data_has_a_preview_a_licence_a_column_guide_and_marks_the_month_in_progress(
        client, world, frozen):
    body = body_of(client.get("/stats/open-data"))
    preview = section(body, 'class="open-preview"')
    assert 'data-month="2031-02"' in preview
    assert "진행 중" in preview  # the month in progress is partial
    assert "번동초 체육관" in preview  # a first row of the file
    guide = section(body, 'class="open-guide"')
    assert 'data-column="utilisation"' in guide and 'data-column="booked_hours"' in guide
    assert "시간" in guide
    licence = section(body, 'class="open-licence"')
    assert "공공누리" in licence and "/static/img/kogl-type1.svg" in licence
    assert client.get("/static/img/kogl-type1.svg").status_code == 200

    rows = list(csv.reader(io.StringIO(
        client.get("/stats/open-data/2031-02.csv").get_data(as_text=True).lstrip("\ufeff"))))
    status = rows[0].index("월 상태")
    assert {r[status] for r in rows[1:]} == {"진행 중 (잠정 집계)"}
    rows = list(csv.reader(io.StringIO(
        client.get("/stats/open-data/2031-01.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert {r[rows[0].index("월 상태")] for r in rows[1:]} == {"확정"}
    older = body_of(client.get("/stats/open-data?month=2031-01"))
    assert "진행 중 (잠정 집계)" in section(older, 'aria-labelledby="months-title"')
    assert 'class="badge stats-partial"' not in older


def test_the_open_data_tab_previews_the_file(client, login, world, frozen):
    login(world["officer"])
    body = body_of(client.get("/stats/?tab=open"))
    assert 'class="open-preview"' in body and "공공누리" in body


def test_the_overview_runs_a_bounded_number_of_queries(
        client, login, factories, world, frozen, queries_of_get):
    login(world["officer"])
    few = queries_of_get("/stats/")
    few_open = queries_of_get("/stats/open-data")
    gangbuk, school = world["gangbuk"], world["school"]
    manager = factories.manager(school, email="second@bundong.example")
    spaces = [factories.space(owner=school, name=f"공간 {i}", jurisdictions=[gangbuk])
              for i in range(8)]
    for i, space in enumerate(spaces):
        approved(factories, space, manager, date(2031, 2, 1 + i))
        approved(factories, space, manager, date(2031, 3, 1 + i))
    db.session.commit()
    facts.rebuild_open(date(2031, 2, 1), date(2031, 3, 31), space_ids=[s.id for s in spaces])
    db.session.commit()
    assert queries_of_get("/stats/") == few
    assert queries_of_get("/stats/open-data") == few_open
