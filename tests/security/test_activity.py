"""The suspicious-activity page: each viewer's scope, the evidence grouped per account or per
address, shortened addresses for managers and officers, a fixed number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.security.models import ACCOUNT_CREATED, BOOKING_REQUESTED, CHALLENGE_FAILED, THROTTLED
from tests.manage.helpers import text_of
from tests.security.conftest import NOW, event

HOME = "203.0.113.7"  # the addresses of the tests: documentation ranges
FARM = "198.51.100.9"
CAFE = "192.0.2.1"
GUESSER = "192.0.2.50"


@pytest.fixture
def world(factories, db, frozen):
    seoul = factories.jurisdiction(name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(name="강북구", parent=seoul)
    jongno = factories.jurisdiction(name="종로구", parent=seoul)
    school, centre = factories.org(name="번동초등학교"), factories.org(name="종로 주민센터")
    gym = factories.space(owner=school, name="번동초 체육관", jurisdictions=[gangbuk])
    hall = factories.space(owner=centre, name="종로 강당", jurisdictions=[jongno])
    people = {f"r{n}": factories.user(name=f"주민{n}", email=f"r{n}@example.kr")
              for n in range(1, 10)}
    viewers = {
        "manager": factories.manager(school, locale="en"),
        "other_manager": factories.manager(centre, locale="en"),
        "officer": factories.officer(gangbuk, locale="en"),
        "city_officer": factories.officer(seoul, locale="en"),
        "admin": factories.user(is_admin=True, locale="en"),
        "resident": people["r1"],
    }
    r = people
    ago = lambda **kw: NOW - timedelta(**kw)  # noqa: E731
    # Three sign-ups from one home within minutes; they all booked the school's gym.
    for n, who in enumerate(("r1", "r2", "r3")):
        event(ACCOUNT_CREATED, at=ago(days=2, minutes=-2 * n), ip=HOME, user=r[who])
        event(BOOKING_REQUESTED, at=ago(days=1, minutes=-n), ip=HOME, user=r[who], space=gym,
              via="form")
    event(BOOKING_REQUESTED, at=ago(hours=3), ip=HOME, user=r["r1"], space=gym, via="form")
    # A farm of three accounts on the centre's hall.
    for n, who in enumerate(("r4", "r5", "r6")):
        event(ACCOUNT_CREATED, at=ago(days=3, minutes=-n), ip=FARM, user=r[who])
        event(BOOKING_REQUESTED, at=ago(days=1, minutes=-n), ip=FARM, user=r[who], space=hall,
              via="api")
    # Three sign-ups from a café, hours apart: not a burst.
    for n, who in enumerate(("r7", "r8", "r9")):
        event(ACCOUNT_CREATED, at=ago(days=4, hours=-n), ip=CAFE, user=r[who])
    # Throttled: r1 twice (booking limit), r4 once; someone without an account guessing logins.
    event(THROTTLED, at=ago(hours=5), ip=HOME, user=r["r1"], limit="5 per 1 minute",
          scope="booking-account")
    event(THROTTLED, at=ago(hours=4), ip=HOME, user=r["r1"], limit="5 per 1 minute",
          scope="booking-account")
    event(THROTTLED, at=ago(hours=4), ip=FARM, user=r["r4"], scope="booking-ip")
    event(THROTTLED, at=ago(hours=2), ip=GUESSER, scope="login-ip")
    # Failed checks: r2 on the gym, r5 on the hall.
    event(CHALLENGE_FAILED, at=ago(hours=1), ip=HOME, user=r["r2"], space=gym, reason="missing")
    event(CHALLENGE_FAILED, at=ago(hours=1), ip=FARM, user=r["r5"], space=hall, reason="reused")
    # Older than the default week.
    event(CHALLENGE_FAILED, at=ago(days=20), ip=HOME, user=r["r3"], space=gym, reason="expired")
    db.session.commit()
    return {"viewers": viewers, "people": people, "gym": gym, "hall": hall}


def section(page, name: str) -> str:
    html = page.get_data(as_text=True)
    match = re.search(rf'<section[^>]*data-section="{name}">(.*?)</section>', html, re.S)
    return match.group(1) if match else ""


def users_in(page, name: str) -> set[str]:
    ids = re.findall(r'data-user="([\d,]*)"', section(page, name))
    return {uid for row in ids for uid in row.split(",") if uid}


def ids(world, *names) -> set[str]:
    return {str(world["people"][n].id) for n in names}


def look(client, login, world, viewer: str, query: str = ""):
    login(world["viewers"][viewer])
    return client.get(f"/security/activity{query}")


def test_residents_may_not_see_it(client, login, world):
    assert look(client, login, world, "resident").status_code == 403


def test_a_manager_sees_their_spaces_and_the_accounts_that_booked_them(client, login, world):
    page = look(client, login, world, "manager")
    assert page.status_code == 200
    assert users_in(page, "throttled") == ids(world, "r1")
    assert users_in(page, "signups") == ids(world, "r1", "r2", "r3")
    assert users_in(page, "shared") == ids(world, "r1", "r2", "r3")
    assert users_in(page, "checks") == ids(world, "r2")
    assert 'data-section="throttled-addresses"' not in page.get_data(as_text=True)
    text = text_of(page)
    assert "종로 강당" not in text and "주민4" not in text


def test_addresses_are_shortened_for_managers_and_officers_only(client, login, world):
    for viewer in ("manager", "officer"):
        html = look(client, login, world, viewer).get_data(as_text=True)
        assert "203.0.113.x" in html and HOME not in html
        assert "r1@example.kr" not in html  # emails are for admins
    html = look(client, login, world, "admin").get_data(as_text=True)
    assert HOME in html and FARM in html and "r1@example.kr" in html


def test_the_same_address_gets_the_same_tag_and_others_another(client, login, world, db):
    """r2 also failed a check from the next address of the same network: two rows of
    203.0.113.x with different tags; HOME's tag is the same in every section."""
    event(CHALLENGE_FAILED, at=NOW - timedelta(hours=1), ip="203.0.113.8",
          user=world["people"]["r2"], space=world["gym"], reason="invalid")
    db.session.commit()
    page = look(client, login, world, "manager")
    tag = r'data-address>(203\.0\.113\.x)</span> <span[^>]*>#(\w{6})</span>'
    checks = re.findall(tag, section(page, "checks"))
    assert len(checks) == 2 and len({t for _, t in checks}) == 2
    home_tags = {t for name in ("throttled", "signups", "shared")
                 for _, t in re.findall(tag, section(page, name))}
    assert len(home_tags) == 1 and home_tags < {t for _, t in checks}
    assert "203.0.113.8" not in page.get_data(as_text=True)


