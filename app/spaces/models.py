"""Spaces, their opening hours, closures and amenities."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import utcnow
from app.extensions import Model, db
from app.media.images import file_key, rendition_widths, scaled_height
from app.orgs.models import Jurisdiction, Organisation

SPACE_TYPES = {
    "classroom": _l("Classroom"),
    "gym": _l("Gym"),
    "auditorium": _l("Auditorium"),
    "rooftop": _l("Rooftop"),
    "meeting_room": _l("Meeting room"),
    "kitchen": _l("Kitchen"),
    "studio": _l("Studio"),
    "sports_field": _l("Sports field"),
    "other": _l("Other"),
}

AMENITIES = {
    "wifi": _l("Wi-Fi"),
    "projector": _l("Projector"),
    "sound_system": _l("Sound system"),
    "whiteboard": _l("Whiteboard"),
    "tables_chairs": _l("Tables and chairs"),
    "kitchen_equipment": _l("Kitchen equipment"),
    "air_conditioning": _l("Air conditioning"),
    "piano": _l("Piano"),
    "showers": _l("Showers"),
    "parking": _l("Parking"),
    "lighting": _l("Night lighting"),
}

# Accessibility features: searchable like amenities and stored beside them (space_amenities),
# but a group of their own on the form, the space page and the search filters. The old
# "wheelchair_access" amenity became "step_free_entrance" (migration 0017).
ACCESSIBILITY = {
    "step_free_entrance": _l("Step-free entrance"),
    "lift": _l("Lift"),
    "accessible_toilet": _l("Accessible toilet"),
    "hearing_loop": _l("Hearing loop"),
    "accessible_parking": _l("Accessible parking"),
}

BOOKING_MODES = {"instant": _l("Instant booking"), "request": _l("Request and approval")}

# When a booking request must come with a proof of work (app.security.challenge): "auto" turns
# it on by itself while the space receives a surge of requests (app.spaces.surge).
CHALLENGE_MODES = {
    "auto": _l("Automatic: while requests surge"),
    "always": _l("Always"),
    "off": _l("Off"),
}

WEEKDAYS = [_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun")]

space_jurisdictions = Table(
    "space_jurisdictions",
    db.metadata,
    Column("space_id", ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True),
    Column("jurisdiction_id", ForeignKey("jurisdictions.id", ondelete="CASCADE"), primary_key=True),
)


class Space(Model):
    __tablename__ = "spaces"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("price_per_hour >= 0", name="price_not_negative"),
        CheckConstraint("min_minutes > 0 AND max_minutes >= min_minutes", name="length_range"),
        CheckConstraint("buffer_minutes >= 0", name="buffer_not_negative"),
        CheckConstraint("booking_mode IN ('instant', 'request')", name="booking_mode"),
        CheckConstraint("challenge_mode IN ('auto', 'always', 'off')", name="challenge_mode"),
        CheckConstraint(
            "type IN ('classroom', 'gym', 'auditorium', 'rooftop', 'meeting_room', 'kitchen', "
            "'studio', 'sports_field', 'other')",
            name="type",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    type: Mapped[str] = mapped_column(String(20), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float, index=True)
    longitude: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Seoul")
    # Integer minor units; KRW has no minor unit, so 15000 is ₩15,000.
    price_per_hour: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="KRW")
    min_minutes: Mapped[int] = mapped_column(Integer, default=60)
    max_minutes: Mapped[int] = mapped_column(Integer, default=240)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    booking_mode: Mapped[str] = mapped_column(String(10), default="request")
    published: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    challenge_mode: Mapped[str] = mapped_column(String(10), default="auto", server_default="auto")
    # In "auto" mode, the check stays on until this instant after the last surge.
    challenge_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner: Mapped[Organisation] = relationship()
    jurisdictions: Mapped[list[Jurisdiction]] = relationship(
        secondary=space_jurisdictions, order_by=Jurisdiction.id
    )
    opening_hours: Mapped[list[OpeningHours]] = relationship(
        cascade="all, delete-orphan",
        order_by="(OpeningHours.weekday, OpeningHours.open_minute)",
        back_populates="space",
    )
    closures: Mapped[list[Closure]] = relationship(
        cascade="all, delete-orphan", order_by="Closure.start_at", back_populates="space"
    )
    amenity_rows: Mapped[list[SpaceAmenity]] = relationship(
        cascade="all, delete-orphan", back_populates="space"
    )
    photos: Mapped[list[SpacePhoto]] = relationship(
        cascade="all, delete-orphan",
        order_by="(SpacePhoto.position, SpacePhoto.id)",
        back_populates="space",
    )
    # The chosen photo, for search cards and map popups (one small query for a page of spaces).
    cover: Mapped[SpacePhoto | None] = relationship(
        primaryjoin="and_(SpacePhoto.space_id == Space.id, SpacePhoto.is_cover)",
        viewonly=True,
        uselist=False,
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def amenities(self) -> list[str]:
        return sorted(row.code for row in self.amenity_rows if row.code not in ACCESSIBILITY)

    @amenities.setter
    def amenities(self, codes: list[str]) -> None:
        self._set_codes(codes, accessibility=False)

    @property
    def accessibility(self) -> list[str]:
        """The accessibility features (codes of ACCESSIBILITY), in the order of that list."""
        have = {row.code for row in self.amenity_rows}
        return [code for code in ACCESSIBILITY if code in have]

    @accessibility.setter
    def accessibility(self, codes: list[str]) -> None:
        self._set_codes(codes, accessibility=True)

    def _set_codes(self, codes: list[str], *, accessibility: bool) -> None:
        """Replace the codes of one group (amenities or accessibility), keeping the other's."""
        wanted = set(codes)
        self.amenity_rows = [
            row for row in self.amenity_rows
            if row.code in wanted or (row.code in ACCESSIBILITY) != accessibility
        ]
        have = {row.code for row in self.amenity_rows}
        for code in sorted(wanted - have):
            self.amenity_rows.append(SpaceAmenity(code=code))

    @property
    def type_label(self) -> str:
        return str(SPACE_TYPES.get(self.type, self.type))

    @property
    def is_free_of_charge(self) -> bool:
        return self.price_per_hour == 0

    # --- Access. One place decides who may do what with a space. ---
    def can_view(self, user) -> bool:
        return self.published or self.can_manage(user) or self.can_oversee(user)

    def can_manage(self, user) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        return user.is_admin or self.owner_id in user.managed_org_ids

    def can_oversee(self, user) -> bool:
        """Officers see spaces tagged with a jurisdiction they oversee."""
        if not getattr(user, "is_authenticated", False):
            return False
        if user.is_admin:
            return True
        return any(j.id in user.officer_jurisdiction_ids for j in self.jurisdictions)

    def __repr__(self) -> str:
        return f"<Space {self.id} {self.name}>"


