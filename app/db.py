"""Declarative base, shared column types and database-specific plumbing."""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored in UTC.

    PostgreSQL keeps `timestamptz`; SQLite has no zone, so values are normalised to UTC on the
    way in and marked UTC on the way out. Naive datetimes are refused: they are always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime},
    )


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. `Session.execute()` is typed as returning a
    Result; for such statements it is a CursorResult, which has the count."""
    return cast(CursorResult[Any], result).rowcount


def utcnow() -> datetime:
    return datetime.now(UTC)


def one_of(column: str, values: Iterable[str]) -> str:
    """The SQL of a CHECK that `column` holds one of `values` (an enum's members, in order):
    `one_of("status", BookingStatus)` is `status IN ('requested', 'approved', ...)`. The order
    is the definition order, so the text matches the constraint the migrations created."""
    return f"{column} IN ({', '.join(sql_strings(values))})"


def sql_strings(values: Iterable[str]) -> list[str]:
    """`values` as SQL string literals (state names: no quote inside to escape)."""
    quoted = []
    for value in values:
        if "'" in value:
            raise ValueError(f"a quote in {value!r}")
        quoted.append(f"'{value}'")
    return quoted


MAX_DB_INT = 2**31 - 1  # INTEGER columns on PostgreSQL; SQLite overflows at 2**63


def db_int(value: str) -> int:
    """A query-string converter for ids and page numbers: `request.args.get("page", type=db_int)`.

    Raises ValueError for anything that is not an integer an INTEGER column can hold, so Werkzeug
    falls back to the default instead of the database failing on a number somebody typed.
    """
    number = int(value)
    if not -MAX_DB_INT <= number <= MAX_DB_INT:
        raise ValueError("out of range")
    return number


def db_int_converter():
    """`<int:...>` in URLs, bounded by what an INTEGER column holds: a bigger number matches no
    route (404) instead of reaching the database (PostgreSQL refuses it with an error)."""
    from werkzeug.routing import IntegerConverter

    class DbIntConverter(IntegerConverter):
        def __init__(self, map, fixed_digits=0, min=None, max=MAX_DB_INT, signed=False):  # noqa: A002
            super().__init__(map, fixed_digits, min, max, signed)

    return DbIntConverter


# --- SQLite: serialized write transactions -------------------------------------------------
# pysqlite's own transaction handling starts transactions lazily and in DEFERRED mode, so two
# requests can both read "the slot is free" and then both insert. For write requests we take the
# database write lock at BEGIN (BEGIN IMMEDIATE), which makes the overlap check and the insert
# one serialized transaction. Reads keep using deferred transactions and, with WAL, never block.
_immediate = contextvars.ContextVar("sqlite_begin_immediate", default=False)


@contextmanager
def serialized_writes():
    """Within this block, new SQLite transactions start with BEGIN IMMEDIATE."""
    token = _immediate.set(True)
    try:
        yield
    finally:
        _immediate.reset(token)


def set_serialized_writes(on: bool) -> None:
    _immediate.set(on)


def configure_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from pysqlite so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


class PageLinks:
    """What the pager macro reads (has_prev, has_next, prev_num, next_num) for a hand-made page
    of results with `page` and `pages`, as Flask-SQLAlchemy's Pagination offers them."""

    page: int

    @property
    def pages(self) -> int:  # a subclass gives it as a field or a property
        raise NotImplementedError

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1
