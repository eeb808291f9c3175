"""The benchmark generator makes a consistent database: no two bookings of a space overlap."""

from __future__ import annotations

import hashlib

from sqlalchemy import create_engine, text

from bench.generate import generate


def test_generator_fills_a_database_without_overlaps(tmp_path):
    url = f"sqlite:///{tmp_path / 'gg_bench.sqlite'}"
    fixture = generate(url, spaces=120, bookings=3000, residents=40, booking_spaces=10,
                       results=tmp_path)

    engine = create_engine(url)
    with engine.connect() as conn:
        def scalar(sql: str, **params):
            return conn.execute(text(sql), params).scalar()

        assert scalar("SELECT count(*) FROM spaces") == 120
        assert scalar("SELECT count(*) FROM bookings") == fixture["bookings"] >= 2900
        statuses = {row[0] for row in conn.execute(text("SELECT DISTINCT status FROM bookings"))}
        assert statuses == {"requested", "approved", "confirmed", "rejected", "cancelled",
                            "expired", "completed", "no_show"}
        assert scalar(
            "SELECT count(*) FROM bookings a JOIN bookings b ON a.space_id = b.space_id "
            "AND a.id < b.id AND a.hold_start < b.hold_end AND b.hold_start < a.hold_end"
        ) == 0
        # Every booking has a history that ends in its status.
        assert scalar(
            "SELECT count(*) FROM bookings b WHERE b.status != (SELECT t.to_status FROM "
            "booking_transitions t WHERE t.booking_id = b.id ORDER BY t.at DESC, t.id DESC "
            "LIMIT 1)"
        ) == 0
        # The spaces the booking benchmark uses are free and the token works.
        ids = ", ".join(map(str, fixture["booking_space_ids"]))
        assert scalar(f"SELECT count(*) FROM bookings WHERE space_id IN ({ids})") == 0
        digest = hashlib.sha256(fixture["token"].encode()).hexdigest()
        assert scalar("SELECT count(*) FROM api_tokens WHERE token_hash = :h", h=digest) == 1
    engine.dispose()
    assert (tmp_path / "token.txt").read_text().strip() == fixture["token"]
