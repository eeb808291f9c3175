"""The verbs of secret calendar feeds: make (or remake) an address, stop it, find the feed an
address opens. Only a token's SHA-256 is stored, so the plain token exists only in the answer
to the request that made it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.calendars.models import CalendarFeed
from app.db import utcnow
from app.extensions import db

# Tokens are 43 characters; anything much longer is not one of ours and is not hashed.
MAX_TOKEN_LENGTH = 64


def active_feeds(user) -> list[CalendarFeed]:
    """`user`'s feeds whose addresses work, personal and per organisation."""
    return list(db.session.scalars(
        select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                   CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.id)
    ))


def _stop(user, organisation_id: int | None, now: datetime) -> bool:
    stopped = False
    for row in active_feeds(user):
        if row.organisation_id == organisation_id:
            row.revoked_at = now
            stopped = True
    return stopped


def make_feed(user, organisation_id: int | None = None,
              now: datetime | None = None) -> tuple[CalendarFeed, str]:
    """A new address for `user`'s own bookings (or, with `organisation_id`, an organisation's
    the caller has checked `user` manages); the previous one stops working. Returns the row and
    the plain token, to be shown once."""
    _stop(user, organisation_id, now or utcnow())
    row, plain = CalendarFeed.issue(user, organisation_id)
    db.session.flush()
    return row, plain


def stop_feed(user, organisation_id: int | None = None, now: datetime | None = None) -> bool:
    """Stop `user`'s address of that kind; False if there was none."""
    stopped = _stop(user, organisation_id, now or utcnow())
    db.session.flush()
    return stopped


def find_feed(token: str) -> CalendarFeed | None:
    """The working feed whose address carries `token`, with its user and organisation."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == CalendarFeed.hash(token),
                                   CalendarFeed.revoked_at.is_(None))
        .options(joinedload(CalendarFeed.user), joinedload(CalendarFeed.organisation))
    )
