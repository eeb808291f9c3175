"""How fast the district office statistics answer for a whole city (issue 7).

    .venv/bin/python -m bench.stats [--database-url URL] [--regenerate] [--runs 5]

Uses the database `gg_bench_stats` on the local PostgreSQL server (`--database-url` for another;
its name must contain "bench", as for bench.generate), fills it with bench.generate (5,000
spaces, 1,000,000 bookings in every state) when it does not hold that many yet or when
`--regenerate` says so, backfills the statistics' facts (timed: booked time in PostgreSQL with
app.stats.rebuild_pg, or in Python with `--backfill python`; open time for a year back and
OPEN_AHEAD_DAYS ahead), then measures in the same run, each the median of `--runs` repetitions
after a warm-up:

- a full scan of the bookings table: an aggregate over every row, and `SELECT *` streamed to
  Python (median of `--stream-runs`, tens of seconds each) — what any statistic computed from
  the bookings themselves would cost at least;
- `app.stats.queries.dashboard()` for the whole city (admin scope) over the last 365 and the last
  30 days, for one district, and in a district officer's own scope; its SQL queries and the time
  spent in them;
- the dashboard page `GET /stats/?from=…&to=…&tab=usage` (a theme tab) and the overview
  `GET /stats/` for an admin, logged in through `/login`, through the Flask test client
  (skipped and said so while the page does not exist).

Results go to bench/results/stats.json and stats.md (not committed). `--explain` adds the
EXPLAIN (ANALYZE, BUFFERS) of the slowest statements of the whole-city dashboard.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, make_url, text

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/gg_bench_stats"
RESULTS = Path(__file__).resolve().parent / "results"
ADMIN_EMAIL = "admin@gonggan.kr"
DISTRICT = "gangnam"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_URL)
    p.add_argument("--spaces", type=int, default=5000)
    p.add_argument("--bookings", type=int, default=1_000_000)
    p.add_argument("--regenerate", action="store_true", help="generate the data even if present")
    p.add_argument("--runs", type=int, default=5, help="repetitions per measurement (median)")
    p.add_argument("--stream-runs", type=int, default=2,
                   help="repetitions of the streamed SELECT * (tens of seconds each at 1M rows)")
    p.add_argument("--backfill", choices=("auto", "pg", "python", "skip"), default="auto",
                   help="booked time in PostgreSQL (auto on PostgreSQL) or in Python, and open "
                        "time again (pg, python; auto writes it only when missing); skip keeps "
                        "the facts already there")
    p.add_argument("--explain", action="store_true",
                   help="EXPLAIN ANALYZE the slowest statements of the whole-city dashboard")
    return p.parse_args(argv)


# --------------------------------------------------------------------------- data
def _counts(app) -> tuple[int, int]:
    from app.extensions import db

    with app.app_context():
        try:
            spaces = db.session.scalar(text("SELECT count(*) FROM spaces")) or 0
            bookings = db.session.scalar(text("SELECT count(*) FROM bookings")) or 0
        except Exception:  # no tables yet
            db.session.rollback()
            return 0, 0
        finally:
            db.session.remove()
    return spaces, bookings


def _ensure_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        from bench.generate import _create_database

        _create_database(parsed)


def ensure_data(args, app) -> dict:
    """Generate the city unless the database already holds it; say what was done."""
    spaces, bookings = _counts(app)
    # The generator leaves out the few bookings that do not fit a space's hours.
    enough = spaces == args.spaces and bookings >= args.bookings * 0.95
    if enough and not args.regenerate:
        return {"generated": False, "spaces": spaces, "bookings": bookings, "seconds": None}
    from bench.generate import generate

    print(f"generating {args.spaces:,} spaces and {args.bookings:,} bookings "
          f"(found {spaces:,} and {bookings:,}) — a few minutes", flush=True)
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()  # the generator drops the schema
    t0 = time.perf_counter()
    # Its fixture and token go to their own folder: bench/results/fixture.json is bench.run's.
    fixture = generate(args.database_url, spaces=args.spaces, bookings=args.bookings,
                       results=RESULTS / "stats")
    return {"generated": True, "spaces": fixture["spaces"], "bookings": fixture["bookings"],
            "seconds": round(time.perf_counter() - t0, 1)}


def backfill(args, app, generated: bool) -> dict:
    """Write the statistics' facts for the bulk-inserted data; time each part.

    Booked time is written on every run (in PostgreSQL it takes seconds). Open time is written
    in Python (app.stats.facts.rebuild_open, minutes for a city's year) when the data was just
    generated, when `stats_open` is empty or with `--backfill python|pg`; otherwise the figures
    of the run that wrote it are reported again (bench/results/stats-backfill.json)."""
    from app.extensions import db
    from app.stats import facts

    saved = RESULTS / "stats-backfill.json"
    out: dict = {}
    with app.app_context():
        dialect = db.engine.dialect.name
        method = args.backfill
        if method == "skip":
            previous = json.loads(saved.read_text()) if saved.exists() else {}
            if previous.get("database_url") == args.database_url:
                return previous
            return {"method": "skip"}
        if method == "auto":
            method = "pg" if dialect == "postgresql" else "python"
        out["method"] = method
        t0 = time.perf_counter()
        if method == "pg":
            from app.stats.rebuild_pg import rebuild_booked_pg

            counted = rebuild_booked_pg()
        else:
            counted = facts.rebuild_booked()
        db.session.commit()
        out["booked_seconds"] = round(time.perf_counter() - t0, 1)
        out["booked_bookings"] = counted
        out["booked_rows"] = db.session.scalar(text("SELECT count(*) FROM stats_booked"))
        print(f"booked time ({method}): {counted:,} bookings → {out['booked_rows']:,} rows in "
              f"{out['booked_seconds']}s", flush=True)
        today = datetime.now(UTC).date()
        first, last = today - timedelta(days=365), today + timedelta(days=facts.OPEN_AHEAD_DAYS)
        has_open = db.session.scalar(text("SELECT count(*) FROM stats_open")) or 0
        previous = json.loads(saved.read_text()) if saved.exists() else {}
        if previous.get("database_url") != args.database_url:
            previous = {}
        out["database_url"] = args.database_url
        if generated or not has_open or args.backfill != "auto" or "open_seconds" not in previous:
            t0 = time.perf_counter()
            out["open_rows"] = facts.rebuild_open(first, last)
            db.session.commit()
            out["open_seconds"] = round(time.perf_counter() - t0, 1)
            out["open_days"] = f"{first} – {last}"
            out["open_written"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            print(f"open time (Python): {out['open_rows']:,} rows, {first} – {last}, in "
                  f"{out['open_seconds']}s", flush=True)
        else:
            for key in ("open_rows", "open_seconds", "open_days", "open_written"):
                out[key] = previous.get(key)
            print(f"open time kept from {out['open_written']} ({out['open_seconds']}s then)")
        from app.stats import events

        t0 = time.perf_counter()
        if generated or args.backfill != "auto" or events.closed_through() is None:
            events.reclose()
        out["events_rows"] = events.close_days()
        db.session.commit()
        out["events_seconds"] = round(time.perf_counter() - t0, 1)
        out["events_through"] = str(events.closed_through())
        out["events_stored"] = db.session.scalar(text("SELECT count(*) FROM stats_area_events"))
        print(f"events closed through {out['events_through']}: {out['events_stored']:,} rows "
              f"stored per area and day, {out['events_seconds']}s", flush=True)
        if dialect == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in ("stats_booked", "stats_open", "stats_space_month",
                              "stats_area_booked", "stats_area_open", "stats_area_events",
                              "bookings", "booking_transitions", "booking_stages"):
                    conn.execute(text(f"VACUUM ANALYZE {table}"))
        db.session.remove()
    RESULTS.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    return out


# --------------------------------------------------------------------------- measuring
class QueryLog:
    """Counts the SQL statements of the engine and the time spent in them."""

    def __init__(self, engine):
        self.engine = engine
        self.entries: list[tuple[str, object, float]] = []
        self._started: list[float] = []
        self.active = False

    def __enter__(self):
        self.entries = []
        self.active = True
        return self

    def __exit__(self, *exc):
        self.active = False

    def install(self) -> None:
        @event.listens_for(self.engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):
            self._started.append(time.perf_counter())

        @event.listens_for(self.engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):
            started = self._started.pop() if self._started else time.perf_counter()
            if self.active:
                self.entries.append((statement, parameters, time.perf_counter() - started))

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def seconds(self) -> float:
        return sum(e[2] for e in self.entries)


def _median(fn, runs: int, warm_up: bool = True) -> tuple[float, object]:
    if warm_up:
        fn()
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def measure_scans(app, runs: int, stream_runs: int) -> list[dict]:
    from app.extensions import db

    rows = []
    with app.app_context():
        def aggregate():
            value = db.session.execute(text(
                "SELECT count(*), sum(EXTRACT(epoch FROM end_at - start_at)) FROM bookings"
            )).one()
            db.session.rollback()
            return value

        def stream():
            n = 0
            with db.engine.connect() as conn:
                result = conn.execution_options(stream_results=True, yield_per=10_000).execute(
                    text("SELECT * FROM bookings"))
                for _row in result:
                    n += 1
            return n

        seconds, value = _median(aggregate, runs)
        rows.append({"name": "scan_aggregate", "label": "full scan: SELECT count(*), "
                     "sum(end_at − start_at) FROM bookings", "ms": seconds * 1000,
                     "queries": 1, "note": f"{value[0]:,} rows"})
        # The aggregate above has just read the table: its pages are as warm as they get.
        seconds, n = _median(stream, stream_runs, warm_up=False)
        rows.append({"name": "scan_stream", "label": "full scan: SELECT * FROM bookings, "
                     "streamed to Python", "ms": seconds * 1000, "queries": 1,
                     "note": f"{n:,} rows"})
        db.session.remove()
    return rows


def _dashboard_cases(app):
    """(name, label, scope factory, filters factory) for the dashboard() measurements."""
    from app.accounts.models import User
    from app.extensions import db
    from app.stats.queries import Filters, Scope

    today = datetime.now(UTC).date()
    with app.app_context():
        district = db.session.scalar(
            text("SELECT id FROM jurisdictions WHERE slug = :slug"), {"slug": DISTRICT})
        officer_email = f"officer-{DISTRICT}@example.kr"
        has_officer = db.session.scalar(
            text("SELECT count(*) FROM users WHERE email = :e"), {"e": officer_email})
        db.session.remove()

    def admin_scope():
        return Scope(everything=True)

    def officer_scope():
        user = db.session.scalar(db.select(User).where(User.email == officer_email))
        return Scope.for_user(user)

    year = today - timedelta(days=364)
    month = today - timedelta(days=29)
    cases = [
        ("dashboard_city_365", "dashboard(): whole city, last 365 days", admin_scope,
         lambda: Filters(year, today)),
        ("dashboard_city_30", "dashboard(): whole city, last 30 days", admin_scope,
         lambda: Filters(month, today)),
        ("dashboard_district_365", f"dashboard(): one district ({DISTRICT}), last 365 days",
         admin_scope, lambda: Filters(year, today, district_id=district)),
    ]
    cases.append(("dashboard_city_type_365",
                  "dashboard(): whole city, one type of space (gym), last 365 days — not an "
                  "area: summed per space", admin_scope,
                  lambda: Filters(year, today, type="gym")))
    if has_officer:
        cases.append(("dashboard_officer_365",
                      f"dashboard(): district officer's scope ({DISTRICT}), last 365 days",
                      officer_scope, lambda: Filters(year, today)))
    return cases


def measure_dashboard(app, runs: int, log: QueryLog, explain: bool) -> tuple[list[dict], list]:
    from app.extensions import db
    from app.stats.queries import dashboard

    rows, plans = [], []
    for name, label, scope, filters in _dashboard_cases(app):
        with app.app_context():
            def call(scope=scope, filters=filters):
                try:
                    return dashboard(scope(), filters())
                finally:
                    db.session.remove()

            seconds, result = _median(call, runs)
            with log:
                call()
            slowest = sorted(log.entries, key=lambda e: -e[2])[:3]
            rows.append({
                "name": name, "label": label, "ms": seconds * 1000, "queries": log.count,
                "sql_ms": log.seconds * 1000,
                "slowest_sql_ms": [round(e[2] * 1000, 1) for e in slowest],
                "tables": len(getattr(result, "tables", []) or []),
            })
            if explain and name == "dashboard_city_365" and db.engine.dialect.name == "postgresql":
                plans = _explain(db.engine, slowest)
    return rows, plans


def _explain(engine, entries) -> list[dict]:
    out = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters, seconds in entries:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            out.append({"ms": round(seconds * 1000, 1), "statement": statement,
                        "plan": [r[0] for r in cursor.fetchall()]})
        raw.rollback()
    finally:
        raw.close()
    return out


def measure_page(app, runs: int, log: QueryLog) -> list[dict]:
    from bench.generate import BENCH_PASSWORD

    today = datetime.now(UTC).date()
    client = app.test_client()
    base = "http://bench.local"
    probe = client.get("/stats/", base_url=base)
    if probe.status_code == 404:
        return [{"name": "page_city_365", "label": "GET /stats/ (admin, whole city, 365 days)",
                 "ms": None, "note": "the page does not exist yet (404): not measured"}]
    response = client.post("/login", base_url=base,
                           data={"email": ADMIN_EMAIL, "password": BENCH_PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"bench.stats: login as {ADMIN_EMAIL} answered {response.status_code}")
    rows = []
    # A theme tab computes every table of the period (the tab shows its own); the overview
    # (the landing) reads this month, next month and what needs attention.
    for name, days, label in (("page_city_365", 365, "tab Use, last 365 days"),
                              ("page_city_30", 30, "tab Use, last 30 days"),
                              ("page_overview", 0, "overview")):
        path = (f"/stats/?from={today - timedelta(days=days - 1)}&to={today}&tab=usage"
                if days else "/stats/")

        def get(path=path):
            answer = client.get(path, base_url=base)
            if answer.status_code != 200:
                raise SystemExit(f"bench.stats: GET {path} answered {answer.status_code}")
            return len(answer.data)

        seconds, size = _median(get, runs)
        with log:
            get()
        rows.append({"name": name, "label": f"GET {path.split('?')[0]} (admin, whole city, "
                     f"{label})", "ms": seconds * 1000, "queries": log.count,
                     "sql_ms": log.seconds * 1000, "note": f"{size / 1024:.0f} KB"})
    return rows


# --------------------------------------------------------------------------- report
def _fmt(value, digits=0) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def report(results: dict) -> str:
    scan = next((r["ms"] for r in results["measurements"] if r["name"] == "scan_aggregate"),
                None)
    data, fill = results["data"], results["backfill"]
    lines = [
        f"{data['spaces']:,} spaces, {data['bookings']:,} bookings, {results['engine']}, "
        f"median of {results['runs']} runs after a warm-up ({results['finished_at']})",
        "",
    ]
    if fill.get("events_seconds") is not None:
        lines += [f"Events closed per area and day through {fill['events_through']}: "
                  f"{fill['events_stored']:,} rows, {fill['events_seconds']} s.", ""]
    if fill.get("booked_seconds") is not None:
        lines += [
            f"Backfill: booked time ({fill['method']}) {fill['booked_seconds']} s for "
            f"{fill['booked_bookings']:,} booked bookings → {fill['booked_rows']:,} rows; open "
            f"time (Python) {fill['open_seconds']} s → {fill['open_rows']:,} rows "
            f"({fill['open_days']}, written {fill['open_written']}).",
            "",
        ]
    lines += ["| measurement | ms | × full scan | SQL queries | ms in SQL | note |",
              "|---|---:|---:|---:|---:|---|"]
    for r in results["measurements"]:
        ratio = r["ms"] / scan if r.get("ms") is not None and scan else None
        note = r.get("note", "")
        if r.get("slowest_sql_ms"):
            note = "slowest statements " + ", ".join(f"{m} ms" for m in r["slowest_sql_ms"])
        lines.append(f"| {r['label']} | {_fmt(r.get('ms'))} | {_fmt(ratio, 2)} | "
                     f"{_fmt(r.get('queries'))} | {_fmt(r.get('sql_ms'))} | {note} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = parse_args(argv)
    from app import create_app
    from config import _normalise_url

    _ensure_database(args.database_url)
    config = {"SQLALCHEMY_DATABASE_URI": _normalise_url(args.database_url),
              "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False,
              "REMEMBER_COOKIE_SECURE": False, "WTF_CSRF_ENABLED": False}
    app = create_app("production", config)
    data = ensure_data(args, app)
    if data["generated"]:
        app = create_app("production", config)  # a fresh engine on the new schema
    with app.app_context():
        from flask_migrate import upgrade

        from app.extensions import db

        upgrade()
        engine_name = db.engine.dialect.name
        log = QueryLog(db.engine)
        log.install()
    fill = backfill(args, app, data["generated"])
    measurements = measure_scans(app, args.runs, args.stream_runs)
    try:
        import app.stats.queries as _queries  # noqa: F401
    except ImportError:
        print("app.stats.queries does not exist yet: dashboard() not measured", file=sys.stderr)
        dash, plans, page = [], [], []
    else:
        dash, plans = measure_dashboard(app, args.runs, log, args.explain)
        page = measure_page(app, args.runs, log)
    measurements += dash + page
    results = {
        "engine": engine_name, "runs": args.runs, "data": data, "backfill": fill,
        "measurements": measurements, "explain": plans,
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "stats.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    text_report = report(results)
    (RESULTS / "stats.md").write_text(text_report)
    print(text_report)
    for plan in plans:
        print(f"--- {plan['ms']} ms\n{plan['statement']}\n" + "\n".join(plan["plan"]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
