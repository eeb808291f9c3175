"""Reading API input: the JSON body, typed fields and query arguments.

Whatever a client sends, the answer is a 4xx with a message per field, never a 500: bodies that
are not JSON, JSON that is not an object, wrong types, numbers out of range, text the database
cannot store (NUL, lone surrogates) and times without a UTC offset are all refused here.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from flask import request
from flask_babel import gettext as _

from app.errors import DomainError, ValidationFailed

MAX_BODY_BYTES = 64 * 1024
MAX_INT = 2**31 - 1  # the database's integer
# Instants outside these years are refused before any arithmetic can overflow.
MIN_YEAR, MAX_YEAR = 1970, 2999
EXAMPLE_INSTANT = "2026-12-01T18:00:00+09:00"


class BadRequest(DomainError):
    code = "bad_request"
    status = 400


class BodyTooLarge(DomainError):
    code = "too_large"
    status = 413


def json_body() -> dict:
    """The request body as a JSON object; an empty body is `{}`."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise BodyTooLarge(_("The request body is too large."))
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(_("The request body is too large."))
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(_("The request body is not valid JSON.")) from exc
    if not isinstance(data, dict):
        raise ValidationFailed.single(_("The request body must be a JSON object."))
    return data


def storable_text(value: str) -> bool:
    """False for text a database cannot store: NUL characters and lone surrogates."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_instant(value) -> datetime:
    """An ISO 8601 time with a UTC offset (`Z` allowed), as an aware UTC datetime.

    Raises ValueError with a message for the client.
    """
    if not isinstance(value, str) or len(value) > 64 or not storable_text(value):
        raise ValueError(_("Enter a time as text, such as %(example)s.", example=EXAMPLE_INSTANT))
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            _("Enter a time in ISO 8601, such as %(example)s.", example=EXAMPLE_INSTANT)
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(
            _("Include a UTC offset in the time, such as %(example)s.", example=EXAMPLE_INSTANT)
        )
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError(_("The time is out of range."))
    return parsed.astimezone(UTC)


class Fields:
    """Typed fields of a JSON object, collecting one message list per field.

    Each reader returns the value or None; `done()` raises ValidationFailed if anything failed.
    """

    def __init__(self, data: dict):
        self.data = data
        self.errors: dict[str | None, list[str]] = {}

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def _get(self, name: str, required: bool):
        value = self.data.get(name)
        if value is None and required:
            self.error(name, _("This field is required."))
        return value

    def integer(self, name: str, *, required: bool = True) -> int | None:
        value = self._get(name, required)
        if value is None:
            return None
        # bool is an int in Python, but `true` is not a number in JSON.
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(name, _("Enter a whole number."))
            return None
        if abs(value) > MAX_INT:
            self.error(name, _("The number is too large."))
            return None
        return value

    def text(self, name: str, *, required: bool = True) -> str | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(name, _("Enter text."))
            return None
        if not storable_text(value):
            self.error(name, _("The text contains characters that cannot be stored."))
            return None
        return value

    def instant(self, name: str, *, required: bool = True) -> datetime | None:
        value = self._get(name, required)
        if value is None:
            return None
        try:
            return parse_instant(value)
        except ValueError as exc:
            self.error(name, str(exc))
            return None

    def choice(self, name: str, choices, *, default: str | None = None) -> str | None:
        """One of `choices` (codes); absent or null gives `default`."""
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, str) or value not in choices:
            self.error(name, _("Choose one of: %(list)s.", list=", ".join(choices)))
            return None
        return value

    def ids(self, name: str, *, limit: int) -> list[int] | None:
        """A non-empty list of at most `limit` ids, duplicates dropped, order kept."""
        value = self._get(name, True)
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            self.error(name, _("Enter a list of ids."))
            return None
        if len(value) > limit:
            self.error(name, _("Send at most %(n)d ids at a time.", n=limit))
            return None
        out: list[int] = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or not 0 < item <= MAX_INT:
                self.error(name, _("Each id must be a whole number from 1 to %(n)d.", n=MAX_INT))
                return None
            if item not in out:
                out.append(item)
        return out

    def day(self, name: str, *, required: bool = True) -> date | None:
        """A calendar date such as 2026-12-01."""
        value = self._get(name, required)
        if value is None:
            return None
        example = "2026-12-01"
        if not isinstance(value, str) or len(value) != 10:
            self.error(name, _("Enter a date such as %(example)s.", example=example))
            return None
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            self.error(name, _("Enter a date such as %(example)s.", example=example))
            return None
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            self.error(name, _("The date is out of range."))
            return None
        return parsed

    def document(self, name: str) -> dict | None:
        """A JSON object whose text (keys and values, at any depth) a database can store."""
        value = self._get(name, True)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(name, _("Enter a JSON object."))
            return None
        if not storable_json(value):
            self.error(name, _("The text contains characters that cannot be stored."))
            return None
        return value

    def done(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


def storable_json(value) -> bool:
    """Whether every string in a decoded JSON value (keys too) is `storable_text`. Iterative, so
    a deeply nested value cannot exhaust the stack."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not storable_text(item):
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def query_args():
    """`request.args`, refused as a whole if a value holds a NUL (no database stores one)."""
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            raise ValidationFailed.single(
                _("The text contains characters that cannot be stored."), key.replace("\x00", "")
            )
    return request.args


def query_int(args, name: str, default: int, low: int, high: int, errors: dict) -> int:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        errors.setdefault(name, []).append(_("Enter a whole number."))
        return default
    if not low <= value <= high:
        errors.setdefault(name, []).append(
            _("Enter a number from %(low)d to %(high)d.", low=low, high=high)
        )
        return default
    return value


def query_choice(args, name: str, choices, errors: dict) -> str | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if raw not in choices:
        errors.setdefault(name, []).append(_("Choose one of: %(list)s.", list=", ".join(choices)))
        return None
    return raw


def query_date(args, name: str, errors: dict) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        errors.setdefault(name, []).append(_("Enter a date such as 2026-12-01."))
        return None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        errors.setdefault(name, []).append(_("The date is out of range."))
        return None
    return value
