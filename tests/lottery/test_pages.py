"""The public result of a draw, the list of a space's draws and the fairness report."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.accounts.group_models import ResidentGroup, ResidentGroupMember
from app.bookings.models import LotteryDraw
from app.bookings.sweeps import sweep
from tests.lottery.conftest import draw_time, saturday

HUGE = "9" * 25
JUNE, JULY = saturday(6), saturday(7)


def drawn(setup, db, people, day=JUNE):
    """Enter each (user, start hour, end hour[, group]) for `day`, draw, commit; the draw."""
    entries = [setup.enter(u, day, s, e, group_id=g[0] if g else None) for u, s, e, *g in people]
    sweep(now=draw_time(day) + timedelta(minutes=1))
    db.session.commit()
    return db.session.get(LotteryDraw, entries[0].lottery_draw_id), entries


# --- Public result ------------------------------------------------------------------------------
def test_the_result_page_is_public_with_masked_names_seed_and_check(client, setup, db):
    record, entries = drawn(setup, db, [
        (setup.resident("김민수"), 9, 11), (setup.resident("이서연"), 9, 11),
        (setup.outsider("박지훈"), 11, 12),
    ])  # fmt: skip
    page = client.get(f"/lottery/draws/{record.id}?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert record.seed in html and "gonggan-1" in html
    assert 'data-verified="yes"' in html
    for masked in ("김**", "이**", "박**"):
        assert masked in html
    for private in ("김민수", "이서연", "박지훈", "@example.org", "배드민턴"):
        assert private not in html
    assert html.count("data-entry=") == 3
    assert "Resident priority" in html and "General" in html
    assert "Fairness report" not in html  # only for managers and officers


def test_a_tampered_result_shows_as_not_verified(client, setup, db):
    record, _ = drawn(setup, db, [(setup.resident(), 9, 11), (setup.resident("이"), 9, 11)])
    record.seed = "f" * 32
    db.session.commit()
    html = client.get(f"/lottery/draws/{record.id}").get_data(as_text=True)
    assert 'data-verified="no"' in html


def test_the_draws_of_a_space_are_listed(client, setup, db):
    first, _ = drawn(setup, db, [(setup.resident(), 9, 11), (setup.resident("이"), 9, 11)])
    second, _ = drawn(setup, db, [(setup.resident("박"), 9, 11)], day=JULY)
    html = client.get(f"/lottery/spaces/{setup.space.id}/draws").get_data(as_text=True)
    assert html.index(f'data-draw="{second.id}"') < html.index(f'data-draw="{first.id}"')
    assert first.seed in html and f"/lottery/draws/{first.id}" in html


def test_draws_of_an_unpublished_space_are_not_shown_to_the_public(client, login, setup, db):
    record, _ = drawn(setup, db, [(setup.resident(), 9, 11)])
    setup.space.published = False
    manager = setup.factories.manager(setup.org)
    db.session.commit()
    assert client.get(f"/lottery/draws/{record.id}").status_code == 404
    assert client.get(f"/lottery/spaces/{setup.space.id}/draws").status_code == 404
    login(manager)
    assert client.get(f"/lottery/draws/{record.id}").status_code == 200


@pytest.mark.parametrize(
    "url", ["/lottery/draws/{huge}", "/lottery/spaces/{huge}/draws", "/lottery/draws/12345"]
)
def test_unknown_draws_and_spaces_are_a_plain_404(client, url):
    assert client.get(url.format(huge=HUGE)).status_code == 404


# --- Fairness -----------------------------------------------------------------------------------
@pytest.fixture
def report(setup, db):
    """June: a resident and an outsider for 9-10 (the resident wins: priority), a person with no
    home district alone at 10-11, two residents of one group for 11-12. July: the 9-10 resident
    wins again. Hand-counted below."""
    kim, park = setup.resident("김민수"), setup.outsider("박지훈")
    choi = setup.outsider("최", home=False)
    lee, jung = setup.resident("이서연"), setup.resident("정")
    club = ResidentGroup(name="번동 배드민턴 동호회")
    club.members = [ResidentGroupMember(user=lee), ResidentGroupMember(user=jung)]
    db.session.add(club)
    db.session.flush()
    drawn(setup, db, [(kim, 9, 10), (park, 9, 10), (choi, 10, 11),
                      (lee, 11, 12, club.id), (jung, 11, 12, club.id)])  # fmt: skip
    drawn(setup, db, [(kim, 9, 10)], day=JULY)
    return setup, club


def fairness_url(space, start=None, end=None):
    start = start or (JUNE - timedelta(days=30)).isoformat()
    end = end or JULY.isoformat()
    return f"/lottery/spaces/{space.id}/fairness?start={start}&end={end}&lang=en"


def test_fairness_numbers(report):
    from app.bookings.lottery_report import fairness
    from tests.lottery.conftest import at

    setup, club = report
    f = fairness(setup.space, at(JUNE - timedelta(days=30), 0), at(JULY, 0))
    assert (f.draws, f.entries, f.wins) == (2, 6, 4)
    res = {g.key: (g.entries, g.wins) for g in f.residency}
    assert res == {"resident": (4, 3), "non_resident": (2, 1)}
    shares = {g.key: round(g.share_of_wins, 3) for g in f.residency}
    rates = {g.key: round(g.win_rate, 3) for g in f.residency}
    assert shares == {"resident": 0.75, "non_resident": 0.25}
    assert rates == {"resident": 0.75, "non_resident": 0.5}
    districts = {g.key: (g.label, g.entries, g.wins) for g in f.districts}
    assert districts == {
        setup.district.id: ("강북구", 4, 3),
        setup.other.id: ("도봉구", 1, 0),
        None: (None, 1, 1),
    }
    groups = {g.key: (g.label, g.entries, g.wins) for g in f.groups}
    assert groups == {club.id: ("번동 배드민턴 동호회", 2, 1), None: (None, 4, 3)}
    assert f.repeat_winner_count == 1 and f.repeat_winners == [("김**", 2)]
    # The period counts draws by their draw time: June's alone.
    june = fairness(setup.space, at(JUNE - timedelta(days=30), 0), at(JUNE, 0))
    assert (june.draws, june.entries, june.wins, june.repeat_winner_count) == (1, 5, 3, 0)


def test_fairness_page_for_the_spaces_manager(client, login, report, db):
    setup, _club = report
    login(setup.factories.manager(setup.org))
    db.session.commit()
    html = client.get(fairness_url(setup.space)).get_data(as_text=True)
    assert "<dd data-draws>2</dd>" in html and "<dd data-entries>6</dd>" in html
    assert "<dd data-wins>4</dd>" in html
    assert 'data-repeat="1"' in html and "김**: 2 wins" in html
    assert "75.0%" in html and "50.0%" in html
    assert "김민수" not in html and "번동 배드민턴 동호회" in html


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("yesterday", None, "Enter a date such as"),
        ("2026-02-30", None, "Enter a date such as"),
        ("1999-12-31", None, "Enter a date between 2000 and 2100."),
        ("2030-05-01", "2030-04-01", "The end of the period cannot be before its start."),
        ("2030-01-01", "2033-01-01", "Choose a period of at most two years."),
        (HUGE, HUGE, "Enter a date such as"),
        ("%00", None, ""),
    ],
)
def test_bad_dates_get_a_clear_message_never_a_500(client, login, setup, db, start, end, message):
    officer = setup.factories.officer(setup.district)
    db.session.commit()
    login(officer)
    response = client.get(fairness_url(setup.space, start, end))
    assert response.status_code in (200, 422)
    assert message in response.get_data(as_text=True)


def test_who_may_see_the_fairness_report(client, login, setup, db, factories):
    space = setup.space
    url = f"/lottery/spaces/{space.id}/fairness"
    people = {
        "manager": factories.manager(setup.org),
        "officer": factories.officer(setup.district),
        "resident": setup.resident(),
        "other manager": factories.manager(),
        "other officer": factories.officer(setup.other),
        "admin": factories.user(is_admin=True),
    }
    db.session.commit()
    assert client.get(url).status_code == 302  # log in first
    expected = {"manager": 200, "officer": 200, "admin": 200, "resident": 403,
                "other manager": 403, "other officer": 403}  # fmt: skip
    for who, user in people.items():
        login(user)
        assert client.get(url).status_code == expected[who], who
        client.post("/logout")
    space.published = False
    db.session.commit()
    login(people["resident"])
    assert client.get(url).status_code == 404
    assert client.get(f"/lottery/spaces/{HUGE}/fairness").status_code == 404


# --- Bounded queries ----------------------------------------------------------------------------
def test_pages_take_the_same_queries_for_few_or_many_entries(
    client, login, make_setup, db, queries_of_get
):
    counts = []
    for n in (2, 7):
        setup = make_setup()
        record, _ = drawn(setup, db, [(setup.resident(f"김{k}"), 9 + k % 3, 12) for k in range(n)])
        manager = setup.factories.manager(setup.org)
        db.session.commit()
        login(manager)
        counts.append((
            queries_of_get(f"/lottery/draws/{record.id}"),
            queries_of_get(f"/lottery/spaces/{setup.space.id}/draws"),
            queries_of_get(fairness_url(setup.space)),
        ))  # fmt: skip
        client.post("/logout")
    assert counts[0] == counts[1]
    assert all(n <= 12 for n in counts[0]), counts
