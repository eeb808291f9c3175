"""When a booking request must come with a proof of work, and the log of requests it is judged by.

A space's owner chooses (`Space.challenge_mode`): "off", "always", or "auto" (the default),
which turns the check on by itself once more than CHALLENGE_SURGE_REQUESTS booking requests
reached the space within a minute, and keeps it on for CHALLENGE_SURGE_MINUTES after the last
such minute (`Space.challenge_until`).

Requests are counted from the security log's BOOKING_REQUESTED rows, not from the rate
limiter's counters: those live in each worker's memory unless Redis is configured, while the
database is shared by every worker and survives restarts. Counting one space's last minute is
one index range scan (security_events (space_id, at)). The request that pushes a space over
the threshold still goes through without a check; the ones after it need one.

API requests (bearer tokens) are counted too but never asked for the check: they have their
own limits, and no browser to solve it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.security import challenge
from app.security import events as security_events
from app.security.models import BOOKING_REQUESTED, CHALLENGE_FAILED, SecurityEvent
from app.spaces.models import Space

SURGE_WINDOW = timedelta(minutes=1)


def challenge_required(space: Space, now: datetime) -> bool:
    """Whether a booking request sent from the form now must carry a proof of work."""
    if space.challenge_mode == "always":
        return True
    if space.challenge_mode == "off":
        return False
    return space.challenge_until is not None and space.challenge_until > now


def surge_until(space: Space, now: datetime) -> datetime | None:
    """Until when an automatic space asks for the check because of a surge (None: it does not
    now), for its manager to see."""
    if space.challenge_mode == "auto" and space.challenge_until and space.challenge_until > now:
        return space.challenge_until
    return None


def requests_in_last_minute(space_id: int, now: datetime) -> int:
    return db.session.scalar(
        select(func.count()).select_from(SecurityEvent).where(
            SecurityEvent.space_id == space_id,
            SecurityEvent.at > now - SURGE_WINDOW,
            SecurityEvent.kind == BOOKING_REQUESTED,
        )
    ) or 0


def note_request(space: Space, user, *, now: datetime, via: str) -> None:
    """Log a booking request to `space` (BOOKING_REQUESTED) and, for an automatic space, turn
    the check on when the last minute's requests passed the threshold. Flushes; the caller
    commits at once, so a booking refused later still counts."""
    security_events.record(BOOKING_REQUESTED, user=user, space_id=space.id, detail={"via": via})
    db.session.flush()
    if space.challenge_mode != "auto":
        return
    config = current_app.config
    hold_until = now + timedelta(minutes=config["CHALLENGE_SURGE_MINUTES"])
    if space.challenge_until is not None and space.challenge_until > hold_until - SURGE_WINDOW:
        return  # on already, and extended within the last minute
    if requests_in_last_minute(space.id, now) <= config["CHALLENGE_SURGE_REQUESTS"]:
        return
    # Several workers may get here at once: each writes about the same instant, and the
    # latest wins, which is what "on until the last surge plus the hold" means. The space's
    # updated_at stays: its settings did not change (calendar feeds' ETags read it).
    db.session.execute(
        update(Space)
        .where(Space.id == space.id)
        .values(challenge_until=hold_until, updated_at=Space.updated_at)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(space, "challenge_until", hold_until)


def check_request(space: Space, user, payload: str | None, *, now: datetime) -> str | None:
    """Log a booking request sent from the form and, when the space asks for a proof of work,
    accept `payload` for it. Returns None when the request may go on, else why it may not (see
    app.security.challenge; logged as CHALLENGE_FAILED). Flushes; the caller commits at once,
    so a solution stays spent even if the booking is refused afterwards."""
    required = challenge_required(space, now)  # as the space was when the request arrived
    note_request(space, user, now=now, via="form")
    if not required:
        return None
    refusal = challenge.spend(payload, space_id=space.id, user_id=user.id)
    if refusal is not None:
        security_events.record(
            CHALLENGE_FAILED, user=user, space_id=space.id, detail={"reason": refusal}
        )
    return refusal
