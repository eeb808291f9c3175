"""Numbers nobody means but anybody can type: page numbers and ids beyond what a database column
holds, and times at the edge of the calendar. Each page answers normally, never with a 500."""

from __future__ import annotations

import pytest

HUGE = "9" * 25


@pytest.fixture
def everyone(factories, db):
    org = factories.org()
    district = factories.jurisdiction()
    users = {
        "resident": factories.user(),
        "manager": factories.manager(org),
        "officer": factories.officer(district),
    }
    space = factories.space(owner=org, jurisdictions=[district])
    db.session.commit()
    return users, space


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("resident", "/bookings/?page={huge}"),
        ("resident", "/bookings/?page=-3"),
        ("manager", "/manage/queue?page={huge}"),
        ("manager", "/manage/queue?space={huge}"),
        ("manager", "/manage/spaces?page={huge}&org={huge}"),
        ("manager", "/manage/spaces/new?org={huge}"),
        ("officer", "/oversight/?page={huge}&jurisdiction={huge}&space={huge}"),
        ("officer", "/oversight/bookings?page={huge}&space={huge}"),
        ("resident", "/spaces/{space}/book?start=9999-12-31T23:00Z&end=9999-12-31T23:30Z"),
        ("resident", "/spaces/{space}/book?start=0001-01-01T00:00Z"),
    ],
)
def test_pages_take_huge_numbers_calmly(client, login, everyone, who, url):
    users, space = everyone
    login(users[who])
    response = client.get(url.format(huge=HUGE, space=space.id))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


def test_revoking_a_token_with_a_huge_id_is_a_plain_404(client, login, everyone):
    users, _space = everyone
    login(users["resident"])
    response = client.post(
        "/account", data={"action": "revoke", "revoke-token_id": HUGE}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "url",
    ["/bookings/{huge}", "/spaces/{huge}", "/spaces/{huge}/book", "/manage/spaces/{huge}/edit",
     "/bookings/2147483648", "/lottery/draws/{huge}"],
)
def test_ids_in_paths_beyond_an_integer_column_are_plain_404s(client, login, everyone, url):
    users, _space = everyone
    login(users["manager"])
    assert client.get(url.format(huge=HUGE)).status_code == 404
