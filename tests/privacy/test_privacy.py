"""Consent, "Download my data", "Delete my account" and the retention of inactive accounts."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from app.accounts import consents
from app.accounts.consents import Consent
from app.accounts.group_models import ResidentGroup, ResidentGroupMember
from app.accounts.models import ApiToken, LoginSession, User
from app.bookings.models import Booking
from app.bookings.states import BookingStatus, PaymentState
from app.notifications.models import EmailDelivery, Notification
from app.payments.models import Payment, Refund
from app.payments.states import PaymentMethod, PaymentStatus
from app.privacy import erasure, retention
from app.security.models import ACCOUNT_ERASED, SecurityEvent
from tests.conftest import next_weekday


def _signup(client, **extra):
    data = {"name": "김주민", "email": "new@example.org", "password": "long-enough-1",
            "confirm": "long-enough-1", "locale": "en", "phone": "", "district": "0"}
    data.update(extra)
    return client.post("/register", data=data)


def test_sign_up_records_the_consents_given_with_version_and_time(client, db):
    response = _signup(client, consent_booking="y", consent_statistics="y")
    assert response.status_code == 200
    user = db.session.scalars(select(User)).one()
    rows = db.session.scalars(select(Consent).where(Consent.user_id == user.id)).all()
    assert {r.purpose for r in rows} == {"booking", "statistics"}
    assert all(r.version == consents.NOTICE_VERSION and r.given_at for r in rows)


def test_sign_up_without_the_booking_consent_is_refused_and_creates_nothing(client, db):
    page = client.get("/register").get_data(as_text=True)
    assert "/privacy" in page  # the notice is linked from the form
    response = _signup(client)
    assert response.status_code == 422
    assert "please agree" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_the_privacy_notice_is_public_and_linked_from_every_page(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert "How long we keep it" in page and "1095 days" in page
    assert "전자상거래법" in page
    assert 'href="/privacy"' in client.get("/").get_data(as_text=True)


def test_optional_consents_are_withdrawn_and_given_again(client, db, factories, login):
    user = factories.user()
    consents.record(user.id, {"booking", "notifications"})
    db.session.commit()
    login(user)
    response = client.post("/account/privacy", data={"booking": "y", "statistics": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert set(consents.current(user.id)) == {"booking", "statistics"}
    withdrawn = db.session.scalars(select(Consent).where(
        Consent.purpose == "notifications")).one()
    assert withdrawn.withdrawn_at is not None
    # Withdrawing the optional emails turned them off (to the inbox only).
    from app.notifications.services import preferences_of

    prefs = preferences_of(user)
    assert prefs["booking_reminder"] == "in_app" and prefs["payment_due"] == "email"
    # Booking cannot be withdrawn on its own (deleting the account is the way).
    assert client.post("/account/privacy", data={}).status_code == 422
    assert "booking" in consents.current(user.id)


def test_an_older_account_is_asked_at_its_next_log_in(client, db, factories, login):
    user = factories.user()
    db.session.commit()
    login(user)
    page = client.get("/account").get_data(as_text=True)
    assert "Review your privacy choices" in page
    client.post("/account/privacy", data={"booking": "y"})
    assert "Review your privacy choices" not in client.get("/account").get_data(as_text=True)


def _world(db, factories, now):
    """A resident with a past and a future booking (the future one paid), a group, a
    notification and a token; another resident with their own booking."""
    space = factories.space()
    me = factories.user(name="홍길동", email="me@example.org", phone="010-1111-2222",
                         statistics=False)
    other = factories.user(name="김영희", email="other@example.org")
    past_start = next_weekday(2, weeks=-2)  # 8-14 days ago at 10:00 in Seoul, when it is open
    past = factories.booking(space, me, start=past_start, end=past_start + timedelta(hours=1),
                             status=BookingStatus.COMPLETED, now=past_start - timedelta(days=3),
                             purpose="홍길동의 생일 모임")
    start = next_weekday(2)
    future = factories.booking(space, me, start=start, end=start + timedelta(hours=1),
                               status=BookingStatus.APPROVED, now=now)
    future.price_amount = 10_000
    future.payment_status = PaymentState.PAID
    payment = Payment(booking=future, method=PaymentMethod.CASH, amount=10_000, currency="KRW",
                      status=PaymentStatus.SUCCEEDED, paid_at=now, reference="영수증 1")
    db.session.add(payment)
    theirs = factories.booking(space, other, start=start + timedelta(hours=2),
                               end=start + timedelta(hours=3), now=now, purpose="김영희 모임")
    group = ResidentGroup(name="책모임", created_by_id=me.id)
    db.session.add(group)
    db.session.flush()
    db.session.add(ResidentGroupMember(group_id=group.id, user_id=me.id, is_leader=True))
    db.session.add(Notification(user=me, kind="booking_approved", channel="in_app",
                                params={}, booking=past))
    db.session.add(Notification(user=other, kind="booking_received", channel="in_app",
                                params={}, booking=theirs))
    ApiToken.issue(me, "script")
    consents.record(me.id, {"booking"})
    db.session.commit()
    return me, other, past, future, theirs, payment


def test_export_holds_ones_own_data_and_nobody_elses(client, db, factories, login, now):
    me, other, past, future, theirs, payment = _world(db, factories, now)
    login(me)
    response = client.get("/account/export.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert data["profile"]["email"] == "me@example.org"
    assert data["profile"]["phone"] == "010-1111-2222"
    assert {b["id"] for b in data["bookings"]} == {past.id, future.id}
    assert [p["id"] for p in data["payments"]] == [payment.id]
    mine = set(db.session.scalars(select(Notification.id).where(Notification.user_id == me.id)))
    assert {n["id"] for n in data["notifications"]} == mine and mine
    assert [g["name"] for g in data["groups"]] == ["책모임"]
    assert [c["purpose"] for c in data["consents"]] == ["booking"]
    assert "김영희" not in response.get_data(as_text=True)
    assert "other@example.org" not in response.get_data(as_text=True)

    archive = zipfile.ZipFile(io.BytesIO(client.get("/account/export.zip").data))
    assert {"profile.csv", "bookings.csv", "payments.csv", "notifications.csv",
            "groups.csv", "consents.csv", "refunds.csv"} <= set(archive.namelist())
    bookings_csv = archive.read("bookings.csv").decode("utf-8-sig")
    assert "홍길동의 생일 모임" in bookings_csv and "김영희 모임" not in bookings_csv


def test_export_runs_a_bounded_number_of_queries(client, db, factories, login, now,
                                                 count_queries):
    me, *_rest = _world(db, factories, now)
    login(me)
    client.get("/account/export.json")
    with count_queries() as few:
        client.get("/account/export.json")
    space = factories.space()
    for day in range(8):
        start = next_weekday(2, weeks=-4) - timedelta(days=day)  # at 10:00, when it is open
        factories.booking(space, me, start=start, end=start + timedelta(hours=1),
                          status=BookingStatus.COMPLETED, now=start - timedelta(days=1))
    db.session.commit()
    client.get("/account/export.json")
    with count_queries() as many:
        assert client.get("/account/export.json").status_code == 200
    assert many.count == few.count <= 15


def test_export_is_rate_limited(app, client, db, factories, login, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_EXPORT_PER_ACCOUNT", "2 per hour")
    login(factories.user())
    assert client.get("/account/export.json").status_code == 200
    assert client.get("/account/export.zip").status_code == 200
    assert client.get("/account/export.json").status_code == 429


def test_the_api_export_gives_ones_own_data(client, db, factories, api_token, now):
    me, other, past, future, theirs, payment = _world(db, factories, now)
    response = client.get("/api/v1/me/export", headers=api_token(me))
    assert response.status_code == 200
    body = response.get_json()
    assert {b["id"] for b in body["bookings"]} == {past.id, future.id}
    assert body["profile"]["name"] == "홍길동"
    assert client.get("/api/v1/me/export").status_code == 401
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/me/export" in document["paths"]


def test_delete_page_says_what_is_kept_and_needs_the_password(client, db, factories, login,
                                                              now):
    me, *_rest = _world(db, factories, now)
    login(me)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "five years" in page and "1 upcoming booking" in page
    response = client.post("/account/delete", data={"password": "wrong", "understood": "y"})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, me.id).email == "me@example.org"


def test_deleting_an_account(client, db, factories, login, now):
    me, other, past, future, theirs, payment = _world(db, factories, now)
    login(me)
    response = client.post("/account/delete",
                           data={"password": "password123", "understood": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    tomb = db.session.get(User, me.id)
    # Identity gone.
    assert tomb.email == f"deleted-{me.id}@deleted.invalid"
    assert tomb.name != "홍길동" and tomb.phone is None and tomb.anonymised_at is not None
    for model in (LoginSession, ApiToken, Notification, ResidentGroupMember):
        assert db.session.scalar(
            select(func.count()).select_from(model).where(model.user_id == me.id)) == 0
    # The future booking was cancelled by the rules, and the payment refunded; the past one
    # stays for the statistics, without what was written in it.
    assert db.session.get(Booking, future.id).status == BookingStatus.CANCELLED
    assert db.session.scalar(select(Refund.amount).where(Refund.payment_id == payment.id)) \
        == 10_000
    kept = db.session.get(Booking, past.id)
    assert kept.status == BookingStatus.COMPLETED and kept.purpose == ""
    assert db.session.get(Payment, payment.id) is not None
    # Others' data untouched.
    assert db.session.get(Booking, theirs.id).purpose == "김영희 모임"
    # Logged out, and cannot log in again.
    assert client.get("/account").status_code == 302
    assert client.post("/login", data={"email": "me@example.org",
                                       "password": "password123"}).status_code == 401
    # The audit entry names no one.
    event = db.session.scalars(select(SecurityEvent).where(
        SecurityEvent.kind == ACCOUNT_ERASED)).one()
    assert "me@example.org" not in json.dumps(event.detail) and event.ip is None
    # The address is free for a new sign-up.
    response = _signup(client, email="me@example.org", consent_booking="y")
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(User.id)).where(
        User.email == "me@example.org")) == 1


def _inactive(db, factories, now, days):
    user = factories.user()
    user.created_at = user.last_active_at = now - timedelta(days=days)
    db.session.commit()
    return user


def test_retention_warns_then_anonymises_and_is_idempotent(app, db, factories, now):
    start = now.replace(microsecond=0)
    idle = _inactive(db, factories, start, 1095 - 29)
    fresh = _inactive(db, factories, start, 100)
    staff = factories.manager()
    staff.created_at = staff.last_active_at = start - timedelta(days=2000)
    db.session.commit()

    with time_machine.travel(start, tick=False):
        assert retention.sweep() == {"erased": 0, "warned": 1}
        assert retention.sweep() == {"erased": 0, "warned": 0}  # idempotent
    [mail] = db.session.scalars(select(EmailDelivery)).all()
    assert (mail.kind, mail.to_address) == ("account_retention", idle.email)

    with time_machine.travel(start + timedelta(days=29), tick=False):
        assert retention.sweep()["erased"] == 0  # not yet past the retention period
    with time_machine.travel(start + timedelta(days=31), tick=False):
        assert retention.sweep()["erased"] == 1
        assert retention.sweep()["erased"] == 0
    db.session.expire_all()
    assert db.session.get(User, idle.id).anonymised_at is not None
    assert db.session.get(User, fresh.id).anonymised_at is None
    assert db.session.get(User, staff.id).anonymised_at is None


def test_logging_in_after_the_warning_keeps_the_account(client, db, factories, login, now):
    start = now.replace(microsecond=0)
    idle = _inactive(db, factories, start, 1095 - 10)
    with time_machine.travel(start, tick=False):
        assert retention.sweep()["warned"] == 1
    with time_machine.travel(start + timedelta(days=5), tick=False):
        login(idle)
    with time_machine.travel(start + timedelta(days=40), tick=False):
        assert retention.sweep()["erased"] == 0
    db.session.expire_all()
    assert db.session.get(User, idle.id).anonymised_at is None


def test_retention_runs_bounded_queries_per_batch(app, db, factories, now, count_queries,
                                                  monkeypatch):
    monkeypatch.setitem(app.config, "ACCOUNT_RETENTION_BATCH", 3)
    start = now.replace(microsecond=0)
    for _ in range(5):
        _inactive(db, factories, start, 1095 - 1)
    with time_machine.travel(start, tick=False), count_queries() as q:
        assert retention.sweep()["warned"] == 3
    assert q.count <= 40


def test_the_retention_cli_runs_the_job(runner, db):
    result = runner.invoke(args=["privacy", "retention"])
    assert result.exit_code == 0, result.output
    assert "erased=0" in result.output


def test_erasing_twice_changes_nothing(db, factories, now):
    user = factories.user()
    db.session.commit()
    erasure.erase(user, how=erasure.BY_OWNER, now=now)
    email = user.email
    assert erasure.erase(user, how=erasure.BY_OWNER, now=now) == {"cancelled": 0}
    assert user.email == email


def test_the_privacy_and_delete_pages_run_bounded_queries(client, db, factories, login, now,
                                                          queries_of_get):
    me, *_rest = _world(db, factories, now)
    login(me)
    assert queries_of_get("/account/privacy") <= 8
    assert queries_of_get("/account/delete") <= 8
    assert queries_of_get("/privacy") <= 5


def test_the_api_export_is_rate_limited_per_token(app, client, db, factories, api_token,
                                                  monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_EXPORT_PER_ACCOUNT", "1 per hour")
    headers = api_token(factories.user())
    assert client.get("/api/v1/me/export", headers=headers).status_code == 200
    assert client.get("/api/v1/me/export", headers=headers).status_code == 429


def test_a_booking_under_way_is_not_cancelled_by_the_deletion(db, factories):
    space = factories.space()
    me = factories.user()
    now = next_weekday(2, 11)  # while the space is open
    start = now - timedelta(minutes=30)
    ongoing = factories.booking(space, me, start=start, end=start + timedelta(hours=2),
                                status=BookingStatus.APPROVED, now=start - timedelta(days=2))
    db.session.commit()
    assert erasure.erase(me, how=erasure.BY_OWNER, now=now) == {"cancelled": 0}
    assert ongoing.status == BookingStatus.APPROVED


def test_the_migration_goes_down_and_up_and_starts_activity_at_the_last_log_in(
        app, db, factories, now):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    user = factories.user()
    user.created_at = now - timedelta(days=400)
    db.session.add(LoginSession(user=user, key_hash="k" * 64, created_at=now - timedelta(days=9),
                                expires_at=now))
    db.session.commit()
    uid = user.id
    db.session.remove()
    downgrade(revision="0017")
    db.session.remove()
    upgrade()
    with db.engine.connect() as conn:
        last = conn.execute(text("SELECT last_active_at FROM users WHERE id = :id"),
                            {"id": uid}).scalar()
        assert conn.execute(text("SELECT count(*) FROM consents")).scalar() == 0
    assert str(last)[:10] == (now - timedelta(days=9)).date().isoformat()
