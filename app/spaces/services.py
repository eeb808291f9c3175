"""The space verbs: create and edit spaces, set opening hours, add and remove closures, geocode.

Services take the acting user explicitly, flush but never commit, and raise `ValidationFailed`
(one message per field) or `NotAllowed`. Only managers of the owner organisation (and admins)
may act on a space.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.db import utcnow
from app.errors import NotAllowed, ValidationFailed
from app.extensions import db
from app.geo import geocode_address
from app.orgs.models import Jurisdiction, Organisation
from app.orgs.states import OrgStatus
from app.spaces import signals
from app.spaces.fields import (
    SPACE_FIELDS,
    FieldInvalid,
    check_price,
    check_together,
    text,
    whole,
)
from app.spaces.models import (
    WEEKDAYS,
    Closure,
    OpeningHours,
    Space,
)

log = logging.getLogger(__name__)

MAX_REASON = 200
# Closures lie within this many days of today: a guard against typos such as 2062 for 2026.
CLOSURE_HORIZON_DAYS = 3660

EDITABLE_FIELDS = frozenset(SPACE_FIELDS)

DEFAULTS: dict[str, Any] = {
    "description": "",
    "address": "",
    "latitude": None,
    "longitude": None,
    "timezone": "Asia/Seoul",
    "price_per_hour": 0,
    "min_minutes": 60,
    "max_minutes": 240,
    "buffer_minutes": 0,
    "booking_mode": "request",
    "challenge_mode": "auto",
    "published": False,
    "amenities": [],
    "accessibility": [],
    "jurisdiction_ids": [],
}

# What happened to the address on the last create/update, kept on the instance for the caller:
# None (no lookup was needed), "found" (coordinates set from the address) or "not_found".
GEOCODE_OUTCOME = "geocode_outcome"


# --- Access ------------------------------------------------------------------------------------
def can_manage_owner(actor, owner: Organisation) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    return actor.is_admin or owner.id in actor.managed_org_ids


def _require_manage(space: Space, actor) -> None:
    if not space.can_manage(actor):
        raise NotAllowed(_("You do not manage this space."))


# --- Field validation --------------------------------------------------------------------------
_whole = whole  # the opening hours and closures parse numbers the same way
_text = text


def _validate(fields: dict, current: dict) -> dict:
    """Check the given fields against SPACE_FIELDS; return clean values or raise
    ValidationFailed per field.

    `current` holds the values the fields are combined with for the checks that span two
    fields (shortest/longest booking, latitude/longitude).
    """
    errors: dict[str | None, list[str]] = {}
    clean: dict = {}

    def add(name: str, message) -> None:
        errors.setdefault(name, []).append(str(message))

    for name in sorted(set(fields) - EDITABLE_FIELDS):
        add(name, _("Unknown field."))

    for name, spec in SPACE_FIELDS.items():
        if name not in fields:
            continue
        try:
            clean[name] = spec.clean(fields[name])
        except FieldInvalid as exc:
            add(name, exc.message)

    message = check_price(clean.get("price_per_hour"))
    if message is not None:
        add("price_per_hour", message)

    if "jurisdiction_ids" in clean:
        ids = set(clean.pop("jurisdiction_ids"))
        found = (
            db.session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(ids))).all()
            if ids
            else []
        )
        if len(found) != len(ids):
            add("jurisdiction_ids", SPACE_FIELDS["jurisdiction_ids"].message)
        else:
            clean["jurisdictions"] = sorted(found, key=lambda j: j.id)

    failed = {n for n in errors if n is not None}
    for name, message in check_together({**current, **clean}, failed=failed).items():
        add(name, message)
    if errors:
        raise ValidationFailed(errors)
    return clean


def _current_values(space: Space) -> dict:
    return {
        "min_minutes": space.min_minutes,
        "max_minutes": space.max_minutes,
        "latitude": space.latitude,
        "longitude": space.longitude,
    }


def _apply(space: Space, clean: dict) -> None:
    for name, value in clean.items():
        setattr(space, name, value)


def _locate(space: Space, previous_address: str, previous_point: tuple) -> None:
    """Geocode a new address unless the caller gave coordinates of its own.

    Coordinates left empty, or left as they were before the address changed, count as "not
    given". When the lookup fails the coordinates stay as they are and the caller is told
    through `space.geocode_outcome`, so it can ask for them by hand.
    """
    setattr(space, GEOCODE_OUTCOME, None)
    if not space.address or space.address == previous_address:
        return
    point = (space.latitude, space.longitude)
    if point != (None, None) and point != previous_point:
        return
    found = geocode_address(space.address)
    if found is None:
        setattr(space, GEOCODE_OUTCOME, "not_found")
        return
    space.latitude, space.longitude = found
    setattr(space, GEOCODE_OUTCOME, "found")


# --- Spaces ------------------------------------------------------------------------------------
def create_space(actor, owner: Organisation, **fields) -> Space:
    """Create a space of `owner`. `name`, `type` and `capacity` are required; the rest default.

    When an address is given without coordinates, it is geocoded; see `space.geocode_outcome`.
    """
    if not can_manage_owner(actor, owner):
        raise NotAllowed(_("You do not manage this organisation."))
    if owner.status != OrgStatus.ACTIVE:
        raise NotAllowed(
            _("Only approved organisations can list new spaces. %(name)s is not approved or "
              "is suspended at the moment.", name=owner.name)
        )
    values = {**DEFAULTS, **fields}
    for required in ("name", "type", "capacity"):
        values.setdefault(required, None)
    clean = _validate(values, {})
    space = Space(owner=owner)
    space.amenities = clean.pop("amenities")
    space.accessibility = clean.pop("accessibility")
    _apply(space, clean)
    _locate(space, "", (None, None))
    db.session.add(space)
    db.session.flush()
    return space


def update_space(space: Space, actor, **fields) -> Space:
    """Change the given fields of `space`; the others stay as they are.

    A changed address is geocoded unless new coordinates come with it; see
    `space.geocode_outcome`.
    """
    _require_manage(space, actor)
    clean = _validate(fields, _current_values(space))
    previous_address, previous_point = space.address, (space.latitude, space.longitude)
    for group in ("amenities", "accessibility"):
        if group in clean:
            setattr(space, group, clean.pop(group))
    _apply(space, clean)
    _locate(space, previous_address, previous_point)
    db.session.flush()
    return space


# --- Opening hours ----------------------------------------------------------------------------
def _hhmm(minute: int) -> str:
    return OpeningHours.fmt(minute)


def set_opening_hours(space: Space, actor, ranges: Iterable[tuple[int, int, int]]) -> None:
    """Replace the weekly opening hours with `ranges` of (weekday, open_minute, close_minute).

    Weekday 0 is Monday; minutes count from local midnight, 1440 meaning midnight at the end of
    the day. Ranges on the same day must not overlap (touching is fine). A day without ranges
    is closed. Errors are reported per day under the key `weekday_<n>`; nothing changes then.
    """
    _require_manage(space, actor)
    errors: dict[str | None, list[str]] = {}
    by_day: dict[int, list[tuple[int, int]]] = {}
    for item in ranges:
        try:
            weekday, open_minute, close_minute = (_whole(v) for v in item)
        except (TypeError, ValueError):
            errors.setdefault("hours", []).append(
                _("Give each opening range as a weekday, an opening and a closing time.")
            )
            continue
        if weekday is None or not 0 <= weekday <= 6:
            errors.setdefault("hours", []).append(
                _("Weekdays are numbered from 0 (Monday) to 6 (Sunday).")
            )
            continue
        key = f"weekday_{weekday}"
        day = str(WEEKDAYS[weekday])
        if (
            open_minute is None
            or close_minute is None
            or not 0 <= open_minute <= 1440
            or not 0 <= close_minute <= 1440
        ):
            errors.setdefault(key, []).append(
                _("%(day)s: times must be between 00:00 and 24:00.", day=day)
            )
        elif open_minute >= close_minute:
            errors.setdefault(key, []).append(
                _(
                    "%(day)s: the opening time %(open)s must be before the closing time %(close)s.",
                    day=day,
                    open=_hhmm(open_minute),
                    close=_hhmm(close_minute),
                )
            )
        else:
            by_day.setdefault(weekday, []).append((open_minute, close_minute))
    for weekday, day_ranges in by_day.items():
        day_ranges.sort()
        for (a_open, a_close), (b_open, b_close) in zip(day_ranges, day_ranges[1:], strict=False):
            if b_open < a_close:
                errors.setdefault(f"weekday_{weekday}", []).append(
                    _(
                        "%(day)s: the ranges %(a)s and %(b)s overlap.",
                        day=str(WEEKDAYS[weekday]),
                        a=f"{_hhmm(a_open)}–{_hhmm(a_close)}",
                        b=f"{_hhmm(b_open)}–{_hhmm(b_close)}",
                    )
                )
    if errors:
        raise ValidationFailed(errors)
    space.opening_hours = [
        OpeningHours(weekday=weekday, open_minute=o, close_minute=c)
        for weekday in sorted(by_day)
        for o, c in by_day[weekday]
    ]
    db.session.flush()


def closure_horizon_message() -> str:
    return _("A closure must lie within ten years of today.")


def add_closure(
    space: Space,
    actor,
    start: datetime,
    end: datetime,
    reason: str = "",
    *,
    now: datetime | None = None,
) -> Closure:
    """Close `space` from `start` to `end` (aware instants). Nothing is cancelled here: the
    bookings in that time are listed for the manager (app.bookings.conflicts)."""
    _require_manage(space, actor)
    now = now or utcnow()
    errors: dict[str | None, list[str]] = {}
    if not isinstance(start, datetime) or start.tzinfo is None:
        errors["start"] = [_("Enter the start date and time.")]
    if not isinstance(end, datetime) or end.tzinfo is None:
        errors["end"] = [_("Enter the end date and time.")]
    if not errors:
        horizon = timedelta(days=CLOSURE_HORIZON_DAYS)
        if end <= start:
            errors["end"] = [_("The end must be after the start.")]
        elif end <= now:
            errors["end"] = [_("The closure must end in the future.")]
        elif start < now - horizon or end > now + horizon:
            errors["end"] = [closure_horizon_message()]
    cleaned = _text(reason)
    if cleaned is None or len(cleaned) > MAX_REASON:
        errors["reason"] = [_("The reason may be at most %(n)d characters.", n=MAX_REASON)]
    if errors:
        raise ValidationFailed(errors)
    closure = Closure(
        space=space, start_at=start, end_at=end, reason=cleaned, created_by_id=actor.id
    )
    db.session.add(closure)
    signals.closure_added.send(closure)
    db.session.flush()
    return closure


def delete_closure(closure: Closure, actor) -> None:
    """Reopen the time of `closure`."""
    _require_manage(closure.space, actor)
    db.session.delete(closure)
    db.session.flush()
