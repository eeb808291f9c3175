"""The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`.

Written by hand next to the routes; a test checks it against the OpenAPI schema and checks that
every route of the blueprint is described, so it cannot silently go stale.
"""

from __future__ import annotations

from flask import current_app, url_for

from app.api.openapi_components import (
    COMPONENT_RESPONSES,
    component_schemas,
    json_content,
    ref,
)
from app.api.openapi_notifications import notification_paths, notification_schemas
from app.bookings.models import STATUS_LABELS
from app.bookings.queue import SORTS
from app.rules.schema import APPROVERS, PURPOSES
from app.spaces.models import AMENITIES, SPACE_TYPES


def _errors(*statuses: int) -> dict:
    names = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        413: "TooLarge",
        422: "Invalid",
        502: "ProviderError",
        503: "PaymentsUnavailable",
    }
    return {str(s): {"$ref": f"#/components/responses/{names[s]}"} for s in statuses}


def _param(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _body(schema: str, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": ref(schema)}}}


def _query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


BEARER = [{"bearerAuth": []}]
OPTIONAL_BEARER = [{}, {"bearerAuth": []}]


def _paths() -> dict:
    booking_out = json_content(ref("Booking"), "The booking, with its history.")
    reason_body = {
        "required": False,
        "content": {"application/json": {"schema": ref("Reason")}},
    }

    def action(op_id: str, summary: str, description: str, reason_required=False) -> dict:
        body = dict(reason_body, required=reason_required)
        return {
            "post": {
                "operationId": op_id,
                "tags": ["bookings"],
                "summary": summary,
                "description": description,
                "security": BEARER,
                "parameters": [_param("BookingId")],
                "requestBody": body,
                "responses": {"200": booking_out, **_errors(400, 401, 403, 404, 409, 413, 422)},
            }
        }

    return {
        "/spaces": {
            "get": {
                "operationId": "searchSpaces",
                "tags": ["spaces"],
                "summary": "Search published spaces",
                "security": OPTIONAL_BEARER,
                "parameters": [
                    _query(
                        "q", {"type": "string"}, "Words in the name, description, address or owner."
                    ),
                    _query("type", {"type": "string", "enum": list(SPACE_TYPES)}, "Space type."),
                    _query(
                        "min_capacity",
                        {"type": "integer", "minimum": 1},
                        "At least this many people.",
                    ),
                    _query(
                        "free_only",
                        {"type": "boolean", "default": False},
                        "Only spaces that cost nothing to book.",
                    ),
                    _query(
                        "amenities",
                        {"type": "string"},
                        "Comma-separated amenity codes; all are required. One of: "
                        + ", ".join(AMENITIES)
                        + ".",
                    ),
                    _query(
                        "district",
                        {"type": "string"},
                        "Jurisdiction slug; includes the jurisdictions inside it.",
                    ),
                    _query(
                        "near",
                        {"type": "string", "examples": ["37.6397,127.0256"]},
                        "latitude,longitude; results are sorted by distance.",
                    ),
                    _query(
                        "radius_km",
                        {"type": "number", "exclusiveMinimum": 0, "maximum": 100, "default": 5},
                        "Radius around `near`.",
                    ),
                    _query(
                        "free_from",
                        {"type": "string", "format": "date-time"},
                        "With `free_to`: only spaces open and free for the whole time. "
                        "With a UTC offset.",
                    ),
                    _query(
                        "free_to",
                        {"type": "string", "format": "date-time"},
                        "End of the time needed (at most 14 days after `free_from`).",
                    ),
                    _param("Page"),
                    _param("PerPage"),
                ],
                "responses": {
                    "200": json_content(ref("SpacePage"), "One page of results."),
                    **_errors(422),
                },
            }
        },
        "/spaces/{space_id}": {
            "get": {
                "operationId": "getSpace",
                "tags": ["spaces"],
                "summary": "A space with its opening hours and rules of use",
                "description": "Unpublished spaces only for their managers and officers.",
                "security": OPTIONAL_BEARER,
                "parameters": [_param("SpaceId")],
                "responses": {
                    "200": json_content(ref("SpaceDetail"), "The space."),
                    **_errors(404),
                },
            }
        },
        "/spaces/{space_id}/availability": {
            "get": {
                "operationId": "getAvailability",
                "tags": ["spaces"],
                "summary": "Free and busy time of a space",
                "description": "Dates are local to the space; `to` is included. Without "
                "either, the current week (Monday to Sunday); with one, seven days.",
                "security": OPTIONAL_BEARER,
                "parameters": [
                    _param("SpaceId"),
                    _query("from", {"type": "string", "format": "date"}, "First day."),
                    _query(
                        "to",
                        {"type": "string", "format": "date"},
                        "Last day, at most 62 days after `from`.",
                    ),
                ],
                "responses": {
                    "200": json_content(ref("Availability"), "Open, free and busy spans."),
                    **_errors(404, 422),
                },
            }
        },
        "/bookings": {
            "get": {
                "operationId": "listBookings",
                "tags": ["bookings"],
                "summary": "My bookings, or the bookings of the spaces I manage",
                "description": "Latest start first.",
                "security": BEARER,
                "parameters": [
                    _query(
                        "scope",
                        {"type": "string", "enum": ["mine", "managed"], "default": "mine"},
                        "`managed`: bookings of spaces of my organisations (managers).",
                    ),
                    _query(
                        "status",
                        {"type": "string", "examples": ["requested,approved"]},
                        "Comma-separated statuses: " + ", ".join(STATUS_LABELS) + ".",
                    ),
                    _param("Page"),
                    _param("PerPage"),
                ],
                "responses": {
                    "200": json_content(ref("BookingPage"), "One page of bookings."),
                    **_errors(401, 403, 422),
                },
            },
            "post": {
                "operationId": "createBooking",
                "tags": ["bookings"],
                "summary": "Book a space",
                "description": "The rules in force decide: instant spaces answer `confirmed`, "
                "others `requested` (its approval stages decide), `approved` (the rules "
                "approve it) or `entered` (a lottery draws it). A request the rules refuse "
                "answers 422 `rule_violation` with `reasons`, each citing its rule set. Two "
                "bookings never overlap, buffers included: of requests racing for the same "
                "time exactly one succeeds, the others get 409 `slot_taken`.",
                "security": BEARER,
                "requestBody": _body("BookingRequest"),
                "responses": {
                    "201": {
                        **booking_out,
                        "headers": {
                            "Location": {
                                "schema": {"type": "string"},
                                "description": "The new booking.",
                            }
                        },
                    },
                    **_errors(400, 401, 403, 409, 413, 422),
                },
            },
        },
        "/bookings/{booking_id}": {
            "get": {
                "operationId": "getBooking",
                "tags": ["bookings"],
                "summary": "One booking",
                "description": "For the person who booked, the space's managers and officers.",
                "security": BEARER,
                "parameters": [_param("BookingId")],
                "responses": {"200": booking_out, **_errors(401, 404)},
            }
        },
        "/bookings/{booking_id}/approve": action(
            "approveBooking",
            "Approve the current stage of a request",
            "Whoever decides the request's current stage (the owner's managers, its head, or "
            "the jurisdiction's officers; 403 for others who can see the request). The last "
            "deciding stage's approval approves the booking. Optional reason.",
        ),
        "/bookings/{booking_id}/reject": action(
            "rejectBooking",
            "Reject a request",
            "Whoever decides the request's current stage; a reason is required.",
            reason_required=True,
        ),
        "/bookings/{booking_id}/return": {
            "post": {
                "operationId": "returnBooking",
                "tags": ["bookings"],
                "summary": "Return a request to the resident for changes",
                "description": "Whoever decides the current stage; the reason says what to "
                "change. The request keeps its time until the resident resubmits or the "
                "answer is overdue.",
                "security": BEARER,
                "parameters": [_param("BookingId")],
                "requestBody": _body("ReturnRequest"),
                "responses": {"200": booking_out, **_errors(400, 401, 403, 404, 409, 413, 422)},
            }
        },
        "/bookings/{booking_id}/resubmit": {
            "post": {
                "operationId": "resubmitBooking",
                "tags": ["bookings"],
                "summary": "Change a returned request and send it again",
                "description": "The person who booked; the same stage decides again. The "
                "request is judged again by the rule-set versions it was first judged by "
                "(422 `rule_violation` with reasons when they refuse it).",
                "security": BEARER,
                "parameters": [_param("BookingId")],
                "requestBody": _body("ResubmitRequest", required=False),
                "responses": {"200": booking_out, **_errors(400, 401, 403, 404, 409, 413, 422)},
            }
        },
        "/approvals": {
            "get": {
                "operationId": "listApprovals",
                "tags": ["approvals"],
                "summary": "My approval queue",
                "description": "Requests whose current stage I decide (facility managers, "
                "heads of organisations, officers), as in the web queue. Oldest request first "
                "unless `sort` says otherwise.",
                "security": BEARER,
                "parameters": [
                    _query("space", {"type": "integer", "minimum": 1}, "Only this space."),
                    _query(
                        "approver",
                        {"type": "string", "enum": list(APPROVERS)},
                        "Only stages of this kind of approver.",
                    ),
                    _query(
                        "purpose",
                        {"type": "string", "enum": list(PURPOSES)},
                        "Only requests of this purpose category.",
                    ),
                    _query(
                        "from",
                        {"type": "string", "format": "date"},
                        "Starting on or after this day (Korean time).",
                    ),
                    _query(
                        "to",
                        {"type": "string", "format": "date"},
                        "Starting on or before this day (Korean time).",
                    ),
                    _query(
                        "overdue",
                        {"type": "string", "enum": ["0", "1"]},
                        "1: only stages due within a day.",
                    ),
                    _query(
                        "sort",
                        {"type": "string", "enum": list(SORTS), "default": "requested"},
                        "requested: oldest request first; start: soonest start; due: soonest "
                        "deadline.",
                    ),
                    _param("Page"),
                    _param("PerPage"),
                ],
                "responses": {
                    "200": json_content(ref("ApprovalPage"), "One page of requests."),
                    **_errors(401, 403, 422),
                },
            }
        },
        "/approvals/bulk": {
            "post": {
                "operationId": "bulkDecide",
                "tags": ["approvals"],
                "summary": "Approve or reject several requests",
                "description": "Each request is decided on its own: one that cannot be "
                "decided (not yours to decide, already decided, time begun) does not undo or "
                "stop the others. Answers 200 with a result per id.",
                "security": BEARER,
                "requestBody": _body("BulkRequest"),
                "responses": {
                    "200": json_content(ref("BulkResult"), "A result per request."),
                    **_errors(400, 401, 403, 413, 422),
                },
            }
        },
        "/spaces/{space_id}/quote": {
            "post": {
                "operationId": "quoteBooking",
                "tags": ["rules"],
                "summary": "What the rules say about a request, without making it",
                "description": "Whether the rules allow it (with every reason citing its rule "
                "set), how it would be allocated, its approval stages and its price. Input a "
                "booking would refuse (times, length, attendees) answers 422.",
                "security": BEARER,
                "parameters": [_param("SpaceId")],
                "requestBody": _body("QuoteRequest"),
                "responses": {
                    "200": json_content(ref("Quote"), "The judgement of the request."),
                    **_errors(400, 401, 403, 404, 413, 422),
                },
            }
        },
        "/spaces/{space_id}/rules": {
            "get": {
                "operationId": "getSpaceRules",
                "tags": ["rules"],
                "summary": "The rules in force at a space",
                "description": "The combined rules in words, each citing its source, and the "
                "version of every rule set in force (jurisdictions, owner, space).",
                "security": OPTIONAL_BEARER,
                "parameters": [_param("SpaceId")],
                "responses": {
                    "200": json_content(ref("SpaceRules"), "The rules in force now."),
                    **_errors(404),
                },
            }
        },
        "/rule-sets/{level}/{scope_id}": {
            "get": {
                "operationId": "getRuleSet",
                "tags": ["rules"],
                "summary": "The versions of a rule set",
                "description": "For those who may change it: officers (their jurisdictions "
                "and those below), members of the organisation (its rule set and its "
                "spaces'), admins. 403 for those who may see it but not change it.",
                "security": BEARER,
                "parameters": [_param("RuleSetLevel"), _param("ScopeId")],
                "responses": {
                    "200": json_content(ref("RuleSetVersions"), "Every version, newest first."),
                    **_errors(401, 403, 404),
                },
            },
            "post": {
                "operationId": "saveRuleSet",
                "tags": ["rules"],
                "summary": "Save a new version of a rule set",
                "description": "Appends a version taking effect on `effective_from` (today: "
                "at once) that replaces the latest. A document the rules refuse answers 422 "
                "with messages per field (`rules.<field>`), and nothing is saved.",
                "security": BEARER,
                "parameters": [_param("RuleSetLevel"), _param("ScopeId")],
                "requestBody": _body("RuleSetRequest"),
                "responses": {
                    "201": {
                        **json_content(ref("SavedRuleSet"), "The new version."),
                        "headers": {
                            "Location": {
                                "schema": {"type": "string"},
                                "description": "The rule set's versions.",
                            }
                        },
                    },
                    **_errors(400, 401, 403, 404, 413, 422),
                },
            },
        },
        "/lottery/draws/{draw_id}": {
            "get": {
                "operationId": "getLotteryDraw",
                "tags": ["lottery"],
                "summary": "The public result of a lottery draw",
                "description": "Seed, algorithm and ranking (names masked), so anyone can "
                "check the draw. 404 when the space is not one you may see.",
                "security": OPTIONAL_BEARER,
                "parameters": [_param("DrawId")],
                "responses": {
                    "200": json_content(ref("LotteryDraw"), "The draw."),
                    **_errors(404),
                },
            }
        },
        "/bookings/{booking_id}/cancel": action(
            "cancelBooking",
            "Cancel a booking",
            "The person who booked (before the start) or a manager; optional reason.",
        ),
        **_payment_paths(booking_out),
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "tags": ["meta"],
                "summary": "This document",
                "security": OPTIONAL_BEARER,
                "responses": {"200": json_content({"type": "object"}, "OpenAPI 3.1 document.")},
            }
        },
    }


