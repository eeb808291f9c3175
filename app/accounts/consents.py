"""Consent to named purposes of processing (개인정보 보호법 Art. 15, 22): what a person agreed
to, under which version of the privacy notice, and when they gave or withdrew it.

One row per grant: withdrawing stamps `withdrawn_at`; giving it again adds a new row, so the
history stays readable. Booking is required (an account exists to book); the others are
optional and can be withdrawn or given again from the account's privacy page.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from app.accounts import signals
from app.db import utcnow
from app.extensions import Model, db

# The version of the privacy notice (/privacy) consent is given under. Raise it when the notice
# changes what is collected or why; people are then asked again at their next log-in.
NOTICE_VERSION = "2026-12"

BOOKING, NOTIFICATIONS, STATISTICS = "booking", "notifications", "statistics"
PURPOSES = (BOOKING, NOTIFICATIONS, STATISTICS)
REQUIRED = frozenset({BOOKING})

PURPOSE_LABELS = {
    BOOKING: _l("Booking spaces (required): your name, email, phone and district are used to "
                "handle your requests and payments and are shown to the managers who decide them."),
    NOTIFICATIONS: _l("Optional emails: reminders, digests and summaries by email (messages about "
                      "your account, payments and cancellations are always sent)."),
    STATISTICS: _l("Statistics in anonymised form: your bookings are counted in the usage "
                   "statistics and open data, never with your name."),
}


class Consent(Model):
    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_user_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))
    version: Mapped[str] = mapped_column(String(20))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]


def current(user_id: int) -> dict[str, Consent]:
    """The purposes `user_id` consents to now (purpose -> its live row)."""
    rows = db.session.scalars(
        select(Consent).where(Consent.user_id == user_id, Consent.withdrawn_at.is_(None))
        .order_by(Consent.id)
    )
    return {row.purpose: row for row in rows}


def needs_asking(user_id: int) -> bool:
    """Whether `user_id` has not consented to booking under the current notice: accounts made
    before consent was recorded, or before the notice changed (one query)."""
    found = db.session.scalar(
        select(Consent.id).where(
            Consent.user_id == user_id, Consent.purpose == BOOKING,
            Consent.version == NOTICE_VERSION, Consent.withdrawn_at.is_(None),
        ).limit(1)
    )
    return found is None


def record(user_id: int, purposes: set[str] | frozenset[str], now: datetime | None = None) -> None:
    """Make `purposes` exactly what `user_id` consents to, under the current notice: new grants
    get a row, withdrawn ones their `withdrawn_at`; unchanged ones stay as they are (a grant
    under an older notice is renewed). The caller commits."""
    now = now or utcnow()
    wanted = {p for p in purposes if p in PURPOSES}
    live = current(user_id)
    for purpose, row in live.items():
        if purpose not in wanted or row.version != NOTICE_VERSION:
            row.withdrawn_at = now
    dropped = set(live) - wanted
    for purpose in wanted:
        kept = live.get(purpose)
        if kept is None or kept.version != NOTICE_VERSION:
            db.session.add(Consent(user_id=user_id, purpose=purpose, version=NOTICE_VERSION,
                                   given_at=now))
    db.session.flush()
    if dropped:
        signals.consent_withdrawn.send(user_id, purposes=frozenset(dropped))


def withdraw_all(user_id: int, now: datetime) -> None:
    db.session.execute(
        update(Consent).where(Consent.user_id == user_id, Consent.withdrawn_at.is_(None))
        .values(withdrawn_at=now)
    )
    signals.consent_withdrawn.send(user_id, purposes=frozenset(PURPOSES))


def statistics_consented(user_id_column):
    """SQL: whether the person `user_id_column` names consents to the statistics now."""
    return (select(Consent.id).where(
        Consent.user_id == user_id_column, Consent.purpose == STATISTICS,
        Consent.withdrawn_at.is_(None)).exists())
