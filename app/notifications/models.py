"""Notifications (the in-app inbox), the email outbox, per-kind preferences and job runs.

A notification is written in the same transaction as the change that causes it; when the
recipient wants email, an `EmailDelivery` row is written beside it. Both roll back with the
change, so no message is ever sent for something that did not happen, and none is lost: the
outbox row stays `pending` until an SMTP server accepted it (or it failed for good).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import one_of, utcnow
from app.extensions import Model

CHANNELS = ("email", "digest", "in_app", "off")


class DeliveryState(StrEnum):
    """Where an email in the outbox is."""

    PENDING = "pending"  # to be sent (again, after a temporary failure)
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"
    FAILED = "failed"  # given up


DELIVERY_STATES = tuple(DeliveryState)


class Notification(Model):
    """One thing a user is told about; the inbox lists these."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The same reminder / deadline warning / summary is never written twice for a person.
        UniqueConstraint("user_id", "dedupe_key", name="uq_notifications_user_dedupe"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        Index("ix_notifications_digest", "channel", "digested_at"),
        CheckConstraint(
            "channel IN ('email', 'digest', 'in_app')", name="channel_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    # How it was to reach the user when it was written (their preference then).
    channel: Mapped[str] = mapped_column(String(10))
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True
    )
    # Everything the message says, captured when it was written (so the inbox and the email
    # say what happened then, in whichever language the reader uses, without further queries).
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()
    # Digest channel: when it went out in a daily digest email.
    digested_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()
    booking = relationship("Booking")

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class EmailDelivery(Model):
    """An email owed to someone (the outbox): pending → sending → sent, or failed for good.

    The content is rendered at the first attempt and kept, so every retry sends the same
    message with the same Message-ID.
    """

    __tablename__ = "email_outbox"
    __table_args__ = (
        Index("ix_email_outbox_due", "status", "next_attempt_at"),
        CheckConstraint(one_of("status", DeliveryState), name="status_known"),
        # One digest per person per day, however many workers build digests at once.
        UniqueConstraint("user_id", "dedupe_key", name="uq_email_outbox_user_dedupe"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(5), default="ko")
    # Digests: which notifications they carry. Emails to an address without an account
    # (services.email_address): what the message says, and "to_address": true.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()
    notification: Mapped[Notification | None] = relationship()


class NotificationPreference(Model):
    """A user's choice for one kind; kinds without a row use the kind's default."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint(
            "channel IN ('email', 'digest', 'in_app', 'off')", name="channel_known"
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
