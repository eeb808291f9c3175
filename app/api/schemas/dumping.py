"""What answer schemas need besides the objects they dump, and fields that compute a value.

flask-smorest dumps a view's answer after the view has returned, so what the dump needs from
the request (the zone times are shown in, a search's distances) goes in a `DumpContext` that
`dumps_in_context` opens around the view and its dump, and the view fills.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypedDict, TypeVar
from zoneinfo import ZoneInfo

from marshmallow import fields, missing
from marshmallow.experimental.context import Context


class Dump(TypedDict, total=False):
    zone: ZoneInfo  # times are shown in it, with its offset
    distances: dict[int, float]  # space id: km from the point a search was near


DumpContext = Context[Dump]

V = TypeVar("V", bound=Callable[..., Any])


def dumps_in_context(view: V) -> V:
    """Run the view and the dump of its answer in one `DumpContext` (under the route, above
    `bp.response`); the view fills it (`dump_context()`)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with DumpContext({}):
            return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]  # same signature: `wraps` keeps it


def dump_context() -> Dump:
    return DumpContext.get()


def iso(dt: datetime | None, zone: ZoneInfo) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(zone).isoformat(timespec="seconds")


class Instant(fields.String):
    """A datetime as ISO 8601 with the offset of the context's zone; null stays null."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return iso(value, dump_context()["zone"])


class ComputedString(fields.String):
    """A string computed from the whole object (documented as a string)."""

    def __init__(self, compute: Callable[[Any], str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.compute = compute

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return self.compute(obj)
