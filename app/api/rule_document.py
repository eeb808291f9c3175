"""The JSON Schema of a rule-set document, the OpenAPI component `RuleDocument` that the rule-set
schemas of `app.api.schemas` point to. `app.rules.schema.parse_rules` is what checks a document;
the keys, choices, bounds and lengths here are its own (`RULE_KEYS`, `BOUNDS`, ...), so the two
cannot drift apart (tests/rules/test_rule_document.py)."""

from __future__ import annotations

from app.rules.schema import (
    ALLOCATION_MODES,
    APPROVERS,
    BOUNDS,
    ELIGIBILITY,
    FEE_CATEGORIES,
    HOURS_NOTE_LENGTH,
    MAX_ITEMS,
    ON_DEADLINE,
    PURPOSES,
    QUOTA_PER,
    QUOTA_PERIODS,
    STAGE_LABEL_LENGTH,
    STAGE_MODES,
    WAIVER_CATEGORIES,
)


def whole(path: str, *, nullable: bool = False) -> dict:
    """A whole number within the bounds `parse_rules` checks at `path`."""
    lo, hi = BOUNDS[path]
    return {"type": ["integer", "null"] if nullable else "integer", "minimum": lo, "maximum": hi}


def listed(items: dict, **extra) -> dict:
    return {"type": "array", "maxItems": MAX_ITEMS, "items": items, **extra}


purposes = {"type": "array", "items": {"type": "string", "enum": list(PURPOSES)}}

RULE_DOCUMENT = {
    "type": "object",
    "description": "A rule set. Every part is optional; limits combine with the rule "
    "sets of the other levels (the strictest wins).",
    "additionalProperties": False,
    "properties": {
        "eligibility": {"type": "string", "enum": list(ELIGIBILITY)},
        "residents_first_days": whole("residents_first_days"),
        "allowed_purposes": purposes,
        "refused_purposes": purposes,
        "min_notice_hours": whole("min_notice_hours"),
        "max_days_ahead": whole("max_days_ahead"),
        "min_minutes": whole("min_minutes"),
        "max_minutes": whole("max_minutes"),
        "allowed_hours": {
            "type": "object",
            "description": 'Per weekday "0" (Monday) to "6": [from, to] minutes.',
            "propertyNames": {"enum": [str(d) for d in range(7)]},
            "additionalProperties": {
                "type": "array",
                "items": {
                    "type": "array",
                    "items": whole("allowed_hours"),
                    "minItems": 2,
                    "maxItems": 2,
                },
            },
        },
        "hours_note": {"type": "string", "maxLength": HOURS_NOTE_LENGTH},
        "quotas": listed(
            {
                "type": "object",
                "required": ["per", "period"],
                "properties": {
                    "per": {"type": "string", "enum": list(QUOTA_PER)},
                    "period": {"type": "string", "enum": list(QUOTA_PERIODS)},
                    "max_hours": whole("quotas.max_hours"),
                    "max_bookings": whole("quotas.max_bookings"),
                },
            }
        ),
        "max_attendees": whole("max_attendees"),
        "fees": {
            "type": "object",
            "required": ["rates"],
            "properties": {
                "rates": {
                    "type": "object",
                    "description": "Minor units per hour per category; `resident` is required.",
                    "propertyNames": {"enum": list(FEE_CATEGORIES)},
                    "additionalProperties": whole("fees.rates"),
                },
                "weekend_percent": whole("fees.weekend_percent"),
                "night_percent": whole("fees.night_percent"),
                "night_start": whole("fees.night_start"),
                "night_end": whole("fees.night_end"),
            },
        },
        "waivers": {
            "type": "object",
            "description": "Percent off per waiver category.",
            "propertyNames": {"enum": list(WAIVER_CATEGORIES)},
            "additionalProperties": whole("waivers"),
        },
        "refund_tiers": listed(
            {
                "type": "object",
                "required": ["days_before", "percent"],
                "properties": {
                    "days_before": whole("refund_tiers.days_before"),
                    "percent": whole("refund_tiers.percent"),
                },
            }
        ),
        "no_show": {
            "type": "object",
            "required": ["count", "ban_days"],
            "properties": {
                "count": whole("no_show.count"),
                "within_days": whole("no_show.within_days"),
                "ban_days": whole("no_show.ban_days"),
            },
        },
        "stages": listed(
            {
                "type": "object",
                "required": ["approver"],
                "properties": {
                    "approver": {"type": "string", "enum": list(APPROVERS)},
                    "mode": {"type": "string", "enum": list(STAGE_MODES)},
                    "deadline_days": whole("stages.deadline_days"),
                    "on_deadline": {"type": "string", "enum": list(ON_DEADLINE)},
                    "label": {"type": "string", "maxLength": STAGE_LABEL_LENGTH},
                },
            },
            description="Approval stages in order; `jurisdiction` only in a "
            "jurisdiction's rule set.",
        ),
        "auto_approve": listed(
            {
                "type": "object",
                "properties": {
                    "residents_only": {"type": "boolean"},
                    "purposes": purposes,
                },
            }
        ),
        "allocation": {"type": "string", "enum": list(ALLOCATION_MODES)},
        "lottery": listed(
            {
                "type": "object",
                "required": ["weekdays", "start", "end"],
                "properties": {
                    "weekdays": {
                        "type": "array",
                        "minItems": 1,
                        "items": whole("lottery.weekdays"),
                    },
                    "start": whole("lottery.start"),
                    "end": whole("lottery.end"),
                    "draw_days_before": whole("lottery.draw_days_before"),
                    "draw_minute": whole("lottery.draw_minute"),
                    "cap_per_month": whole("lottery.cap_per_month", nullable=True),
                    "resident_priority": {"type": "boolean"},
                },
            },
            description="Lottery windows (a single space's rule set only).",
        ),
    },
}
