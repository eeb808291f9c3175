"""The notifications API: one's inbox (paged, unread only on request), marking read, and the
per-kind channel preferences with the reminder lead time.

The same services as the pages (`app.notifications.services`); titles are the inbox titles of
the pages, in the language the client asks for (Accept-Language).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask_login import current_user
from sqlalchemy import select

from app.api import bp, paging
from app.api.auth import token_required
from app.api.paging import paginate
from app.api.schemas.answers import (
    MarkedReadSchema,
    NotificationPageSchema,
    NotificationPreferencesSchema,
)
from app.api.schemas.dumping import dump_context, dumps_in_context
from app.api.schemas.requests import (
    MarkReadSchema,
    NotificationQuery,
    NotificationSettingsSchema,
)
from app.extensions import db
from app.notifications import services
from app.notifications.kinds import REMINDER_CHOICES, kinds_for
from app.notifications.models import Notification

ZONE = ZoneInfo("Asia/Seoul")


@bp.get("/notifications", tags=["notifications"])
@dumps_in_context
@token_required
@bp.arguments(NotificationQuery, location="query")
@bp.response(200, NotificationPageSchema, description="A page of notifications.")
def notifications(args: dict):
    """Your notifications

    Newest first, with the title shown in the inbox (in the language of Accept-Language), the
    page each opens (`url`) and the booking it is about. `unread` counts all your unread
    notifications."""
    page, per_page = args["page"], args["per_page"]
    query = select(Notification).where(Notification.user_id == current_user.id)
    if args["unread"]:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
    rows, total = paginate(query, page=page, per_page=per_page)
    user = current_user._get_current_object()
    dump_context()["zone"] = ZONE
    body = paging.page(rows, page=page, per_page=per_page, total=total)
    body["unread"] = services.unread_count(user)
    return body


@bp.post("/notifications/read", tags=["notifications"])
@token_required
@bp.arguments(MarkReadSchema, example={"ids": [3, 4]})
@bp.response(200, MarkedReadSchema, description="How many changed.")
def read_notifications(body: dict):
    """Mark notifications read

    `{"ids": [...]}` marks those (ids that are not yours or already read change nothing),
    `{"all": true}` marks every one."""
    ids = None if body.get("all") else body["ids"]
    user = current_user._get_current_object()
    changed = services.mark_read(user, ids)
    db.session.commit()
    return {"marked": changed, "unread": services.unread_count(user)}


def _preferences_json(user) -> dict:
    chosen = services.preferences_of(user)
    return {
        "kinds": [
            {
                "kind": spec.name,
                "label": str(spec.label),
                "audience": spec.audience,
                "channel": chosen[spec.name],
                "choices": list(spec.choices),
                "mandatory": spec.mandatory,
            }
            for spec in kinds_for(user.role_names)
        ],
        "reminder_hours": user.reminder_hours,
        "reminder_choices": list(REMINDER_CHOICES),
    }


@bp.get("/notifications/preferences", tags=["notifications"])
@token_required
@bp.response(200, NotificationPreferencesSchema, description="Your notification settings.")
def notification_preferences():
    """Your notification settings

    Each kind you can receive, how it reaches you and the choices it offers (mandatory kinds
    cannot be `off`), and the reminder lead time."""
    return _preferences_json(current_user._get_current_object())


@bp.put("/notifications/preferences", tags=["notifications"])
@token_required
@bp.arguments(
    NotificationSettingsSchema,
    example={"channels": {"booking_approved": "email"}, "reminder_hours": 24},
)
@bp.response(200, NotificationPreferencesSchema, description="Your notification settings.")
def save_notification_preferences(body: dict):
    """Change your notification settings

    Kinds left out keep their channel. An unknown kind, a channel the kind does not offer
    (such as `off` for a mandatory kind) or a reminder time not offered is refused (422, naming
    `channels.<kind>` or `reminder_hours`) and nothing is saved."""
    user = current_user._get_current_object()
    choices = body.get("channels") or {}
    hours = body.get("reminder_hours")
    services.set_preferences(user, choices)
    if hours is not None:
        user.reminder_hours = hours
    db.session.commit()
    return _preferences_json(user)
