"""Fixtures for the anti-macro tests: a frozen "now", booking form data, and a solver that does
in Python what the browser's widget does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import altcha
import pytest

from app.extensions import db
from app.security.models import SecurityEvent

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2030, 3, 4, 1, 0, tzinfo=UTC)  # a Monday, 10:00 in Seoul


@pytest.fixture
def frozen(time_machine):
    """Time stands still at NOW until the test moves it (`frozen.shift(...)`)."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def roomy_limits(app, monkeypatch):
    """Rate limits wide enough for a test that sends many requests as one person."""
    monkeypatch.setitem(app.config, "RATELIMIT_BOOKING_PER_ACCOUNT", "1000 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_BOOKING_PER_IP", "1000 per minute")


def slot(days: int, hour: int = 19, hours: int = 1) -> tuple[datetime, datetime]:
    """`hours` from `hour` o'clock in Seoul, `days` after NOW's day."""
    day = NOW.astimezone(SEOUL).date() + timedelta(days=days)
    start = datetime(day.year, day.month, day.day, hour, tzinfo=SEOUL).astimezone(UTC)
    return start, start + timedelta(hours=hours)


def form(start: datetime, end: datetime, *, payload: str | None = None, **extra) -> dict:
    local_start, local_end = start.astimezone(SEOUL), end.astimezone(SEOUL)
    data = {
        "date": local_start.date().isoformat(),
        "start_time": f"{local_start:%H:%M}",
        "end_time": f"{local_end:%H:%M}",
        "purpose": "주민 합창 연습",
        "attendees": "12",
        "send": "1",
    }
    if payload is not None:
        data["altcha"] = payload
    data.update(extra)
    return data


def solve(client, space_id: int) -> str:
    """Fetch a challenge as the widget does, solve it and return the form field's value."""
    response = client.get(f"/spaces/{space_id}/challenge")
    assert response.status_code == 200, response.status_code
    challenge = altcha.Challenge.from_dict(response.get_json())
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    return altcha.Payload(challenge, solution).to_base64()


def event(kind: str, *, at: datetime, ip: str | None = "203.0.113.7", user=None, space=None,
          **detail) -> SecurityEvent:
    row = SecurityEvent(at=at, kind=kind, ip=ip, user_id=user.id if user else None,
                        space_id=space.id if space else None, detail=detail)
    db.session.add(row)
    return row
