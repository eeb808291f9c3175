"""Components of the OpenAPI document: the schemas of what the API answers and accepts, and the
error responses they share."""

from __future__ import annotations

from app.bookings.approvals import STAGE_STATE_LABELS
from app.bookings.models import PAYMENT_STATES, STATUS_LABELS
from app.payments.models import OFFLINE_METHODS, PAYMENT_STATUS_LABELS, REFUND_STATUS_LABELS
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
from app.spaces.models import AMENITIES, BOOKING_MODES, SPACE_TYPES

INSTANT_EXAMPLE = "2026-12-01T18:00:00+09:00"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def component_schemas(max_per_page: int) -> dict:
    instant = {"type": "string", "format": "date-time", "examples": [INSTANT_EXAMPLE]}
    nullable_instant = {"type": ["string", "null"], "format": "date-time"}
    id_and_name = {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    }
    request_facts = {
        "purpose_category": {
            "type": "string",
            "enum": list(PURPOSES),
            "default": "community",
            "description": "The kind of use the rules judge (community when left out).",
        },
        "waiver": {
            "type": ["string", "null"],
            "enum": [*WAIVER_CATEGORIES, None],
            "description": "A fee waiver claimed; the rules say how much it takes off.",
        },
        "group_id": {
            "type": ["integer", "null"],
            "description": "A resident group of yours to book for (group quotas).",
        },
    }
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {
                            "type": "string",
                            "description": "Stable and machine-readable.",
                            "examples": [
                                "unauthorized",
                                "forbidden",
                                "not_found",
                                "invalid",
                                "slot_taken",
                                "invalid_transition",
                                "bad_request",
                                "rule_violation",
                                "payments_unavailable",
                                "payment_provider_error",
                            ],
                        },
                        "message": {
                            "type": "string",
                            "description": "For people, in the language of Accept-Language "
                            "(Korean by default, or English).",
                        },
                        "details": {
                            "type": "object",
                            "description": "With `invalid`: messages per input field "
                            "(`_` for the request as a whole).",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        },
                        "reasons": {
                            "type": "array",
                            "description": "With `rule_violation`: every rule the request breaks, "
                            "citing the rule set it comes from.",
                            "items": ref("RuleReason"),
                        },
                    },
                }
            },
        },
        "Instant": instant,
        "Ref": id_and_name,
        "Money": {
            "type": "object",
            "required": ["amount", "currency"],
            "description": "Integer minor units; KRW has none, so 15000 is ₩15,000.",
            "properties": {
                "amount": {"type": "integer", "minimum": 0},
                "currency": {"type": "string", "examples": ["KRW"]},
            },
        },
        "Span": {
            "type": "object",
            "required": ["start", "end"],
            "properties": {"start": ref("Instant"), "end": ref("Instant")},
        },
        "Space": {
            "type": "object",
            "required": [
                "id",
                "name",
                "type",
                "owner",
                "capacity",
                "price_per_hour",
                "address",
                "latitude",
                "longitude",
                "timezone",
                "booking_mode",
                "amenities",
                "jurisdictions",
                "url",
            ],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "type": {"type": "string", "enum": list(SPACE_TYPES)},
                "owner": ref("Ref"),
                "capacity": {"type": "integer"},
                "price_per_hour": ref("Money"),
                "address": {"type": "string"},
                "latitude": {"type": ["number", "null"]},
                "longitude": {"type": ["number", "null"]},
                "timezone": {"type": "string", "examples": ["Asia/Seoul"]},
                "booking_mode": {"type": "string", "enum": list(BOOKING_MODES)},
                "amenities": {
                    "type": "array",
                    "items": {"type": "string", "enum": list(AMENITIES)},
                },
                "jurisdictions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["slug", "name"],
                        "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
                    },
                },
                "distance_km": {
                    "type": "number",
                    "description": "Only when the search gave `near`.",
                },
                "url": {"type": "string", "format": "uri", "description": "The space's page."},
            },
        },
        "SpaceDetail": {
            "allOf": [
                ref("Space"),
                {
                    "type": "object",
                    "required": [
                        "description",
                        "published",
                        "min_minutes",
                        "max_minutes",
                        "buffer_minutes",
                        "opening_hours",
                    ],
                    "properties": {
                        "description": {"type": "string"},
                        "published": {"type": "boolean"},
                        "min_minutes": {"type": "integer"},
                        "max_minutes": {"type": "integer"},
                        "buffer_minutes": {
                            "type": "integer",
                            "description": "Minutes kept free between two bookings.",
                        },
                        "opening_hours": {
                            "type": "array",
                            "description": "Local wall-clock hours; a weekday without an entry "
                            "is closed.",
                            "items": {
                                "type": "object",
                                "required": ["weekday", "open", "close"],
                                "properties": {
                                    "weekday": {
                                        "type": "integer",
                                        "minimum": 0,
                                        "maximum": 6,
                                        "description": "Monday = 0",
                                    },
                                    "open": {"type": "string", "examples": ["09:00"]},
                                    "close": {"type": "string", "examples": ["22:00", "24:00"]},
                                },
                            },
                        },
                    },
                },
            ]
        },
        "SpacePage": _page_schema("Space", max_per_page),
        "Availability": {
            "type": "object",
            "required": ["space_id", "timezone", "from", "to", "open", "free", "busy"],
            "properties": {
                "space_id": {"type": "integer"},
                "timezone": {"type": "string"},
                "from": {"type": "string", "format": "date"},
                "to": {"type": "string", "format": "date"},
                "open": {
                    "type": "array",
                    "items": ref("Span"),
                    "description": "Opening hours minus closures.",
                },
                "free": {
                    "type": "array",
                    "items": ref("Span"),
                    "description": "Open, not taken, not past: bookable.",
                },
                "busy": {
                    "type": "array",
                    "items": ref("Span"),
                    "description": "Closures and bookings, widened by the buffer.",
                },
            },
        },
        "BookingRequest": {
            "type": "object",
            "required": ["space_id", "start", "end", "purpose", "attendees"],
            "properties": {
                "space_id": {"type": "integer"},
                "start": {**instant, "description": "With a UTC offset (`Z` allowed)."},
                "end": {**instant, "description": "With a UTC offset (`Z` allowed)."},
                "purpose": {"type": "string", "maxLength": 2000},
                "attendees": {"type": "integer", "minimum": 1},
                **request_facts,
            },
        },
        "Reason": {
            "type": "object",
            "properties": {"reason": {"type": ["string", "null"]}},
        },
        "Booking": {
            "type": "object",
            "required": [
                "id",
                "status",
                "status_label",
                "space",
                "user",
                "start",
                "end",
                "purpose",
                "attendees",
                "price",
                "created_at",
                "decided_at",
                "reason",
                "history",
                "purpose_category",
                "waiver",
                "group",
                "price_breakdown",
                "approval",
                "draw_at",
                "lottery_draw_id",
                "payment",
            ],
            "properties": {
                "id": {"type": "integer"},
                "status": {"type": "string", "enum": list(STATUS_LABELS)},
                "status_label": {"type": "string"},
                "space": {
                    "type": "object",
                    "required": ["id", "name", "timezone"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "timezone": {"type": "string"},
                    },
                },
                "user": ref("Ref"),
                "start": ref("Instant"),
                "end": ref("Instant"),
                "purpose": {"type": "string"},
                "attendees": {"type": "integer"},
                "price": ref("Money"),
                "created_at": ref("Instant"),
                "decided_at": nullable_instant,
                "reason": {"type": ["string", "null"]},
                "history": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["from", "to", "at", "actor", "reason"],
                        "properties": {
                            "from": {"type": ["string", "null"]},
                            "to": {"type": "string"},
                            "at": ref("Instant"),
                            "actor": {"oneOf": [ref("Ref"), {"type": "null"}]},
                            "reason": {"type": ["string", "null"]},
                        },
                    },
                },
                "purpose_category": {"type": "string", "enum": list(PURPOSES)},
                "waiver": {"type": ["string", "null"], "enum": [*WAIVER_CATEGORIES, None]},
                "group": {"oneOf": [ref("Ref"), {"type": "null"}]},
                "price_breakdown": {
                    "oneOf": [ref("PriceBreakdown"), {"type": "null"}],
                    "description": "How the price was reached (null for bookings made before "
                    "rule sets).",
                },
                "approval": ref("Approval"),
                "draw_at": {
                    **nullable_instant,
                    "description": "Lottery entries: when the draw is made.",
                },
                "lottery_draw_id": {
                    "type": ["integer", "null"],
                    "description": "The draw that decided this entry: `/lottery/draws/{id}`.",
                },
                "payment": ref("BookingPayment"),
            },
        },
        "BookingPage": _page_schema("Booking", max_per_page),
        **_payment_schemas(instant, nullable_instant),
        "Approval": {
            "type": "object",
            "description": "The approval chain, frozen when the request was made. `stage` of "
            "`of` is deciding now (or, for a returned request, waiting for the resident's "
            "answer); null when none is.",
            "required": ["stage", "of", "who", "due_at", "stages"],
            "properties": {
                "stage": {"type": ["integer", "null"], "minimum": 1},
                "of": {"type": "integer", "minimum": 0},
                "who": {"type": ["string", "null"]},
                "due_at": nullable_instant,
                "stages": {"type": "array", "items": ref("ApprovalStage")},
            },
        },
        "ApprovalStage": {
            "type": "object",
            "required": [
                "position",
                "approver",
                "who",
                "mode",
                "state",
                "state_label",
                "due_at",
                "decided_at",
                "reason",
            ],
            "properties": {
                "position": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "1 for the first stage, as in `stage`.",
                },
                "approver": {"type": "string", "enum": list(APPROVERS)},
                "who": {"type": "string", "description": "Who decides, in words."},
                "mode": {"type": "string", "enum": list(STAGE_MODES)},
                "state": {"type": "string", "enum": list(STAGE_STATE_LABELS)},
                "state_label": {"type": "string"},
                "due_at": nullable_instant,
                "decided_at": nullable_instant,
                "reason": {"type": ["string", "null"]},
            },
        },
        "ApprovalPage": _page_schema("Booking", max_per_page),
        **rule_schemas(instant, nullable_instant, request_facts),
    }


