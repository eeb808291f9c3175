"""`flask seed demo`: a believable Seoul on an empty database, and nothing new on a second run."""

from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import User
from app.bookings.models import STATUS_LABELS, Booking, BookingTransition
from app.orgs.models import Jurisdiction, Organisation
from app.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from app.spaces.models import Closure, OpeningHours, Space


def _seed(db, now=None):
    summary = seed_demo(now=now)
    db.session.commit()
    return summary


def _counts(db) -> dict[str, int]:
    models = (Jurisdiction, Organisation, User, Space, OpeningHours, Closure, Booking,
              BookingTransition)
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in models}


def test_seed_builds_thirty_published_spaces_in_six_districts(db, now):
    summary = _seed(db, now)

    spaces = db.session.scalars(select(Space).where(Space.published.is_(True))).all()
    assert len(spaces) >= 30
    districts = {j.slug for s in spaces for j in s.jurisdictions if j.kind == "district"}
    assert districts == {"gangbuk", "dobong", "jongno", "yongsan", "yeongdeungpo", "gangdong"}
    assert all(s.latitude and s.longitude and s.address.startswith("서울특별시") for s in spaces)
    assert any(s.price_per_hour == 0 for s in spaces)
    assert {s.booking_mode for s in spaces} == {"instant", "request"}

    # A school's rooms answer to the district and the education office, and open after lessons.
    schools = [s for s in spaces if s.owner.kind == "school"]
    assert schools
    for space in schools:
        assert {j.kind for j in space.jurisdictions} == {"district", "education_office"}
        weekday_hours = [h for h in space.opening_hours if h.weekday < 5]
        assert all(h.open_minute >= 18 * 60 for h in weekday_hours)

    seoul = db.session.scalars(select(Jurisdiction).where(Jurisdiction.slug == "seoul")).one()
    gangbuk = db.session.scalars(select(Jurisdiction).where(Jurisdiction.slug == "gangbuk")).one()
    assert gangbuk.parent_id == seoul.id and gangbuk.name_en == "Gangbuk-gu"
    assert db.session.scalar(select(func.count(Closure.id))) > 0
    assert "36 published spaces" in summary


def test_seed_has_bookings_in_every_state_with_real_history(db, now):
    _seed(db, now)

    bookings = db.session.scalars(select(Booking)).all()
    # A checkout in progress holds its slot for minutes only; the demo does not keep one.
    assert {b.status for b in bookings} == set(STATUS_LABELS) - {"awaiting_payment"}
    assert any(b.start_at < now for b in bookings) and any(b.start_at > now for b in bookings)
    for booking in bookings:
        history = booking.transitions
        assert history[0].from_status is None
        assert history[-1].to_status == booking.status
        assert all(t.at <= now for t in history)
        assert booking.created_at <= booking.start_at
    assert all(b.reason for b in bookings if b.status == "rejected")
    # Money: past paid bookings were paid; only upcoming approved ones may still owe it.
    owing = [b for b in bookings if b.payment_status in ("due", "hold_pending")]
    assert all(b.status == "approved" and b.start_at > now for b in owing)
    assert any(b.payment_status == "paid" for b in bookings) and owing
    active_future = [b for b in bookings if b.status in ("requested", "approved", "confirmed")]
    assert all(b.start_at > now for b in active_future)


def test_each_demo_account_logs_in_with_its_role(app, db):
    _seed(db)

    for email, role, _description in DEMO_ACCOUNTS:
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        user = db.session.scalars(select(User).where(User.email == email)).one()
        assert role in user.role_names, email
        # Demo accounts can book at once: their addresses count as confirmed.
        assert user.email_verified_at is not None, email
    en = db.session.scalars(select(User).where(User.email == "en.resident@example.kr")).one()
    assert en.locale == "en" and en.home_district.slug == "yongsan"
    sen = db.session.scalars(select(User).where(User.email == "officer@sen.go.kr")).one()
    school_gym = db.session.scalars(select(Space).where(Space.name == "번동초등학교 체육관")).one()
    assert school_gym.can_oversee(sen)


def test_demo_residents_are_verified_and_the_gangbuk_officer_has_a_claim_to_decide(db, now):
    from app.accounts.verification import pending_for, verified_waivers
    from app.accounts.verification_models import Verification

    _seed(db, now)
    residents = db.session.scalars(select(User).where(User.home_district_id.isnot(None))).all()
    assert residents and all(u.verified_home_district_id == u.home_district_id
                             for u in residents)
    officer = db.session.scalars(select(User).where(User.email == "officer@gangbuk.go.kr")).one()
    [claim] = db.session.scalars(pending_for(officer)).unique().all()
    assert (claim.user.email, claim.kind, claim.category) == (
        "resident@example.kr", "waiver", "multi_child")
    assert verified_waivers(claim.user) == frozenset()
    before = db.session.scalar(select(func.count()).select_from(Verification))
    _seed(db, now)
    assert db.session.scalar(select(func.count()).select_from(Verification)) == before


def test_seed_twice_changes_nothing(db, now):
    _seed(db, now)
    first = _counts(db)
    summary = _seed(db, now)
    assert _counts(db) == first
    assert "0 new bookings" in summary and "(0 new)" in summary


def test_the_demo_statistics_show_utilisation_and_demand_for_the_past_weeks(db, now):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from app.stats import events
    from app.stats.queries import Filters, Scope, dashboard

    _seed(db, now)
    today = now.astimezone(ZoneInfo("Asia/Seoul")).date()
    assert events.closed_through() == events.last_closable(now) >= today - timedelta(days=2)
    d = dashboard(Scope(everything=True), Filters(today - timedelta(days=27), today))
    assert d.summary["open_hours"] > 0 and d.summary["booked_hours"] > 0
    assert 0 < d.summary["utilisation"] < 1
    assert d.summary["requests"] > 0 and d.summary["approved"] > 0


def test_demo_people_consented_to_every_purpose_so_the_dashboard_counts_them(app, db, now):
    from app.accounts import consents

    seed_demo(now=now)
    for email, _role, _desc in DEMO_ACCOUNTS:
        user = db.session.scalars(select(User).where(User.email == email)).one()
        assert set(consents.current(user.id)) == set(consents.PURPOSES), email