def test_an_officer_sees_the_spaces_under_their_jurisdictions(client, login, world):
    district = look(client, login, world, "officer")
    assert users_in(district, "shared") == ids(world, "r1", "r2", "r3")
    assert users_in(district, "checks") == ids(world, "r2")
    city = look(client, login, world, "city_officer")  # Seoul: both districts below it
    assert users_in(city, "shared") == ids(world, "r1", "r2", "r3", "r4", "r5", "r6")
    assert users_in(city, "checks") == ids(world, "r2", "r5")
    assert users_in(city, "throttled") == ids(world, "r1", "r4")


def test_another_manager_sees_only_their_own(client, login, world):
    page = look(client, login, world, "other_manager")
    assert users_in(page, "shared") == ids(world, "r4", "r5", "r6")
    assert users_in(page, "signups") == ids(world, "r4", "r5", "r6")
    assert users_in(page, "throttled") == ids(world, "r4")
    assert "주민1" not in text_of(page)


def test_admins_see_everything_with_the_evidence(client, login, world):
    page = look(client, login, world, "admin")
    text = text_of(page)
    # Throttled accounts: counts, the limit reached, the address.
    throttled = section(page, "throttled")
    r1 = world["people"]["r1"].id
    row = re.search(rf'<tr data-user="{r1}">(.*?)</tr>', throttled, re.S)
    assert row and '<td data-count>2</td>' in row.group(1)
    assert "Booking requests of one account" in row.group(1) and HOME in row.group(1)
    # Without an account: admins only.
    anonymous = section(page, "throttled-addresses")
    assert GUESSER in anonymous and "Log-in attempts from one address" in anonymous
    # Sign-up bursts: HOME and FARM, not the café's sign-ups hours apart.
    assert users_in(page, "signups") == ids(world, "r1", "r2", "r3", "r4", "r5", "r6")
    assert CAFE not in section(page, "signups")
    # One address, many accounts: per-account request counts and the spaces.
    shared = section(page, "shared")
    assert re.search(r"주민1 <span class=\"muted\">#\d+</span>[^(]*\(2\)", shared)
    assert "번동초 체육관" in shared and "종로 강당" in shared
    # Failed checks with why; the one older than the week is not shown.
    checks = section(page, "checks")
    assert "sent without the check" in checks and "check used again" in checks
    assert "check expired" not in checks
    assert "Events are deleted after 90 days." in text