def rule_schemas(instant: dict, nullable_instant: dict, request_facts: dict) -> dict:
    """Schemas of the rules, quotes, rule sets, bulk decisions and lottery draws."""
    minute = {"type": "integer", "minimum": 0, "maximum": 1440}
    purposes = {"type": "array", "items": {"type": "string", "enum": list(PURPOSES)}}
    return {
        "RuleReason": {
            "type": "object",
            "required": ["code", "source", "source_level", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["purpose", "hours", "quota_hours"]},
                "source": {"type": "string", "description": "The name of the rule set's owner."},
                "source_level": {"type": "string", "enum": ["jurisdiction", "owner", "space"]},
                "message": {"type": "string"},
            },
        },
        "PriceBreakdown": {
            "type": "object",
            "required": ["currency", "category", "rate_per_hour", "source", "lines", "total"],
            "properties": {
                "currency": {"type": "string"},
                "category": {"type": "string", "enum": list(FEE_CATEGORIES)},
                "rate_per_hour": {"type": "integer"},
                "source": {
                    "type": ["string", "null"],
                    "description": "The rule set whose fees apply (null: the space's price).",
                },
                "lines": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["code", "amount", "params"],
                        "properties": {
                            "code": {
                                "type": "string",
                                "enum": ["base", "weekend", "night", "waiver"],
                            },
                            "amount": {
                                "type": "integer",
                                "description": "Minor units; waivers are negative.",
                            },
                            "params": {"type": "object"},
                        },
                    },
                },
                "total": {"type": "integer"},
            },
        },
        "QuoteRequest": {
            "type": "object",
            "required": ["start", "end", "attendees"],
            "properties": {
                "start": {**instant, "description": "With a UTC offset (`Z` allowed)."},
                "end": {**instant, "description": "With a UTC offset (`Z` allowed)."},
                "attendees": {"type": "integer", "minimum": 1},
                "purpose": {
                    "type": "string",
                    "maxLength": 2000,
                    "description": "Optional for a quote.",
                },
                **request_facts,
            },
        },
        "PlannedStage": {
            "type": "object",
            "required": [
                "approver",
                "label",
                "who",
                "source",
                "mode",
                "deadline_days",
                "on_deadline",
                "auto_approved",
            ],
            "properties": {
                "approver": {"type": "string", "enum": list(APPROVERS)},
                "label": {"type": "string"},
                "who": {"type": "string"},
                "source": {"type": "string"},
                "mode": {"type": "string", "enum": list(STAGE_MODES)},
                "deadline_days": {
                    "type": ["integer", "null"],
                    "description": "Working days; null: until the booking starts.",
                },
                "on_deadline": {"type": "string", "enum": list(ON_DEADLINE)},
                "auto_approved": {"type": "boolean"},
            },
        },
        "Quote": {
            "type": "object",
            "required": ["allowed", "reasons", "mode", "draw_at", "stages", "price"],
            "properties": {
                "allowed": {"type": "boolean"},
                "reasons": {"type": "array", "items": ref("RuleReason")},
                "mode": {"type": "string", "enum": list(ALLOCATION_MODES)},
                "draw_at": nullable_instant,
                "stages": {"type": "array", "items": ref("PlannedStage")},
                "price": ref("PriceBreakdown"),
            },
        },
        "RuleDocument": {
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
                            "description": "Minor units per hour per category; `resident` "
                            "is required.",
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
        },
        "RuleSetScope": {
            "type": "object",
            "required": ["kind", "id", "name"],
            "properties": {
                "kind": {"type": "string", "enum": ["jurisdiction", "organisation", "space"]},
                "id": {"type": "integer"},
                "name": {"type": "string"},
            },
        },
        "SpaceRules": {
            "type": "object",
            "required": ["space_id", "at", "summary", "rule_sets"],
            "properties": {
                "space_id": {"type": "integer"},
                "at": ref("Instant"),
                "summary": {
                    "type": "array",
                    "description": "The effective rules in words, each citing its rule set.",
                    "items": {
                        "type": "object",
                        "required": ["source", "text"],
                        "properties": {"source": {"type": "string"}, "text": {"type": "string"}},
                    },
                },
                "rule_sets": {
                    "type": "array",
                    "description": "The version of each rule set in force, nearest first.",
                    "items": {
                        "type": "object",
                        "required": [
                            "id",
                            "scope",
                            "source_level",
                            "version",
                            "effective_from",
                            "body",
                        ],
                        "properties": {
                            "id": {"type": "integer"},
                            "scope": ref("RuleSetScope"),
                            "source_level": {
                                "type": "string",
                                "enum": ["jurisdiction", "owner", "space"],
                            },
                            "version": {"type": "integer", "minimum": 1},
                            "effective_from": ref("Instant"),
                            "body": ref("RuleDocument"),
                        },
                    },
                },
            },
        },
        "RuleSetVersion": {
            "type": "object",
            "required": [
                "id",
                "version",
                "effective_from",
                "created_at",
                "created_by",
                "note",
                "replaces_id",
                "body",
                "state",
            ],
            "properties": {
                "id": {"type": "integer"},
                "version": {"type": "integer", "minimum": 1},
                "effective_from": ref("Instant"),
                "created_at": ref("Instant"),
                "created_by": {"oneOf": [ref("Ref"), {"type": "null"}]},
                "note": {"type": "string"},
                "replaces_id": {"type": ["integer", "null"]},
                "body": ref("RuleDocument"),
                "state": {
                    "type": "string",
                    "enum": ["in_force", "scheduled", "replaced"],
                    "description": "In force now, taking effect later, or replaced by a "
                    "later version.",
                },
            },
        },
        "RuleSetVersions": {
            "type": "object",
            "required": ["scope", "current_version", "versions"],
            "properties": {
                "scope": ref("RuleSetScope"),
                "current_version": {"type": ["integer", "null"]},
                "versions": {
                    "type": "array",
                    "description": "Newest first.",
                    "items": ref("RuleSetVersion"),
                },
            },
        },
        "RuleSetRequest": {
            "type": "object",
            "required": ["rules", "effective_from"],
            "properties": {
                "rules": ref("RuleDocument"),
                "effective_from": {
                    "type": "string",
                    "format": "date",
                    "description": "Today (in force at once) or a later day, at most two "
                    "years ahead.",
                },
                "note": {"type": "string", "maxLength": 300},
            },
        },
        "SavedRuleSet": {
            "allOf": [
                ref("RuleSetVersion"),
                {
                    "type": "object",
                    "required": ["scope"],
                    "properties": {"scope": ref("RuleSetScope")},
                },
            ]
        },
        "ReturnRequest": {
            "type": "object",
            "required": ["reason"],
            "properties": {
                "reason": {"type": "string", "description": "What the resident should change."}
            },
        },
        "ResubmitRequest": {
            "type": "object",
            "description": "A field left out keeps the request's value; `waiver` or "
            "`group_id` sent as null is cleared.",
            "properties": {
                "purpose": {"type": "string", "maxLength": 2000},
                "attendees": {"type": "integer", "minimum": 1},
                **request_facts,
            },
        },
        "BulkRequest": {
            "type": "object",
            "required": ["action", "ids"],
            "properties": {
                "action": {"type": "string", "enum": ["approve", "reject"]},
                "ids": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 100,
                    "items": {"type": "integer", "minimum": 1},
                },
                "reason": {
                    "type": ["string", "null"],
                    "description": "Required to reject; a note when approving.",
                },
            },
        },
        "BulkResult": {
            "type": "object",
            "required": ["action", "done", "failed", "results"],
            "properties": {
                "action": {"type": "string", "enum": ["approve", "reject"]},
                "done": {"type": "integer", "minimum": 0},
                "failed": {"type": "integer", "minimum": 0},
                "results": {
                    "type": "array",
                    "description": "One per id sent, in order (duplicates once).",
                    "items": {
                        "type": "object",
                        "required": ["id", "ok", "status", "error"],
                        "properties": {
                            "id": {"type": "integer"},
                            "ok": {"type": "boolean"},
                            "status": {
                                "type": ["string", "null"],
                                "description": "The booking's status after the decision.",
                            },
                            "error": {
                                "oneOf": [
                                    {"type": "null"},
                                    {
                                        "type": "object",
                                        "required": ["code", "message"],
                                        "properties": {
                                            "code": {
                                                "type": "string",
                                                "examples": [
                                                    "not_found",
                                                    "forbidden",
                                                    "invalid_transition",
                                                ],
                                            },
                                            "message": {"type": "string"},
                                        },
                                    },
                                ]
                            },
                        },
                    },
                },
            },
        },
        "LotteryDraw": {
            "type": "object",
            "required": [
                "id",
                "space",
                "draw_at",
                "drawn_at",
                "seed",
                "algorithm",
                "verified",
                "outcome",
                "entries",
            ],
            "properties": {
                "id": {"type": "integer"},
                "space": {
                    "type": "object",
                    "required": ["id", "name", "timezone"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "timezone": {"type": "string"},
                    },
                },
                "draw_at": ref("Instant"),
                "drawn_at": ref("Instant"),
                "seed": {"type": "string", "description": "The published seed (hex)."},
                "algorithm": {"type": "string", "examples": ["gonggan-1"]},
                "verified": {
                    "type": "boolean",
                    "description": "Running the draw again from its stored inputs and seed "
                    "gives this result.",
                },
                "outcome": {
                    "type": "object",
                    "required": ["entries", "won", "lost"],
                    "properties": {
                        "entries": {"type": "integer", "minimum": 0},
                        "won": {"type": "integer", "minimum": 0},
                        "lost": {"type": "integer", "minimum": 0},
                    },
                },
                "entries": {
                    "type": "array",
                    "description": "In rank order.",
                    "items": {
                        "type": "object",
                        "required": [
                            "rank",
                            "booking_id",
                            "name",
                            "start",
                            "end",
                            "tier",
                            "priority",
                            "key",
                            "outcome",
                            "why",
                        ],
                        "properties": {
                            "rank": {"type": "integer", "minimum": 1},
                            "booking_id": {"type": "integer"},
                            "name": {
                                "type": "string",
                                "description": "Masked: the first character and two stars.",
                            },
                            "start": nullable_instant,
                            "end": nullable_instant,
                            "tier": {
                                "type": "integer",
                                "enum": [0, 1],
                                "description": "0: resident priority; 1: general.",
                            },
                            "priority": {"type": "boolean"},
                            "key": {"type": "number"},
                            "outcome": {"type": "string", "enum": ["won", "lost"]},
                            "why": {
                                "type": ["string", "null"],
                                "enum": ["taken", "overlap", "cap", None],
                            },
                        },
                    },
                },
            },
        },
    }


