"""Components of the OpenAPI document: the schemas of what the API answers and accepts, and the
error responses they share."""

from __future__ import annotations

from app.bookings.models import STATUS_LABELS
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
            },
        },
        "BookingPage": _page_schema("Booking", max_per_page),
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
    "Invalid": _error_response(
        "Input that can be fixed (code `invalid`), with messages per field in `details`."
    ),
}
