"""The API of the rules: what the rules say about a request (a quote), the rules in force at a
space, the versions of a rule set and saving a new one, and the public result of a lottery draw.

Thin like `app.api.routes`: the same services as the pages (`app.rules.services`,
`app.rules.editing`, `app.bookings.lottery`) do the work.
"""

from __future__ import annotations

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.accounts.groups import user_group_ids
from app.api import bp
from app.api.auth import token_required
from app.api.document import errors
from app.api.routes import _get, _viewable_space, request_facts
from app.api.schemas.answers import (
    LotteryDrawSchema,
    QuoteSchema,
    RuleSetVersionsSchema,
    SavedRuleSetSchema,
    SpaceRulesSchema,
)
from app.api.schemas.dumping import dump_context, dumps_in_context
from app.api.schemas.requests import (
    QUOTE_REQUEST_EXAMPLE,
    QuoteRequestSchema,
    RuleSetRequestSchema,
)
from app.bookings import judging, lottery, waivers
from app.bookings import services as booking_services
from app.bookings.models import LotteryDraw
from app.db import utcnow
from app.errors import NotAllowed, ValidationFailed
from app.extensions import db
from app.rules import editing
from app.rules import services as rule_services
from app.rules.engine import combine
from app.rules.messages import summary
from app.spaces.models import Space

KIND = "<any(jurisdiction, organisation, space):level>"


# --- A quote: what the rules say about a request ---------------------------------------------


@bp.post("/spaces/<int:space_id>/quote")
@dumps_in_context
@token_required
@bp.arguments(QuoteRequestSchema, example=QUOTE_REQUEST_EXAMPLE)
@bp.response(200, QuoteSchema, description="The judgement of the request.")
@bp.doc(tags=["rules"], responses=errors(403, 404))
def quote(body: dict, space_id: int):
    """What the rules say about a request, without making it

    Whether the rules allow it (with every reason citing its rule set), how it would be
    allocated, its approval stages and its price. Input a booking would refuse (times, length,
    attendees) answers 422."""
    start, end = body["start"], body["end"]
    purpose, attendees = body.get("purpose"), body["attendees"]
    facts = request_facts(body)
    space = _viewable_space(space_id)
    now = utcnow()
    # The checks of the request itself, as a booking would make them (purpose text is not
    # needed for a quote).
    booking_services.validate_request(
        space, current_user, start, end, purpose or "-", attendees, now
    )
    group_id = facts["group_id"]
    if group_id is not None and group_id not in user_group_ids(current_user):
        raise ValidationFailed.single(_("You can only book for a group you belong to."), "group_id")
    judgement = judging.judge(
        space,
        current_user,
        start=start,
        end=end,
        purpose=facts["purpose_category"],
        attendees=attendees,
        # As a booking would be priced: only a waiver verified on the profile counts.
        waiver=waivers.priced_waiver(current_user, facts["waiver"])[0],
        group_id=group_id,
        now=now,
    )
    context = dump_context()
    context["space"], context["zone"] = space, space.zone
    return judgement.decision


# --- The rules in force at a space -----------------------------------------------------------


@bp.get("/spaces/<int:space_id>/rules")
@dumps_in_context
@bp.response(200, SpaceRulesSchema, description="The rules in force now.")
@bp.doc(tags=["rules"], responses=errors(404))
def space_rules(space_id: int):
    """The rules in force at a space

    The combined rules in words, each citing its source, and the version of every rule set in
    force (jurisdictions, owner, space)."""
    space = _viewable_space(space_id)
    now = utcnow()
    found = rule_services.rule_sets_in_force(space, now)
    effective = combine([(source, rules) for source, rules, _rs in found])
    dump_context()["zone"] = space.zone
    return {
        "space_id": space.id,
        "at": now,
        "summary": [{"source": source, "text": text} for source, text in summary(effective)],
        "rule_sets": sorted(found, key=lambda f: (f[0].rank, f[0].key)),
    }


# --- Rule sets: versions and saving a new one ------------------------------------------------


def _editable_scope(level: str, scope_id: int) -> editing.Scope:
    scope = editing.load_scope(level, scope_id)
    if scope is None:
        abort(404)
    if not editing.can_edit(current_user, scope):
        if editing.can_see(current_user, scope):
            raise NotAllowed(_("You may not change these rules."))
        abort(404)
    return scope