class SpaceAmenity(Model):
    __tablename__ = "space_amenities"

    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)

    space: Mapped[Space] = relationship(back_populates="amenity_rows")


class OpeningHours(Model):
    """One opening range on one weekday, in the space's local time.

    Minutes from local midnight; `close_minute` may be 1440 (open until midnight). A weekday with
    no rows is closed. Several rows a day give split hours (e.g. 09-12 and 13-18).
    """

    __tablename__ = "opening_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint(
            "open_minute >= 0 AND close_minute <= 1440 AND open_minute < close_minute",
            name="range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # Monday = 0
    open_minute: Mapped[int] = mapped_column(Integer)
    close_minute: Mapped[int] = mapped_column(Integer)

    space: Mapped[Space] = relationship(back_populates="opening_hours")

    @staticmethod
    def fmt(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    @property
    def label(self) -> str:
        return f"{self.fmt(self.open_minute)}–{self.fmt(self.close_minute)}"


class Closure(Model):
    """A blackout range when the space cannot be booked (holiday, maintenance, school event).

    Closures imported from an external calendar remember it and the event they came from
    (UID and recurrence id), so a re-import updates or removes them instead of duplicating."""

    __tablename__ = "closures"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="range"),
        Index(
            "uq_closures_external_event", "external_calendar_id", "space_id", "external_uid",
            "recurrence_id", unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    external_calendar_id: Mapped[int | None] = mapped_column(
        ForeignKey("external_calendars.id", ondelete="CASCADE"), index=True
    )
    external_uid: Mapped[str | None] = mapped_column(String(255))
    # The occurrence's RECURRENCE-ID (or its start, for expanded recurring events), as text.
    recurrence_id: Mapped[str | None] = mapped_column(String(64))

    space: Mapped[Space] = relationship(back_populates="closures")

    @property
    def imported(self) -> bool:
        return self.external_calendar_id is not None

    def reason_for(self, manages: bool) -> str:
        """The reason as a reader may see it; `manages`: the reader manages the space.

        An imported closure's reason is the title of an event in the owner's own calendar
        (a staff meeting, an exam, someone's leave): staff information, so everyone else gets
        "" and pages show only that the space is closed. A reason typed on the closures page
        is written for residents (its field says "shown to residents") and stays visible."""
        if manages or not self.imported:
            return self.reason
        return ""


class SpacePhoto(Model):
    """A photo of a space, re-encoded at a few widths (app.media.images) and stored under
    content-addressed keys. A space with photos has exactly one cover (app.spaces.photos keeps
    it so; the partial unique index guarantees at most one)."""

    __tablename__ = "space_photos"
    __table_args__ = (
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
        Index(
            "uq_space_photos_cover", "space_id", unique=True,
            sqlite_where=text("is_cover"), postgresql_where=text("is_cover"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    alt: Mapped[str] = mapped_column(String(300))
    is_cover: Mapped[bool] = mapped_column(Boolean, default=False)
    # Names the files; width and height are those of the largest rendition.
    digest: Mapped[str] = mapped_column(String(32), index=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    space: Mapped[Space] = relationship(back_populates="photos")

    def renditions(self) -> list[tuple[int, int, str, str]]:
        """(width, height, WebP key, JPEG key) of each stored size, smallest first."""
        return [
            (
                w,
                scaled_height(self.width, self.height, w),
                file_key(self.digest, w, "webp"),
                file_key(self.digest, w, "jpg"),
            )
            for w in rendition_widths(self.width)
        ]

    def keys(self) -> list[str]:
        return [key for _w, _h, webp, jpeg in self.renditions() for key in (webp, jpeg)]
