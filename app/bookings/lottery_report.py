"""The fairness report of a space's lotteries: who enters and who wins, by group.

Computed with SQL aggregates over the draws in a period; people appear only as masked names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, select

from app.accounts.group_models import ResidentGroup
from app.accounts.models import User
from app.bookings.lottery import _space_residents, mask_name
from app.bookings.models import Booking, LotteryDraw
from app.bookings.states import BookingStatus
from app.extensions import db
from app.orgs.models import Jurisdiction, jurisdiction_tree
from app.spaces.models import Space

REPEAT_WINNERS_SHOWN = 20


@dataclass(frozen=True)
class GroupStats:
    key: object  # "resident"/"non_resident", a jurisdiction id, a group id, or None
    label: str | None
    entries: int
    wins: int
    total_wins: int

    @property
    def win_rate(self) -> float:
        return self.wins / self.entries if self.entries else 0.0

    @property
    def share_of_wins(self) -> float:
        return self.wins / self.total_wins if self.total_wins else 0.0


@dataclass(frozen=True)
class Fairness:
    draws: int
    entries: int
    wins: int
    residency: list[GroupStats]
    districts: list[GroupStats]
    groups: list[GroupStats]
    repeat_winner_count: int
    repeat_winners: list[tuple[str, int]] = field(default_factory=list)  # (masked name, wins)

    @property
    def win_rate(self) -> float:
        return self.wins / self.entries if self.entries else 0.0


def fairness(space: Space, start: datetime, end: datetime) -> Fairness:
    """Who entered and who won the draws of `space` held in [start, end): by residency of the
    space's district (people's verified home district now), by home district and by resident group,
    and how many people won twice or more (names masked). SQL aggregates; seven queries."""

    residents = _space_residents(space, jurisdiction_tree())
    won = func.sum(case((Booking.status != BookingStatus.LOST, 1), else_=0))
    where = (
        Booking.space_id == space.id,
        Booking.lottery_draw_id.isnot(None),
        Booking.draw_at >= start,
        Booking.draw_at < end,
    )

    def grouped(*columns, outer=None):
        query = select(*columns, func.count(Booking.id), won).join(User, User.id == Booking.user_id)
        if outer is not None:
            query = query.outerjoin(*outer)
        return db.session.execute(query.where(*where).group_by(*columns)).all()

    # Grouped through a subquery: PostgreSQL cannot match a CASE with bound parameters in the
    # select list to the same CASE in GROUP BY.
    marked = (
        select(
            Booking.status,
            case((and_(User.home_district_id.in_(residents or [-1]),
                       User.home_district_verified_at.isnot(None)), "resident"),
                 else_="non_resident").label("residency"),
        )
        .join(User, User.id == Booking.user_id)
        .where(*where)
        .subquery()
    )  # fmt: skip
    by_residency = {
        key: (n, w or 0)
        for key, n, w in db.session.execute(
            select(
                marked.c.residency,
                func.count(),
                func.sum(case((marked.c.status != BookingStatus.LOST, 1), else_=0)),
            ).group_by(marked.c.residency)
        )
    }
    total_entries = sum(n for n, _w in by_residency.values())
    total_wins = sum(w for _n, w in by_residency.values())

    def stats(key, label, n, w):
        return GroupStats(key, label, int(n), int(w or 0), total_wins)

    residency = [stats(k, None, *by_residency.get(k, (0, 0))) for k in ("resident", "non_resident")]
    districts = sorted(
        (
            stats(jid, (name_en if _english() and name_en else name), n, w)
            for jid, name, name_en, n, w in grouped(
                Jurisdiction.id, Jurisdiction.name, Jurisdiction.name_en,
                outer=(Jurisdiction, Jurisdiction.id == User.home_district_id),
            )
        ),
        key=lambda s: (-s.entries, s.label or ""),
    )  # fmt: skip
    groups = sorted(
        (
            stats(gid, name, n, w)
            for gid, name, n, w in grouped(
                ResidentGroup.id, ResidentGroup.name,
                outer=(ResidentGroup, ResidentGroup.id == Booking.group_id),
            )
        ),
        key=lambda s: (-s.entries, s.label or ""),
    )  # fmt: skip
    repeat = (
        select(User.id, User.name, func.count(Booking.id).label("wins"))
        .join(User, User.id == Booking.user_id)
        .where(*where, Booking.status != BookingStatus.LOST)
        .group_by(User.id, User.name)
        .having(func.count(Booking.id) >= 2)
    )
    repeat_count = db.session.scalar(select(func.count()).select_from(repeat.subquery()))
    shown = db.session.execute(
        repeat.order_by(func.count(Booking.id).desc(), User.id).limit(REPEAT_WINNERS_SHOWN)
    ).all()
    draws = db.session.scalar(
        select(func.count(LotteryDraw.id)).where(
            LotteryDraw.space_id == space.id,
            LotteryDraw.draw_at >= start,
            LotteryDraw.draw_at < end,
        )
    )
    return Fairness(
        draws=int(draws or 0),
        entries=total_entries,
        wins=total_wins,
        residency=residency,
        districts=districts,
        groups=groups,
        repeat_winner_count=int(repeat_count or 0),
        repeat_winners=[(mask_name(name), int(n)) for _id, name, n in shown],
    )


def _english() -> bool:
    from flask_babel import get_locale

    return str(get_locale() or "ko") == "en"
