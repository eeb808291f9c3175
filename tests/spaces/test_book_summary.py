"""The request form's summary panel and the fragment its script fetches while the form changes:
time, people, total, what happens next and the cancellation policy, with the same checks as
sending (capacity included), in a bounded number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.approvals import add_rules
from tests.conftest import next_weekday
from tests.spaces.test_pages import SEOUL, form_data

pytestmark = pytest.mark.usefixtures("english")
TIERS = {"refund_tiers": [{"days_before": 7, "percent": 100}, {"days_before": 2, "percent": 50}]}


def _args(start, hours=2, **more):
    data = form_data(start, start + timedelta(hours=hours), **more)
    data.pop("purpose")
    return data


def test_the_summary_follows_the_form(client, db, factories, login, count_queries):
    start = next_weekday(3, 18)
    space = factories.space(price_per_hour=10_000, capacity=80, booking_mode="request")
    add_rules(body=TIERS, space_id=space.id)
    login(factories.user())
    db.session.commit()
    url = f"/spaces/{space.id}/book/summary"

    with count_queries() as q:
        response = client.get(url, query_string=_args(start))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page  # a fragment
    assert q.count <= 20
    assert "₩20,000" in page and "12 people" in page
    assert "Needs approval by:" in page
    assert "Once approved, pay ₩20,000 within 48 hours" in page
    assert "Cancel 7 days or more before: 100% back." in page
    assert "Cancel 2 days or more before: 50% back." in page
    assert "Later: no refund." in page
    assert "If the owner cancels or closes the space, you get everything back." in page

    # Three hours: the total follows; 200 people in an 80-person room: refused at once.
    page = client.get(url, query_string=_args(start, hours=3)).get_data(as_text=True)
    assert "₩30,000" in page
    page = client.get(url, query_string=_args(start, attendees="200")).get_data(as_text=True)
    assert "This request cannot be sent as it is:" in page and "80" in page
    assert "What happens next" not in page

    # Nothing chosen yet: it asks for the times; typing nonsense is no error page.
    page = client.get(url).get_data(as_text=True)
    assert "Choose a date and times" in page
    bad = client.get(url, query_string={"date": "x", "start_time": "25:99", "attendees": "-"})
    assert bad.status_code == 200


def test_the_form_page_carries_the_panel_and_its_script(client, db, factories, login):
    start = next_weekday(2, 10)
    space = factories.space(price_per_hour=0, booking_mode="instant")
    login(factories.user())
    db.session.commit()
    local = start.astimezone(SEOUL)
    page = client.get(f"/spaces/{space.id}/book", query_string={
        "start": local.isoformat(), "end": (local + timedelta(hours=1)).isoformat(),
    }).get_data(as_text=True)
    assert f'data-summary-url="/spaces/{space.id}/book/summary"' in page
    assert "js/book-summary.js" in page
    assert "Confirmed at once, free of charge." in page
    assert "Free of charge: cancel any time before the start." in page


def test_the_summary_needs_a_login(client, db, factories):
    space = factories.space()
    db.session.commit()
    response = client.get(f"/spaces/{space.id}/book/summary")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
