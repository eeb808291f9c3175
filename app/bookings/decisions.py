"""Deciding many requests at once: the queue's bulk decisions, the API's and a whole series.

Each request is decided in its own savepoint, so one that cannot be decided (decided by someone
else meanwhile, its time begun, not the actor's stage) changes nothing and stops nothing; the
caller commits once and reports each outcome.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from app.bookings import services
from app.bookings.models import Booking
from app.db import utcnow
from app.errors import DomainError, NotAllowed
from app.extensions import db


@dataclass(frozen=True)
class Outcome:
    booking: Booking
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def decide_many(bookings: Iterable[Booking], actor, *, approve: bool, reason: str | None = None,
                now: datetime | None = None) -> list[Outcome]:
    """Approve (or reject, with `reason`) each of `bookings` in order; one outcome each."""
    now = now or utcnow()
    outcomes = []
    for booking in bookings:
        try:
            if not booking.can_decide_now(actor):
                raise NotAllowed(_("You do not decide the current stage of this request."))
            with db.session.begin_nested():
                if approve:
                    services.approve(booking, actor, reason=reason, now=now)
                else:
                    services.reject(booking, actor, reason=reason or "", now=now)
        except DomainError as exc:
            outcomes.append(Outcome(booking, exc))
        else:
            outcomes.append(Outcome(booking))
    return outcomes
