"""Fetching a calendar by URL: a local HTTP server (with CALENDAR_FETCH_ALLOW_PRIVATE) for
redirects, time-outs and the size cap; private and local addresses refused without it.
DNS rebinding is in test_fetch_pinning.py."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.calendars import fetch as fetch_module
from app.calendars.fetch import fetch, is_public_address
from app.calendars.imports import MAX_BYTES
from app.errors import ValidationFailed

GOOGLE = (Path(__file__).parent / "fixtures" / "google_school.ics").read_bytes()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):  # keep the test output quiet
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        path = self.path
        self.server.hits.append(path)
        self.server.requests.append((self.headers.get("Host"), path))
        if path == "/cal.ics":
            self._send(200, GOOGLE, {"Content-Type": "text/calendar",
                                     "Content-Length": str(len(GOOGLE))})
        elif path == "/redirect":
            self._send(302, headers={"Location": "/cal.ics"})
        elif path.startswith("/loop"):
            n = int(path.removeprefix("/loop") or 0)
            self._send(301, headers={"Location": f"/loop{n + 1}"})
        elif path == "/to-loopback":
            self._send(302, headers={"Location": "http://127.0.0.1:9/cal.ics"})
        elif path == "/away":  # to another name, on this server's port
            self._send(302, headers={
                "Location": f"http://other.example.org:{self.server.server_port}/cal.ics"})
        elif path == "/slow":
            time.sleep(3)
            self._send(200, GOOGLE)
        elif path == "/big":
            # No Content-Length: the cap must hold while streaming.
            self.send_response(200)
            self.end_headers()
            chunk = b"X-FILLER:" + b"x" * 65_000 + b"\r\n"
            try:
                self.wfile.write(b"BEGIN:VCALENDAR\r\n")
                for _ in range(MAX_BYTES // len(chunk) + 20):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path == "/big-declared":
            self._send(200, b"BEGIN:VCALENDAR\r\n",
                       {"Content-Length": str(MAX_BYTES + 1)})
        else:
            self._send(404, b"not found")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler=Handler):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)
        self.hits = []
        self.requests = []  # (Host header, path)
        host = f"[{address[0]}]" if ":" in address[0] else address[0]
        self.url = f"http://{host}:{self.server_port}"


@contextmanager
def serving(server: Server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def calendar_server():
    with serving(Server(("127.0.0.1", 0))) as server:
        yield server


@pytest.fixture
def allow_private(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALENDAR_FETCH_ALLOW_PRIVATE", True)
    monkeypatch.setitem(app.config, "CALENDAR_FETCH_TIMEOUT", 0.5)


def test_fetches_from_a_server(calendar_server, allow_private, english):
    assert fetch(calendar_server.url + "/cal.ics") == GOOGLE


def test_follows_a_redirect(calendar_server, allow_private, english):
    assert fetch(calendar_server.url + "/redirect") == GOOGLE
    assert calendar_server.hits == ["/redirect", "/cal.ics"]


def test_stops_after_three_redirects(calendar_server, allow_private, english):
    with pytest.raises(ValidationFailed, match="redirects too many times"):
        fetch(calendar_server.url + "/loop")
    assert calendar_server.hits == ["/loop", "/loop1", "/loop2", "/loop3"]


def test_a_server_that_does_not_answer_times_out(calendar_server, allow_private, english):
    started = time.monotonic()
    with pytest.raises(ValidationFailed, match="did not answer within"):
        fetch(calendar_server.url + "/slow")
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("path", ["/big", "/big-declared"])
def test_size_cap(calendar_server, allow_private, english, path):
    with pytest.raises(ValidationFailed, match="larger than 10 MB"):
        fetch(calendar_server.url + path)


def test_http_errors_are_reported(calendar_server, allow_private, english):
    with pytest.raises(ValidationFailed, match="HTTP status 404"):
        fetch(calendar_server.url + "/missing.ics")


def test_unreachable_server(allow_private, english):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(ValidationFailed, match="could not be reached"):
        fetch(f"http://127.0.0.1:{port}/cal.ics")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/cal.ics",
        "http://10.0.0.1/cal.ics",
        "http://192.168.0.10/cal.ics",
        "http://[::1]/cal.ics",
        "http://[::ffff:127.0.0.1]/cal.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/",
        "http://localhost/cal.ics",
    ],
)
def test_private_and_local_addresses_are_refused(app, english, monkeypatch, url):
    monkeypatch.setitem(app.config, "CALENDAR_FETCH_ALLOW_PRIVATE", False)

    def no_request(*args, **kwargs):
        raise AssertionError("nothing may be requested")

    monkeypatch.setattr(fetch_module, "_request", no_request)
    with pytest.raises(ValidationFailed, match="private or local network") as caught:
        fetch(url)
    assert caught.value.errors == {"url": [caught.value.message]}


def test_the_local_test_server_itself_is_refused_without_the_flag(calendar_server, english):
    with pytest.raises(ValidationFailed, match="private or local network"):
        fetch(calendar_server.url + "/cal.ics")
    assert calendar_server.hits == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "Only http:// and https://"),
        ("ftp://example.org/cal.ics", "Only http:// and https://"),
        ("http:///cal.ics", "not a valid URL"),
        ("http://example.org:99999/cal.ics", "not a valid URL"),
        ("http://no-such-host.invalid/cal.ics", "could not be found"),
    ],
)
def test_bad_addresses(app, english, monkeypatch, url, message):
    monkeypatch.setitem(app.config, "CALENDAR_FETCH_ALLOW_PRIVATE", False)
    with pytest.raises(ValidationFailed, match=message):
        fetch(url)


def test_public_address_check():
    assert is_public_address("93.184.215.14")
    assert is_public_address("2606:4700:4700::1111")
    for address in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                    "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "::1", "fe80::1%eth0",
                    "fc00::1", "::ffff:10.0.0.1", "2002:7f00:1::", "not an address"):
        assert not is_public_address(address), address
