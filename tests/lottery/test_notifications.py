"""Lottery entrants hear the result of the draw: winners and the others, each once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.bookings.sweeps import sweep
from app.notifications.models import Notification
from tests.lottery.conftest import draw_time, saturday

DAY = saturday(6)
AFTER = draw_time(DAY) + timedelta(minutes=1)


@pytest.mark.usefixtures("english")
def test_every_entrant_hears_the_result_once(setup, db):
    entries = [setup.enter(setup.resident(f"김{n}"), DAY, 9, 11) for n in range(3)]
    db.session.commit()
    received = db.session.scalars(
        select(Notification.kind).where(Notification.booking_id.in_([b.id for b in entries]))
    ).all()
    assert received == ["booking_received"] * 3  # "you are in the draw of …"
    sweep(now=AFTER)
    db.session.commit()
    sweep(now=AFTER + timedelta(minutes=5))  # a second sweep draws nothing, tells nobody
    db.session.commit()
    results = {
        n.booking_id: n.params["won"]
        for n in db.session.scalars(
            select(Notification).where(Notification.kind == "lottery_result")
        )
    }
    assert sorted(results.values()) == [False, False, True]
    assert set(results) == {b.id for b in entries}
    winner = next(b for b in entries if results[b.id])
    assert winner.status == "requested"
    lost = next(b for b in entries if not results[b.id])
    [note] = db.session.scalars(
        select(Notification).where(Notification.booking_id == lost.id,
                                   Notification.kind == "lottery_result")
    ).all()
    assert note.params["reason"].startswith("Not drawn in the lottery")
