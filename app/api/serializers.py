"""Plain-dict views of the models for the JSON API.

Booking times are shown in the space's zone with their offset ("2026-12-01T18:00:00+09:00"), so a
client can show them as they are and still compare them as instants. Serializers read only what
the routes loaded eagerly: none of them runs a query per row.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.bookings.models import LotteryDraw
from app.rules.engine import Decision, PlannedStage
from app.rules.messages import quote_dict, reason_dict
from app.rules.models import RuleSet
from app.rules.schema import APPROVERS
from app.spaces.models import Space


def iso(dt: datetime | None, zone: ZoneInfo) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(zone).isoformat(timespec="seconds")


def money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


def ref(obj) -> dict | None:
    """`{"id", "name"}` of a user, an organisation or a space."""
    if obj is None:
        return None
    return {"id": obj.id, "name": obj.name}


def space_ref(space: Space) -> dict:
    """`{"id", "name", "timezone"}` of a space."""
    return {"id": space.id, "name": space.name, "timezone": space.timezone}


def page(items: list, *, page: int, per_page: int, total: int) -> dict:
    return {"items": items, "page": page, "per_page": per_page, "total": total}


# --- Rules ------------------------------------------------------------------------------------


def planned_stage(planned: PlannedStage, space: Space) -> dict:
    stage = planned.stage
    return {
        "approver": stage.approver,
        "label": stage.label,
        "who": stage.label or str(APPROVERS[stage.approver]),
        # The default stage (no rule set names one) is decided by the owner's managers.
        "source": planned.source.name if planned.source is not None else space.owner.name,
        "mode": stage.mode,
        "deadline_days": stage.deadline_days,
        "on_deadline": stage.on_deadline,
        "auto_approved": planned.auto_approved,
    }


def quote_json(decision: Decision, space: Space) -> dict:
    """What the rules say about a request, without making it."""
    return {
        "allowed": decision.allowed,
        "reasons": [reason_dict(r) for r in decision.reasons],
        "mode": decision.mode,
        "draw_at": iso(decision.draw_at, space.zone),
        "stages": [planned_stage(p, space) for p in decision.stages],
        "price": quote_dict(decision.quote, space.currency),
    }


RULE_SET_KINDS = {"jurisdiction": "jurisdiction", "owner": "organisation", "space": "space"}


def rule_set_scope(rs: RuleSet, name: str) -> dict:
    """`{"kind", "id", "name"}`: kind as in `/rule-sets/{kind}/{id}`."""
    ident = rs.jurisdiction_id or rs.organisation_id or rs.space_id
    return {"kind": RULE_SET_KINDS[rs.level], "id": ident, "name": name}


def rule_set_version(rs: RuleSet, zone: ZoneInfo, state: str | None = None) -> dict:
    """One stored version. Needs `created_by` loaded."""
    data = {
        "id": rs.id,
        "version": rs.version,
        "effective_from": iso(rs.effective_from, zone),
        "created_at": iso(rs.created_at, zone),
        "created_by": ref(rs.created_by),
        "note": rs.note or "",
        "replaces_id": rs.replaces_id,
        "body": rs.body,
    }
    if state is not None:
        data["state"] = state
    return data


def lottery_draw_json(record: LotteryDraw, space: Space, rows, verified: bool) -> dict:
    """The public result of a draw: the seed, the ranking with names masked, and whether running
    the draw again from its stored inputs gives the same result (`verified`)."""
    zone = space.zone
    won = sum(1 for r in rows if r.outcome == "won")
    return {
        "id": record.id,
        "space": space_ref(space),
        "draw_at": iso(record.draw_at, zone),
        "drawn_at": iso(record.drawn_at, zone),
        "seed": record.seed,
        "algorithm": record.algorithm,
        "verified": verified,
        "outcome": {"entries": len(rows), "won": won, "lost": len(rows) - won},
        "entries": [
            {
                "rank": r.rank,
                "booking_id": r.booking,
                "name": r.masked_name,
                "start": iso(r.start, zone),
                "end": iso(r.end, zone),
                "tier": r.tier,
                "priority": r.tier == 0,
                "key": r.key,
                "outcome": r.outcome,
                "why": r.why,
            }
            for r in rows
        ],
    }