def _payment_paths(booking_out: dict) -> dict:
    created = {**booking_out, "description": "The booking, with the payment or refund."}
    return {
        "/bookings/{booking_id}/checkout": {
            "post": {
                "operationId": "checkoutBooking",
                "tags": ["payments"],
                "summary": "A checkout link to pay for a booking",
                "description": "The person who booked (403 for others who can see the "
                "booking), while the booking has something to pay: approved and `due`, or an "
                "instant booking or card hold holding its time (409 `invalid_transition` "
                "otherwise). Answers the open Checkout Session when there is one, else opens "
                "a new one; send the resident to `checkout_url`. Stripe reports the payment "
                "to the app, and the booking's `payment` shows it. No body.",
                "security": BEARER,
                "parameters": [_param("BookingId")],
                "responses": {
                    "201": json_content(ref("CheckoutLink"), "The checkout to pay on."),
                    **_errors(400, 401, 403, 404, 409, 413, 422, 502, 503),
                },
            }
        },
        "/bookings/{booking_id}/payments": {
            "post": {
                "operationId": "recordOfflinePayment",
                "tags": ["payments"],
                "summary": "Record a payment made to the manager",
                "description": "The space's managers (403 for others who can see the "
                "booking): cash, a bank transfer or a local-currency voucher for the whole "
                "price. The booking is then paid (an instant booking awaiting payment is "
                "confirmed) and any open checkout is closed. 409 `invalid_transition` when "
                "nothing is left to pay.",
                "security": BEARER,
                "parameters": [_param("BookingId")],
                "requestBody": _body("OfflinePaymentRequest"),
                "responses": {"201": created, **_errors(400, 401, 403, 404, 409, 413, 422)},
            }
        },
        "/bookings/{booking_id}/refunds": {
            "post": {
                "operationId": "refundBooking",
                "tags": ["payments"],
                "summary": "Refund part or all of a payment",
                "description": "The space's managers (403 for others who can see the "
                "booking), from the latest payment. Card payments are refunded through Stripe "
                "just after the answer, so the refund may still show `pending`; an offline "
                "payment's refund is done when `reference` says how the money was handed "
                "back. 409 `invalid_transition` when nothing was paid.",
                "security": BEARER,
                "parameters": [_param("BookingId")],
                "requestBody": _body("RefundRequest"),
                "responses": {"201": created, **_errors(400, 401, 403, 404, 409, 413, 422)},
            }
        },
        "/organisations/{org_id}/payouts": {
            "get": {
                "operationId": "getPayoutReport",
                "tags": ["payments"],
                "summary": "An owner's payout report",
                "description": "For the organisation's managers and principals (404 for "
                "everyone else): payments for its spaces made in the period, platform fees, "
                "refunds and the net, per currency, and the payments page by page (50 a "
                "page). Dates are Korean days, both included; without them, this month so "
                "far (`from` alone runs to today, `to` alone from the first of its month).",
                "security": BEARER,
                "parameters": [
                    _param("OrgId"),
                    _query("from", {"type": "string", "format": "date"}, "First day."),
                    _query(
                        "to",
                        {"type": "string", "format": "date"},
                        "Last day, less than 3660 days after `from`.",
                    ),
                    _param("Page"),
                ],
                "responses": {
                    "200": json_content(ref("PayoutReport"), "The report."),
                    **_errors(401, 404, 422),
                },
            }
        },
    }


