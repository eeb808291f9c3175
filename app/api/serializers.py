"""Plain-dict views of the models for the JSON API.

Booking times are shown in the space's zone with their offset ("2026-12-01T18:00:00+09:00"), so a
client can show them as they are and still compare them as instants. Serializers read only what
the routes loaded eagerly: none of them runs a query per row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import url_for

from app.bookings.approvals import STAGE_STATE_LABELS, stage_who
from app.bookings.models import Booking, LotteryDraw
from app.db import utcnow
from app.payments import services as payment_services
from app.rules.engine import Decision, PlannedStage
from app.rules.messages import quote_dict, reason_dict
from app.rules.models import RuleSet
from app.rules.schema import APPROVERS
from app.spaces.availability import Span
from app.spaces.models import OpeningHours, Space


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


def spans(items: list[Span], zone: ZoneInfo) -> list[dict]:
    return [{"start": iso(s.start, zone), "end": iso(s.end, zone)} for s in items]


def space_summary(space: Space, distance_km: float | None = None) -> dict:
    """A space as a search result. Needs `owner`, `jurisdictions` and `amenity_rows` loaded."""
    data = {
        "id": space.id,
        "name": space.name,
        "type": space.type,
        "owner": ref(space.owner),
        "capacity": space.capacity,
        "price_per_hour": money(space.price_per_hour, space.currency),
        "address": space.address,
        "latitude": space.latitude,
        "longitude": space.longitude,
        "timezone": space.timezone,
        "booking_mode": space.booking_mode,
        "amenities": space.amenities,
        "jurisdictions": [{"slug": j.slug, "name": j.display_name} for j in space.jurisdictions],
        "url": url_for("spaces.detail", space_id=space.id, _external=True),
    }
    if distance_km is not None:
        data["distance_km"] = distance_km
    return data


def space_detail(space: Space) -> dict:
    """A space with its rules of use. Also needs `opening_hours` loaded."""
    data = space_summary(space)
    data.update(
        description=space.description,
        published=space.published,
        min_minutes=space.min_minutes,
        max_minutes=space.max_minutes,
        buffer_minutes=space.buffer_minutes,
        opening_hours=[
            {
                "weekday": h.weekday,
                "open": OpeningHours.fmt(h.open_minute),
                "close": OpeningHours.fmt(h.close_minute),
            }
            for h in space.opening_hours
        ],
    )
    return data


def approval_json(booking: Booking, zone: ZoneInfo) -> dict:
    """The approval chain of a booking: the stage deciding now ("stage k of n") and every stage.

    `stage`, `who` and `due_at` are null when no stage is deciding (or waiting for the
    resident's answer to a returned request).
    """
    stages = booking.stages
    current = booking.current_stage if booking.status in ("requested", "returned") else None
    return {
        "stage": current.position + 1 if current is not None else None,
        "of": len(stages),
        "who": stage_who(current) if current is not None else None,
        "due_at": iso(current.due_at, zone) if current is not None else None,
        "stages": [
            {
                "position": s.position + 1,
                "approver": s.approver,
                "who": stage_who(s),
                "mode": s.mode,
                "state": s.state,
                "state_label": str(STAGE_STATE_LABELS.get(s.state, s.state)),
                "due_at": iso(s.due_at, zone),
                "decided_at": iso(s.decided_at, zone)
                if s.state not in ("waiting", "skipped")
                else None,
                "reason": s.reason,
            }
            for s in stages
        ],
    }


# An open checkout is offered again while it has at least this long to run (as
# `app.payments.services.open_checkout` reuses it).
CHECKOUT_MARGIN = timedelta(minutes=1)


def open_checkout_url(booking: Booking, user, now: datetime) -> str | None:
    """The link of the booking's open Checkout Session, for its resident while the booking can
    be paid; None for everyone else."""
    if not payment_services.can_pay(booking, user, now):
        return None
    for payment in booking.payments:
        if (
            payment.status == "open"
            and payment.checkout_url
            and payment.pending_action is None
            and payment.expires_at is not None
            and payment.expires_at > now + CHECKOUT_MARGIN
        ):
            return payment.checkout_url
    return None


def payment_json(booking: Booking, user, zone: ZoneInfo, now: datetime | None = None) -> dict:
    """What the booking owes and how it was paid or refunded. Needs `payments.refunds` loaded.

    Offline references (receipt, transfer numbers) only for the space's managers; the checkout
    link only for the resident who booked.
    """
    now = now or utcnow()
    manages = booking.can_decide(user)
    payments = [p for p in booking.payments if not p.unanswered]
    return {
        "status": booking.payment_status,
        "label": booking.payment_label,
        "amount": booking.price_amount,
        "currency": booking.currency,
        "due_at": iso(booking.payment_due_at, zone),
        "payments": [
            {
                "id": p.id,
                "method": p.method,
                "status": p.status,
                "amount": p.amount,
                "refunded_amount": p.refunded_amount,
                "paid_at": iso(p.paid_at, zone),
                "card_last4": p.card_last4,
                "reference": p.reference if manages else None,
                "test_mode": p.test_mode,
            }
            for p in payments
        ],
        "refunds": [
            {
                "id": r.id,
                "payment_id": p.id,
                "amount": r.amount,
                "status": r.status,
                "reason": r.reason,
                "created_at": iso(r.created_at, zone),
                "done_at": iso(r.done_at, zone),
            }
            for p in payments
            for r in p.refunds
        ],
        "checkout_url": open_checkout_url(booking, user, now),
    }


def booking_json(booking: Booking, user) -> dict:
    """A booking with its history, approval chain and payment, as `user` may see it. Needs
    `space`, `user`, `transitions.actor`, `stages.jurisdiction`, `group` and
    `payments.refunds` loaded."""
    zone = booking.space.zone
    return {
        "id": booking.id,
        "status": booking.status,
        "status_label": booking.status_label,
        "space": {**ref(booking.space), "timezone": booking.space.timezone},
        "user": ref(booking.user),
        "start": iso(booking.start_at, zone),
        "end": iso(booking.end_at, zone),
        "purpose": booking.purpose,
        "attendees": booking.attendees,
        "price": money(booking.price_amount, booking.currency),
        "created_at": iso(booking.created_at, zone),
        "decided_at": iso(booking.decided_at, zone),
        "reason": booking.reason,
        "history": [
            {
                "from": t.from_status,
                "to": t.to_status,
                "at": iso(t.at, zone),
                "actor": ref(t.actor),
                "reason": t.reason,
            }
            for t in booking.transitions
        ],
        "purpose_category": booking.purpose_category,
        "waiver": booking.waiver_category,
        "waiver_state": booking.waiver_state,
        "group": ref(booking.group),
        "price_breakdown": booking.price_breakdown or None,
        "approval": approval_json(booking, zone),
        "draw_at": iso(booking.draw_at, zone),
        "lottery_draw_id": booking.lottery_draw_id,
        "payment": payment_json(booking, user, zone),
    }


def page(items: list[dict], *, page: int, per_page: int, total: int) -> dict:
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
        "space": {**ref(space), "timezone": space.timezone},
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
