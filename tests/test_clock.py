"""GONGGAN_TEST_NOW really moves the whole run (docs/operations.md): checked only when it is set."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from app.db import utcnow

pytestmark = pytest.mark.skipif(
    not os.environ.get("GONGGAN_TEST_NOW"), reason="GONGGAN_TEST_NOW is not set"
)


def _instant() -> datetime:
    return datetime.fromisoformat(os.environ["GONGGAN_TEST_NOW"])


def test_the_app_s_clock_starts_at_the_instant_and_ticks():
    # A session of the time-sensitive folders lasts minutes; an hour is a generous bound.
    assert _instant() <= utcnow() < _instant() + timedelta(hours=1)


def test_a_test_s_own_travel_returns_to_the_session_s_clock():
    with time_machine.travel(datetime(2001, 2, 3, 4, 5, tzinfo=UTC), tick=False):
        assert utcnow() == datetime(2001, 2, 3, 4, 5, tzinfo=UTC)
    assert _instant() <= utcnow() < _instant() + timedelta(hours=1)
