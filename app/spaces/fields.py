"""The one definition of a space's editable fields: kind, limits, choices and the message.

`app.spaces.services` validates with `SPACE_FIELDS[name].clean(value)`; the manager's form
(app.web.manage.forms) derives its validators and its HTML limits (`maxlength`, `min`, `max`)
from the same entries. A limit or a message changes here and nowhere else.

Checks that span two fields (shortest/longest booking, latitude/longitude) and the lookup of
jurisdictions in the database stay in the service.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l

from app.db import MAX_DB_INT
from app.spaces.models import ACCESSIBILITY, AMENITIES, BOOKING_MODES, CHALLENGE_MODES, SPACE_TYPES

MAX_CAPACITY = 100_000
MAX_PRICE = 10_000_000
# A paid space charges at least this per hour: card payments (Stripe) need about ₩700 per
# charge, and a lower price would mostly make bookings too cheap to pay by card.
MIN_PAID_PRICE = 1_000
MIN_LENGTH = 15
MAX_LENGTH = 7 * 24 * 60
MAX_BUFFER = 240
MAX_NAME = 160
MAX_ADDRESS = 300
MAX_DESCRIPTION = 5000
MAX_TIMEZONE = 64


class FieldInvalid(ValueError):
    """A value a field does not accept; `message` is what the user reads."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


# --- Parsing -----------------------------------------------------------------------------------
def whole(value: Any) -> int | None:
    """An int from an int, an integral float or a numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def real(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):  # an int too large for a float too
        return None
    return number if math.isfinite(number) else None


_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")


def parse_clock(value: str | None) -> int | None:
    """Minutes after midnight of "HH:MM" (24:00 allowed), or None if it is not a time."""
    match = _CLOCK.match((value or "").strip()) if isinstance(value, str | None) else None
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def text(value: Any) -> str | None:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else None


# --- The definition ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SpaceField:
    """One editable field. `kind` is one of: text, choice, whole, real, flag, zone, codes, ids.

    `message` is said for any value out of bounds; `required_message`, when set, for an empty
    required value (otherwise `message` again).
    """

    name: str
    kind: str
    message: Any
    required: bool = False
    low: float | None = None
    high: float | None = None
    max_length: int | None = None
    choices: Mapping[str, Any] | None = None
    required_message: Any = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def clean(self, value: Any) -> Any:
        """The value as stored, or FieldInvalid with the message the user reads."""
        return _CLEANERS[self.kind](self, value)

    def html_limits(self) -> dict[str, Any]:
        """The same limits as HTML attributes, so the browser says it first."""
        limits: dict[str, Any] = {}
        if self.max_length is not None:
            limits["maxlength"] = self.max_length
        if self.kind == "whole":
            limits["min"] = self.low
            limits["max"] = self.high
        return limits


def _clean_text(spec: SpaceField, value: Any) -> str:
    cleaned = text(value)
    if cleaned == "" and spec.required:
        raise FieldInvalid(spec.required_message or spec.message)
    if cleaned is None or (spec.max_length is not None and len(cleaned) > spec.max_length):
        raise FieldInvalid(spec.message)
    return cleaned


def _clean_choice(spec: SpaceField, value: Any) -> str:
    assert spec.choices is not None
    if isinstance(value, str) and value in spec.choices:
        return value
    raise FieldInvalid(spec.message)


def _clean_whole(spec: SpaceField, value: Any) -> int:
    assert spec.low is not None and spec.high is not None
    number = whole(value)
    if number is None or not spec.low <= number <= spec.high:
        raise FieldInvalid(spec.message)
    return number


def _clean_real(spec: SpaceField, value: Any) -> float | None:
    if value is None or value == "":
        return None
    assert spec.low is not None and spec.high is not None
    number = real(value)
    if number is None or not spec.low <= number <= spec.high:
        raise FieldInvalid(spec.message)
    return number


def _clean_flag(spec: SpaceField, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise FieldInvalid(spec.message)


def _clean_zone(spec: SpaceField, value: Any) -> str:
    zone = text(value)
    try:
        if not zone or len(zone) > (spec.max_length or 0):
            raise ValueError
        ZoneInfo(zone)
    except (ValueError, OSError, ZoneInfoNotFoundError):
        raise FieldInvalid(spec.message) from None
    return zone


def _clean_codes(spec: SpaceField, value: Any) -> list[str]:
    assert spec.choices is not None
    codes = value or []
    if isinstance(codes, str) or not isinstance(codes, Iterable):
        raise FieldInvalid(spec.extra["not_list"])
    codes = list(codes)
    # Only text can be a code (a list or an object in the list is not, and cannot be hashed).
    unknown = [str(c) for c in codes if not isinstance(c, str) or c not in spec.choices]
    if unknown:
        raise FieldInvalid(spec.message % {"name": ", ".join(unknown)})
    return sorted(set(codes))


def _clean_ids(spec: SpaceField, value: Any) -> list[int]:
    """Whole numbers only; whether they exist is the service's question (a database lookup)."""
    raw = value or []
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        raise FieldInvalid(spec.message)
    read = [whole(v) for v in raw]
    ids = [i for i in read if i is not None and 0 < i <= MAX_DB_INT]
    if len(ids) != len(read):
        raise FieldInvalid(spec.message)
    return ids


