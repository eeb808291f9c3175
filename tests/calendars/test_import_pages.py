"""The external-calendar pages of a space and of an organisation, and `flask calendars sync`."""

from __future__ import annotations

import html
import io
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.bookings.models import Booking
from app.calendars.models import ExternalCalendar
from app.spaces.models import Closure
from tests.conftest import next_weekday

FIXTURES = Path(__file__).parent / "fixtures"


def stamp(dt) -> str:
    return dt.strftime("%Y%m%dT%H%M%SZ")


def ics(*events: tuple[str, object, object, str]) -> bytes:
    """A calendar of (uid, start, end, summary) events at UTC instants."""
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:{stamp(start)}\r\n"
        f"DTEND:{stamp(end)}\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\n"
        for uid, start, end, summary in events
    )
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + body + "END:VCALENDAR\r\n"
    ).encode()


class Feed(BaseHTTPRequestHandler):
    """Serves whatever `server.files[path]` holds (404 otherwise)."""

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        body = self.server.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")


@pytest.fixture
def feed_server(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALENDAR_FETCH_ALLOW_PRIVATE", True)
    monkeypatch.setitem(app.config, "CALENDAR_FETCH_TIMEOUT", 2)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    server.daemon_threads = True
    server.files = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def world(factories, db):
    org = factories.org()
    space = factories.space(owner=org)
    manager = factories.manager(org)
    resident = factories.user()
    start = next_weekday(2, 10)
    booking = factories.booking(space, resident, start=start, end=start + timedelta(hours=2))
    db.session.commit()
    return {"org": org, "space": space, "manager": manager, "resident": resident,
            "booking": booking, "start": start}


def count_closures(db) -> int:
    return db.session.scalar(select(func.count(Closure.id)))


def test_upload_a_file_lists_colliding_bookings(client, login, world, db):
    login(world["manager"])
    space, start = world["space"], world["start"]
    data = ics(("inspection", start + timedelta(hours=1), start + timedelta(hours=3), "점검"),
               ("later", start + timedelta(days=2), start + timedelta(days=3), "방학"))
    response = client.post(
        f"/manage/spaces/{space.id}/calendars?lang=en",
        data={"name": "학사일정", "url": "", "file": (io.BytesIO(data), "school.ics")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    ext = db.session.scalars(select(ExternalCalendar)).one()
    assert (ext.name, ext.filename, ext.url, ext.space_id) == ("학사일정", "school.ics", None,
                                                               space.id)
    assert count_closures(db) == 2
    booking_url = f"/bookings/{world['booking'].id}"
    assert f'href="{booking_url}"' in page
    assert f'data-booking="{world["booking"].id}"' in page
    booking = db.session.get(Booking, world["booking"].id)
    assert booking.is_active  # listed, not cancelled


def test_add_by_url_fetches_now_and_sync_refreshes(client, login, world, db, feed_server):
    login(world["manager"])
    space, start = world["space"], world["start"]
    feed_server.files["/school.ics"] = ics(
        ("a", start + timedelta(days=5), start + timedelta(days=6), "체육대회"))
    response = client.post(
        f"/manage/spaces/{space.id}/calendars",
        data={"name": "학교 달력", "url": feed_server.url + "/school.ics"},
    )
    assert response.status_code == 302
    ext = db.session.scalars(select(ExternalCalendar)).one()
    assert ext.url == feed_server.url + "/school.ics" and ext.last_result["added"] == 1

    feed_server.files["/school.ics"] = ics(
        ("b", start + timedelta(days=7), start + timedelta(days=8), "개교기념일"))
    response = client.post(f"/manage/external-calendars/{ext.id}/sync")
    assert response.status_code == 302
    db.session.expire_all()
    assert [c.reason for c in db.session.scalars(select(Closure))] == ["개교기념일"]
    assert ext.last_result == {"events": 1, "added": 1, "updated": 0, "removed": 1,
                               "collisions": 0}

    # The server now answers 404: the error is recorded, the closures stay.
    del feed_server.files["/school.ics"]
    response = client.post(f"/manage/external-calendars/{ext.id}/sync?lang=en",
                           follow_redirects=True)
    assert response.status_code == 200
    assert "HTTP status 404" in response.get_data(as_text=True)
    db.session.expire_all()
    assert "404" in ext.last_error
    assert count_closures(db) == 1


def test_bad_input_is_422_and_saves_nothing(client, login, world, db, app, monkeypatch):
    login(world["manager"])
    url = f"/manage/spaces/{world['space'].id}/calendars?lang=en"
    cases = [
        ({"name": "x"}, "Give the calendar's address or upload"),
        ({"name": "", "url": "https://example.org/a.ics"}, "This field is required"),
        ({"name": "x", "url": "ftp://example.org/a.ics"}, "Only http:// and https://"),
        ({"name": "x", "url": "http://127.0.0.1:5000/a.ics"}, "private or local network"),
        ({"name": "x", "file": (io.BytesIO(b"<html>nope</html>"), "a.ics")},
         "not an iCalendar"),
        ({"name": "x", "file": (io.BytesIO(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"), "a.ics")},
         "damaged or incomplete"),
        ({"name": "x", "file": (io.BytesIO(b"BEGIN:VCALENDAR\r\n" + b"x" * (10 * 2**20 + 1)),
                                "big.ics")}, "larger than 10 MB"),
    ]
    for data, message in cases:
        response = client.post(url, data=data, content_type="multipart/form-data")
        assert response.status_code == 422, data
        assert message in html.unescape(response.get_data(as_text=True)), message
    assert db.session.scalar(select(func.count(ExternalCalendar.id))) == 0
    assert count_closures(db) == 0


def test_reupload_and_delete(client, login, world, db):
    login(world["manager"])
    space, start = world["space"], world["start"]
    first = ics(("a", start + timedelta(days=5), start + timedelta(days=6), "A"),
                ("b", start + timedelta(days=7), start + timedelta(days=8), "B"))
    client.post(f"/manage/spaces/{space.id}/calendars",
                data={"name": "file", "file": (io.BytesIO(first), "v1.ics")},
                content_type="multipart/form-data")
    ext = db.session.scalars(select(ExternalCalendar)).one()
    # Syncing an uploaded calendar needs the file again.
    response = client.post(f"/manage/external-calendars/{ext.id}/sync?lang=en",
                           follow_redirects=True)
    assert "choose the file again" in response.get_data(as_text=True)
    second = ics(("a", start + timedelta(days=5), start + timedelta(days=6, hours=2), "A"))
    response = client.post(f"/manage/external-calendars/{ext.id}/sync",
                           data={"file": (io.BytesIO(second), "v2.ics")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.expire_all()
    assert ext.filename == "v2.ics" and ext.last_error is None
    assert ext.last_result == {"events": 1, "added": 0, "updated": 1, "removed": 1,
                               "collisions": 0}
    manual = Closure(space_id=space.id, start_at=start + timedelta(days=20),
                     end_at=start + timedelta(days=21), reason="manual")
    db.session.add(manual)
    db.session.commit()
    response = client.post(f"/manage/external-calendars/{ext.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/manage/spaces/{space.id}/calendars")
    db.session.expire_all()
    assert db.session.scalar(select(func.count(ExternalCalendar.id))) == 0
    assert [c.reason for c in db.session.scalars(select(Closure))] == ["manual"]


def test_organisation_calendar(client, login, world, db, factories):
    org, start = world["org"], world["start"]
    second = factories.space(owner=org, name="운동장")
    staff = factories.user()
    from app.orgs.models import OrgMembership

    db.session.add(OrgMembership(user=staff, organisation=org, role="staff"))
    db.session.commit()
    login(staff)
    response = client.post(
        f"/manage/organisations/{org.id}/calendars",
        data={"name": "학사일정",
              "file": (io.BytesIO(ics(("h", start, start + timedelta(days=1), "방학"))),
                       "h.ics")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    rows = list(db.session.scalars(select(Closure)))
    assert {c.space_id for c in rows} == {world["space"].id, second.id}
    page = client.get(f"/manage/organisations/{org.id}/calendars").get_data(as_text=True)
    assert f'data-booking="{world["booking"].id}"' in page
    # The space's own page names the organisation's calendar and links to it.
    page = client.get(f"/manage/spaces/{second.id}/calendars").get_data(as_text=True)
    assert "학사일정" in page and f'href="/manage/organisations/{org.id}/calendars"' in page


def test_access(client, login, world, db, factories):
    space, org = world["space"], world["org"]
    ext = ExternalCalendar(space_id=space.id, name="x", filename="x.ics")
    org_ext = ExternalCalendar(organisation_id=org.id, name="y", filename="y.ics")
    db.session.add_all([ext, org_ext])
    db.session.commit()
    urls = [
        ("GET", f"/manage/spaces/{space.id}/calendars"),
        ("GET", f"/manage/organisations/{org.id}/calendars"),
        ("POST", f"/manage/external-calendars/{ext.id}/sync"),
        ("POST", f"/manage/external-calendars/{org_ext.id}/sync"),
        ("POST", f"/manage/external-calendars/{org_ext.id}/delete"),
        ("POST", f"/manage/external-calendars/{ext.id}/delete"),
    ]
    for method, url in urls:
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    other_manager = factories.manager(factories.org())
    for user in (world["resident"], other_manager):
        login(user)
        for method, url in urls:
            assert client.open(url, method=method).status_code == 404, (user, url)
    login(world["manager"])
    for method, url in urls:
        assert client.open(url, method=method).status_code in (200, 302), url
    assert db.session.scalar(select(func.count(ExternalCalendar.id))) == 0


def test_closures_page_links_to_the_calendars(client, login, world):
    login(world["manager"])
    page = client.get(f"/manage/spaces/{world['space'].id}/closures").get_data(as_text=True)
    assert f'href="/manage/spaces/{world["space"].id}/calendars"' in page


def test_cli_sync(runner, world, db, feed_server, factories):
    space, start = world["space"], world["start"]
    feed_server.files["/ok.ics"] = ics(
        ("ok", start + timedelta(hours=1), start + timedelta(hours=2), "점검"))
    good = ExternalCalendar(space_id=space.id, name="good", url=feed_server.url + "/ok.ics")
    broken = ExternalCalendar(space_id=space.id, name="broken",
                              url=feed_server.url + "/missing.ics")
    uploaded = ExternalCalendar(space_id=space.id, name="file", filename="f.ics")
    org_feed = ExternalCalendar(organisation_id=world["org"].id, name="org",
                                url=feed_server.url + "/org.ics")
    feed_server.files["/org.ics"] = (FIXTURES / "google_school.ics").read_bytes()
    db.session.add_all([good, broken, uploaded, org_feed])
    db.session.commit()
    ids = good.id, broken.id, uploaded.id, org_feed.id

    result = runner.invoke(args=["calendars", "sync"])
    assert result.exit_code == 1, result.output
    assert f"#{ids[0]} good: events=1 added=1 updated=0 removed=0 collisions=1" in result.output
    assert f"#{ids[1]} broken: failed:" in result.output
    assert "calendars=3 failed=1" in result.output
    db.session.expire_all()
    good, broken, uploaded, org_feed = (db.session.get(ExternalCalendar, i) for i in ids)
    assert good.last_error is None and good.last_result["collisions"] == 1
    assert broken.last_error and "404" in broken.last_error and broken.last_synced_at is None
    assert uploaded.last_synced_at is None
    assert org_feed.last_synced_at is not None  # imported after the broken one failed
    assert db.session.get(Booking, world["booking"].id).is_active

    feed_server.files["/missing.ics"] = ics()
    result = runner.invoke(args=["calendars", "sync"])
    assert result.exit_code == 0, result.output
    assert "added=0 updated=0 removed=0" in result.output
    db.session.expire_all()
    assert db.session.get(ExternalCalendar, ids[1]).last_error is None
