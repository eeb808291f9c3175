"""Rule sets (versioned, append-only), approval stages of bookings, lottery draws and resident
groups with their invitations."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import utcnow
from app.extensions import db

if TYPE_CHECKING:  # imported lazily: the spaces and bookings packages import this module
    from app.accounts.models import User
    from app.bookings.models import Booking
    from app.orgs.models import Jurisdiction, Organisation
    from app.spaces.models import Space


class RuleSet(db.Model):
    """One version of the rules of a jurisdiction, an owner organisation or a single space.

    Versions are never edited: a change adds a version with the date it takes effect, and
    records who made it and which version it replaces (the audit trail). The version in force at
    a moment is the one with the latest `effective_from` not after it (the newest on a tie).
    """

    __tablename__ = "rule_sets"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN jurisdiction_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN organisation_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN space_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_scope",
        ),
        Index("ix_rule_sets_scope", "jurisdiction_id", "organisation_id", "space_id"),
        # Version numbers are unique per scope, also when two editors save at once.
        *(
            Index(
                f"uq_rule_sets_{column}_version",
                column,
                "version",
                unique=True,
                postgresql_where=text(f"{column} IS NOT NULL"),
                sqlite_where=text(f"{column} IS NOT NULL"),
            )
            for column in ("jurisdiction_id", "organisation_id", "space_id")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int | None] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="CASCADE")
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    space_id: Mapped[int | None] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime]
    body: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("rule_sets.id"))

    jurisdiction: Mapped[Jurisdiction | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    space: Mapped[Space | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    replaces: Mapped[RuleSet | None] = relationship(remote_side=[id])

    @property
    def level(self) -> str:
        if self.jurisdiction_id is not None:
            return "jurisdiction"
        return "owner" if self.organisation_id is not None else "space"

    @property
    def scope_key(self) -> str:
        if self.jurisdiction_id is not None:
            return f"j:{self.jurisdiction_id}"
        if self.organisation_id is not None:
            return f"o:{self.organisation_id}"
        return f"s:{self.space_id}"


class BookingStage(db.Model):
    """One stage of a booking's approval chain, frozen when the request is made."""

    __tablename__ = "booking_stages"
    __table_args__ = (
        CheckConstraint(
            "state IN ('waiting', 'pending', 'approved', 'rejected', 'returned', 'escalated', "
            "'auto_approved', 'notified', 'expired', 'skipped')",
            name="state",
        ),
        Index("ix_booking_stages_booking_position", "booking_id", "position", unique=True),
        Index("ix_booking_stages_decided", "decided_at"),
        Index("ix_booking_stages_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    approver: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"))
    mode: Mapped[str] = mapped_column(String(10), default="decide")
    deadline_days: Mapped[int | None] = mapped_column(Integer)
    on_deadline: Mapped[str] = mapped_column(String(10), default="expire")
    label: Mapped[str] = mapped_column(String(80), default="")
    source_name: Mapped[str] = mapped_column(String(160), default="")
    state: Mapped[str] = mapped_column(String(14), default="waiting")
    started_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)

    booking: Mapped[Booking] = relationship(back_populates="stages")
    organisation: Mapped[Organisation | None] = relationship()
    jurisdiction: Mapped[Jurisdiction | None] = relationship()
    decided_by: Mapped[User | None] = relationship()


class LotteryDraw(db.Model):
    """A lottery draw for one space and draw time: its published seed and full result."""

    __tablename__ = "lottery_draws"
    __table_args__ = (Index("ix_lottery_draws_space_draw", "space_id", "draw_at", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    draw_at: Mapped[datetime]
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
    seed: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(20), default="gonggan-1")
    # [{"booking": id, "tier": 0|1, "rank": n, "outcome": "won"|"lost", "why": code}, ...]
    result: Mapped[list] = mapped_column(JSON)

    space: Mapped[Space] = relationship()


class ResidentGroup(db.Model):
    """A group of residents (a club, a parents' association) that books together."""

    __tablename__ = "resident_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship()
    members: Mapped[list[ResidentGroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )
    invitations: Mapped[list[GroupInvitation]] = relationship(
        back_populates="group", cascade="all, delete-orphan", passive_deletes=True
    )


class ResidentGroupMember(db.Model):
    __tablename__ = "resident_group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("resident_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    is_leader: Mapped[bool] = mapped_column(default=False)

    group: Mapped[ResidentGroup] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


INVITATION_DAYS = 14


class InvitationState(StrEnum):
    PENDING = "pending"  # waiting for an answer
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # withdrawn by the group's leader
    EXPIRED = "expired"
# Neither accepted nor withdrawn: the one row per group and address that inviting again renews.
# A declined invitation stays open (to its leader it looks pending until it expires, so the
# leader never learns that the address has an account).
_OPEN = "accepted_at IS NULL AND cancelled_at IS NULL"


class GroupInvitation(db.Model):
    """An invitation to join a resident group, sent to an email address; the person it was sent
    to accepts or declines it, signed in with an account of that address.

    The link's token is never stored. It is derived from `token_seed` with the secret key
    (`link_token`), so the email can be written after the commit, on a worker, and only its
    SHA-256 (`token_hash`) is kept to find the invitation from the link. Each email renews the
    seed: an older link stops working.
    """

    __tablename__ = "group_invitations"
    __table_args__ = (
        Index("uq_group_invitations_open", "group_id", "email", unique=True,
              postgresql_where=text(_OPEN), sqlite_where=text(_OPEN)),
        CheckConstraint(
            "accepted_at IS NULL OR (declined_at IS NULL AND cancelled_at IS NULL)",
            name="accepted_alone",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("resident_groups.id", ondelete="CASCADE"), index=True
    )
    # Normalised (lower case), as User.email.
    email: Mapped[str] = mapped_column(String(254), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_seed: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column()
    declined_at: Mapped[datetime | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column()

    group: Mapped[ResidentGroup] = relationship(back_populates="invitations")
    invited_by: Mapped[User | None] = relationship()

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def link_token(self) -> str:
        """The token of the invitation's link (in the email), derived from the seed."""
        key = current_app.config["SECRET_KEY"].encode()
        mac = hmac.new(key, f"group-invitation:{self.token_seed}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    def renew(self, now: datetime) -> None:
        """A new link (the old one stops working) and a new expiry; a decline is forgotten."""
        self.token_seed = secrets.token_hex(16)
        self.token_hash = self.hash(self.link_token())
        self.expires_at = now + timedelta(days=INVITATION_DAYS)
        self.declined_at = None

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.cancelled_at is None

    def state(self, now: datetime) -> InvitationState:
        """Where the invitation stands for the person invited (its leader sees a declined one
        as pending until it expires)."""
        if self.accepted_at is not None:
            return InvitationState.ACCEPTED
        if self.cancelled_at is not None:
            return InvitationState.CANCELLED
        if self.declined_at is not None:
            return InvitationState.DECLINED
        if now >= self.expires_at:
            return InvitationState.EXPIRED
        return InvitationState.PENDING