def test_a_longer_period_shows_older_events(client, login, world):
    page = look(client, login, world, "admin", "?days=30")
    assert "check expired" in section(page, "checks")
    assert users_in(page, "checks") == ids(world, "r2", "r3", "r5")
    nonsense = look(client, login, world, "admin", "?days=9999")  # the default week instead
    assert nonsense.status_code == 200 and "check expired" not in section(nonsense, "checks")


def test_two_bursts_from_one_address_are_two_rows(client, login, factories, db, frozen):
    admin = factories.user(is_admin=True, locale="en")
    accounts = [factories.user() for _ in range(7)]
    for n, user in enumerate(accounts[:3]):
        event(ACCOUNT_CREATED, at=NOW - timedelta(hours=5, minutes=-9 * n), ip=HOME, user=user)
    for n, user in enumerate(accounts[3:]):
        event(ACCOUNT_CREATED, at=NOW - timedelta(hours=1, minutes=-n), ip=HOME, user=user)
    db.session.commit()
    login(admin)
    signups = section(client.get("/security/activity"), "signups")
    counts = re.findall(r"<td data-count>(\d+)</td>", signups)
    assert counts == ["4", "3"]  # the larger first; 9 minutes apart still chain (gap 10)


def test_the_page_runs_a_fixed_number_of_queries(client, login, factories, db, frozen,
                                                 count_queries):
    school = factories.org()
    gym = factories.space(owner=school)
    manager = factories.manager(school, locale="en")
    admin = factories.user(is_admin=True, locale="en")
    db.session.commit()

    def add_rows(n: int) -> None:
        for i in range(n):
            ip = f"203.0.113.{i % 50}"
            users = [factories.user() for _ in range(3)]
            for k, user in enumerate(users):
                at = NOW - timedelta(hours=1, minutes=i, seconds=k)
                event(ACCOUNT_CREATED, at=at, ip=ip, user=user)
                event(BOOKING_REQUESTED, at=at, ip=ip, user=user, space=gym, via="form")
                event(THROTTLED, at=at, ip=ip, user=user, scope="booking-ip")
                event(CHALLENGE_FAILED, at=at, ip=ip, user=user, space=gym, reason="invalid")
            event(THROTTLED, at=NOW, ip=f"192.0.2.{i}", scope="login-ip")
        db.session.commit()

    def measure(viewer) -> int:
        login(viewer)
        client.get("/security/activity")
        with count_queries() as q:
            assert client.get("/security/activity").status_code == 200
        return q.count

    add_rows(2)
    few = {"manager": measure(manager), "admin": measure(admin)}
    add_rows(30)
    many = {"manager": measure(manager), "admin": measure(admin)}
    assert many == few, (few, many)
    assert few["admin"] <= 20
