"""The notifications part of the OpenAPI document: paths and schemas (merged into the document
by `app.api.openapi`)."""

from __future__ import annotations

from app.api.openapi_components import _page_schema, json_content, ref
from app.notifications.kinds import AUDIENCE_LABELS, KINDS, REMINDER_CHOICES
from app.notifications.models import CHANNELS

BEARER = [{"bearerAuth": []}]


def _errors(*statuses: int) -> dict:
    names = {400: "BadRequest", 401: "Unauthorized", 413: "TooLarge", 422: "Invalid"}
    return {str(s): {"$ref": f"#/components/responses/{names[s]}"} for s in statuses}


def notification_paths() -> dict:
    prefs_out = json_content(ref("NotificationPreferences"), "Your notification settings.")
    return {
        "/notifications": {
            "get": {
                "operationId": "listNotifications",
                "tags": ["notifications"],
                "summary": "Your notifications",
                "description": "Newest first, with the title shown in the inbox (in the "
                "language of Accept-Language), the page each opens (`url`) and the booking it "
                "is about. `unread` counts all your unread notifications.",
                "security": BEARER,
                "parameters": [
                    {
                        "name": "unread",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["true", "false", "1", "0",
                                                              "yes", "no"]},
                        "description": "`true`: only notifications not read yet.",
                    },
                    {"$ref": "#/components/parameters/Page"},
                    {"$ref": "#/components/parameters/PerPage"},
                ],
                "responses": {
                    "200": json_content(ref("NotificationPage"), "A page of notifications."),
                    **_errors(401, 422),
                },
            }
        },
        "/notifications/read": {
            "post": {
                "operationId": "markNotificationsRead",
                "tags": ["notifications"],
                "summary": "Mark notifications read",
                "description": "`{\"ids\": [...]}` marks those (ids that are not yours or "
                "already read change nothing), `{\"all\": true}` marks every one.",
                "security": BEARER,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("MarkRead")}},
                },
                "responses": {
                    "200": json_content(ref("MarkedRead"), "How many changed."),
                    **_errors(400, 401, 413, 422),
                },
            }
        },
        "/notifications/preferences": {
            "get": {
                "operationId": "getNotificationPreferences",
                "tags": ["notifications"],
                "summary": "Your notification settings",
                "description": "Each kind you can receive, how it reaches you and the choices "
                "it offers (mandatory kinds cannot be `off`), and the reminder lead time.",
                "security": BEARER,
                "responses": {"200": prefs_out, **_errors(401)},
            },
            "put": {
                "operationId": "setNotificationPreferences",
                "tags": ["notifications"],
                "summary": "Change your notification settings",
                "description": "Kinds left out keep their channel. An unknown kind, a channel "
                "the kind does not offer (such as `off` for a mandatory kind) or a reminder "
                "time not offered is refused (422, naming `channels.<kind>` or "
                "`reminder_hours`) and nothing is saved.",
                "security": BEARER,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("NotificationSettings")}},
                },
                "responses": {"200": prefs_out, **_errors(400, 401, 413, 422)},
            },
        },
    }


def notification_schemas(max_per_page: int) -> dict:
    nullable_instant = {"type": ["string", "null"], "format": "date-time"}
    return {
        "Notification": {
            "type": "object",
            "required": ["id", "kind", "kind_label", "title", "created_at", "read", "read_at",
                         "url", "booking_id"],
            "properties": {
                "id": {"type": "integer"},
                "kind": {"type": "string", "enum": list(KINDS)},
                "kind_label": {"type": "string"},
                "title": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time"},
                "read": {"type": "boolean"},
                "read_at": nullable_instant,
                "url": {"type": "string", "format": "uri",
                        "description": "The page the notification opens."},
                "booking_id": {"type": ["integer", "null"]},
            },
        },
        "NotificationPage": {
            **_page_schema("Notification", max_per_page),
            "required": ["items", "page", "per_page", "total", "unread"],
            "properties": {
                **_page_schema("Notification", max_per_page)["properties"],
                "unread": {"type": "integer", "minimum": 0,
                           "description": "All your unread notifications."},
            },
        },
        "MarkRead": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "ids": {"type": "array", "minItems": 1, "maxItems": 500,
                        "items": {"type": "integer", "minimum": 1}},
                "all": {"type": "boolean", "const": True},
            },
            "oneOf": [{"required": ["ids"]}, {"required": ["all"]}],
        },
        "MarkedRead": {
            "type": "object",
            "required": ["marked", "unread"],
            "properties": {
                "marked": {"type": "integer", "minimum": 0},
                "unread": {"type": "integer", "minimum": 0},
            },
        },
        "NotificationPreferences": {
            "type": "object",
            "required": ["kinds", "reminder_hours", "reminder_choices"],
            "properties": {
                "kinds": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["kind", "label", "audience", "channel", "choices",
                                     "mandatory"],
                        "properties": {
                            "kind": {"type": "string", "enum": list(KINDS)},
                            "label": {"type": "string"},
                            "audience": {"type": "string", "enum": list(AUDIENCE_LABELS)},
                            "channel": {"type": "string", "enum": list(CHANNELS)},
                            "choices": {"type": "array",
                                        "items": {"type": "string", "enum": list(CHANNELS)}},
                            "mandatory": {"type": "boolean"},
                        },
                    },
                },
                "reminder_hours": {"type": "integer", "enum": list(REMINDER_CHOICES)},
                "reminder_choices": {"type": "array", "items": {"type": "integer"}},
            },
        },
        "NotificationSettings": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "channels": {
                    "type": "object",
                    "description": "Kind → channel (`email`, `digest`, `in_app`, `off`), "
                    "for kinds to change.",
                    "additionalProperties": {"type": "string", "enum": list(CHANNELS)},
                },
                "reminder_hours": {"type": "integer", "enum": list(REMINDER_CHOICES),
                                   "description": "Hours before a booking; 0 = no reminder."},
            },
        },
    }
