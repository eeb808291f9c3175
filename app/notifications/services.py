"""Writing notifications: who is told, how (their preference), and the outbox row for email.

`notify()` only adds rows to the current session: they commit or roll back with the change that
caused them. Email delivery is queued to run after that commit (see app.jobs).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from email.utils import make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import select, tuple_, update

from app.db import rowcount, utcnow
from app.extensions import db
from app.jobs import enqueue_after_commit
from app.notifications.kinds import KINDS
from app.notifications.models import EmailDelivery, Notification, NotificationPreference
from app.notifications.resolve import ACTION_KINDS

# --------------------------------------------------------------------------- preferences
PREFS_CACHE = "notifications.prefs"  # {user id: {kind: channel}} for this transaction


def prefetch(user_ids: Iterable[int]) -> None:
    """Load the preferences of many users in one query, for the `channels_for` calls that
    follow in this transaction (a lottery draw tells every entrant)."""
    cache = db.session.info.setdefault(PREFS_CACHE, {})
    missing = sorted(set(user_ids) - set(cache))
    if not missing:
        return
    for uid in missing:
        cache[uid] = {}
    rows = db.session.execute(
        select(NotificationPreference.user_id, NotificationPreference.kind,
               NotificationPreference.channel)
        .where(NotificationPreference.user_id.in_(missing))
    )
    for uid, kind, channel in rows:
        cache[uid][kind] = channel


def channels_for(user_ids: Iterable[int], kind: str) -> dict[int, str]:
    """Each user's channel for `kind` (their choice, or the kind's default). At most one
    query; none for users prefetched in this transaction."""
    spec = KINDS[kind]
    ids = sorted(set(user_ids))
    cache = db.session.info.get(PREFS_CACHE, {})
    chosen = {uid: cache[uid][kind] for uid in ids if uid in cache and kind in cache[uid]}
    unknown = [uid for uid in ids if uid not in cache]
    if unknown:
        chosen.update(
            db.session.execute(
                select(NotificationPreference.user_id, NotificationPreference.channel).where(
                    NotificationPreference.kind == kind,
                    NotificationPreference.user_id.in_(unknown),
                )
            ).tuples().all()
        )
    out = {}
    for uid in ids:
        channel = chosen.get(uid, spec.default)
        if channel not in spec.choices:  # e.g. a kind made mandatory after the choice
            channel = "in_app" if channel == "off" else spec.default
        out[uid] = channel
    return out


def preferences_of(user) -> dict[str, str]:
    """Every kind's channel for `user` (one query)."""
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.channel).where(
                NotificationPreference.user_id == user.id
            )
        ).tuples().all()
    )
    out = {}
    for name, spec in KINDS.items():
        channel = chosen.get(name, spec.default)
        out[name] = channel if channel in spec.choices else spec.default
    return out


def set_preferences(user, choices: dict[str, str]) -> None:
    """Store `user`'s choices; refuses (ValueError) a channel a kind does not offer, e.g. turning
    off a mandatory kind. Nothing is stored when any choice is refused."""
    for kind, channel in choices.items():
        spec = KINDS.get(kind)
        if spec is None or channel not in spec.choices:
            raise ValueError(kind)
    existing = {
        p.kind: p
        for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    db.session.info.get(PREFS_CACHE, {}).pop(user.id, None)
    for kind, channel in choices.items():
        row = existing.get(kind)
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, channel=channel))
        else:
            row.channel = channel


# --------------------------------------------------------------------------- writing
def _message_id() -> str:
    domain = current_app.config.get("MAIL_MESSAGE_ID_DOMAIN") or "gonggan.local"
    return make_msgid("gonggan", domain=domain)


def notify(
    users: Iterable,
    kind: str,
    *,
    booking=None,
    params: dict | None = None,
    dedupe_key: str | None = None,
    exclude=None,
    now: datetime | None = None,
) -> list[Notification]:
    """Tell each of `users` about `kind`, as each prefers; returns the notifications written.

    `params` must be JSON (everything the message says, captured now). `dedupe_key` makes the
    notification once-only per user (reminders, deadline warnings, summaries): a user who has
    one with that key already is skipped. `exclude` (a user) is never told about their own act.
    """
    now = now or utcnow()
    people: dict[int, Any] = {}
    for user in users:
        if user is None or not user.is_active_account:
            continue
        if exclude is not None and getattr(exclude, "id", None) == user.id:
            continue
        people.setdefault(user.id, user)
    if not people:
        return []
    if dedupe_key is not None:
        seen = set(
            db.session.scalars(
                select(Notification.user_id).where(
                    tuple_(Notification.user_id, Notification.dedupe_key).in_(
                        [(uid, dedupe_key) for uid in people]
                    )
                )
            )
        )
        people = {uid: u for uid, u in people.items() if uid not in seen}
    channels = channels_for(people, kind)
    written = []
    for uid, user in people.items():
        channel = channels[uid]
        if channel == "off":
            continue
        note = Notification(
            user=user,
            kind=kind,
            channel=channel,
            booking=booking,
            params=params or {},
            dedupe_key=dedupe_key,
            created_at=now,
        )
        db.session.add(note)
        written.append(note)
        if channel == "email":
            outbox = EmailDelivery(
                user=user,
                notification=note,
                kind=kind,
                to_address=user.email,
                locale=user.locale if user.locale in ("ko", "en") else "ko",
                next_attempt_at=now,
                created_at=now,
                message_id=_message_id(),
            )
            db.session.add(outbox)
            enqueue_after_commit("notifications.deliver", outbox)
    return written


def email_address(
    to_address: str,
    kind: str,
    *,
    params: dict,
    locale: str,
    now: datetime | None = None,
) -> EmailDelivery:
    """Email `to_address`, which belongs to no account (so there is no inbox and no preference
    to follow): an outbox row, written into the current session like `notify`'s, rendered from
    the kind's template with `params` when it is delivered. Only kinds marked `to_addresses`."""
    if not KINDS[kind].to_addresses:
        raise ValueError(f"{kind} is only for account holders")
    now = now or utcnow()
    outbox = EmailDelivery(
        kind=kind,
        to_address=to_address,
        locale=locale if locale in ("ko", "en") else "ko",
        # "to_address" tells the delivery that no notification stands behind this row.
        params={**params, "to_address": True},
        next_attempt_at=now,
        created_at=now,
        message_id=_message_id(),
    )
    db.session.add(outbox)
    enqueue_after_commit("notifications.deliver", outbox)
    return outbox


def unread_count(user) -> int:
    from sqlalchemy import func

    return db.session.execute(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    ).scalar_one()


def mark_read(user, ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """Mark `user`'s notifications (all when `ids` is None) read; returns how many changed."""
    stmt = (
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
    )
    if ids is not None:
        ids = list(ids)
        if not ids:
            return 0
        stmt = stmt.where(Notification.id.in_(ids))
    return rowcount(db.session.execute(stmt))


def mark_read_about(user, booking_id: int, now: datetime | None = None) -> int:
    """Mark read every notification `user` has about one booking, except those asking for an
    action (they stay until it is done, or are marked read one by one); returns how many
    changed."""
    return rowcount(db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.booking_id == booking_id,
               Notification.read_at.is_(None), Notification.kind.not_in(ACTION_KINDS))
        .values(read_at=now or utcnow())
    ))