@bp.get(f"/rule-sets/{KIND}/<int:scope_id>")
@dumps_in_context
@token_required
@bp.response(200, RuleSetVersionsSchema, description="Every version, newest first.")
@bp.doc(tags=["rules"], responses=errors(403, 404))
def rule_set(level: str, scope_id: int):
    """The versions of a rule set

    For those who may change it: officers (their jurisdictions and those below), members of the
    organisation (its rule set and its spaces'), admins. 403 for those who may see it but not
    change it."""
    scope = _editable_scope(level, scope_id)
    now = utcnow()
    versions = editing.versions_of(scope)
    timeline = editing.timeline(versions, now)
    current = timeline.current
    scheduled = {v.id for v in timeline.scheduled}

    def state(v) -> str:
        if current is not None and v.id == current.id:
            return "in_force"
        return "scheduled" if v.id in scheduled else "replaced"

    context = dump_context()
    context["zone"], context["states"] = scope.zone, {v.id: state(v) for v in versions}
    return {
        "scope": scope,
        "current_version": current.version if current is not None else None,
        "versions": versions,
    }


def _rule_errors(errors: dict) -> dict:
    """Field errors of a draft, named as in the request body: the document's own fields under
    `rules` (`rules.stages.0`), the document as a whole as `rules`."""
    named: dict[str, list[str]] = {}
    for key, messages in errors.items():
        name = f"rules.{key}" if key else "rules"
        named.setdefault(key if key in ("effective_from", "note") else name, []).extend(messages)
    return named


@bp.post(f"/rule-sets/{KIND}/<int:scope_id>")
@dumps_in_context
@token_required
@bp.arguments(
    RuleSetRequestSchema,
    example={
        "rules": {"stages": [{"approver": "owner_manager", "deadline_days": 3}]},
        "effective_from": "2026-12-01",
        "note": "승인 단계 추가",
    },
)
@bp.response(201, SavedRuleSetSchema, description="The new version.")
@bp.doc(tags=["rules"], responses=errors(403, 404))
def save_rule_set(body: dict, level: str, scope_id: int):
    """Save a new version of a rule set

    Appends a version taking effect on `effective_from` (today: at once) that replaces the
    latest. A document the rules refuse answers 422 with messages per field (`rules.<field>`),
    and nothing is saved."""
    doc, day, note = body["rules"], body["effective_from"], body.get("note")
    scope = _editable_scope(level, scope_id)
    try:
        version = editing.save_rule_set(current_user, scope, doc, day, note or "")
    except ValidationFailed as exc:
        raise ValidationFailed(_rule_errors(exc.errors)) from exc
    db.session.commit()
    saved = _get(type(version), version.id, (selectinload(type(version).created_by),))
    now = utcnow()
    state = "in_force" if saved.effective_from <= now else "scheduled"
    location = url_for("api.rule_set", level=level, scope_id=scope_id)
    context = dump_context()
    context["zone"], context["scope"], context["states"] = scope.zone, scope, {saved.id: state}
    return saved, 201, {"Location": location}


# --- Lottery draws ---------------------------------------------------------------------------


@bp.get("/lottery/draws/<int:draw_id>")
@dumps_in_context
@bp.response(200, LotteryDrawSchema, description="The draw.")
@bp.doc(tags=["lottery"], responses=errors(404))
def lottery_draw(draw_id: int):
    """The public result of a lottery draw

    Seed, algorithm and ranking (names masked), so anyone can check the draw. 404 when the space
    is not one you may see."""
    record = _get(LotteryDraw, draw_id)
    space = _get(Space, record.space_id, (selectinload(Space.jurisdictions),))
    if not space.can_view(current_user):
        abort(404)
    dump_context()["zone"] = space.zone
    return {
        "id": record.id,
        "space": space,
        "draw_at": record.draw_at,
        "drawn_at": record.drawn_at,
        "seed": record.seed,
        "algorithm": record.algorithm,
        "verified": lottery.verify(record),
        "entries": lottery.result_rows(record),
    }
