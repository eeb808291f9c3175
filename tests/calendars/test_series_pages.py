"""Repeating requests through the pages: preview, send with skipped dates, the series page,
deciding the whole series, cancelling this and later dates."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.bookings.models import Booking, BookingSeries
from tests.approvals.test_pages import form_for
from tests.calendars.test_series import _first_weekday


def _form(first_start, **changes):
    return form_for(first_start, purpose_category="community", purpose="합창 연습",
                    attendees="8", repeat="weekly", interval="1", count="4", **changes)


def test_a_weekly_series_is_previewed_sent_decided_and_cut_short(
    factories, db, client, login, now, english
):
    from tests.approvals import SEOUL, seoul

    space = factories.space(price_per_hour=5000)
    manager = factories.manager(space.owner)
    resident = factories.user()
    tuesday = _first_weekday(now, 1)
    first = seoul(tuesday, 19)
    taken = seoul(tuesday + timedelta(days=7), 19)
    factories.booking(space, factories.user(), start=taken, end=taken + timedelta(hours=2))
    db.session.commit()
    login(resident)

    preview = client.post(f"/spaces/{space.id}/book", data=_form(first, check="1"))
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert text.count('class="ok"') == 3 and text.count('class="conflict"') == 1
    assert "₩30,000" in text  # three bookable dates × 2 hours × ₩5,000

    refused = client.post(f"/spaces/{space.id}/book", data=_form(first, send="1"))
    assert refused.status_code == 409 and "Skip the dates" in refused.get_data(as_text=True)
    assert db.session.scalar(select(BookingSeries)) is None

    sent = client.post(f"/spaces/{space.id}/book",
                       data=_form(first, send="1", skip_conflicts="y"))
    assert sent.status_code == 302
    series_id = int(re.search(r"/bookings/series/(\d+)", sent.headers["Location"]).group(1))
    dates = db.session.scalars(select(Booking).where(Booking.series_id == series_id)
                               .order_by(Booking.start_at)).all()
    assert [d.start_at.astimezone(SEOUL).date() for d in dates] == [
        tuesday, tuesday + timedelta(days=14), tuesday + timedelta(days=21)]

    login(manager)
    page = client.get(f"/bookings/series/{series_id}").get_data(as_text=True)
    assert "3 dates wait for your decision" in page
    client.post(f"/bookings/series/{series_id}/decide", data={"action": "approve"})
    db.session.expire_all()
    assert {d.status for d in dates} == {"approved"}

    login(resident)
    client.post(f"/bookings/{dates[1].id}/cancel-from")
    db.session.expire_all()
    assert [d.status for d in dates] == ["approved", "cancelled", "cancelled"]

    other = factories.user()
    db.session.commit()
    login(other)
    assert client.get(f"/bookings/series/{series_id}").status_code == 404


def test_the_series_page_reads_a_fixed_number_of_queries(factories, db, client, login, now,
                                                         queries_of_get):
    from app.bookings import series as series_services
    from app.bookings.series import Repeat

    org = factories.org()
    manager = factories.manager(org)
    resident = factories.user()
    ids = []
    for n in (2, 6):
        space = factories.space(owner=org, name=f"교실 {n}")
        series, _plan = series_services.create_series(
            space, resident, Repeat("weekly", weekdays=(1,), count=n),
            _first_weekday(now, 1), 18 * 60, 60, {"purpose": "모임", "attendees": 3},
            skip_conflicts=False)
        ids.append(series)  # held, so the shared session treats both series alike
    db.session.commit()
    for who in (resident, manager):
        login(who)
        counts = [queries_of_get(f"/bookings/series/{series.id}") for series in ids]
        assert counts[0] == counts[1], counts
