"""The notifications API: one's inbox (paged, unread only on request), marking read, and the
per-kind channel preferences with the reminder lead time.

The same services as the pages (`app.notifications.services`); titles are the inbox titles of
the pages, in the language the client asks for (Accept-Language).
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.api import bp
from app.api import serializers as out
from app.api.auth import token_required
from app.api.inputs import Fields, json_body, query_args, query_int
from app.errors import ValidationFailed
from app.extensions import db
from app.notifications import render, services
from app.notifications.kinds import KINDS, REMINDER_CHOICES, kinds_for
from app.notifications.models import Notification

ZONE = "Asia/Seoul"
# Most ids one call may mark read.
MAX_READ_IDS = 500
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


def _zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(ZONE)


def notification_json(note: Notification, user) -> dict:
    spec = KINDS.get(note.kind)
    return {
        "id": note.id,
        "kind": note.kind,
        "kind_label": str(spec.label) if spec else note.kind,
        "title": render.subject_of(note, user) if spec else note.kind,
        "created_at": out.iso(note.created_at, _zone()),
        "read": note.read_at is not None,
        "read_at": out.iso(note.read_at, _zone()),
        "url": render.link_for(note, external=True),
        "booking_id": note.booking_id,
    }


@bp.get("/notifications")
@token_required
def notifications():
    """The user's notifications, newest first."""
    args = query_args()
    errors: dict = {}
    unread_raw = (args.get("unread") or "").strip().lower()
    if unread_raw and unread_raw not in TRUE + FALSE:
        errors["unread"] = [_("Choose true or false.")]
    page = query_int(args, "page", 1, 1, 100000, errors)
    per_page = query_int(args, "per_page", current_app.config["SEARCH_PER_PAGE"], 1,
                         current_app.config["API_MAX_PER_PAGE"], errors)
    if errors:
        raise ValidationFailed(errors)
    query = select(Notification).where(Notification.user_id == current_user.id)
    if unread_raw in TRUE:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    user = current_user._get_current_object()
    body = out.page([notification_json(n, user) for n in result.items], page=page,
                    per_page=per_page, total=result.total)
    body["unread"] = services.unread_count(user)
    return body


@bp.post("/notifications/read")
@token_required
def read_notifications():
    """Mark some (`ids`) or all (`all: true`) of the user's notifications read. Ids that are
    not the user's, or already read, change nothing."""
    fields = Fields(json_body())
    unknown = sorted(set(fields.data) - {"ids", "all"})
    for name in unknown:
        fields.error(name, _("Unknown field."))
    every = fields.data.get("all")
    ids = None
    if "ids" in fields.data and every is not None:
        fields.error("all", _("Send either ids or all, not both."))
    elif every is not None:
        if every is not True:
            fields.error("all", _("Send true to mark every notification read."))
    else:
        ids = fields.ids("ids", limit=MAX_READ_IDS)
    fields.done()
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


@bp.get("/notifications/preferences")
@token_required
def notification_preferences():
    """How each kind of notification the user can receive reaches them."""
    return _preferences_json(current_user._get_current_object())


@bp.put("/notifications/preferences")
@token_required
def save_notification_preferences():
    """Change some kinds' channels and/or the reminder lead time; kinds left out keep theirs.
    Any refused value (an unknown kind, a channel the kind does not offer, turning off a
    mandatory kind, a lead time not offered) is a 422 naming the field; nothing is saved."""
    user = current_user._get_current_object()
    fields = Fields(json_body())
    for name in sorted(set(fields.data) - {"channels", "reminder_hours"}):
        fields.error(name, _("Unknown field."))
    offered = {spec.name: spec for spec in kinds_for(user.role_names)}
    choices: dict[str, str] = {}
    channels = fields.data.get("channels")
    if channels is not None:
        if not isinstance(channels, dict):
            fields.error("channels", _("Enter a JSON object of kinds and channels."))
        else:
            for kind, channel in channels.items():
                name = f"channels.{kind}"
                spec = offered.get(kind)
                if spec is None:
                    fields.error(name, _("There is no such kind of notification."))
                elif not isinstance(channel, str) or channel not in spec.choices:
                    if channel == "off" and spec.mandatory:
                        fields.error(name, _("This notification cannot be turned off."))
                    else:
                        fields.error(name, _("Choose one of: %(list)s.",
                                             list=", ".join(spec.choices)))
                else:
                    choices[kind] = channel
    hours = None
    if fields.data.get("reminder_hours") is not None:
        hours = fields.integer("reminder_hours")
        if hours is not None and hours not in REMINDER_CHOICES:
            fields.error("reminder_hours", _("Choose one of: %(list)s.",
                                             list=", ".join(map(str, REMINDER_CHOICES))))
    fields.done()
    services.set_preferences(user, choices)
    if hours is not None:
        user.reminder_hours = hours
    db.session.commit()
    return _preferences_json(user)
