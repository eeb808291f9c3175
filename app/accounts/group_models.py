"""Resident groups (a club, a parents' association) that book together, and the invitations
that bring people into them with their consent."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import utcnow
from app.extensions import Model


class ResidentGroup(Model):
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


class ResidentGroupMember(Model):
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


class GroupInvitation(Model):
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
