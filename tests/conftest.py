"""Shared fixtures: an app on a migrated database (SQLite, or PostgreSQL with TEST_DATABASE_URL),
a clean database for every test, clients, login helpers, factories and a query counter.

With GONGGAN_TEST_NOW (ISO 8601 with an offset, e.g. 2026-12-05T21:15:00+09:00) the whole run
starts at that instant and the clock ticks on from there, so the suite can be checked at any hour
and weekday without waiting for it (see docs/operations.md, "Running the tests at an instant")."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import g, request_started
from flask_babel import force_locale, refresh
from flask_migrate import upgrade
from sqlalchemy import event, text
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db as _db
from app.extensions import limiter
from tests.factories import Factories

_TEST_NOW = pytest.StashKey[datetime]()
_TRAVEL = pytest.StashKey[time_machine.travel]()


def _test_now() -> datetime | None:
    raw = os.environ.get("GONGGAN_TEST_NOW", "").strip()
    if not raw:
        return None
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError:
        raise pytest.UsageError(
            f"GONGGAN_TEST_NOW={raw!r} is not an ISO 8601 date and time"
        ) from None
    if instant.tzinfo is None:
        raise pytest.UsageError(
            f"GONGGAN_TEST_NOW={raw!r} needs an offset, e.g. 2026-12-05T21:15:00+09:00"
        )
    return instant


def pytest_configure(config):
    # Travel here, before collection, so module-level constants, the app and the migrated
    # database all see the chosen instant. Tests that travel themselves (time_machine.travel,
    # the time_machine fixture) nest on top and come back to this clock when they end.
    instant = _test_now()
    if instant is None:
        return
    travel = time_machine.travel(instant, tick=True)
    travel.start()
    config.stash[_TEST_NOW] = instant
    config.stash[_TRAVEL] = travel


def pytest_unconfigure(config):
    travel = config.stash.get(_TRAVEL, None)
    if travel is not None:
        travel.stop()
        del config.stash[_TRAVEL]


def pytest_report_header(config):
    instant = config.stash.get(_TEST_NOW, None)
    if instant is None:
        return None
    from zoneinfo import ZoneInfo

    seoul = instant.astimezone(ZoneInfo("Asia/Seoul"))
    return (
        f"GONGGAN_TEST_NOW: the run starts at {instant.isoformat()} "
        f"(Seoul {seoul:%A %Y-%m-%d %H:%M}, UTC {instant.astimezone(UTC):%Y-%m-%d %H:%M}), "
        "clock ticking"
    )


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = _database_url(tmp_path_factory)
    os.environ["TEST_DATABASE_URL"] = url
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": _normalise(url),
            "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
        },
    )
    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            # A fresh schema every run, so a re-run never sees old tables or data.
            with _db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()


def _normalise(url: str) -> str:
    from config import _normalise_url

    return _normalise_url(url)


@pytest.fixture(autouse=True)
def _clean_db(app):
    """Each test gets an app context and starts on empty tables."""
    ctx = app.app_context()
    ctx.push()
    limiter.reset()  # every test starts with no request counted against any limit
    try:
        yield
    finally:
        _db.session.remove()
        tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
        with _db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # DELETE, not TRUNCATE: TRUNCATE costs ~100 ms per test however little a test
                # wrote, DELETE on a few rows next to nothing. Ids are not reset; no test needs
                # that. Children first, in one round trip.
                found = conn.execute(
                    text(
                        " UNION ALL ".join(
                            f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})"
                            for name in tables
                        )
                    )
                ).scalars().all()
                dirty = [name for name in tables if name in set(found)]
                if dirty:
                    conn.execute(text("; ".join(f"DELETE FROM {name}" for name in dirty)))
            else:
                for name in tables:
                    conn.execute(text(f"DELETE FROM {name}"))
        ctx.pop()


@pytest.fixture(autouse=True)
def _locale_per_request(app):
    """Requests in a test share the test's app context, where Flask-Babel caches the locale
    and Flask-Login the signed-in user (on `g`); forget both at each request so every request
    picks its own user and language from its own cookies, as in production."""

    def _forget(sender, **extra):
        refresh()
        g.pop("_login_user", None)

    request_started.connect(_forget, app)
    yield
    request_started.disconnect(_forget, app)


@pytest.fixture
def english(app):
    """Messages in English for tests that call services outside a request (where the default
    language, Korean, would apply)."""
    with force_locale("en"):
        yield


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def now():
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def factories(app) -> Factories:
    return Factories()


@pytest.fixture
def login(client):
    """`login(user)` logs the test client in as `user` (password "password123")."""

    def _login(user, password: str = "password123"):
        response = client.post(
            "/login", data={"email": user.email, "password": password}, follow_redirects=False
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return _login


@pytest.fixture
def api_token(factories):
    """`api_token(user)` returns headers with a bearer token for `user`."""

    def _token(user):
        from app.accounts.models import ApiToken

        _row, plain = ApiToken.issue(user, "test")
        _db.session.commit()
        return {"Authorization": f"Bearer {plain}"}

    return _token


@pytest.fixture
def media(app, tmp_path, monkeypatch):
    """Photo files in a folder of this test's own (MEDIA_STORAGE=local); the storage."""
    from app.media.storage import storage

    monkeypatch.setitem(app.config, "MEDIA_STORAGE", "local")
    monkeypatch.setitem(app.config, "MEDIA_ROOT", str(tmp_path / "media"))
    return storage(app)


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """`with count_queries() as q: ...` then `q.count` is the number of SQL statements run."""

    @contextmanager
    def _count():
        counter = QueryCounter()

        def _before(conn, cursor, statement, parameters, context, executemany):
            skip = ("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")
            if not statement.lstrip().upper().startswith(skip):
                counter.statements.append(statement)

        engine = _db.engine
        event.listen(engine, "before_cursor_execute", _before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", _before)

    return _count


@pytest.fixture
def queries_of_get(client, count_queries):
    """`queries_of_get(url)`: the SQL statements one GET of `url` runs (answering 200), measured
    after a first GET has reloaded what the test's commit expired."""

    def _measure(url: str) -> int:
        client.get(url)
        # The test's app context (and so its session) is shared with the requests: forget what
        # the first GET loaded, or a lazy load per row would be served from the identity map.
        _db.session.expire_all()
        with count_queries() as q:
            assert client.get(url).status_code == 200
        return q.count

    return _measure


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on a free localhost port, one thread per request."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(timeout=10)


def next_weekday(weekday: int, hour: int = 10, tz: str = "Asia/Seoul", weeks: int = 1) -> datetime:
    """A future local time on `weekday` (Monday = 0) at `hour`, as an aware UTC datetime."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    today = datetime.now(zone).date()
    days = (weekday - today.weekday()) % 7 + 7 * weeks
    day = today + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC)