def _payment_schemas(instant: dict, nullable_instant: dict) -> dict:
    amount = {"type": "integer", "minimum": 1, "description": "Integer minor units."}
    reference = {"type": "string", "minLength": 1, "maxLength": 120}
    money_totals = {
        "type": "object",
        "required": ["gross", "fee", "refunded", "fee_refunded", "net"],
        "properties": {
            name: {"type": "integer"}
            for name in ("gross", "fee", "refunded", "fee_refunded", "net")
        },
    }
    return {
        "BookingPayment": {
            "type": "object",
            "description": "What the booking owes and how it was paid and refunded.",
            "required": [
                "status",
                "label",
                "amount",
                "currency",
                "due_at",
                "payments",
                "refunds",
                "checkout_url",
            ],
            "properties": {
                "status": {
                    "type": "string",
                    "enum": list(PAYMENT_STATES),
                    "description": "`none`: free; `after_approval`: payable once approved; "
                    "`hold_pending`: the card is to be authorised to keep the request; "
                    "`authorized`: held, charged at approval; `due`: to pay by `due_at` or "
                    "the booking expires; `paid`, `partially_refunded`, `refunded`; `void`: "
                    "nothing was charged and nothing will be.",
                },
                "label": {"type": "string"},
                "amount": {"type": "integer", "minimum": 0, "description": "The price."},
                "currency": {"type": "string", "examples": ["KRW"]},
                "due_at": {
                    **nullable_instant,
                    "description": "The payment deadline while something is due.",
                },
                "payments": {
                    "type": "array",
                    "description": "Every attempt to collect the price, oldest first.",
                    "items": {
                        "type": "object",
                        "required": [
                            "id",
                            "method",
                            "status",
                            "amount",
                            "refunded_amount",
                            "paid_at",
                            "card_last4",
                            "reference",
                            "test_mode",
                        ],
                        "properties": {
                            "id": {"type": "integer"},
                            "method": {"type": "string", "enum": ["card", *OFFLINE_METHODS]},
                            "status": {"type": "string", "enum": list(PAYMENT_STATUS_LABELS)},
                            "amount": {"type": "integer", "minimum": 1},
                            "refunded_amount": {"type": "integer", "minimum": 0},
                            "paid_at": nullable_instant,
                            "card_last4": {"type": ["string", "null"]},
                            "reference": {
                                "type": ["string", "null"],
                                "description": "Offline payments: the receipt, transfer or "
                                "voucher number; only for the space's managers.",
                            },
                            "test_mode": {
                                "type": "boolean",
                                "description": "A test payment: no real money moved.",
                            },
                        },
                    },
                },
                "refunds": {
                    "type": "array",
                    "description": "Refunds of all the payments, oldest first.",
                    "items": {
                        "type": "object",
                        "required": [
                            "id",
                            "payment_id",
                            "amount",
                            "status",
                            "reason",
                            "created_at",
                            "done_at",
                        ],
                        "properties": {
                            "id": {"type": "integer"},
                            "payment_id": {"type": "integer"},
                            "amount": {"type": "integer", "minimum": 1},
                            "status": {"type": "string", "enum": list(REFUND_STATUS_LABELS)},
                            "reason": {"type": ["string", "null"]},
                            "created_at": instant,
                            "done_at": nullable_instant,
                        },
                    },
                },
                "checkout_url": {
                    "type": ["string", "null"],
                    "format": "uri",
                    "description": "The open Checkout Session to pay on; only for the "
                    "resident who booked, while the booking can be paid.",
                },
            },
        },
        "CheckoutLink": {
            "type": "object",
            "required": ["checkout_url", "expires_at", "payment_id"],
            "properties": {
                "checkout_url": {
                    "type": "string",
                    "format": "uri",
                    "description": "Send the resident here to pay (Stripe Checkout).",
                },
                "expires_at": {**instant, "description": "The session closes then."},
                "payment_id": {"type": "integer"},
            },
        },
        "OfflinePaymentRequest": {
            "type": "object",
            "required": ["method", "amount", "reference"],
            "properties": {
                "method": {"type": "string", "enum": list(OFFLINE_METHODS)},
                "amount": {**amount, "description": "The booking's price, exactly."},
                "reference": {
                    **reference,
                    "description": "The receipt, transfer or voucher number.",
                },
            },
        },
        "RefundRequest": {
            "type": "object",
            "required": ["amount", "reason"],
            "properties": {
                "amount": {
                    **amount,
                    "description": "At most what is paid and not yet refunded (or being refunded).",
                },
                "reason": {"type": "string", "minLength": 1, "maxLength": 500},
                "reference": {
                    **reference,
                    "description": "Offline payments (required for them): how the money was "
                    "handed back. Card payments are refunded through Stripe.",
                },
            },
        },
        "PayoutReport": {
            "type": "object",
            "required": [
                "organisation",
                "from",
                "to",
                "totals",
                "rows",
                "page",
                "pages",
                "per_page",
                "total_rows",
            ],
            "properties": {
                "organisation": ref("Ref"),
                "from": {"type": "string", "format": "date"},
                "to": {"type": "string", "format": "date"},
                "totals": {
                    "type": "object",
                    "description": "Per currency: payments made in the period (gross), the "
                    "platform's fees, refunds done in the period and the fees they gave "
                    "back, and the net for the owner.",
                    "additionalProperties": money_totals,
                },
                "rows": {
                    "type": "array",
                    "description": "The payments made in the period, oldest first, with their "
                    "refunds so far.",
                    "items": {
                        "type": "object",
                        "required": [
                            "booking_id",
                            "space",
                            "paid_at",
                            "method",
                            "currency",
                            "gross",
                            "fee",
                            "refunded",
                            "fee_refunded",
                            "net",
                        ],
                        "properties": {
                            "booking_id": {"type": "integer"},
                            "space": {"type": "string"},
                            "paid_at": instant,
                            "method": {"type": "string", "enum": ["card", *OFFLINE_METHODS]},
                            "currency": {"type": "string"},
                            "gross": {"type": "integer"},
                            "fee": {"type": "integer"},
                            "refunded": {"type": "integer"},
                            "fee_refunded": {"type": "integer"},
                            "net": {"type": "integer"},
                        },
                    },
                },
                "page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "total_rows": {"type": "integer", "minimum": 0},
            },
        },
    }


