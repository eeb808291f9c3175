"""The notification pages: the inbox (opening marks read and goes to the page), the unread
badge in the header, preferences (refused input saves nothing), the development mail page and
the admins' outbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.notifications import services
from app.notifications.delivery import deliver
from app.notifications.models import EmailDelivery, Notification, NotificationPreference
from tests.conftest import next_weekday

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def world(factories):
    org = factories.org(name="번동초등학교")
    manager = factories.manager(org, email="manager@example.kr")
    resident = factories.user(email="resident@example.kr", name="김주민")
    space = factories.space(owner=org, name="번동초 다목적실")
    start = next_weekday(2, 10)
    booking = factories.booking(space, resident, start=start, end=start + timedelta(hours=2))
    db.session.commit()
    return {"manager": manager, "resident": resident, "space": space, "booking": booking,
            "start": start}


def notes_of(user) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    ))


def add_copies(note: Notification, n: int) -> None:
    """`n` more notifications like `note` (same kind and words), newer ones last."""
    for i in range(n):
        db.session.add(Notification(user_id=note.user_id, kind=note.kind, channel="in_app",
                                    booking_id=note.booking_id, params=note.params,
                                    created_at=note.created_at + timedelta(minutes=i + 1)))
    db.session.commit()


def unread_badge(html: str) -> str | None:
    found = re.search(r'class="count-badge"[^>]*>([^<]+)<', html)
    return found.group(1) if found else None


# --------------------------------------------------------------------------- inbox
def test_the_inbox_lists_newest_first_with_title_kind_and_unread_marker(client, login, world):
    [note] = notes_of(world["resident"])
    assert note.kind == "booking_received"
    login(world["resident"])
    html = client.get("/notifications").get_data(as_text=True)
    assert "Request received: 번동초 다목적실" in html
    assert "Request received" in html  # the kind's label
    assert f'id="notification-{note.id}"' in html and "inbox-item unread" in html
    assert f"/notifications/{note.id}/open" in html
    assert unread_badge(html) == "1" and "1 unread" in html


def test_opening_marks_read_and_goes_to_the_booking(client, login, world):
    [note] = notes_of(world["resident"])
    login(world["resident"])
    response = client.get(f"/notifications/{note.id}/open")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/bookings/{world['booking'].id}")
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is not None
    html = client.get("/notifications").get_data(as_text=True)
    assert unread_badge(html) is None and "inbox-item unread" not in html
    # Opening again still goes there and changes nothing.
    assert client.get(f"/notifications/{note.id}/open").status_code == 302


def test_someone_else_s_notification_is_not_found(client, login, world, factories):
    [note] = notes_of(world["resident"])
    stranger = factories.user(email="stranger@example.kr")
    db.session.commit()
    login(stranger)
    assert client.get(f"/notifications/{note.id}/open").status_code == 404
    assert client.post(f"/notifications/{note.id}/read").status_code == 404
    assert client.get("/notifications/999999/open").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is None


def test_mark_one_and_mark_all_read_and_the_unread_filter(client, login, world):
    [note] = notes_of(world["resident"])
    add_copies(note, 2)
    first, second, third = notes_of(world["resident"])
    login(world["resident"])
    response = client.post(f"/notifications/{first.id}/read", data={"next": "/notifications"})
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"
    html = client.get("/notifications?show=unread").get_data(as_text=True)
    assert f"notification-{first.id}" not in html and f"notification-{third.id}" in html
    assert unread_badge(html) == "2"
    # An address elsewhere is not followed.
    response = client.post("/notifications/read-all", data={"next": "https://evil.example/"})
    assert response.headers["Location"] == "/notifications"
    db.session.expire_all()
    assert all(n.read_at is not None for n in notes_of(world["resident"]))
    html = client.get("/notifications?show=unread").get_data(as_text=True)
    assert "You have no unread notifications." in html


def test_the_inbox_pages_and_needs_a_login(client, login, world):
    assert client.get("/notifications").status_code == 302
    [note] = notes_of(world["resident"])
    # 25 notifications about no booking: each is an entry of its own, 20 to a page.
    for i in range(25):
        db.session.add(Notification(user_id=note.user_id, kind="booking_received",
                                    channel="in_app", params=note.params,
                                    created_at=note.created_at - timedelta(minutes=i + 1)))
    db.session.commit()
    login(world["resident"])
    first = client.get("/notifications").get_data(as_text=True)
    assert first.count('class="inbox-item') == 20 and 'rel="next"' in first
    assert f"notification-{note.id}" in first  # the newest comes first
    second = client.get("/notifications?page=2").get_data(as_text=True)
    assert second.count('class="inbox-item') == 6
    assert client.get("/notifications?page=99999999999").status_code == 200


def test_the_inbox_runs_as_many_queries_for_30_notifications_as_for_1(world, login,
                                                                      queries_of_get):
    login(world["resident"])
    one = queries_of_get("/notifications")
    [note] = notes_of(world["resident"])
    add_copies(note, 29)
    thirty = queries_of_get("/notifications")
    assert thirty == one, (one, thirty)


def test_the_header_badge_costs_one_query(client, login, world, count_queries):
    login(world["resident"])
    client.get("/spaces/")
    with count_queries() as q:
        assert client.get("/spaces/").status_code == 200
    counts = [s for s in q.statements if "notifications" in s]
    assert len(counts) == 1 and "count(" in counts[0].lower()
    client.get("/logout")
    client.post("/logout")
    with count_queries() as q:
        html = client.get("/spaces/").get_data(as_text=True)
    assert not [s for s in q.statements if "FROM notifications" in s]
    assert "count-badge" not in html


# --------------------------------------------------------------------------- preferences
def test_preferences_show_the_kinds_of_one_s_roles(client, login, world):
    login(world["resident"])
    html = client.get("/account/notifications").get_data(as_text=True)
    assert "Your bookings" in html and "Requests you decide" not in html
    assert 'name="kind-booking_cancelled"' in html
    # Mandatory: no "off" choice, and it says so.
    assert 'name="kind-booking_cancelled" value="off"' not in html
    assert 'name="kind-booking_rejected" value="off"' in html
    assert "cannot be turned off" in html
    login(world["manager"])
    html = client.get("/account/notifications").get_data(as_text=True)
    assert "Requests you decide" in html and 'name="kind-approval_requested" value="digest"' in html
    assert "/account/notifications" in client.get("/account").get_data(as_text=True)


def test_preferences_are_saved(client, login, world):
    login(world["manager"])
    response = client.post("/account/notifications", data={
        "kind-approval_requested": "digest", "kind-booking_rejected": "off",
        "reminder_hours": "2"})
    assert response.status_code == 302
    db.session.expire_all()
    prefs = services.preferences_of(world["manager"])
    assert prefs["approval_requested"] == "digest" and prefs["booking_rejected"] == "off"
    assert world["manager"].reminder_hours == 2
    html = client.get("/account/notifications").get_data(as_text=True)
    assert 'value="digest" checked' in html and '<option value="2" selected>' in html


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"kind-booking_cancelled": "off"}, "kind-booking_cancelled", "cannot be turned off"),
    ({"kind-booking_rejected": "digest"}, "kind-booking_rejected", "Choose one of the options"),
    ({"kind-no_such_kind": "email"}, None, "no such kind"),
    ({"kind-approval_requested": "email"}, None, "no such kind"),  # not the resident's
    ({"reminder_hours": "5"}, "reminder_hours", "reminder times shown"),
    ({"reminder_hours": "abc"}, "reminder_hours", "reminder times shown"),
])
def test_refused_preferences_save_nothing(client, login, world, data, field, message):
    login(world["resident"])
    response = client.post("/account/notifications",
                           data={"kind-booking_received": "in_app", **data})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "Nothing was saved" in html
    if field:
        assert f'id="{field}-error"' in html
    db.session.expire_all()
    assert db.session.scalars(select(NotificationPreference)).all() == []
    assert world["resident"].reminder_hours == 24


# --------------------------------------------------------------------------- dev mail
def test_dev_mail_shows_one_s_own_emails_and_admins_see_all(client, login, world, factories):
    rows = db.session.scalars(select(EmailDelivery).order_by(EmailDelivery.id)).all()
    mine = next(r for r in rows if r.to_address == world["resident"].email)
    theirs = next(r for r in rows if r.to_address != world["resident"].email)
    assert deliver(mine.id) == "sent"  # a test's own commit runs no job
    login(world["resident"])
    html = client.get("/dev/mail").get_data(as_text=True)
    assert world["resident"].email in html and theirs.to_address not in html
    assert client.get(f"/dev/mail/{theirs.id}").status_code == 404
    page = client.get(f"/dev/mail/{mine.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    db.session.refresh(mine)
    assert mine.subject and mine.subject.replace("<", "&lt;") in html
    frame = f'src="/dev/mail/{mine.id}/html"'
    assert "<iframe" in html and "sandbox" in html and frame in html
    # The email's HTML is its own document, whose policy lets its inline styles apply and
    # nothing run; another person's is not found.
    body = client.get(f"/dev/mail/{mine.id}/html")
    assert body.get_data(as_text=True) == mine.body_html
    policy = body.headers["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy and "default-src 'none'" in policy
    assert "script-src" not in policy
    assert client.get(f"/dev/mail/{theirs.id}/html").status_code == 404
    assert "Message-ID" in html and "Auto-Submitted" in html
    admin = factories.user(email="admin@example.kr", is_admin=True)
    db.session.commit()
    login(admin)
    html = client.get("/dev/mail").get_data(as_text=True)
    assert world["resident"].email in html and theirs.to_address in html


def test_dev_mail_names_the_calendar_attachment(client, login, world):
    from app.bookings import services as booking_services

    booking_services.approve(world["booking"], world["manager"])
    db.session.commit()
    row = db.session.scalars(select(EmailDelivery).where(
        EmailDelivery.kind == "booking_approved")).one()
    assert deliver(row.id) == "sent"
    login(world["resident"])
    html = client.get(f"/dev/mail/{row.id}").get_data(as_text=True)
    assert f"booking-{world['booking'].id}.ics" in html


def test_dev_mail_is_not_found_with_a_mail_server(app, client, login, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    login(world["resident"])
    assert client.get("/dev/mail").status_code == 404
    row = db.session.scalars(select(EmailDelivery)).first()
    assert client.get(f"/dev/mail/{row.id}").status_code == 404
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "console")
    assert client.get("/dev/mail").status_code == 200


# --------------------------------------------------------------------------- admin outbox
def test_the_outbox_shows_failures_and_sends_again(client, login, world, factories):
    row = db.session.scalars(select(EmailDelivery)).first()
    row.status, row.attempts, row.last_error = "failed", 8, "550 5.1.1 no such user"
    db.session.commit()
    admin = factories.user(email="admin@example.kr", is_admin=True)
    db.session.commit()
    login(world["resident"])
    assert client.get("/admin/outbox").status_code == 403
    assert client.post(f"/admin/outbox/{row.id}/retry").status_code == 403
    login(admin)
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert "550 5.1.1 no such user" in html and f"/admin/outbox/{row.id}/retry" in html
    response = client.post(f"/admin/outbox/{row.id}/retry")
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(EmailDelivery, row.id)
    # Sent again at once (the development backend accepts everything), attempts counted on.
    assert row.status in ("pending", "sent") and row.attempts >= 8
    assert client.post("/admin/outbox/999999/retry").status_code == 404
