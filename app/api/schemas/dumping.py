"""What answer schemas need besides the objects they dump, and fields that compute a value.

flask-smorest dumps a view's answer after the view has returned, so what the dump needs from
the request (the zone times are shown in, a search's distances) goes in a `DumpContext` that
`dumps_in_context` opens around the view and its dump, and the view fills.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypedDict, TypeVar, cast
from zoneinfo import ZoneInfo

from flask_login import current_user
from marshmallow import fields, missing
from marshmallow.experimental.context import Context

from app.db import utcnow


class Dump(TypedDict, total=False):
    viewer: Any  # the user the answer is for (anonymous without a token)
    now: datetime
    zone: ZoneInfo  # times not of a booking are shown in it, with its offset
    distances: dict[int, float]  # space id: km from the point a search was near
    space: Any  # the space a quote is for
    states: dict[int, str]  # rule-set version id: in_force, scheduled or replaced
    scope: Any  # the `editing.Scope` of a saved rule set


DumpContext = Context[Dump]

V = TypeVar("V", bound=Callable[..., Any])


def dumps_in_context(view: V) -> V:
    """Run the view and the dump of its answer in one `DumpContext` (under the route, above
    `bp.response`); the view fills it (`dump_context()`)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with DumpContext({"viewer": current_user._get_current_object(), "now": utcnow()}):
            return view(*args, **kwargs)

    return cast(V, wrapper)  # the view's own signature: `wraps` keeps it


def dump_context() -> Dump:
    return DumpContext.get()


def iso(dt: datetime | None, zone: ZoneInfo) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(zone).isoformat(timespec="seconds")


Getter = Callable[[Any], Any]


class Instant(fields.String):
    """A datetime as ISO 8601 with the offset of a zone: `zone_of(obj)`, or the context's zone.
    The datetime is the field's attribute, or `source(obj)`. Null stays null."""

    def __init__(
        self,
        zone_of: Callable[[Any], ZoneInfo] | None = None,
        source: Getter | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.zone_of = zone_of
        self.source = source

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        if self.source is not None:
            return self.source(obj)
        return super().get_value(obj, attr, accessor, default)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        zone = self.zone_of(obj) if self.zone_of is not None else dump_context()["zone"]
        return iso(value, zone)


# Fields whose value is computed from the whole object (and documented as their type).


class ComputedString(fields.String):
    def __init__(self, compute: Getter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.compute = compute

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return self.compute(obj)


class ComputedInteger(fields.Integer):
    def __init__(self, compute: Getter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.compute = compute

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return self.compute(obj)


class ComputedNested(fields.Nested):
    def __init__(self, compute: Getter, nested: Any, **kwargs: Any) -> None:
        super().__init__(nested, **kwargs)
        self.compute = compute

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return self.compute(obj)


class ComputedList(fields.List):
    def __init__(self, compute: Getter, inner: fields.Field, **kwargs: Any) -> None:
        super().__init__(inner, **kwargs)
        self.compute = compute

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return self.compute(obj)


class ComputedBoolean(fields.Boolean):
    def __init__(self, compute: Getter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.compute = compute

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return self.compute(obj)
