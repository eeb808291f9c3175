"""Finding the rule sets that bind a space and judging a request with them.

The engine (`app.rules.engine`) is pure; this module gathers its inputs from the database in a
bounded number of queries: one for the jurisdiction tree, one for the rule sets, one per quota
and one per no-show penalty that applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select

from app.db import utcnow
from app.extensions import db
from app.orgs.models import Jurisdiction
from app.rules.engine import Applicant, Ask, Decision, Effective, Source, combine, evaluate
from app.rules.engine import period_bounds as _period_bounds
from app.rules.models import ResidentGroupMember, RuleSet
from app.rules.schema import Rules, parse_rules
from app.spaces.models import Space, space_jurisdictions

# Bookings that count against quotas: everything that holds or held a slot.
COUNTED_STATUSES = ("requested", "approved", "confirmed", "returned", "completed", "no_show")


@dataclass(frozen=True)
class JurisdictionInfo:
    id: int
    parent_id: int | None
    name: str
    kind: str


def jurisdictions_by_id() -> dict[int, JurisdictionInfo]:
    rows = db.session.execute(
        select(Jurisdiction.id, Jurisdiction.parent_id, Jurisdiction.name, Jurisdiction.kind)
    ).all()
    return {r.id: JurisdictionInfo(r.id, r.parent_id, r.name, r.kind) for r in rows}


def ancestors(jid: int, tree: dict[int, JurisdictionInfo]) -> list[int]:
    """`jid` and every jurisdiction above it, nearest first."""
    out, seen = [], set()
    while jid is not None and jid in tree and jid not in seen:
        out.append(jid)
        seen.add(jid)
        jid = tree[jid].parent_id
    return out


def space_jurisdiction_ids(space: Space, tree: dict[int, JurisdictionInfo]) -> list[int]:
    """Every jurisdiction binding `space`: its own and their ancestors, nearest first."""
    out: list[int] = []
    for j in space.jurisdictions:
        for jid in ancestors(j.id, tree):
            if jid not in out:
                out.append(jid)
    return out


def _depth(jid: int, tree) -> int:
    return len(ancestors(jid, tree)) - 1


def source_for(rs: RuleSet, space: Space, tree) -> Source:
    """How a rule-set version (saved or a draft) is named and ranked for `space`."""
    if rs.jurisdiction_id is not None:
        info = tree[rs.jurisdiction_id]
        # Nearer jurisdictions (deeper in the tree) come before those above them.
        return Source(rs.scope_key, "jurisdiction", info.name, 100 - _depth(info.id, tree), rs.id)
    if rs.organisation_id is not None:
        return Source(rs.scope_key, "owner", space.owner.name, 1, rs.id)
    return Source(rs.scope_key, "space", space.name, 0, rs.id)


def _scope_filter(space: Space, jurisdiction_ids: list[int]):
    return or_(
        RuleSet.jurisdiction_id.in_(jurisdiction_ids or [-1]),
        RuleSet.organisation_id == space.owner_id,
        RuleSet.space_id == space.id,
    )


def rule_sets_in_force(
    space: Space, at: datetime, *, tree=None
) -> list[tuple[Source, Rules, RuleSet]]:
    """The version of every applicable rule set in force at `at`, with its source."""
    tree = tree if tree is not None else jurisdictions_by_id()
    jids = space_jurisdiction_ids(space, tree)
    rows = db.session.scalars(
        select(RuleSet)
        .where(_scope_filter(space, jids), RuleSet.effective_from <= at)
        .order_by(RuleSet.effective_from, RuleSet.version)
    ).all()
    latest: dict[str, RuleSet] = {}
    for rs in rows:  # ordered, so the last one per scope wins
        latest[rs.scope_key] = rs
    return [(source_for(rs, space, tree), _parse_stored(rs), rs) for rs in latest.values()]


def rule_sets_by_ids(space: Space, ids: list[int], *, tree=None):
    """The rule-set versions a booking was judged by (stored on the booking)."""
    tree = tree if tree is not None else jurisdictions_by_id()
    if not ids:
        return []
    rows = db.session.scalars(select(RuleSet).where(RuleSet.id.in_(ids))).all()
    return [(source_for(rs, space, tree), _parse_stored(rs), rs) for rs in rows]


def _parse_stored(rs: RuleSet) -> Rules:
    return parse_rules(rs.body, level=rs.level)


def resident_keys(user, space: Space, sources: list[Source], tree) -> frozenset[str]:
    """The sources whose residents `user` counts as.

    A resident of a district is a resident of every jurisdiction above it. An education office
    serves the area of the jurisdiction it belongs to. For an owner's or a space's own rules,
    "residents" are those of the districts the space lies in.
    """
    home = getattr(user, "home_district_id", None)
    if home is None:
        return frozenset()
    home_chain = set(ancestors(home, tree))

    def resident_of(jid: int) -> bool:
        info = tree.get(jid)
        if info is None:
            return False
        if info.kind == "education_office" and info.parent_id is not None:
            jid = info.parent_id
        return jid in home_chain

    local = [j.id for j in space.jurisdictions if tree.get(j.id) and tree[j.id].kind == "district"]
    space_resident = any(resident_of(j) for j in local) if local else False
    out = set()
    for source in sources:
        if source.level == "jurisdiction":
            if resident_of(int(source.key[2:])):
                out.add(source.key)
        elif space_resident:
            out.add(source.key)
    if space_resident:
        out.add("space-area")
    return frozenset(out)


def _scope_space_filter(source: Source, tree):
    """SQL condition on Booking.space_id for the spaces a rule set covers."""
    from app.bookings.models import Booking

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
    from app.bookings.models import Booking

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
                Booking.status.in_(COUNTED_STATUSES),
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
                    Booking.status == "no_show",
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


def user_groups(user) -> list:
    """The resident groups `user` belongs to, by name."""
    from app.rules.models import ResidentGroup

    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        db.session.scalars(
            select(ResidentGroup)
            .join(ResidentGroupMember)
            .where(ResidentGroupMember.user_id == user.id)
            .order_by(ResidentGroup.name, ResidentGroup.id)
        )
    )


def user_group_ids(user) -> list[int]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        db.session.scalars(
            select(ResidentGroupMember.group_id).where(ResidentGroupMember.user_id == user.id)
        )
    )


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


def effective_rules(space: Space, at: datetime | None = None) -> Effective:
    """The combined rules of `space` in force at `at` (for showing them before a request)."""
    found = rule_sets_in_force(space, at or utcnow())
    return combine([(source, rules) for source, rules, _ in found])
