"""Reading API input with the schemas: the webargs parser of the blueprint and the fields the
schemas are made of.

Whatever a client sends, the answer is a 4xx with a message per field, never a 500: bodies that
are not JSON, JSON that is not an object, wrong types, numbers out of range, text the database
cannot store (NUL, lone surrogates) and times without a UTC offset are all refused. Refusals are
the app's `ValidationFailed` (code `invalid`, messages per field in the request's language), as
the web pages' errors are, never webargs' own 422 format.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import marshmallow as ma
from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from app.errors import DomainError, ValidationFailed
from app.spaces.fields import parse_clock

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


REQUIRED = _l("This field is required.")


class Parser(FlaskParser):
    """Bodies through `json_body` (size limit, `bad_request`), query strings refused as a whole
    if they hold a NUL, and errors as `ValidationFailed`."""

    # Each schema says what it does with fields it does not name (`schemas.Body`).
    DEFAULT_UNKNOWN_BY_LOCATION: dict = {}

    def load_json(self, req, schema):
        return json_body()

    def load_querystring(self, req, schema):
        return self._makeproxy(query_args(), schema)

    def load_files(self, req, schema):
        """A multipart form: its files and its text fields together (an upload and its
        description come in one request)."""
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        raise ValidationFailed(field_errors(error.normalized_messages()))


def field_errors(messages: dict) -> dict:
    """marshmallow's messages (by location, possibly nested) as `{field: [message, ...]}`;
    nested fields are named with dots (`channels.hall`), the request as a whole is `None`."""
    out: dict[str | None, list[str]] = {}

    def walk(prefix: str | None, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(_join(prefix, key), inner)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(prefix, item)
        else:
            out.setdefault(prefix, []).append(str(value))

    def _join(prefix: str | None, key) -> str | None:
        if key == "_schema":
            return prefix
        return f"{prefix}.{key}" if prefix else str(key)

    for location_messages in messages.values():
        walk(None, location_messages)
    return out


# --- Fields ------------------------------------------------------------------------------


class Field(ma.fields.Field):
    """Absent or null: "This field is required." when required, else nothing (None or the
    default). Subclasses check the value in `check`, raising `ma.ValidationError` with a
    translated message."""

    default_error_messages = {"required": REQUIRED, "null": REQUIRED}

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_none", not kwargs.get("required", False))
        super().__init__(**kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is None and not self.required and self.load_default is not ma.missing:
            value = ma.missing  # null is as good as absent: the default
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return self.check(value)

    def _serialize(self, value, attr, obj, **kwargs):
        return value

    def check(self, value):
        return value


class Integer(Field):
    def check(self, value):
        # bool is an int in Python, but `true` is not a number in JSON.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ma.ValidationError(_("Enter a whole number."))
        if abs(value) > MAX_INT:
            raise ma.ValidationError(_("The number is too large."))
        return value


class Text(Field):
    def __init__(self, *, max_length: int | None = None, **kwargs):
        self.max_length = max_length
        super().__init__(**kwargs)

    def check(self, value):
        if not isinstance(value, str):
            raise ma.ValidationError(_("Enter text."))
        if not storable_text(value):
            raise ma.ValidationError(_("The text contains characters that cannot be stored."))
        if self.max_length is not None and len(value) > self.max_length:
            raise ma.ValidationError(_("Enter at most %(n)d characters.", n=self.max_length))
        return value


class Number(Field):
    """A JSON number (whole or not); the range is the service's to check."""

    def check(self, value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ma.ValidationError(_("Enter a number."))
        return value


class Flag(Field):
    """A JSON boolean (true or false)."""

    def check(self, value):
        if not isinstance(value, bool):
            raise ma.ValidationError(_("Choose true or false."))
        return value


class Codes(Field):
    """A list of codes; which codes exist is the service's to say (in its own words)."""

    def check(self, value):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ma.ValidationError(_("Enter a list of codes."))
        return value


class Upload(Field):
    """A file of a multipart form; what it holds is the service's to judge."""

    def check(self, value):
        if not isinstance(value, FileStorage):
            raise ma.ValidationError(_("Choose a photo to upload."))
        return value


MAX_RANGES = 7 * 12  # opening ranges a week may have: twelve a day


class OpeningRanges(Field):
    """`[{"weekday": 0, "open": "09:00", "close": "18:00"}, ...]` as (weekday, open minute,
    close minute); weekdays, order and overlaps are checked by the service."""

    def check(self, value):
        if not isinstance(value, list):
            raise ma.ValidationError(_("Enter a list of opening ranges."))
        if len(value) > MAX_RANGES:
            raise ma.ValidationError(_("Send at most %(n)d opening ranges.", n=MAX_RANGES))
        ranges: list[tuple[int, int, int]] = []
        errors: dict[str, dict[str, list[str]] | list[str]] = {}
        clock = _("Enter times as HH:MM, for example 09:00 or 24:00.")
        for n, item in enumerate(value):
            if not isinstance(item, dict):
                errors[str(n)] = [
                    _("Give each opening range as an object with weekday, open and close.")
                ]
                continue
            problems: dict[str, list[str]] = {}
            weekday = item.get("weekday")
            if isinstance(weekday, bool) or not isinstance(weekday, int):
                problems["weekday"] = [_("Enter a whole number.")]
            times: list[int | None] = []
            for key in ("open", "close"):
                minute = parse_clock(item[key]) if isinstance(item.get(key), str) else None
                if minute is None:
                    problems[key] = [clock]
                times.append(minute)
            opens, closes = times
            if problems or not isinstance(weekday, int) or opens is None or closes is None:
                errors[str(n)] = problems
            else:
                ranges.append((weekday, opens, closes))
        if errors:
            raise ma.ValidationError(errors)
        return ranges


class Instant(Field):
    """An ISO 8601 time with a UTC offset, as an aware UTC datetime."""

    def check(self, value):
        try:
            return parse_instant(value)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None


class Choice(Field):
    """One of `choices` (codes)."""

    def __init__(self, choices, *, message=None, **kwargs):
        self.choices = tuple(choices)
        self.message = message  # instead of "Choose one of: ..."
        super().__init__(**kwargs)

    def check(self, value):
        if not isinstance(value, str) or value not in self.choices:
            if self.message is not None:
                raise ma.ValidationError(str(self.message))
            raise ma.ValidationError(_("Choose one of: %(list)s.", list=", ".join(self.choices)))
        return value


class Ids(Field):
    """A non-empty list of at most `limit` ids, duplicates dropped, order kept."""

    def __init__(self, *, limit: int, **kwargs):
        self.limit = limit
        super().__init__(**kwargs)

    def check(self, value):
        if not isinstance(value, list) or not value:
            raise ma.ValidationError(_("Enter a list of ids."))
        if len(value) > self.limit:
            raise ma.ValidationError(_("Send at most %(n)d ids at a time.", n=self.limit))
        out: list[int] = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or not 0 < item <= MAX_INT:
                raise ma.ValidationError(
                    _("Each id must be a whole number from 1 to %(n)d.", n=MAX_INT)
                )
            if item not in out:
                out.append(item)
        return out


class Day(Field):
    """A calendar date such as 2026-12-01."""

    def check(self, value):
        example = "2026-12-01"
        if not isinstance(value, str) or len(value) != 10:
            raise ma.ValidationError(_("Enter a date such as %(example)s.", example=example))
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise ma.ValidationError(
                _("Enter a date such as %(example)s.", example=example)
            ) from None
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise ma.ValidationError(_("The date is out of range."))
        return parsed


class Document(Field):
    """A rule-set document: a JSON object whose text (keys and values, at any depth) a
    database can store; what the rules make of it is `app.rules.schema.parse_rules`'s to say.
    Described by the component `RuleDocument`."""

    def check(self, value):
        if not isinstance(value, dict):
            raise ma.ValidationError(_("Enter a JSON object."))
        if not storable_json(value):
            raise ma.ValidationError(_("The text contains characters that cannot be stored."))
        return value


# --- Query string fields: text, blank as if absent ------------------------------------------


class QueryField(Field):
    def deserialize(self, value, attr=None, data=None, **kwargs):
        if isinstance(value, str):
            value = value.strip() or ma.missing
        return super().deserialize(value, attr, data, **kwargs)


class QueryInt(QueryField):
    """A whole number from `low` to `high` (`high` may be a function of the app's config)."""

    def __init__(self, *, low: int, high, **kwargs):
        self.low, self._high = low, high
        super().__init__(**kwargs)

    @property
    def high(self) -> int:
        return self._high() if callable(self._high) else self._high

    def check(self, value):
        try:
            number = int(value)
        except ValueError:
            raise ma.ValidationError(_("Enter a whole number.")) from None
        if not self.low <= number <= self.high:
            raise ma.ValidationError(
                _("Enter a number from %(low)d to %(high)d.", low=self.low, high=self.high)
            )
        return number


class QueryChoice(QueryField, Choice):
    pass


class QueryInstant(QueryField):
    """An ISO 8601 time with a UTC offset."""

    def check(self, value):
        try:
            return parse_instant(value)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None


class QueryFlag(QueryField):
    """true/false (also 1/0, yes/no, in any case)."""

    TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")

    def check(self, value):
        value = value.lower()
        if value not in self.TRUE + self.FALSE:
            raise ma.ValidationError(_("Choose true or false."))
        return value in self.TRUE


class QueryList(QueryField):
    """Comma-separated codes, each one of `choices`."""

    def __init__(self, choices, *, unknown_message, **kwargs):
        self.choices = tuple(choices)
        self.unknown_message = unknown_message  # formatted with `name`
        super().__init__(**kwargs)

    def check(self, value):
        items = [s.strip() for s in value.split(",") if s.strip()]
        unknown = [s for s in items if s not in self.choices]
        if unknown:
            raise ma.ValidationError(self.unknown_message(", ".join(unknown)))
        return items


class QueryDate(QueryField):
    def check(self, value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ma.ValidationError(_("Enter a date such as 2026-12-01.")) from None
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise ma.ValidationError(_("The date is out of range."))
        return day


# How the custom fields appear in the document.
FIELD_TYPES = {
    Integer: ("integer", None),
    Text: ("string", None),
    Flag: ("boolean", None),
    Instant: ("string", "date-time"),
    Number: ("number", None),
    Upload: ("string", "binary"),
    Choice: ("string", None),
    Ids: ("array", None),
    Day: ("string", "date"),
    QueryInt: ("integer", None),
    QueryDate: ("string", "date"),
    QueryFlag: ("string", None),
    QueryInstant: ("string", "date-time"),
    QueryList: ("string", None),
}


def field_properties(self, field, **kwargs) -> dict:
    """apispec attribute function: type, enum, bounds and nullability of the custom fields."""
    if isinstance(field, Document):
        return {"$ref": "#/components/schemas/RuleDocument"}
    if isinstance(field, Codes):
        return {"type": ["array", "null"], "items": {"type": "string"}}
    if isinstance(field, OpeningRanges):
        return {
            "type": "array",
            "maxItems": MAX_RANGES,
            "items": {
                "type": "object",
                "required": ["weekday", "open", "close"],
                "properties": {
                    "weekday": {"type": "integer", "minimum": 0, "maximum": 6,
                                "description": "Monday = 0"},
                    "open": {"type": "string", "examples": ["09:00"]},
                    "close": {"type": "string", "examples": ["18:00", "24:00"]},
                },
            },
        }
    found = [types for cls, types in FIELD_TYPES.items() if isinstance(field, cls)]
    if not found:
        return {}
    kind, fmt = found[0]
    nullable = field.allow_none and not isinstance(field, QueryField)
    props: dict = {"type": [kind, "null"] if nullable else kind}
    if fmt:
        props["format"] = fmt
    if isinstance(field, Integer):
        # The bounds a schema gives in its metadata (the service's limits) win.
        props.update(minimum=-MAX_INT, maximum=MAX_INT)
        props.update({k: field.metadata[k] for k in ("minimum", "maximum") if k in field.metadata})
    if isinstance(field, QueryInt):
        props["minimum"] = field.low
        if not callable(field._high):  # else known per app: the PerPage component says it
            props["maximum"] = field.high
        if field.load_default is not ma.missing and not callable(field.load_default):
            props["default"] = field.load_default
    if isinstance(field, Text) and field.max_length:
        props["maxLength"] = field.max_length
    if isinstance(field, Choice):
        props["enum"] = [*field.choices, None] if nullable else list(field.choices)
    if isinstance(field, QueryFlag):
        props["enum"] = list(QueryFlag.TRUE + QueryFlag.FALSE)
        props["default"] = "false"
    if isinstance(field, QueryList):
        props["description"] = "Comma-separated: " + ", ".join(field.choices) + "."
    if isinstance(field, Ids):
        props.update(
            items={"type": "integer", "minimum": 1, "maximum": MAX_INT},
            minItems=1,
            maxItems=field.limit,
        )
    return props
