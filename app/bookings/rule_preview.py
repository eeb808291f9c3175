"""Previewing a rule change: the bookings of the following month a draft would refuse."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from app.bookings.models import Booking
from app.bookings.states import ACTIVE
from app.extensions import db
from app.orgs.models import with_descendants
from app.rules import services
from app.rules.editing import Scope, check_draft
from app.rules.engine import Applicant, Ask, Reason, Source, combine, refusals
from app.rules.models import RuleSet
from app.spaces.models import Space, space_jurisdictions

PREVIEW_LIMIT = 500


@dataclass(frozen=True)
class Breach:
    booking: Booking
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Preview:
    start: datetime
    end: datetime
    checked: int
    truncated: bool
    breaches: tuple[Breach, ...]


def _one_month_after(at: datetime, zone: ZoneInfo) -> datetime:
    local = at.astimezone(zone)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(UTC)


def _spaces_filter(scope: Scope, tree):
    if scope.kind == "space":
        return Booking.space_id == scope.id
    if scope.kind == "organisation":
        return Space.owner_id == scope.id
    below = with_descendants({scope.id}, {k: v.parent_id for k, v in tree.items()})
    return Booking.space_id.in_(
        select(space_jurisdictions.c.space_id).where(
            space_jurisdictions.c.jurisdiction_id.in_(below)
        )
    )


def _draft_source(scope: Scope, space: Space, tree) -> Source:
    # A version never saved: the services name and rank it like any stored one.
    return services.source_for(RuleSet(**scope.owner_fk), space, tree)


def preview(scope: Scope, doc: dict, day: date | None, *, now: datetime | None = None) -> Preview:
    """The active bookings starting within a month of the draft's effective day that the draft
    would refuse and the current rules do not.

    Each booking is judged as when it was requested (`now` = its creation time) against every
    rule set in force at the effective instant, with the draft in place of this scope's version.
    Quota usage and no-show history are not gathered (one booking alone can still exceed a
    quota's hours). Queries: the tree, the bookings with their spaces and users, and one per
    distinct space for its rule sets.
    """
    draft, at = check_draft(scope, doc, day, now=now)
    end = _one_month_after(at, scope.zone)
    tree = services.jurisdictions_by_id()
    bookings = list(
        db.session.scalars(
            select(Booking)
            .join(Booking.space)
            .where(
                _spaces_filter(scope, tree),
                Booking.status.in_(ACTIVE),
                Booking.start_at >= at,
                Booking.start_at < end,
            )
            .options(
                contains_eager(Booking.space).selectinload(Space.jurisdictions),
                contains_eager(Booking.space).selectinload(Space.owner),
                selectinload(Booking.user),
            )
            .order_by(Booking.start_at, Booking.id)
            .limit(PREVIEW_LIMIT + 1)
        )
    )
    truncated = len(bookings) > PREVIEW_LIMIT
    bookings = bookings[:PREVIEW_LIMIT]
    combined: dict[int, tuple] = {}  # space id -> (rules now, rules with the draft)
    breaches = []
    for booking in bookings:
        space = booking.space
        if space.id not in combined:
            found = services.rule_sets_in_force(space, at, tree=tree)
            others = [(s, r) for s, r, _ in found if s.key != scope.key]
            mine = [(s, r) for s, r, _ in found if s.key == scope.key]
            source = mine[0][0] if mine else _draft_source(scope, space, tree)
            combined[space.id] = (combine(others + mine), combine([*others, (source, draft)]))
        before, after = combined[space.id]
        keys = services.resident_keys(booking.user, space, list(after.sources), tree)
        applicant = Applicant(resident_of=keys, is_space_resident="space-area" in keys)
        ask = Ask(
            start=booking.start_at,
            end=booking.end_at,
            zone=space.zone,
            now=booking.created_at,
            purpose=booking.purpose_category,
            attendees=booking.attendees,
            waiver=booking.waiver_category,
            default_rate=space.price_per_hour,
            base_mode=space.booking_mode,
        )
        # A rule the booking already breaks is not the draft's doing (another rule set's limit,
        # or the same rule in the current version).
        old = {(r.code, r.params) for r in refusals(before, ask, applicant)}
        new = tuple(r for r in refusals(after, ask, applicant) if (r.code, r.params) not in old)
        if new:
            breaches.append(Breach(booking, new))
    return Preview(at, end, len(bookings), truncated, tuple(breaches))