_CLEANERS: dict[str, Callable[[SpaceField, Any], Any]] = {
    "text": _clean_text,
    "choice": _clean_choice,
    "whole": _clean_whole,
    "real": _clean_real,
    "flag": _clean_flag,
    "zone": _clean_zone,
    "codes": _clean_codes,
    "ids": _clean_ids,
}


def _whole_field(name: str, low: int, high: int, message: Any) -> SpaceField:
    return SpaceField(name, "whole", message, required=True, low=low, high=high)


SPACE_FIELDS: dict[str, SpaceField] = {
    spec.name: spec
    for spec in (
        SpaceField(
            "name",
            "text",
            _l("The name may be at most %(n)d characters.", n=MAX_NAME),
            required=True,
            max_length=MAX_NAME,
            required_message=_l("Please enter a name."),
        ),
        SpaceField(
            "type",
            "choice",
            _l("Choose a type of space from the list."),
            required=True,
            choices=SPACE_TYPES,
        ),
        SpaceField(
            "description",
            "text",
            _l("The description may be at most %(n)d characters.", n=MAX_DESCRIPTION),
            max_length=MAX_DESCRIPTION,
        ),
        _whole_field(
            "capacity",
            1,
            MAX_CAPACITY,
            _l("The capacity must be a whole number from 1 to %(n)s.", n=f"{MAX_CAPACITY:,}"),
        ),
        SpaceField(
            "address",
            "text",
            _l("The address may be at most %(n)d characters.", n=MAX_ADDRESS),
            max_length=MAX_ADDRESS,
        ),
        SpaceField(
            "latitude",
            "real",
            _l("The latitude must be between -90 and 90."),
            low=-90,
            high=90,
        ),
        SpaceField(
            "longitude",
            "real",
            _l("The longitude must be between -180 and 180."),
            low=-180,
            high=180,
        ),
        SpaceField(
            "timezone",
            "zone",
            _l("Unknown time zone. Use a name such as Asia/Seoul."),
            required=True,
            max_length=MAX_TIMEZONE,
        ),
        _whole_field(
            "price_per_hour",
            0,
            MAX_PRICE,
            _l(
                "The price per hour must be a whole number of won from 0 to %(n)s.",
                n=f"{MAX_PRICE:,}",
            ),
        ),
        _whole_field(
            "min_minutes",
            MIN_LENGTH,
            MAX_LENGTH,
            _l(
                "The shortest booking must be from %(low)d to %(high)d minutes.",
                low=MIN_LENGTH,
                high=MAX_LENGTH,
            ),
        ),
        _whole_field(
            "max_minutes",
            MIN_LENGTH,
            MAX_LENGTH,
            _l(
                "The longest booking must be from %(low)d to %(high)d minutes.",
                low=MIN_LENGTH,
                high=MAX_LENGTH,
            ),
        ),
        _whole_field(
            "buffer_minutes",
            0,
            MAX_BUFFER,
            _l("The buffer between bookings must be from 0 to %(n)d minutes.", n=MAX_BUFFER),
        ),
        SpaceField(
            "booking_mode",
            "choice",
            _l("Choose how the space is booked."),
            required=True,
            choices=BOOKING_MODES,
        ),
        SpaceField(
            "challenge_mode",
            "choice",
            _l("Choose when requests need the check against macros."),
            required=True,
            choices=CHALLENGE_MODES,
        ),
        SpaceField(
            "amenities",
            "codes",
            # %(name)s is filled in with the unknown codes when the message is raised.
            _l("Unknown amenity: %(name)s."),
            choices=AMENITIES,
            extra={"not_list": _l("Give the amenities as a list.")},
        ),
        SpaceField(
            "accessibility",
            "codes",
            _l("Unknown accessibility feature: %(name)s."),
            choices=ACCESSIBILITY,
            extra={"not_list": _l("Give the accessibility features as a list.")},
        ),
        SpaceField("jurisdiction_ids", "ids", _l("Unknown jurisdiction.")),
        SpaceField("published", "flag", _l("Published must be yes or no.")),
    )
}


def check_price(price: Any) -> Any:
    """The message for a paid price below MIN_PAID_PRICE (0, free, is fine), else None."""
    if isinstance(price, int) and 0 < price < MIN_PAID_PRICE:
        return _l(
            "A paid space must charge at least ₩%(n)s an hour (card payments need a minimum "
            "amount). Enter 0 for a free space.",
            n=f"{MIN_PAID_PRICE:,}",
        )
    return None


def check_together(values: Mapping[str, Any], failed: Iterable[str] = ()) -> dict[str, Any]:
    """The checks that span two fields, on values already cleaned one by one; fields in
    `failed` have a message of their own and are left out. Returns {field: message}."""
    failed = set(failed)
    errors: dict[str, Any] = {}
    low, high = values.get("min_minutes"), values.get("max_minutes")
    if (
        not failed & {"min_minutes", "max_minutes"}
        and isinstance(low, int)
        and isinstance(high, int)
        and high < low
    ):
        errors["max_minutes"] = _l(
            "The longest booking cannot be shorter than the shortest (%(n)d minutes).", n=low
        )
    if not failed & {"latitude", "longitude"}:
        lat, lon = values.get("latitude"), values.get("longitude")
        if (lat is None) != (lon is None):
            missing = "latitude" if lat is None else "longitude"
            errors[missing] = _l("Enter both the latitude and the longitude, or neither.")
    return errors
