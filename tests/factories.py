"""Callable factories: `factories.space(...)` makes a valid object and flushes it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from app.accounts.models import User
from app.bookings import services as booking_services
from app.bookings.models import Booking
from app.db import utcnow
from app.extensions import db
from app.orgs.models import Jurisdiction, JurisdictionMembership, Organisation, OrgMembership
from app.spaces import signals as space_signals
from app.spaces.models import Closure, OpeningHours, Space

_seq = itertools.count(1)

# Opening hours for tests whose bookings sit around the real current time, which may be any hour.
ALWAYS_OPEN = {d: [(0, 24 * 60)] for d in range(7)}


class Factories:
    def user(self, *, email=None, name="주민", password="password123",
             statistics: bool = True, **kw) -> User:
        """A user; by default one who consents to the statistics (the optional purpose the
        statistics' figures depend on), so they are counted as at sign-up with the box ticked.
        No booking consent: log-in asks for it as for accounts made before consents."""
        from app.accounts.consents import NOTICE_VERSION, STATISTICS, Consent

        n = next(_seq)
        kw.setdefault("email_verified_at", utcnow())
        user = User(email=email or f"user{n}@example.org", name=name, **kw)
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        if statistics:
            db.session.add(Consent(user_id=user.id, purpose=STATISTICS, version=NOTICE_VERSION,
                                   given_at=utcnow()))
            db.session.flush()
        return user

    def verified_waiver(self, user: User, category: str, *, by: User | None = None):
        """`user`'s fee waiver `category`, verified by an officer of their home district (a
        district of its own when they have none)."""
        from app.accounts.verification_models import (
            Verification,
            VerificationKind,
            VerificationState,
        )

        district = user.home_district_id or self.jurisdiction(name="검증구").id
        row = Verification(user=user, kind=VerificationKind.WAIVER, category=category,
                           jurisdiction_id=district, state=VerificationState.VERIFIED,
                           created_at=VERIFIED, decided_at=VERIFIED, decided_by=by)
        db.session.add(row)
        db.session.flush()
        return row

    def jurisdiction(
        self, *, slug=None, name="강북구", kind="district", parent=None
    ) -> Jurisdiction:
        n = next(_seq)
        j = Jurisdiction(slug=slug or f"j{n}", name=name, kind=kind, parent=parent)
        db.session.add(j)
        db.session.flush()
        return j

    def org(self, *, slug=None, name="번동초등학교", kind="school") -> Organisation:
        n = next(_seq)
        org = Organisation(slug=slug or f"org{n}", name=name, kind=kind)
        db.session.add(org)
        db.session.flush()
        return org

    def manager(self, org: Organisation | None = None, **kw) -> User:
        org = org or self.org()
        user = self.user(name="시설 담당자", **kw)
        db.session.add(OrgMembership(user=user, organisation=org, role="manager"))
        db.session.flush()
        return user

    def officer(self, jurisdiction: Jurisdiction | None = None, **kw) -> User:
        jurisdiction = jurisdiction or self.jurisdiction()
        user = self.user(name="구청 담당자", **kw)
        db.session.add(JurisdictionMembership(user=user, jurisdiction=jurisdiction))
        db.session.flush()
        # Roles are cached per user object; a fresh flush makes sure they are computed anew.
        user.__dict__.pop("officer_jurisdiction_ids", None)
        return user

    def space(
        self,
        *,
        owner: Organisation | None = None,
        name="다목적실",
        type="meeting_room",
        capacity=20,
        hours: dict[int, list[tuple[int, int]]] | None = None,
        jurisdictions=(),
        published=True,
        **kw,
    ) -> Space:
        """A published space open 09:00–22:00 every day unless `hours` says otherwise."""
        space = Space(
            owner=owner or self.org(),
            name=name,
            type=type,
            capacity=capacity,
            published=published,
            **kw,
        )
        space.jurisdictions = list(jurisdictions)
        if hours is None:
            hours = {d: [(9 * 60, 22 * 60)] for d in range(7)}
        for weekday, ranges in hours.items():
            for open_minute, close_minute in ranges:
                space.opening_hours.append(
                    OpeningHours(
                        weekday=weekday, open_minute=open_minute, close_minute=close_minute
                    )
                )
        db.session.add(space)
        db.session.flush()
        return space

    def closure(self, space: Space, start: datetime, end: datetime, reason="점검") -> Closure:
        closure = Closure(space=space, start_at=start, end_at=end, reason=reason)
        db.session.add(closure)
        space_signals.closure_added.send(closure)  # as the closure service announces it
        db.session.flush()
        return closure

    def booking(
        self,
        space: Space,
        user: User | None = None,
        *,
        start: datetime,
        end: datetime,
        purpose="동아리 모임",
        attendees=5,
        status: str | None = None,
        now: datetime | None = None,
    ) -> Booking:
        """A booking made through the real service; `status` then forces a final state."""
        user = user or self.user()
        booking = booking_services.create_booking(
            space, user, start=start, end=end, purpose=purpose, attendees=attendees, now=now
        )
        if status and status != booking.status:
            booking.status = status
        db.session.flush()
        return booking

# When a test's residents had their home district verified by its officers (the residency
# rules count only verified districts): pass as `home_district_verified_at=VERIFIED`.
VERIFIED = datetime(2020, 1, 1, tzinfo=UTC)
