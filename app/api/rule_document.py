"""The JSON Schema of a rule-set document (`app.rules.schema.parse_rules` is what checks one),
the OpenAPI component `RuleDocument` that the rule-set schemas of `app.api.schemas` point to."""

from __future__ import annotations

from app.rules.schema import (
    ALLOCATION_MODES,
    APPROVERS,
    ELIGIBILITY,
    FEE_CATEGORIES,
    ON_DEADLINE,
    PURPOSES,
    QUOTA_PER,
    QUOTA_PERIODS,
    STAGE_MODES,
    WAIVER_CATEGORIES,
)

minute = {"type": "integer", "minimum": 0, "maximum": 1440}
purposes = {"type": "array", "items": {"type": "string", "enum": list(PURPOSES)}}

RULE_DOCUMENT = {
    "type": "object",
    "description": "A rule set. Every part is optional; limits combine with the rule "
    "sets of the other levels (the strictest wins).",
    "additionalProperties": False,
    "properties": {
        "eligibility": {"type": "string", "enum": list(ELIGIBILITY)},
        "residents_first_days": {"type": "integer", "minimum": 1, "maximum": 365},
        "allowed_purposes": purposes,
        "refused_purposes": purposes,
        "min_notice_hours": {"type": "integer", "minimum": 0},
        "max_days_ahead": {"type": "integer", "minimum": 1, "maximum": 366},
        "min_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
        "max_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
        "allowed_hours": {
            "type": "object",
            "description": 'Per weekday "0" (Monday) to "6": [from, to] minutes.',
            "propertyNames": {"enum": [str(d) for d in range(7)]},
            "additionalProperties": {
                "type": "array",
                "items": {"type": "array", "items": minute, "minItems": 2, "maxItems": 2},
            },
        },
        "hours_note": {"type": "string", "maxLength": 200},
        "quotas": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "type": "object",
                "required": ["per", "period"],
                "properties": {
                    "per": {"type": "string", "enum": list(QUOTA_PER)},
                    "period": {"type": "string", "enum": list(QUOTA_PERIODS)},
                    "max_hours": {"type": "integer", "minimum": 1},
                    "max_bookings": {"type": "integer", "minimum": 1},
                },
            },
        },
        "max_attendees": {"type": "integer", "minimum": 1},
        "fees": {
            "type": "object",
            "required": ["rates"],
            "properties": {
                "rates": {
                    "type": "object",
                    "description": "Minor units per hour per category; `resident` is required.",
                    "propertyNames": {"enum": list(FEE_CATEGORIES)},
                    "additionalProperties": {"type": "integer", "minimum": 0},
                },
                "weekend_percent": {"type": "integer", "minimum": 0, "maximum": 500},
                "night_percent": {"type": "integer", "minimum": 0, "maximum": 500},
                "night_start": minute,
                "night_end": minute,
            },
        },
        "waivers": {
            "type": "object",
            "description": "Percent off per waiver category.",
            "propertyNames": {"enum": list(WAIVER_CATEGORIES)},
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 100},
        },
        "refund_tiers": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["days_before", "percent"],
                "properties": {
                    "days_before": {"type": "integer", "minimum": 0},
                    "percent": {"type": "integer", "minimum": 0, "maximum": 100},
                },
            },
        },
        "no_show": {
            "type": "object",
            "required": ["count", "ban_days"],
            "properties": {
                "count": {"type": "integer", "minimum": 1},
                "within_days": {"type": "integer", "minimum": 1},
                "ban_days": {"type": "integer", "minimum": 1},
            },
        },
        "stages": {
            "type": "array",
            "maxItems": 20,
            "description": "Approval stages in order; `jurisdiction` only in a "
            "jurisdiction's rule set.",
            "items": {
                "type": "object",
                "required": ["approver"],
                "properties": {
                    "approver": {"type": "string", "enum": list(APPROVERS)},
                    "mode": {"type": "string", "enum": list(STAGE_MODES)},
                    "deadline_days": {"type": "integer", "minimum": 1, "maximum": 60},
                    "on_deadline": {"type": "string", "enum": list(ON_DEADLINE)},
                    "label": {"type": "string", "maxLength": 80},
                },
            },
        },
        "auto_approve": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "residents_only": {"type": "boolean"},
                    "purposes": purposes,
                },
            },
        },
        "allocation": {"type": "string", "enum": list(ALLOCATION_MODES)},
        "lottery": {
            "type": "array",
            "description": "Lottery windows (a single space's rule set only).",
            "items": {
                "type": "object",
                "required": ["weekdays", "start", "end"],
                "properties": {
                    "weekdays": {
                        "type": "array",
                        "items": {"type": "integer", "minimum": 0, "maximum": 6},
                    },
                    "start": minute,
                    "end": minute,
                    "draw_days_before": {"type": "integer", "minimum": 1},
                    "draw_minute": minute,
                    "cap_per_month": {"type": ["integer", "null"], "minimum": 1},
                    "resident_priority": {"type": "boolean"},
                },
            },
        },
    },
}
