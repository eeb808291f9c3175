"""A person's copy of their data (개인정보 보호법 Art. 35, the right of access): their profile,
consents, bookings, payments and refunds, notifications and resident groups, as one JSON
document or as a zip of CSV files (one per section, for a spreadsheet).

Only the person's own rows: every query filters on their id. A constant number of queries
(one per section), each capped at MAX_ROWS rows (newest first) so a long history cannot make
one request unbounded; `truncated` names the sections that were cut.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.accounts.consents import Consent
from app.accounts.group_models import ResidentGroup, ResidentGroupMember
from app.accounts.models import User
from app.bookings.models import Booking
from app.csvfile import to_csv
from app.db import utcnow
from app.extensions import db
from app.notifications.models import Notification
from app.orgs.models import Jurisdiction
from app.payments.models import Payment, Refund
from app.spaces.models import Space

MAX_ROWS = 5000

# Column order of each section (the CSV header, and the keys of the JSON objects).
COLUMNS: dict[str, tuple[str, ...]] = {
    "consents": ("purpose", "version", "given_at", "withdrawn_at"),
    "bookings": ("id", "space", "start_at", "end_at", "status", "purpose", "purpose_category",
                 "attendees", "price_amount", "currency", "payment_status", "created_at",
                 "decided_at", "reason"),
    "payments": ("id", "booking_id", "method", "amount", "currency", "status",
                 "refunded_amount", "card_last4", "reference", "created_at", "paid_at"),
    "refunds": ("id", "payment_id", "amount", "status", "reason", "created_at"),
    "notifications": ("id", "kind", "channel", "booking_id", "created_at", "read_at"),
    "groups": ("id", "name", "is_leader", "created_at"),
}
PROFILE = ("id", "email", "name", "phone", "locale", "home_district", "email_verified_at",
           "created_at", "last_active_at", "reminder_hours")


def _iso(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _rows(query, section: str, truncated: list[str]) -> list:
    rows = list(db.session.execute(query.limit(MAX_ROWS + 1)))
    if len(rows) > MAX_ROWS:
        truncated.append(section)
        rows = rows[:MAX_ROWS]
    return rows


def collect(user: User, now: datetime | None = None) -> dict[str, Any]:
    """Everything Gonggan holds about `user` that is theirs to see."""
    uid = user.id
    truncated: list[str] = []
    district = db.session.get(Jurisdiction, user.home_district_id) if user.home_district_id \
        else None
    profile = {
        "id": uid, "email": user.email, "name": user.name, "phone": user.phone,
        "locale": user.locale, "home_district": district.display_name if district else None,
        "email_verified_at": _iso(user.email_verified_at), "created_at": _iso(user.created_at),
        "last_active_at": _iso(user.last_active_at), "reminder_hours": user.reminder_hours,
    }
    consents = _rows(
        select(Consent.purpose, Consent.version, Consent.given_at, Consent.withdrawn_at)
        .where(Consent.user_id == uid).order_by(Consent.id.desc()), "consents", truncated)
    bookings = _rows(
        select(Booking.id, Space.name.label("space"), Booking.start_at, Booking.end_at,
               Booking.status, Booking.purpose, Booking.purpose_category, Booking.attendees,
               Booking.price_amount, Booking.currency, Booking.payment_status,
               Booking.created_at, Booking.decided_at, Booking.reason)
        .join(Space, Space.id == Booking.space_id)
        .where(Booking.user_id == uid).order_by(Booking.start_at.desc(), Booking.id.desc()),
        "bookings", truncated)
    owned = select(Booking.id).where(Booking.user_id == uid)
    payments = _rows(
        select(Payment.id, Payment.booking_id, Payment.method, Payment.amount,
               Payment.currency, Payment.status, Payment.refunded_amount, Payment.card_last4,
               Payment.reference, Payment.created_at, Payment.paid_at)
        .where(Payment.booking_id.in_(owned)).order_by(Payment.id.desc()), "payments", truncated)
    paid = aliased(Payment)
    refunds = _rows(
        select(Refund.id, Refund.payment_id, Refund.amount, Refund.status, Refund.reason,
               Refund.created_at)
        .join(paid, paid.id == Refund.payment_id)
        .where(paid.booking_id.in_(owned)).order_by(Refund.id.desc()), "refunds", truncated)
    notifications = _rows(
        select(Notification.id, Notification.kind, Notification.channel,
               Notification.booking_id, Notification.created_at, Notification.read_at)
        .where(Notification.user_id == uid)
        .order_by(Notification.created_at.desc(), Notification.id.desc()),
        "notifications", truncated)
    groups = _rows(
        select(ResidentGroup.id, ResidentGroup.name, ResidentGroupMember.is_leader,
               ResidentGroup.created_at)
        .join(ResidentGroupMember, ResidentGroupMember.group_id == ResidentGroup.id)
        .where(ResidentGroupMember.user_id == uid).order_by(ResidentGroup.id), "groups",
        truncated)
    sections = {"consents": consents, "bookings": bookings, "payments": payments,
                "refunds": refunds, "notifications": notifications, "groups": groups}
    document: dict[str, Any] = {
        "generated_at": _iso(now or utcnow()),
        "profile": profile,
    }
    for name, rows in sections.items():
        document[name] = [
            {column: _iso(value) for column, value in zip(COLUMNS[name], row, strict=True)}
            for row in rows
        ]
    document["truncated"] = truncated
    return document


def to_zip(document: dict[str, Any]) -> bytes:
    """The document as a zip of CSV files: profile.csv (one row) and one file per section."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        profile = document["profile"]
        archive.writestr("profile.csv", to_csv(PROFILE, [[profile[k] for k in PROFILE]]))
        for name, columns in COLUMNS.items():
            rows = [[row[c] if row[c] is not None else "" for c in columns]
                    for row in document[name]]
            archive.writestr(f"{name}.csv", to_csv(columns, rows))
    return out.getvalue()
