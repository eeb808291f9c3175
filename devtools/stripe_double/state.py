"""The double's core: stored objects, the clock, lifecycle, fault injection, events and webhook
delivery, and /v1 dispatch. The API areas are mixins (``api_*.py``, ``pages.py``) combined into
``StripeDouble`` in ``server.py``; they all work on the state kept here, under ``_lock``.
"""

from __future__ import annotations

import copy
import json
import queue
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer
from typing import Any

from devtools.stripe_double.common import (
    API_VERSION,
    StripeDoubleError,
    int_param,
    missing,
    public,
    sign_payload,
)
from devtools.stripe_double.handler import Handler


class DoubleState:
    """The double. ``start()`` returns the base URL to give the ``stripe`` library.

    Two webhook endpoints, as Stripe has: ``webhook_url`` (the platform endpoint: the
    platform account's own events, signed with ``webhook_secret``) and
    ``connect_webhook_url`` (the Connect endpoint: events of connected accounts, those with
    ``account`` set, signed with ``connect_webhook_secret``). A Connect event goes only to the
    Connect endpoint (none configured: it is not delivered), a platform event only to the
    platform endpoint.

    ``webhook_mode``: ``"background"`` (default; a worker thread posts events),
    ``"sync"`` (posted before the triggering request answers) or ``"manual"``
    (queued until ``deliver_pending()``).
    """

    def __init__(self, webhook_url: str | None = None, webhook_secret: str | None = None, *,
                 host: str = "127.0.0.1", port: int = 0, public_url: str | None = None,
                 webhook_mode: str = "background", connect_webhook_url: str | None = None,
                 connect_webhook_secret: str | None = None):
        if webhook_mode not in ("background", "sync", "manual"):
            raise ValueError("webhook_mode must be background, sync or manual")
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret or "whsec_test_double"
        self.connect_webhook_url = connect_webhook_url
        self.connect_webhook_secret = connect_webhook_secret or "whsec_test_double_connect"
        self.webhook_mode = webhook_mode
        self.host, self.port = host, port
        self.public_url = public_url
        self.url: str | None = None
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._active = 0  # requests being handled (including ones sleeping in delay_next)
        self._objects: dict[str, dict[str, Any]] = {}
        self._idempotency: dict[str, tuple] = {}
        self._idempotency_running: dict[str, tuple] = {}
        self._account_links: dict[str, dict[str, Any]] = {}
        self._faults: list[dict[str, Any]] = []
        self._clock_offset = 0
        self.events: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        # Every /v1 request with its decoded parameters and idempotency key (for checks of
        # what a client sends).
        self.api_requests: list[dict[str, Any]] = []
        self._pending: list[str] = []  # manual mode
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        handler = type("Handler", (Handler,), {"double": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        serve = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                 name="stripe-double", daemon=True)
        worker = threading.Thread(target=self._worker, name="stripe-double-webhooks", daemon=True)
        self._threads = [serve, worker]
        for thread in self._threads:
            thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def browser_url(self) -> str:
        return (self.public_url or self.url or "").rstrip("/")

    # ------------------------------------------------------------------ test helpers
    def now(self) -> int:
        return int(time.time()) + self._clock_offset

    def advance_clock(self, seconds: int) -> None:
        """Move the double's clock forward; open sessions past ``expires_at`` expire and
        authorisations past ``capture_before`` lapse."""
        with self._lock:
            self._clock_offset += int(seconds)
        self._flush(self._expire_due())

    def fail_next(self, path_prefix: str, status: int = 500, message: str | None = None) -> None:
        """The next request whose path starts with ``path_prefix`` answers ``status`` without
        running: nothing is created, but like Stripe the answer is stored against the request's
        idempotency key and replayed to retries with that key (for a 5xx, Stripe does so for
        24 hours; the outcome is unknown to the client, which reads the object and tries again
        with a new key)."""
        with self._lock:
            self._faults.append({"kind": "fail", "prefix": path_prefix, "status": status,
                                 "message": message or "An unknown error occurred (injected)."})

    def delay_next(self, path_prefix: str, seconds: float, *, after: bool = False) -> None:
        """The next matching request is slow by ``seconds``.

        ``after=False``: it sleeps, then runs (its idempotency key counts as in progress
        meanwhile: a retry with the same key gets Stripe's 409 ``idempotency_key_in_use``).
        ``after=True``: it runs at once and only the answer is late, which is the "response
        lost" case for a client that times out: the object exists, and a retry with the same
        idempotency key gets the stored answer back."""
        with self._lock:
            self._faults.append({"kind": "delay", "prefix": path_prefix, "seconds": seconds,
                                 "after": after})

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no request is being handled (e.g. one a client gave up on)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._active:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self._active} request(s) still being handled")
                self._idle.wait(remaining)

    def get(self, obj_id: str) -> dict[str, Any]:
        """A public copy of any stored object (cs_, pi_, ch_, re_, acct_, evt_, dp_, tr_, trr_,
        fee_, po_)."""
        with self._lock:
            return public(self._objects[obj_id])

    def events_of(self, event_type: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(e) for e in self.events if e["type"] == event_type]

    def deliver_pending(self, reverse: bool = False, timeout: float = 10.0) -> list[str]:
        """Manual mode: post queued events (``reverse=True`` for out-of-order delivery).
        Background mode: wait until the worker has posted everything queued."""
        if self.webhook_mode == "manual":
            with self._lock:
                pending, self._pending = self._pending, []
            if reverse:
                pending.reverse()
            for event_id in pending:
                self._deliver(event_id)
            return pending
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return []

    def resend(self, event_id: str) -> dict[str, Any]:
        """Post an already-sent event again (a duplicate delivery)."""
        return self._deliver(event_id)

    # ------------------------------------------------------------------ internals
    def _id(self, prefix: str) -> str:
        if prefix == "acct":
            return "acct_" + secrets.token_hex(8).upper()
        if prefix == "cs":
            return "cs_test_" + secrets.token_urlsafe(40).replace("-", "a").replace("_", "b")
        return f"{prefix}_test_{secrets.token_hex(12)}"

    def _find(self, obj_id: str, kind: str) -> dict[str, Any]:
        obj = self._objects.get(obj_id)
        if obj is None or obj["object"] != kind:
            raise missing(kind, obj_id)
        return obj

    def _emit(self, event_type: str, obj: dict[str, Any], out: list[str],
              previous: dict[str, Any] | None = None, *,
              account: str | None = None) -> dict[str, Any]:
        """Record an event (``account``: a Connect event about that connected account)."""
        data: dict[str, Any] = {"object": public(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event = {
            "id": self._id("evt"), "object": "event", "api_version": API_VERSION,
            "created": self.now(), "data": data, "livemode": False,
            "pending_webhooks": 1 if self._endpoint(account)[0] else 0,
            "request": {"id": None, "idempotency_key": None}, "type": event_type,
        }
        if account is not None:
            event["account"] = account
        self._objects[event["id"]] = event
        self.events.append(event)
        out.append(event["id"])
        return event

    def _flush(self, event_ids: list[str]) -> None:
        """Hand events emitted under the lock to delivery (never called holding the lock)."""
        for event_id in event_ids:
            if self.webhook_mode == "sync":
                self._deliver(event_id)
            elif self.webhook_mode == "manual":
                with self._lock:
                    self._pending.append(event_id)
            else:
                self._queue.put(event_id)

    def _worker(self) -> None:
        while True:
            event_id = self._queue.get()
            try:
                if event_id is None:
                    return
                self._deliver(event_id)
            finally:
                self._queue.task_done()

    def _endpoint(self, account: str | None) -> tuple[str | None, str]:
        """Where an event goes and the secret it is signed with: a Connect event (about a
        connected account) to the Connect endpoint, any other to the platform endpoint."""
        if account:
            return self.connect_webhook_url, self.connect_webhook_secret
        return self.webhook_url, self.webhook_secret

    def signature_for(self, event: dict[str, Any], payload: str) -> str:
        """The ``Stripe-Signature`` Stripe would send ``payload`` (the event) with: signed with
        the secret of the endpoint the event goes to."""
        return sign_payload(payload, self._endpoint(event.get("account"))[1])

    def _deliver(self, event_id: str) -> dict[str, Any]:
        with self._lock:
            event = self._objects[event_id]
            payload = json.dumps(event, ensure_ascii=False, indent=2)
            url, secret = self._endpoint(event.get("account"))
        record: dict[str, Any] = {"event_id": event_id, "type": event["type"], "url": url,
                                  "status": None, "error": None, "at": time.time()}
        if url:
            header = sign_payload(payload, secret)
            req = urllib.request.Request(
                url, data=payload.encode(), method="POST",
                headers={"Content-Type": "application/json; charset=utf-8",
                         "Stripe-Signature": header, "User-Agent": "Stripe/1.0 (+double)"})
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    record["status"] = resp.status
            except urllib.error.HTTPError as exc:
                record["status"] = exc.code
            except OSError as exc:
                record["error"] = repr(exc)
        with self._lock:
            self.deliveries.append(record)
        return record

    def _expire_due(self) -> list[str]:
        out: list[str] = []
        with self._lock:
            self._emit_expiries_into(out)
        return out

    def _emit_expiries_into(self, out: list[str]) -> None:
        """Expire what the clock has passed: open Checkout Sessions, lapsed authorisations."""
        now = self.now()
        for obj in list(self._objects.values()):
            if (obj["object"] == "checkout.session" and obj["status"] == "open"
                    and obj["expires_at"] <= now):
                self._expire_session(obj, out)
            elif obj["object"] == "payment_intent" and obj["status"] == "requires_capture":
                details = self._objects[obj["latest_charge"]]["payment_method_details"]
                card = details.get("card") or {}
                if card.get("capture_before") is not None and card["capture_before"] <= now:
                    self._lapse_authorization(obj, out)

    def _charge_for(self, obj_id: str, param: str) -> dict[str, Any]:
        obj = self._objects.get(obj_id)
        if obj is not None and obj["object"] == "payment_intent":
            if not obj.get("latest_charge") or obj["status"] != "succeeded":
                raise StripeDoubleError(
                    400, f"This PaymentIntent ({obj_id}) does not have a successful charge to "
                    "refund.", code="charge_not_refundable", param=param)
            obj = self._objects[obj["latest_charge"]]
        if obj is None or obj["object"] != "charge":
            raise missing("charge" if obj_id.startswith("ch_") else "payment_intent", obj_id,
                          param)
        return obj

    def _expand(self, obj: dict[str, Any], params: dict) -> dict[str, Any]:
        result = public(obj)
        expand = params.get("expand") or []
        if isinstance(expand, str):
            expand = [expand]
        for field in expand:
            value = result.get(field)
            if isinstance(value, str) and value in self._objects:
                result[field] = public(self._objects[value])
        return result

    # ------------------------------------------------------------------ /v1 dispatch
    def api(self, method: str, path: str, params: dict, out: list[str]) -> tuple[int, Any]:
        """Dispatch one /v1 request (called with the lock held)."""
        self._emit_expiries_into(out)
        for pattern, verb, handler in self._routes():
            if verb != method:
                continue
            match = re.fullmatch(pattern, path)
            if match:
                return handler(params, out, *match.groups())
        raise StripeDoubleError(
            404, f"Unrecognized request URL ({method}: {path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.")

    def _routes(self) -> tuple:  # the mixins' routes, combined in server.StripeDouble
        return self._core_routes()

    def _core_routes(self) -> tuple:
        return (
            (r"/v1/events", "GET", self._list_events),
            (r"/v1/events/([^/]+)", "GET", self._get_kind("event")),
        )

    def _get_kind(self, kind: str):
        def handler(params: dict, out: list[str], obj_id: str):
            return 200, self._expand(self._find(obj_id, kind), params)
        return handler

    def _list_events(self, params: dict, out: list[str]):
        limit = int_param(params, "limit", minimum=1) or 10
        events = [e for e in reversed(self.events)
                  if not params.get("type") or e["type"] == params["type"]]
        return 200, {"object": "list", "url": "/v1/events", "has_more": len(events) > limit,
                     "data": [public(e) for e in events[:limit]]}

    # Provided by the mixins (declared here so the core reads on its own).
    def _expire_session(self, session: dict[str, Any], out: list[str]) -> None:
        raise NotImplementedError

    def _lapse_authorization(self, intent: dict[str, Any], out: list[str], *,
                             reason: str = "automatic") -> None:
        raise NotImplementedError