def _page_schema(item: str, max_per_page: int) -> dict:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": ref(item)},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": max_per_page},
            "total": {"type": "integer", "minimum": 0},
        },
    }


def _error_response(description: str) -> dict:
    return json_content(ref("Error"), description)


COMPONENT_RESPONSES = {
    "BadRequest": _error_response("The body is not valid JSON (code `bad_request`)."),
    "Unauthorized": {
        **_error_response("No token, or an invalid or revoked one (code `unauthorized`)."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    "Forbidden": _error_response("You can see this but may not do that (code `forbidden`)."),
    "NotFound": _error_response("No such thing, or not one you may see (code `not_found`)."),
    "Conflict": _error_response(
        "`slot_taken`: the time overlaps another booking or its buffer; "
        "`invalid_transition`: the booking's state does not allow this."
    ),
    "TooLarge": _error_response("The body is larger than 64 KiB (code `too_large`)."),
    "ProviderError": _error_response(
        "Stripe refused the call or could not be reached; nothing was charged or changed "
        "(code `payment_provider_error`). Try again later."
    ),
    "PaymentsUnavailable": _error_response(
        "Online payment is not set up on this installation; the resident pays the facility "
        "manager, who records it (code `payments_unavailable`)."
    ),
    "Invalid": _error_response(
        "Input that can be fixed (code `invalid`), with messages per field in `details`; "
        "or a request the rules refuse (code `rule_violation`), with `reasons`."
    ),
}
