"""The preview lists the existing bookings a draft would break, and saves nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.rules.editing import Scope, save_rule_set
from app.rules.models import RuleSet
from tests.conftest import next_weekday
from tests.manage.helpers import text_of
from tests.rules_ui.conftest import SEOUL, today


def _booking(factories, space, user, *, weekday=2, hour=10, attendees=5, weeks=1, **kw):
    start = next_weekday(weekday, hour, weeks=weeks)
    return factories.booking(
        space, user, start=start, end=start + timedelta(hours=1), attendees=attendees, **kw
    )


def _preview(client, url, **data):
    data.setdefault("effective_from", today())
    data["preview"] = "1"
    response = client.post(url, data=data)
    assert response.status_code == 200, text_of(response)[-800:]
    return response


def _listed(response) -> set[int]:
    html = response.get_data(as_text=True)
    return {int(part.split('"', 1)[0]) for part in html.split('data-booking="')[1:]}


def _rule_sets(db) -> int:
    return db.session.scalar(select(func.count(RuleSet.id)))


def test_cutting_attendees_lists_the_bookings_over_the_new_limit(
    factories, users, space, login, client, db
):
    small = _booking(factories, space, users["resident"], weekday=1, attendees=5)
    middle = _booking(factories, space, users["resident"], weekday=2, attendees=20)
    large = _booking(factories, space, users["resident"], weekday=3, attendees=30)
    db.session.commit()
    login(users["manager"])
    response = _preview(client, f"/rules/space/{space.id}", max_attendees="10")
    assert _listed(response) == {middle.id, large.id}
    text = text_of(response)
    assert "2 existing bookings would break the new rules." in text
    assert "checked: 3" in text
    assert "강당 rules: At most 10 people may attend." in text
    assert "김주민" in text
    assert small.id not in _listed(response)
    assert _rule_sets(db) == 0


def test_restricting_hours_lists_the_bookings_outside_them(
    factories, users, space, login, client, db
):
    morning = _booking(factories, space, users["resident"], weekday=0, hour=10)
    evening = _booking(factories, space, users["resident"], weekday=0, hour=19)
    saturday = _booking(factories, space, users["resident"], weekday=5, hour=19)
    db.session.commit()
    login(users["manager"])
    evenings = {f"hours_{d}": "18:00-22:00" for d in range(5)}
    response = _preview(client, f"/rules/space/{space.id}", restrict_hours="y", **evenings)
    # Saturday is left empty: no bookings that day.
    assert _listed(response) == {morning.id, saturday.id}
    assert evening.id not in _listed(response)
    text = text_of(response)
    assert "On Mon bookings are possible only 18:00–22:00." in text
    assert "No bookings on Sat." in text
    assert _rule_sets(db) == 0


def test_only_active_bookings_in_the_month_after_the_effective_day_are_checked(
    factories, users, space, login, client, db
):
    soon = _booking(factories, space, users["resident"], attendees=30, weeks=1)
    _booking(factories, space, users["resident"], attendees=30, weeks=1, hour=15,
             status="cancelled")  # fmt: skip
    later = _booking(factories, space, users["resident"], attendees=30, weeks=6)
    db.session.commit()
    login(users["manager"])
    assert _listed(_preview(client, f"/rules/space/{space.id}", max_attendees="10")) == {soon.id}
    # From a later day, the month moves with it.
    day = (later.start_at.astimezone(SEOUL) - timedelta(days=3)).date()
    response = _preview(client, f"/rules/space/{space.id}", max_attendees="10",
                        effective_from=day.isoformat())  # fmt: skip
    assert _listed(response) == {later.id}


def test_rules_already_broken_elsewhere_are_not_blamed_on_the_draft(
    factories, users, space, gangbuk, login, client, db
):
    booking = _booking(factories, space, users["resident"], attendees=30)
    # The district limits groups after the booking was made.
    save_rule_set(users["officer"], Scope("jurisdiction", gangbuk), {"max_attendees": 10},
                  datetime.now(SEOUL).date())  # fmt: skip
    db.session.commit()
    login(users["manager"])
    response = _preview(client, f"/rules/space/{space.id}", max_attendees="20")
    assert booking.id not in _listed(response)
    assert "No existing booking would break the new rules." in text_of(response)


def test_a_purpose_refused_by_the_draft_is_new_even_with_other_rules(
    factories, users, space, gangbuk, login, client, db
):
    booking = _booking(factories, space, users["resident"])  # purpose category: community
    save_rule_set(users["officer"], Scope("jurisdiction", gangbuk), {"max_attendees": 40},
                  datetime.now(SEOUL).date())  # fmt: skip
    db.session.commit()
    login(users["officer"])
    response = _preview(client, f"/rules/jurisdiction/{gangbuk.id}", max_attendees="40",
                        refused_purposes="community")  # fmt: skip
    assert _listed(response) == {booking.id}
    assert "강북구 rules: Bookings for Community meeting are refused." in text_of(response)


def test_a_city_draft_covers_the_spaces_of_its_districts(
    factories, users, space, seoul, jongno, org, login, client, db
):
    other = factories.space(owner=org, name="체육관", capacity=50, jurisdictions=[jongno])
    elsewhere = factories.space(name="먼 곳", capacity=50)  # in no jurisdiction
    a = _booking(factories, space, users["resident"], attendees=30)
    b = _booking(factories, other, users["resident"], attendees=30)
    _booking(factories, elsewhere, users["resident"], attendees=30)
    db.session.commit()
    login(users["seoul_officer"])
    response = _preview(client, f"/rules/jurisdiction/{seoul.id}", max_attendees="10")
    assert _listed(response) == {a.id, b.id}
    assert "서울특별시 rules: At most 10 people may attend." in text_of(response)


def test_residents_only_spares_residents(factories, users, space, login, client, db):
    resident = _booking(factories, space, users["resident"], weekday=1)
    visitor = _booking(factories, space, factories.user(name="방문자", locale="en"), weekday=2)
    db.session.commit()
    login(users["manager"])
    response = _preview(client, f"/rules/space/{space.id}", eligibility="residents")
    assert _listed(response) == {visitor.id}
    assert resident.id not in _listed(response)


def test_a_draft_with_errors_shows_them_and_no_preview(factories, users, space, login, client, db):
    _booking(factories, space, users["resident"], attendees=30)
    db.session.commit()
    login(users["manager"])
    response = client.post(
        f"/rules/space/{space.id}",
        data={"min_minutes": "120", "max_minutes": "60", "effective_from": today(),
              "preview": "1"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "must not be shorter than the minimum" in text_of(response)
    assert 'id="preview-result"' not in response.get_data(as_text=True)
    assert _rule_sets(db) == 0


def test_preview_queries_are_bounded(
    factories, users, org, gangbuk, login, client, db, count_queries
):
    """A fixed number for the page and the bookings with their spaces and users, and one per
    distinct space for the rule sets in force there: not one per booking."""
    login(users["manager"])
    url = f"/rules/organisation/{org.id}"

    def add_space_with_bookings(n):
        space = factories.space(owner=org, name=f"공간 {n}", capacity=50, jurisdictions=[gangbuk])
        for weekday in range(3):
            _booking(factories, space, users["resident"], weekday=weekday, attendees=30)
        db.session.commit()

    def measure(expected_listed):
        _preview(client, url, max_attendees="10")
        with count_queries() as q:
            response = _preview(client, url, max_attendees="10")
        assert len(_listed(response)) == expected_listed
        return q.count

    add_space_with_bookings(1)
    one = measure(3)
    for n in range(2, 5):
        add_space_with_bookings(n)
    four = measure(12)
    assert one <= 10  # with the read of the browser's log-in session and the navigation's counts
    assert four - one == 3
