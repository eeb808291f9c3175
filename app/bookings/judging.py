"""Judging a booking request with the rules that bind its space.

The engine (`app.rules.engine`) is pure; this module gathers its inputs: the rule sets in force
(`app.rules.services`) and what the rules need to know about the person from their bookings —
quota usage and no-shows — in a bounded number of queries: one per quota and one per no-show
penalty that applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select

from app.bookings.models import Booking
from app.bookings.states import COUNTED, BookingStatus
from app.db import utcnow
from app.extensions import db
from app.rules.engine import Applicant, Ask, Decision, Effective, Source, combine, evaluate
from app.rules.engine import period_bounds as _period_bounds
from app.rules.services import (
    ancestors,
    jurisdictions_by_id,
    resident_keys,
    rule_sets_by_ids,
    rule_sets_in_force,
)
from app.spaces.models import Space, space_jurisdictions

# Bookings that count against quotas: everything that holds or held a slot.


def _scope_space_filter(source: Source, tree):
    """SQL condition on Booking.space_id for the spaces a rule set covers."""

    kind, _, ident = source.key.partition(":")
    ident_int = int(ident)
    if kind == "s":
        return Booking.space_id == ident_int
    if kind == "o":
        return Booking.space_id.in_(select(Space.id).where(Space.owner_id == ident_int))
    # A jurisdiction covers the spaces tagged with it or with any jurisdiction below it.
    below = [jid for jid in tree if ident_int in ancestors(jid, tree)]
    return Booking.space_id.in_(
        select(space_jurisdictions.c.space_id).where(
            space_jurisdictions.c.jurisdiction_id.in_(below)
        )
    )


def applicant_facts(
    space: Space,
    effective: Effective,
    user,
    *,
    start: datetime,
    group_id: int | None,
    tree,
    exclude_booking_id: int | None = None,
) -> Applicant:
    """What the rules need to know about the person: residency, quota usage, no-shows."""

    keys = resident_keys(user, space, list(effective.sources), tree)
    usage: dict[tuple[str, int], tuple[int, int]] = {}
    no_shows: dict[str, tuple[datetime, ...]] = {}
    user_id = getattr(user, "id", None)
    for source, rules in effective.parts:
        for index, quota in enumerate(rules.quotas):
            if quota.per == "group" and group_id is None:
                continue
            lo, hi = _period_bounds(start, quota.period, space.zone)
            who = Booking.group_id == group_id if quota.per == "group" else (
                Booking.user_id == user_id
            )
            conditions = [
                who,
                Booking.status.in_(COUNTED),
                Booking.start_at >= lo,
                Booking.start_at < hi,
                _scope_space_filter(source, tree),
            ]
            if exclude_booking_id is not None:
                conditions.append(Booking.id != exclude_booking_id)
            row = db.session.execute(
                select(
                    func.count(Booking.id),
                    func.coalesce(func.sum(_minutes_expr(Booking)), 0),
                ).where(and_(*conditions))
            ).one()
            usage[(source.key, index)] = (int(row[1] or 0), int(row[0]))
        if rules.no_show is not None and user_id is not None:
            since = utcnow() - timedelta(days=rules.no_show.within_days + rules.no_show.ban_days)
            marks = db.session.scalars(
                select(Booking.start_at).where(
                    Booking.user_id == user_id,
                    Booking.status == BookingStatus.NO_SHOW,
                    Booking.start_at >= since,
                    _scope_space_filter(source, tree),
                )
            ).all()
            no_shows[source.key] = tuple(marks)
    return Applicant(
        resident_of=keys,
        is_space_resident="space-area" in keys,
        has_group=group_id is not None,
        usage=usage,
        no_shows=no_shows,
    )


def _minutes_expr(Booking):
    """Minutes of a booking in SQL, on PostgreSQL and SQLite alike."""
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", Booking.end_at - Booking.start_at) / 60
    return (func.julianday(Booking.end_at) - func.julianday(Booking.start_at)) * 1440


@dataclass(frozen=True)
class Judgement:
    decision: Decision
    effective: Effective
    version_ids: list[int]
    applicant: Applicant


def judge(
    space: Space,
    user,
    *,
    start: datetime,
    end: datetime,
    purpose: str,
    attendees: int,
    waiver: str | None = None,
    group_id: int | None = None,
    now: datetime | None = None,
    version_ids: list[int] | None = None,
    exclude_booking_id: int | None = None,
) -> Judgement:
    """Judge a request against the rules in force at `now` (or the stored `version_ids`)."""
    now = now or utcnow()
    tree = jurisdictions_by_id()
    if version_ids is None:
        found = rule_sets_in_force(space, now, tree=tree)
    else:
        found = rule_sets_by_ids(space, version_ids, tree=tree)
    effective = combine([(source, rules) for source, rules, _ in found])
    app = applicant_facts(
        space,
        effective,
        user,
        start=start,
        group_id=group_id,
        tree=tree,
        exclude_booking_id=exclude_booking_id,
    )
    ask = Ask(
        start=start,
        end=end,
        zone=space.zone,
        now=now,
        purpose=purpose,
        attendees=attendees,
        waiver=waiver,
        default_rate=space.price_per_hour,
        base_mode=space.booking_mode,
    )
    return Judgement(evaluate(effective, ask, app), effective, [rs.id for _, _, rs in found], app)
