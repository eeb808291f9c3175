"""The HTTP side of the double: authentication, fault injection, idempotency keys, JSON answers.

Every state change happens in the double's methods under its lock; this module only decides
what to run, in which order, and what to send back.
"""

from __future__ import annotations

import base64
import json
import secrets
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from devtools.stripe_double.common import API_VERSION, StripeDoubleError
from devtools.stripe_double.formdecode import decode


class Handler(BaseHTTPRequestHandler):
    double: Any  # set per server by StripeDouble.start()
    protocol_version = "HTTP/1.1"
    server_version = "StripeDouble/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    # --------------------------------------------------------------
    def _handle(self, method: str) -> None:
        double = self.double
        self._rid = "req_" + secrets.token_hex(7)
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        api = path.startswith("/v1/")
        params = decode(raw if method == "POST" else split.query) if api else {}
        idem = self.headers.get("Idempotency-Key") if api and method == "POST" else None
        with double._lock:
            double.requests.append((method, path))
            if api:
                double.api_requests.append({"method": method, "path": path, "params": params,
                                            "idempotency_key": idem})
            double._active += 1
            fault = next((f for f in double._faults if path.startswith(f["prefix"])), None)
            if fault:
                double._faults.remove(fault)
        try:
            if fault and fault["kind"] == "fail":
                # Nothing happens; like Stripe, the error is stored against the idempotency
                # key (unless the key is busy or was used with other parameters) and answered
                # again to any retry with that key for 24 hours: a retry needs a new key.
                body = {"error": {"type": "api_error", "message": fault["message"]}}
                status, replayed = fault["status"], False
                if idem:
                    with double._lock:
                        answer = self._idempotent_answer(idem, path, params)
                        if answer is None:
                            double._idempotency[idem] = (path, params, status, body)
                        else:
                            status, body, replayed = answer
                self._json(status, body, replayed)
                return
            if path.startswith("/v1/"):
                self._api(method, path, split.query, raw, fault)
            else:
                self._browser(method, path, raw, fault)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. delay_next beyond its timeout)
        finally:
            with double._lock:
                double._active -= 1
                double._idle.notify_all()

    @staticmethod
    def _pause(fault: dict[str, Any] | None, *, after: bool) -> None:
        if fault and fault["kind"] == "delay" and fault["after"] == after:
            time.sleep(fault["seconds"])

    def _api(self, method: str, path: str, query: str, raw: bytes,
             fault: dict[str, Any] | None) -> None:
        double = self.double
        auth = self.headers.get("Authorization", "")
        key = auth[7:] if auth.startswith("Bearer ") else ""
        if auth.startswith("Basic "):  # curl -u sk_test_...:
            key = base64.b64decode(auth[6:]).decode(errors="replace").split(":", 1)[0]
        if not key:
            self._json(401, {"error": {"type": "invalid_request_error",
                                       "message": "You did not provide an API key."}})
            return
        if "_live_" in key:
            self._json(401, {"error": {"type": "invalid_request_error",
                                       "message": "The Stripe double refuses live-mode keys."}})
            return
        params = decode(raw if method == "POST" else query)
        idem = self.headers.get("Idempotency-Key") if method == "POST" else None
        if idem:
            with double._lock:
                answer = self._idempotent_answer(idem, path, params)
                if answer is None:
                    double._idempotency_running[idem] = (path, params)
            if answer is not None:
                self._json(*answer)
                return
        out: list[str] = []
        store = bool(idem)
        try:
            self._pause(fault, after=False)  # the key is already "in progress" meanwhile
            with double._lock:
                try:
                    status, body = double.api(method, path, params, out)
                except StripeDoubleError as exc:
                    status, body = exc.status, {"error": exc.body}
                except Exception as exc:  # a bug in the double: say so, store nothing
                    traceback.print_exc(file=sys.stderr)
                    status, body = 500, {"error": {"type": "api_error",
                                                   "message": f"Stripe double bug: {exc!r}"}}
                    store = False
                if store:
                    double._idempotency[idem] = (path, params, status, body)
                for event_id in out:
                    double._objects[event_id]["request"] = {"id": self._rid,
                                                            "idempotency_key": idem}
        finally:
            if idem:
                with double._lock:
                    double._idempotency_running.pop(idem, None)
        double._flush(out)  # sync mode: delivered before the client gets its answer
        self._pause(fault, after=True)  # done server-side; the answer is late (or lost)
        self._json(status, body)

    def _idempotent_answer(self, idem: str, path: str, params: dict):
        """``(status, body, replayed)`` when the key decides the answer, else None."""
        double = self.double
        running = double._idempotency_running.get(idem)
        if running is not None:
            return 409, {"error": {
                "type": "idempotency_error", "code": "idempotency_key_in_use",
                "message": "There is currently another in-progress request using this "
                "Idempotent Key (that probably means you submitted twice, and the other request "
                f"is still going through): {idem}. Please try again later."}}, False
        stored = double._idempotency.get(idem)
        if stored is None:
            return None
        s_path, s_params, status, body = stored
        if s_path != path or s_params != params:
            return 400, {"error": {
                "type": "idempotency_error",
                "message": "Keys for idempotent requests can only be used with the same "
                "parameters they were first used with. Try using a key other than "
                f"'{idem}' if you meant to execute a different request."}}, False
        return status, body, True

    def _browser(self, method: str, path: str, raw: bytes,
                 fault: dict[str, Any] | None) -> None:
        self._pause(fault, after=False)
        status, location, page = self.double.browser_request(method, path, raw)
        self._pause(fault, after=True)
        if location is not None:
            self._send(303, b"", "text/plain", {"Location": location})
        else:
            self._send(status, page.encode(), "text/html; charset=utf-8")

    def _json(self, status: int, body: Any, replayed: bool = False) -> None:
        headers = {"Request-Id": self._rid, "Stripe-Version": API_VERSION}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        if status >= 500:
            headers["Stripe-Should-Retry"] = "true"
        self._send(status, json.dumps(body, ensure_ascii=False).encode(),
                   "application/json", headers)

    def _send(self, status: int, data: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
