"""Redis down: the site keeps working. A change that queues work is committed and answered as
usual, and its job runs in the web process instead of failing the request."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.notifications.models import EmailDelivery
from tests.conftest import next_weekday
from tests.factories import ALWAYS_OPEN
from tests.ops.conftest import free_port


def test_a_booking_made_while_redis_is_down_succeeds_and_its_emails_go_out(
    app, client, factories, api_token, monkeypatch, caplog
):
    org = factories.org()
    factories.manager(org)
    space = factories.space(owner=org, hours=ALWAYS_OPEN)
    resident = factories.user()
    headers = api_token(resident)
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    start = next_weekday(2, 10)

    response = client.post("/api/v1/bookings", headers=headers, json={
        "space_id": space.id, "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(), "purpose": "모임", "attendees": 3})

    assert response.status_code == 201, response.get_json()
    db.session.expire_all()
    emails = db.session.scalars(select(EmailDelivery)).all()
    assert emails and {e.status for e in emails} == {"sent"}  # to the development outbox
    assert any("running it in process" in r.getMessage() for r in caplog.records)