def build_document() -> dict:
    max_per_page = current_app.config["API_MAX_PER_PAGE"]
    per_page_default = current_app.config["SEARCH_PER_PAGE"]
    server = url_for("api.openapi", _external=True).removesuffix("/openapi.json")
    id_schema = {"type": "integer", "minimum": 1}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Gonggan (공간) API",
            "version": "1.0.0",
            "description": (
                "Find and book idle public and community spaces. Times are ISO 8601 with a UTC "
                "offset; booking times are given in the space's zone. Money is integer minor "
                'units. Errors are always `{"error": {"code", "message", "details"?}}`; '
                "messages follow Accept-Language (ko, en). Authenticate with an API token sent as "
                "`Authorization: Bearer <token>`."
            ),
        },
        "servers": [{"url": server}],
        "tags": [
            {"name": "spaces", "description": "Search spaces and see their availability."},
            {"name": "bookings", "description": "Book, and decide on bookings."},
            {"name": "approvals", "description": "The approval queue and bulk decisions."},
            {
                "name": "rules",
                "description": "The rules of spaces, quotes, and editing rule sets.",
            },
            {"name": "lottery", "description": "Public results of lottery draws."},
            {
                "name": "payments",
                "description": "Paying for bookings, offline payments, refunds and payouts.",
            },
            {
                "name": "notifications",
                "description": "Your notifications, marking them read, and your settings.",
            },
            {"name": "meta"},
        ],
        "paths": {**_paths(), **notification_paths()},
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token of your account.",
                }
            },
            "schemas": {**component_schemas(max_per_page),
                        **notification_schemas(max_per_page)},
            "responses": COMPONENT_RESPONSES,
            "parameters": {
                "SpaceId": {
                    "name": "space_id",
                    "in": "path",
                    "required": True,
                    "schema": id_schema,
                },
                "BookingId": {
                    "name": "booking_id",
                    "in": "path",
                    "required": True,
                    "schema": id_schema,
                },
                "DrawId": {"name": "draw_id", "in": "path", "required": True, "schema": id_schema},
                "OrgId": {
                    "name": "org_id",
                    "in": "path",
                    "required": True,
                    "description": "An owner organisation.",
                    "schema": id_schema,
                },
                "RuleSetLevel": {
                    "name": "level",
                    "in": "path",
                    "required": True,
                    "description": "Whose rule set: a jurisdiction, an owner organisation or "
                    "a single space.",
                    "schema": {"type": "string", "enum": ["jurisdiction", "organisation", "space"]},
                },
                "ScopeId": {
                    "name": "scope_id",
                    "in": "path",
                    "required": True,
                    "description": "The id of the jurisdiction, organisation or space.",
                    "schema": id_schema,
                },
                "Page": {
                    "name": "page",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "default": 1},
                },
                "PerPage": {
                    "name": "per_page",
                    "in": "query",
                    "required": False,
                    "description": f"At most {max_per_page}; larger values are refused (422).",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": max_per_page,
                        "default": per_page_default,
                    },
                },
            },
        },
    }
