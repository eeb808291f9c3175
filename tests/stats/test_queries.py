"""The dashboard's numbers against hand-computed figures: scopes, utilisation (opening hours
minus closures), crossing midnight and month ends, the heatmap, demand with reasons and lead
times, people, money, lottery fairness; bad filters; constant query counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.bookings import services
from app.extensions import db
from app.stats import facts
from app.stats.queries import Filters, Scope, dashboard, parse_filters
from tests.factories import VERIFIED

pytestmark = pytest.mark.usefixtures("english")  # labels are checked in English

SEOUL = ZoneInfo("Asia/Seoul")
THEN = datetime(2031, 2, 20, 9, tzinfo=UTC)
WEEK = Filters(date(2031, 3, 3), date(2031, 3, 9))  # Monday to Sunday


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SEOUL).astimezone(UTC)


class World:
    def __init__(self, factories):
        self.f = factories
        self.city = factories.jurisdiction(name="서울특별시", kind="metropolitan")
        self.a = factories.jurisdiction(name="강북구", parent=self.city)
        self.b = factories.jurisdiction(name="도봉구", parent=self.city)
        self.x = factories.org(name="번동초등학교")
        self.y = factories.org(name="도봉 주민센터", kind="community_center")
        self.s1 = factories.space(owner=self.x, name="체육관", type="gym",
                                  jurisdictions=[self.a])  # 09:00–22:00 every day
        self.s2 = factories.space(owner=self.y, name="회의실", type="meeting_room",
                                  jurisdictions=[self.b],
                                  hours={d: [(0, 24 * 60)] for d in range(7)})
        self.mx = factories.manager(self.x)
        self.my = factories.manager(self.y)
        self.officer = factories.officer(self.a)
        self.resident = factories.user(name="김강북", home_district_id=self.a.id,
                                        home_district_verified_at=VERIFIED)
        self.outsider = factories.user(name="박도봉", home_district_id=self.b.id,
                                       home_district_verified_at=VERIFIED)

    def approved(self, space, start, hours, user=None, *, decided=None):
        booking = self.f.booking(space, user or self.resident, start=start,
                                 end=start + timedelta(hours=hours), now=THEN)
        manager = self.mx if space.owner_id == self.x.id else self.my
        services.approve(booking, manager, now=decided or THEN + timedelta(hours=1))
        return booking


@pytest.fixture
def w(factories):
    world = World(factories)
    db.session.commit()
    return world


def open_week(w):
    facts.rebuild_open(date(2031, 2, 1), date(2031, 3, 31), space_ids=[w.s1.id, w.s2.id])
    db.session.commit()


def test_utilisation_is_booked_over_open_hours_minus_closures(w):
    w.approved(w.s1, at(2031, 3, 4, 19), 2)  # Tuesday
    w.approved(w.s1, at(2031, 3, 8, 20), 2)  # Saturday
    w.approved(w.s2, at(2031, 3, 6, 23), 2)  # Thursday 23:00 → Friday 01:00
    w.approved(w.s1, at(2031, 3, 10, 10), 1)  # the Monday after: outside the week
    w.f.closure(w.s1, at(2031, 3, 5, 12), at(2031, 3, 5, 14))
    open_week(w)
    d = dashboard(Scope(everything=True), WEEK)
    s1 = next(r for r in d.tables["by_space"].rows if r["id"] == w.s1.id)
    assert s1["open_hours"] == (7 * 780 - 120) / 60 == 89.0
    assert s1["booked_hours"] == 4.0 and s1["bookings"] == 2
    assert s1["utilisation"] == round(240 / 5340, 4)
    s2 = next(r for r in d.tables["by_space"].rows if r["id"] == w.s2.id)
    assert (s2["open_hours"], s2["booked_hours"]) == (168.0, 2.0)
    assert d.summary["booked_hours"] == 6.0 and d.summary["open_hours"] == 257.0
    districts = {r["name"]: r for r in d.tables["by_district"].rows}
    assert districts["강북구"]["booked_hours"] == 4.0 and districts["도봉구"]["spaces"] == 1
    assert {r["name"] for r in d.tables["by_type"].rows} == {"Gym", "Meeting room"}
    # The heatmap: Tuesday 19–21, Saturday 20–22, Thursday 23 and Friday 00.
    grid = {row["weekday"]: row for row in d.tables["heatmap"].rows}
    rows = d.tables["heatmap"].rows
    assert rows[1]["h19"] == rows[1]["h20"] == 1.0
    assert rows[5]["h20"] == rows[5]["h21"] == 1.0
    assert rows[3]["h23"] == 1.0 and rows[4]["h00"] == 1.0
    assert sum(v for row in grid.values() for k, v in row.items() if k != "weekday") == 6.0
    # Idle capacity: the least-used first.
    assert [r["id"] for r in d.tables["idle"].rows] == [w.s2.id, w.s1.id]


def test_a_booking_across_a_month_end_counts_in_both_months(w):
    w.approved(w.s2, at(2031, 2, 28, 23), 2)
    open_week(w)
    d = dashboard(Scope(everything=True), Filters(date(2031, 2, 1), date(2031, 3, 31)))
    months = {r["period"]: r["booked_hours"] for r in d.tables["trend_month"].rows}
    assert months == {"2031-02-01": 1.0, "2031-03-01": 1.0}
    march = dashboard(Scope(everything=True), Filters(date(2031, 3, 1), date(2031, 3, 31)))
    assert march.summary["booked_hours"] == 1.0 and march.summary["bookings"] == 0


def test_scopes_officer_sees_their_district_manager_their_organisation(w):
    w.approved(w.s1, at(2031, 3, 4, 19), 2)
    w.approved(w.s2, at(2031, 3, 4, 19), 2)
    open_week(w)
    officer = dashboard(Scope.for_user(w.officer), WEEK)
    assert [r["id"] for r in officer.tables["by_space"].rows] == [w.s1.id]
    manager = dashboard(Scope.for_user(w.my), WEEK)
    assert [r["id"] for r in manager.tables["by_space"].rows] == [w.s2.id]
    assert Scope.for_user(w.resident) is None
    city_officer = w.f.officer(w.city)
    assert len(dashboard(Scope.for_user(city_officer), WEEK).tables["by_space"].rows) == 2


def test_filters_drill_down(w):
    w.approved(w.s1, at(2031, 3, 4, 19), 2)
    w.approved(w.s2, at(2031, 3, 4, 19), 3)
    open_week(w)
    scope = Scope(everything=True)
    by_district = dashboard(scope, Filters(WEEK.first, WEEK.last, district_id=w.b.id))
    assert by_district.summary["booked_hours"] == 3.0
    by_owner = dashboard(scope, Filters(WEEK.first, WEEK.last, owner_id=w.x.id))
    assert by_owner.summary["booked_hours"] == 2.0
    by_type = dashboard(scope, Filters(WEEK.first, WEEK.last, type="meeting_room"))
    assert by_type.summary["booked_hours"] == 3.0
    city = dashboard(scope, Filters(WEEK.first, WEEK.last, district_id=w.city.id))
    assert city.summary["booked_hours"] == 5.0


def test_demand_reasons_and_lead_times(w):
    made = THEN
    for hours, n in ((2, 0), (4, 1), (10, 2)):
        b = w.f.booking(w.s1, w.resident, start=at(2031, 3, 3 + n, 10),
                        end=at(2031, 3, 3 + n, 11), now=made)
        b.created_at = made
        services.approve(b, w.mx, now=made + timedelta(hours=hours))
    r = w.f.booking(w.s1, w.outsider, start=at(2031, 3, 7, 10), end=at(2031, 3, 7, 11),
                    now=made)
    r.created_at = made
    services.reject(r, w.mx, reason="학교 행사", now=made + timedelta(hours=1))
    c = w.f.booking(w.s1, w.resident, start=at(2031, 3, 8, 10), end=at(2031, 3, 8, 11),
                    now=made)
    services.cancel(c, w.resident, now=made + timedelta(hours=1))
    db.session.commit()
    d = dashboard(Scope(everything=True), Filters(date(2031, 2, 1), date(2031, 2, 28)))
    assert d.summary["requests"] == 5
    assert (d.summary["approved"], d.summary["rejected"], d.summary["cancelled"]) == (3, 1, 1)
    assert d.tables["reasons"].rows == [{"reason": "학교 행사", "count": 1}]
    [stage1, whole] = d.tables["lead_times"].rows
    # Decisions after 2, 4, 10 h (approvals) and 1 h (the rejection): median 2 h... by nearest
    # rank: sorted 1, 2, 4, 10 → the 2nd (50 %) is 2, the 4th (90 %) is 10.
    assert (stage1["decisions"], stage1["median_hours"], stage1["p90_hours"]) == (4, 2.0, 10.0)
    assert whole["decisions"] == 4
    people = {row["what"]: row["count"] for row in d.tables["people"].rows}
    assert people["Distinct people who asked"] == 2
    assert people["Repeat users (two or more requests)"] == 1
    residency = {row["id"]: row["count"] for row in d.tables["residency"].rows}
    assert residency == {"resident": 4, "non_resident": 1}


def test_money_revenue_refunds_and_waivers(w, factories):
    from app.payments import services as payments
    from tests.approvals import add_rules

    add_rules(organisation_id=w.x.id, body={"fees": {"rates": {"resident": 10000,
                                                               "non_resident": 20000}},
                                             "waivers": {"nonprofit": 50}})
    db.session.commit()
    b = services.create_booking(w.s1, w.resident, start=at(2031, 3, 4, 10),
                                end=at(2031, 3, 4, 12), purpose="동호회", attendees=5,
                                waiver="nonprofit", now=THEN)
    # The waiver was claimed on the request alone: the approver saw the evidence.
    services.approve(b, w.mx, evidence_seen=True, now=THEN)
    assert b.price_amount == 10000  # ₩20,000 for two hours, half waived
    payments.record_offline(b, w.mx, method="cash", amount=10000, reference="영수증 1",
                            now=THEN)
    payments.refund(b, w.mx, amount=3000, reason="조명 고장", reference="현금", now=THEN)
    db.session.commit()
    d = dashboard(Scope(everything=True), Filters(date(2031, 2, 1), date(2031, 2, 28)))
    money = {row["id"]: row["amount"] for row in d.tables["money"].rows}
    assert money == {"revenue": 10000, "refunds": 3000, "refunds_pending": 0, "net": 7000,
                     "waived": 10000}


def test_no_personal_data_in_any_table(w):
    w.approved(w.s1, at(2031, 3, 4, 19), 2)
    open_week(w)
    d = dashboard(Scope(everything=True), WEEK)
    text = repr([t.rows for t in d.tables.values()])
    for user in (w.resident, w.outsider, w.mx, w.officer):
        assert user.name not in text and user.email not in text


@pytest.mark.parametrize(("args", "field"), [
    ({"from": "2031-13-40"}, "from"),
    ({"from": "2031-03-09", "to": "2031-03-01"}, "to"),
    ({"from": "2020-01-01", "to": "2031-01-01"}, "to"),
    ({"district": "abc"}, "district"),
    ({"district": "99999999999"}, "district"),
    ({"owner": "12345"}, "owner"),
    ({"type": "castle"}, "type"),
    ({"space": "-1"}, "space"),
])
def test_bad_filters_are_reported_and_left_out(w, args, field):
    filters, errors = parse_filters(args, Scope.for_user(w.officer), today=date(2031, 3, 9))
    assert field in errors and errors[field]
    assert filters.district_id is None and filters.owner_id is None
    assert (filters.last - filters.first).days < 731


def test_an_officer_cannot_filter_to_another_district(w):
    filters, errors = parse_filters({"district": str(w.b.id)}, Scope.for_user(w.officer))
    assert "district" in errors and filters.district_id is None


def test_the_dashboard_runs_the_same_queries_for_few_or_many_spaces(factories, count_queries):
    counts = []
    for n in (2, 12):
        world = World(factories)
        for i in range(n):
            space = factories.space(owner=world.x, jurisdictions=[world.a])
            world.approved(space, at(2031, 3, 4, 10 + i % 10), 1)
        db.session.commit()
        with count_queries() as q:
            dashboard(Scope(everything=True), WEEK)
        counts.append(q.count)
    assert counts[0] == counts[1], counts


def test_open_data_of_a_month_per_space_and_district(w):
    w.approved(w.s1, at(2031, 3, 4, 19), 2)
    w.approved(w.s1, at(2031, 3, 5, 19), 1)
    w.approved(w.s2, at(2031, 2, 28, 23), 2)  # one hour in March
    open_week(w)
    from app.stats.queries import open_data

    spaces, districts = open_data(date(2031, 3, 17))
    rows = {r["space"]: r for r in spaces.rows}
    assert rows["체육관"]["bookings"] == 2 and rows["체육관"]["booked_hours"] == 3.0
    assert rows["회의실"]["bookings"] == 0 and rows["회의실"]["booked_hours"] == 1.0
    assert rows["체육관"]["month"] == "2031-03"
    assert rows["체육관"]["open_hours"] == 31 * 13
    assert {r["district"] for r in districts.rows} == {"강북구", "도봉구"}
    assert all(c.count for c in spaces.columns if c.key in ("requests", "bookings"))
    text = repr(spaces.rows + districts.rows)
    assert w.resident.name not in text and w.resident.email not in text
