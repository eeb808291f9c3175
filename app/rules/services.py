"""Finding the rule sets that bind a space and judging a request with them.

The engine (`app.rules.engine`) is pure; this module gathers its inputs from the database in a
bounded number of queries: one for the jurisdiction tree, one for the rule sets, one per quota
and one per no-show penalty that applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from app.db import utcnow
from app.extensions import db
from app.orgs.models import Jurisdiction
from app.rules.engine import Effective, Source, combine
from app.rules.models import RuleSet
from app.rules.schema import Rules, parse_rules
from app.spaces.models import Space


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


def ancestors(jid: int | None, tree: dict[int, JurisdictionInfo]) -> list[int]:
    """`jid` and every jurisdiction above it, nearest first."""
    out: list[int] = []
    seen: set[int] = set()
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


def rule_sets_in_force_for_spaces(
    spaces: list[Space], at: datetime, *, tree=None
) -> dict[int, list[tuple[Source, Rules, RuleSet]]]:
    """`rule_sets_in_force` for many spaces (a page of search results) in one query."""
    tree = tree if tree is not None else jurisdictions_by_id()
    if not spaces:
        return {}
    jids = {space.id: space_jurisdiction_ids(space, tree) for space in spaces}
    all_jids = sorted({j for ids in jids.values() for j in ids})
    rows = db.session.scalars(
        select(RuleSet)
        .where(
            or_(
                RuleSet.jurisdiction_id.in_(all_jids or [-1]),
                RuleSet.organisation_id.in_({s.owner_id for s in spaces}),
                RuleSet.space_id.in_([s.id for s in spaces]),
            ),
            RuleSet.effective_from <= at,
        )
        .order_by(RuleSet.effective_from, RuleSet.version)
    ).all()
    out = {}
    for space in spaces:
        mine = set(jids[space.id])
        latest: dict[str, RuleSet] = {}
        for rs in rows:  # ordered, so the last one per scope wins
            if (
                rs.jurisdiction_id in mine
                or (rs.organisation_id is not None and rs.organisation_id == space.owner_id)
                or (rs.space_id is not None and rs.space_id == space.id)
            ):
                latest[rs.scope_key] = rs
        out[space.id] = [
            (source_for(rs, space, tree), _parse_stored(rs), rs) for rs in latest.values()
        ]
    return out


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

    Only a home district verified by its officers counts (app.accounts.verification): an
    unverified claim is treated as no residency at all.
    """
    home = getattr(user, "verified_home_district_id", None)
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


def effective_rules(space: Space, at: datetime | None = None) -> Effective:
    """The combined rules of `space` in force at `at` (for showing them before a request)."""
    found = rule_sets_in_force(space, at or utcnow())
    return combine([(source, rules) for source, rules, _ in found])
