"""Who hears about an approval stage, and instants as the messages store them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from app.orgs.models import JurisdictionMembership, OrgMembership, jurisdiction_tree

AUDIENCE_CACHE = "notifications.audience"  # who decides a stage, per transaction


def stage_audience(stage) -> list:
    """Who decides (or is told about) `stage`: the owner's facility managers and staff, its
    head, or the officers of the jurisdiction — the nearest jurisdiction up the tree that has
    officers, so a request never waits unseen."""
    key = (stage.approver, stage.organisation_id, stage.jurisdiction_id)
    cache = db.session.info.setdefault(AUDIENCE_CACHE, {})
    if key not in cache:
        cache[key] = _audience(stage)
    return cache[key]


def _audience(stage) -> list:
    if stage.approver == "jurisdiction":
        tree = jurisdiction_tree()
        chain = []
        node = stage.jurisdiction_id
        while node is not None and node not in chain:
            chain.append(node)
            node = tree.get(node)
        if not chain:
            return []
        rows = db.session.execute(
            select(JurisdictionMembership.jurisdiction_id, User)
            .join(User, User.id == JurisdictionMembership.user_id)
            .where(JurisdictionMembership.jurisdiction_id.in_(chain))
        ).all()
        by_level: dict[int, list] = {}
        for jid, user in rows:
            by_level.setdefault(jid, []).append(user)
        for jid in chain:
            if by_level.get(jid):
                return by_level[jid]
        return []
    roles = ("principal",) if stage.approver == "owner_principal" else ("manager", "staff")
    return list(
        db.session.scalars(
            select(User)
            .join(OrgMembership, OrgMembership.user_id == User.id)
            .where(
                OrgMembership.organisation_id == stage.organisation_id,
                OrgMembership.role.in_(roles),
            )
            .order_by(User.id)
        )
    )


def when_iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
