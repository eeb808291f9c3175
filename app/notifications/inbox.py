"""The inbox as a to-do list: what asks for an action first, then everything else grouped by
the booking it is about (one entry per booking, however many messages it had), newest first.

Three queries whatever the number of notifications: the unread ones asking for an action, the
page of groups (with their total), and the notifications of those groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, false, func, not_, or_, select, true

from app.db import PageLinks
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.resolve import ACTION_KINDS

ACTION_LIMIT = 20  # more than this waiting at once: the rest show in their booking's group


@dataclass
class Group:
    """The notifications about one booking (or one notification about no booking), newest
    first."""

    key: int
    notes: list[Notification] = field(default_factory=list)

    @property
    def latest(self) -> Notification:
        return self.notes[0]

    @property
    def earlier(self) -> list[Notification]:
        return self.notes[1:]

    @property
    def unread(self) -> int:
        return sum(1 for n in self.notes if n.read_at is None)


@dataclass
class Inbox(PageLinks):
    actions: list[Notification]
    groups: list[Group]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))



def _asks_action():
    return and_(Notification.kind.in_(ACTION_KINDS), Notification.read_at.is_(None))


def _group_key():
    # A booking's notifications share its id; one about no booking is a group of its own
    # (negative, so it never meets a booking id).
    return func.coalesce(Notification.booking_id, -Notification.id)


def inbox_of(user, *, page: int = 1, per_page: int = 20, unread_only: bool = False) -> Inbox:
    """The page `page` of `user`'s inbox."""
    mine = [Notification.user_id == user.id]
    if unread_only:
        mine.append(Notification.read_at.is_(None))
    actions: list[Notification] = []
    if page == 1:
        actions = list(db.session.scalars(
            select(Notification).where(*mine, _asks_action())
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(ACTION_LIMIT)
        ))
    skip = [n.id for n in actions]
    rest = [*mine]
    if page == 1:
        rest.append(Notification.id.not_in(skip) if skip else true())
    else:
        # The first page showed the unread requests for action (up to the limit) on their own.
        first = select(Notification.id).where(*mine, _asks_action()).order_by(
            Notification.created_at.desc(), Notification.id.desc()).limit(ACTION_LIMIT)
        rest.append(not_(Notification.id.in_(first.scalar_subquery())))
    key = _group_key().label("key")
    grouped = (
        select(key, func.max(Notification.created_at).label("newest"),
               func.max(Notification.id).label("last_id"))
        .where(*rest).group_by(key)
    ).subquery()
    counted = select(grouped.c.key, func.count().over().label("total")).order_by(
        grouped.c.newest.desc(), grouped.c.last_id.desc()
    ).limit(per_page).offset(max(page - 1, 0) * per_page)
    rows = db.session.execute(counted).all()
    keys = [row.key for row in rows]
    total = rows[0].total if rows else _count_groups(rest) if page > 1 else 0
    groups = {k: Group(k) for k in keys}
    if keys:
        booking_ids = [k for k in keys if k > 0]
        note_ids = [-k for k in keys if k < 0]
        notes = db.session.scalars(
            select(Notification).where(
                *rest,
                or_(Notification.booking_id.in_(booking_ids) if booking_ids else false(),
                    Notification.id.in_(note_ids) if note_ids else false()),
            ).order_by(Notification.created_at.desc(), Notification.id.desc())
        )
        for note in notes:
            groups[note.booking_id if note.booking_id is not None else -note.id].notes.append(note)
    return Inbox(actions=actions, groups=[g for g in groups.values() if g.notes], page=page,
                 per_page=per_page, total=total)


def _count_groups(rest) -> int:
    """The number of groups (only asked for a page past the end, where no row carries it)."""
    inner = select(_group_key()).where(*rest).group_by(_group_key()).subquery()
    return db.session.scalar(select(func.count()).select_from(inner)) or 0
