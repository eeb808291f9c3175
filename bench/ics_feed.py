"""How fast the calendar feeds answer with 10,000 bookings in them.

    .venv/bin/python -m bench.ics_feed [--database-url URL] [--bookings 10000] [--runs 5]

Builds a fresh database (PostgreSQL by default: a new database `gg_bench_ics` on the local
server; `--database-url sqlite:///…` works too), one organisation with 50 spaces and N approved
bookings by one resident inside the feeds' window, then requests, through the real app
in-process, the organisation's feed (all N bookings), the resident's personal feed (all N) and
one space's public busy feed (N/50), and reports the median time and size (and of a conditional
request answered 304); beside it, the time of a plain SELECT of the same N rows, measured in the
same run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/gg_bench_ics"


def _fresh_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--database-url", default=DEFAULT_URL)
    p.add_argument("--bookings", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    _fresh_database(args.database_url)

    from flask_migrate import upgrade

    from app import create_app
    from app.accounts.models import User
    from app.bookings.models import Booking
    from app.calendars.models import CalendarFeed
    from app.extensions import db
    from app.orgs.models import Organisation, OrgMembership
    from app.spaces.models import Space
    from config import _normalise_url

    app = create_app("production", {"SQLALCHEMY_DATABASE_URI": _normalise_url(
        args.database_url), "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False})
    with app.app_context():
        upgrade()
        org = Organisation(slug="bench-org", name="벤치 학교", kind="school")
        manager = User(email="manager@bench.kr", name="담당자", password_hash="x")
        resident = User(email="resident@bench.kr", name="주민", password_hash="x")
        db.session.add_all([org, manager, resident])
        db.session.flush()
        db.session.add(OrgMembership(user=manager, organisation=org, role="manager"))
        spaces = [Space(owner=org, name=f"교실 {i}", type="classroom", capacity=30,
                        published=True) for i in range(50)]
        db.session.add_all(spaces)
        db.session.flush()
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        rows = []
        for i in range(args.bookings):
            space = spaces[i % 50]
            start = now - timedelta(days=60) + timedelta(hours=2 * (i // 50))
            rows.append({
                "space_id": space.id, "user_id": resident.id, "start_at": start,
                "end_at": start + timedelta(hours=1), "hold_start": start,
                "hold_end": start + timedelta(hours=1), "purpose": f"모임 {i}; 쉼표, 줄\n바꿈",
                "attendees": 5, "status": "approved", "price_amount": 0, "currency": "KRW",
                "created_at": now - timedelta(days=90), "purpose_category": "community",
                "rule_version_ids": [], "price_breakdown": {}, "payment_status": "none",
                "ics_sequence": 1,
            })
        db.session.execute(insert(Booking), rows)
        org_feed = CalendarFeed(kind="organisation", user=manager, organisation=org,
                                token="bench-org-feed")
        personal = CalendarFeed(kind="personal", user=resident, token="bench-personal")
        db.session.add_all([org_feed, personal])
        db.session.commit()
        last = max(r["start_at"] for r in rows)
        assert last < now + timedelta(days=400), "bookings must fit the feed window"
        space_id = spaces[0].id

    client = app.test_client()
    results = []
    for label, path in (
        ("organisation feed", "/calendars/bench-org-feed.ics"),
        ("personal feed", "/calendars/bench-personal.ics"),
        ("public busy feed (1 space)", f"/spaces/{space_id}/busy.ics"),
    ):
        times, size = [], 0
        for _ in range(args.runs):
            t0 = time.perf_counter()
            response = client.get(path, base_url="http://bench.local")
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.status_code
            size = len(response.data)
        results.append((label, statistics.median(times), size))
        etag = response.headers.get("ETag")
        if etag and etag.startswith("W/"):
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                again = client.get(path, base_url="http://bench.local",
                                   headers={"If-None-Match": etag})
                times.append(time.perf_counter() - t0)
                assert again.status_code == 304, again.status_code
            results.append(("  same, If-None-Match (304)", statistics.median(times), 0))
    with app.app_context():
        scans = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            db.session.execute(text("SELECT * FROM bookings")).all()
            scans.append(time.perf_counter() - t0)
            db.session.rollback()
        scan = statistics.median(scans)
    engine = args.database_url.split(":", 1)[0]
    print(f"{args.bookings} bookings, {engine}, median of {args.runs} runs")
    print(f"{'endpoint':32} {'ms':>8} {'KB':>8} {'× scan':>8}")
    for label, seconds, size in results:
        print(f"{label:32} {seconds * 1000:8.0f} {size / 1024:8.0f} {seconds / scan:8.1f}")
    print(f"{'SELECT * FROM bookings':32} {scan * 1000:8.0f}")


if __name__ == "__main__":
    main()
