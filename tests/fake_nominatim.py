"""A fake Nominatim server for tests: real HTTP on 127.0.0.1, answers /search like the real one.

    with FakeNominatim() as fake:
        fake.places["서울 강북구 도봉로 1"] = (37.6397, 127.0256)
        app.config.update(fake.config)
        ...
        fake.mode = "error"    # answer 500
        fake.mode = "slow"     # answer after `delay` seconds (longer than the client's timeout)
        fake.mode = "garbage"  # answer 200 with a body that is not JSON

`fake.requests` records the query string and User-Agent of every request. Every fake knows
the stations and places of `PLACES` (what residents type into search), so tests of the search
page need not set them up.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Places people search for, near the demo's spaces (points from OpenStreetMap, rounded).
PLACES: dict[str, tuple[float, float]] = {
    "미아역": (37.6267, 127.0262),
    "미아사거리역": (37.6133, 127.0300),
    "수유역": (37.6380, 127.0257),
    "쌍문역": (37.6485, 127.0347),
    "혜화역": (37.5822, 127.0019),
    "북서울꿈의숲": (37.6206, 127.0410),
}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self):  # noqa: N802 - the http.server API
        fake = self.server.fake
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        fake.requests.append(
            {"path": url.path, "query": query, "user_agent": self.headers.get("User-Agent")}
        )
        if fake.mode == "slow":
            time.sleep(fake.delay)
        if fake.mode == "error":
            self._send(500, b"<html>Internal Server Error</html>", "text/html")
            return
        if fake.mode == "garbage":
            self._send(200, b"<html>not json</html>", "text/html")
            return
        if url.path != "/search":
            self._send(404, b'{"error": "not found"}')
            return
        text = query.get("q", "")
        hits = []
        if text in fake.places:
            lat, lon = fake.places[text]
            hits.append(
                {
                    "place_id": 1,
                    "licence": "Data © OpenStreetMap contributors, ODbL 1.0.",
                    "osm_type": "way",
                    "osm_id": 1,
                    "lat": f"{lat:.7f}",
                    "lon": f"{lon:.7f}",
                    "class": "building",
                    "type": "yes",
                    "place_rank": 30,
                    "importance": 0.1,
                    "addresstype": "building",
                    "name": "",
                    "display_name": f"{text}, 대한민국",
                    "boundingbox": [
                        f"{lat - 0.001:.7f}",
                        f"{lat + 0.001:.7f}",
                        f"{lon - 0.001:.7f}",
                        f"{lon + 0.001:.7f}",
                    ],
                }
            )
        limit = int(query.get("limit", "10") or 10)
        self._send(200, json.dumps(hits[:limit], ensure_ascii=False).encode())

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (timeout tests)

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeNominatim


class FakeNominatim:
    def __init__(self) -> None:
        self.places: dict[str, tuple[float, float]] = dict(PLACES)
        self.mode = "ok"
        self.delay = 2.0
        self.requests: list[dict] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def config(self) -> dict:
        """App settings that point geopy's Nominatim at this server."""
        return {
            "GEOCODER": "nominatim",
            "GEOCODER_DOMAIN": f"127.0.0.1:{self.port}",
            "GEOCODER_SCHEME": "http",
            "GEOCODER_TIMEOUT": 0.5,
            "GEOCODER_USER_AGENT": "gonggan-tests",
        }

    def start(self) -> FakeNominatim:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeNominatim:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@contextmanager
def fake_nominatim_for(app):
    """Run a FakeNominatim and point `app`'s geocoder at it; settings are restored after."""
    with FakeNominatim() as fake:
        saved = {key: app.config.get(key) for key in fake.config}
        app.config.update(fake.config)
        app.extensions.pop("geocode_cache", None)  # place names looked up by earlier tests
        try:
            yield fake
        finally:
            app.config.update(saved)
