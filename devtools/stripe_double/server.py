"""A threaded, in-memory Stripe API double (standard library only).

Implements the slice of the Stripe v1 API Gonggan needs: Checkout Sessions (with a hosted
test-payment page), PaymentIntents (automatic and manual capture), Refunds, Express accounts
and account links, Events, signed webhook delivery, idempotency keys and fault injection.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import html
import json
import queue
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devtools.stripe_double.formdecode import decode

API_VERSION = "2025-10-29.clover"
ZERO_DECIMAL = {"krw", "jpy", "vnd", "clp", "xaf", "xof", "bif", "djf", "gnf", "kmf", "mga",
                "pyg", "rwf", "ugx", "vuv", "xpf"}
CARD_SUCCESS = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_INSUFFICIENT_FUNDS = "4000000000009995"
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation",
              "requires_action", "processing")


class StripeDoubleError(Exception):
    """An API error answered in Stripe's ``{"error": {...}}`` shape."""

    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, **extra: Any):
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"type": type_, "message": message}
        if code:
            self.body["code"] = code
        if param:
            self.body["param"] = param
        self.body.update(extra)


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header value for ``payload`` (what Stripe sends)."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def _missing(kind: str, obj_id: str, param: str = "id") -> StripeDoubleError:
    return StripeDoubleError(404, f"No such {kind}: '{obj_id}'", code="resource_missing",
                             param=param)


def _int(params: dict, name: str, *, required: bool = False, minimum: int | None = None):
    value = params.get(name)
    if value in (None, ""):
        if required:
            raise StripeDoubleError(400, f"Missing required param: {name}.",
                                    code="parameter_missing", param=name)
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StripeDoubleError(400, f"Invalid integer: {value}", code="parameter_invalid_integer",
                                param=name) from None
    if minimum is not None and number < minimum:
        raise StripeDoubleError(400, f"This value must be greater than or equal to {minimum}.",
                                code="parameter_invalid_integer", param=name)
    return number


def _required(params: dict, name: str) -> Any:
    value = params.get(name)
    if value in (None, ""):
        raise StripeDoubleError(400, f"Missing required param: {name}.",
                                code="parameter_missing", param=name)
    return value


def _metadata(value: Any) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise StripeDoubleError(400, "Invalid object", param="metadata")
    return {k: v for k, v in value.items() if v != ""}


def _bool(value: Any) -> bool:
    return str(value).lower() == "true"


def _public(obj: Any) -> Any:
    """A deep copy without the double's private ``_`` fields."""
    if isinstance(obj, dict):
        return {k: _public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [_public(v) for v in obj]
    return obj


def _money(amount: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount:,} {currency.upper()}"
    return f"{amount / 100:,.2f} {currency.upper()}"


class StripeDouble:
    """The double. ``start()`` returns the base URL to give the ``stripe`` library.

    ``webhook_mode``: ``"background"`` (default; a worker thread posts events),
    ``"sync"`` (posted before the triggering request answers) or ``"manual"``
    (queued until ``deliver_pending()``).
    """

    def __init__(self, webhook_url: str | None = None, webhook_secret: str | None = None, *,
                 host: str = "127.0.0.1", port: int = 0, public_url: str | None = None,
                 webhook_mode: str = "background"):
        if webhook_mode not in ("background", "sync", "manual"):
            raise ValueError("webhook_mode must be background, sync or manual")
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret or "whsec_test_double"
        self.webhook_mode = webhook_mode
        self.host, self.port = host, port
        self.public_url = public_url
        self.url: str | None = None
        self._lock = threading.RLock()
        self._objects: dict[str, dict[str, Any]] = {}
        self._idempotency: dict[str, tuple] = {}
        self._account_links: dict[str, dict[str, Any]] = {}
        self._faults: list[dict[str, Any]] = []
        self._clock_offset = 0
        self.events: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self._pending: list[str] = []  # manual mode
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        handler = type("Handler", (_Handler,), {"double": self})
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

    def __enter__(self) -> StripeDouble:
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
        """Move the double's clock forward; open sessions past ``expires_at`` expire."""
        with self._lock:
            self._clock_offset += int(seconds)
        self._flush(self._expire_due())

    def fail_next(self, path_prefix: str, status: int = 500, message: str | None = None) -> None:
        """The next request whose path starts with ``path_prefix`` answers ``status``."""
        with self._lock:
            self._faults.append({"kind": "fail", "prefix": path_prefix, "status": status,
                                 "message": message or "An unknown error occurred (injected)."})

    def delay_next(self, path_prefix: str, seconds: float) -> None:
        """The next matching request sleeps ``seconds`` before being handled (then proceeds)."""
        with self._lock:
            self._faults.append({"kind": "delay", "prefix": path_prefix, "seconds": seconds})

    def get(self, obj_id: str) -> dict[str, Any]:
        """A public copy of any stored object (cs_, pi_, ch_, re_, acct_, evt_, dp_)."""
        with self._lock:
            return _public(self._objects[obj_id])

    def events_of(self, event_type: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(e) for e in self.events if e["type"] == event_type]

    def create_dispute(self, charge_or_intent: str, *, reason: str = "fraudulent",
                       amount: int | None = None) -> dict[str, Any]:
        """Open a dispute on a charge and emit ``charge.dispute.created``."""
        out: list[str] = []
        with self._lock:
            charge = self._charge_for(charge_or_intent, "charge")
            dispute = {
                "id": self._id("dp"), "object": "dispute", "amount": amount or charge["amount"],
                "charge": charge["id"], "payment_intent": charge["payment_intent"],
                "currency": charge["currency"], "reason": reason, "status": "needs_response",
                "created": self.now(), "livemode": False, "is_charge_refundable": False,
                "metadata": {}, "evidence_details": {"due_by": self.now() + 7 * 86400,
                                                     "has_evidence": False, "past_due": False,
                                                     "submission_count": 0},
            }
            self._objects[dispute["id"]] = dispute
            charge["disputed"] = True
            self._emit("charge.dispute.created", dispute, out)
        self._flush(out)
        return _public(dispute)

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
            raise _missing(kind, obj_id)
        return obj

    def _emit(self, event_type: str, obj: dict[str, Any], out: list[str],
              previous: dict[str, Any] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"object": _public(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event = {
            "id": self._id("evt"), "object": "event", "api_version": API_VERSION,
            "created": self.now(), "data": data, "livemode": False,
            "pending_webhooks": 1 if self.webhook_url else 0,
            "request": {"id": None, "idempotency_key": None}, "type": event_type,
        }
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

    def _deliver(self, event_id: str) -> dict[str, Any]:
        with self._lock:
            event = self._objects[event_id]
            payload = json.dumps(event, ensure_ascii=False, indent=2)
            url = self.webhook_url
        record: dict[str, Any] = {"event_id": event_id, "type": event["type"], "url": url,
                                  "status": None, "error": None, "at": time.time()}
        if url:
            header = sign_payload(payload, self.webhook_secret)
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
            for obj in list(self._objects.values()):
                if (obj["object"] == "checkout.session" and obj["status"] == "open"
                        and obj["expires_at"] <= self.now()):
                    self._expire_session(obj, out)
        return out

    def _expire_session(self, session: dict[str, Any], out: list[str]) -> None:
        session["status"] = "expired"
        session["url"] = None
        self._emit("checkout.session.expired", session, out)

    def _charge_for(self, obj_id: str, param: str) -> dict[str, Any]:
        obj = self._objects.get(obj_id)
        if obj is not None and obj["object"] == "payment_intent":
            if not obj.get("latest_charge") or obj["status"] != "succeeded":
                raise StripeDoubleError(
                    400, f"This PaymentIntent ({obj_id}) does not have a successful charge to "
                    "refund.", code="charge_not_refundable", param=param)
            obj = self._objects[obj["latest_charge"]]
        if obj is None or obj["object"] != "charge":
            raise _missing("charge" if obj_id.startswith("ch_") else "payment_intent", obj_id,
                           param)
        return obj

    def _expand(self, obj: dict[str, Any], params: dict) -> dict[str, Any]:
        result = _public(obj)
        expand = params.get("expand") or []
        if isinstance(expand, str):
            expand = [expand]
        for field in expand:
            value = result.get(field)
            if isinstance(value, str) and value in self._objects:
                result[field] = _public(self._objects[value])
        return result

    # -- payment intents
    def _new_intent(self, *, amount: int, currency: str, capture_method: str = "automatic",
                    metadata: dict | None = None, fee: int | None = None,
                    destination: str | None = None, description: str | None = None,
                    ) -> dict[str, Any]:
        if capture_method not in ("automatic", "automatic_async", "manual"):
            raise StripeDoubleError(400, f"Invalid capture_method: {capture_method}",
                                    param="capture_method")
        if destination is not None:
            self._find_destination(destination)
        intent = {
            "id": self._id("pi"), "object": "payment_intent", "amount": amount,
            "amount_capturable": 0, "amount_received": 0, "application_fee_amount": fee,
            "canceled_at": None, "cancellation_reason": None, "capture_method": capture_method,
            "client_secret": None, "confirmation_method": "automatic", "created": self.now(),
            "currency": currency, "description": description, "last_payment_error": None,
            "latest_charge": None, "livemode": False, "metadata": metadata or {},
            "payment_method": None, "payment_method_types": ["card"],
            "status": "requires_payment_method",
            "transfer_data": {"destination": destination} if destination else None,
        }
        intent["client_secret"] = f"{intent['id']}_secret_{secrets.token_hex(8)}"
        self._objects[intent["id"]] = intent
        return intent

    def _find_destination(self, destination: str) -> None:
        acct = self._objects.get(destination)
        if acct is None or acct["object"] != "account":
            raise StripeDoubleError(400, f"No such destination: '{destination}'",
                                    code="resource_missing",
                                    param="transfer_data[destination]")

    def _pay_intent(self, intent: dict[str, Any], card: str, out: list[str]) -> str | None:
        """Attempt a card payment. Returns a decline message, or None on success."""
        card = re.sub(r"\D", "", card or "")
        charge = {
            "id": self._id("ch"), "object": "charge", "amount": intent["amount"],
            "amount_captured": 0, "amount_refunded": 0,
            "application_fee_amount": intent["application_fee_amount"],
            "balance_transaction": None, "captured": False, "created": self.now(),
            "currency": intent["currency"], "disputed": False, "failure_code": None,
            "failure_message": None, "livemode": False, "metadata": dict(intent["metadata"]),
            "paid": False, "payment_intent": intent["id"],
            "payment_method_details": {"type": "card", "card": {"brand": "visa",
                                                                "last4": card[-4:]}},
            "refunded": False, "status": "failed", "transfer_data": intent["transfer_data"],
        }
        self._objects[charge["id"]] = charge
        intent["latest_charge"] = charge["id"]
        intent["payment_method"] = self._id("pm")
        if card != CARD_SUCCESS:
            code, decline, message = {
                CARD_DECLINED: ("card_declined", "generic_decline", "Your card was declined."),
                CARD_INSUFFICIENT_FUNDS: ("card_declined", "insufficient_funds",
                                          "Your card has insufficient funds."),
            }.get(card, ("incorrect_number", None, "Your card number is incorrect."))
            charge.update(failure_code=decline or code, failure_message=message)
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {"type": "card_error", "code": code,
                                            "decline_code": decline, "message": message,
                                            "charge": charge["id"]}
            self._emit("charge.failed", charge, out)
            self._emit("payment_intent.payment_failed", intent, out)
            return message
        charge.update(paid=True, status="succeeded")
        intent["last_payment_error"] = None
        if intent["capture_method"] == "manual":
            intent.update(status="requires_capture", amount_capturable=intent["amount"])
            self._emit("charge.succeeded", charge, out)
            self._emit("payment_intent.amount_capturable_updated", intent, out)
        else:
            charge.update(captured=True, amount_captured=intent["amount"])
            intent.update(status="succeeded", amount_received=intent["amount"])
            self._emit("charge.succeeded", charge, out)
            self._emit("payment_intent.succeeded", intent, out)
        return None

    # ------------------------------------------------------------------ API routes
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

    def _emit_expiries_into(self, out: list[str]) -> None:
        for obj in list(self._objects.values()):
            if (obj["object"] == "checkout.session" and obj["status"] == "open"
                    and obj["expires_at"] <= self.now()):
                self._expire_session(obj, out)

    def _routes(self):
        return (
            (r"/v1/checkout/sessions", "POST", self._create_session),
            (r"/v1/checkout/sessions/([^/]+)", "GET", self._get_session),
            (r"/v1/checkout/sessions/([^/]+)/expire", "POST", self._expire_session_api),
            (r"/v1/payment_intents", "POST", self._create_intent),
            (r"/v1/payment_intents/([^/]+)", "GET", self._get_intent),
            (r"/v1/payment_intents/([^/]+)/confirm", "POST", self._confirm_intent),
            (r"/v1/payment_intents/([^/]+)/capture", "POST", self._capture_intent),
            (r"/v1/payment_intents/([^/]+)/cancel", "POST", self._cancel_intent),
            (r"/v1/charges/([^/]+)", "GET", self._get_kind("charge")),
            (r"/v1/refunds", "POST", self._create_refund),
            (r"/v1/refunds/([^/]+)", "GET", self._get_kind("refund")),
            (r"/v1/disputes/([^/]+)", "GET", self._get_kind("dispute")),
            (r"/v1/accounts", "POST", self._create_account),
            (r"/v1/accounts/([^/]+)", "GET", self._get_kind("account")),
            (r"/v1/account_links", "POST", self._create_account_link),
            (r"/v1/events", "GET", self._list_events),
            (r"/v1/events/([^/]+)", "GET", self._get_kind("event")),
        )

    def _get_kind(self, kind: str):
        def handler(params: dict, out: list[str], obj_id: str):
            return 200, self._expand(self._find(obj_id, kind), params)
        return handler

    def _create_session(self, params: dict, out: list[str]):
        mode = params.get("mode")
        if mode != "payment":
            raise StripeDoubleError(400, "The double only supports mode=payment.", param="mode")
        success_url = _required(params, "success_url")
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise StripeDoubleError(400, "line_items is required in payment mode.",
                                    code="parameter_missing", param="line_items")
        line_items, currency, total = [], None, 0
        for i, item in enumerate(items):
            price = item.get("price_data") or {}
            if not price:
                raise StripeDoubleError(400, "The double only supports price_data line items.",
                                        param=f"line_items[{i}][price_data]")
            item_currency = _required(price, "currency").lower()
            if currency and item_currency != currency:
                raise StripeDoubleError(400, "All line items must use the same currency.",
                                        param=f"line_items[{i}][price_data][currency]")
            currency = item_currency
            unit = _int(price, "unit_amount", required=True, minimum=0)
            quantity = _int(item, "quantity", required=True, minimum=1)
            name = (price.get("product_data") or {}).get("name")
            if not name:
                raise StripeDoubleError(400, "Missing required param: product_data[name].",
                                        code="parameter_missing",
                                        param=f"line_items[{i}][price_data][product_data][name]")
            total += unit * quantity
            line_items.append({"object": "item", "description": name, "quantity": quantity,
                               "currency": currency, "amount_total": unit * quantity,
                               "price": {"unit_amount": unit, "currency": currency}})
        now = self.now()
        expires_at = _int(params, "expires_at")
        if expires_at is None:
            expires_at = now + 24 * 3600
        elif not now + 30 * 60 - 60 <= expires_at <= now + 24 * 3600 + 60:
            raise StripeDoubleError(400, "The `expires_at` timestamp must be between 30 minutes "
                                    "and 24 hours from Checkout Session creation.",
                                    param="expires_at")
        pid = params.get("payment_intent_data") or {}
        capture_method = pid.get("capture_method") or "automatic"
        fee = _int(pid, "application_fee_amount", minimum=0)
        destination = (pid.get("transfer_data") or {}).get("destination")
        if destination:
            self._find_destination(destination)
        if capture_method not in ("automatic", "automatic_async", "manual"):
            raise StripeDoubleError(400, f"Invalid capture_method: {capture_method}",
                                    param="payment_intent_data[capture_method]")
        session = {
            "id": self._id("cs"), "object": "checkout.session", "amount_subtotal": total,
            "amount_total": total, "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"), "created": now,
            "currency": currency, "customer": None,
            "customer_email": params.get("customer_email"), "expires_at": expires_at,
            "livemode": False, "locale": params.get("locale"),
            "metadata": _metadata(params.get("metadata")), "mode": "payment",
            "payment_intent": None, "payment_status": "unpaid", "status": "open",
            "success_url": success_url, "url": None,
            "_line_items": line_items,
            "_intent_data": {"capture_method": capture_method, "fee": fee,
                             "destination": destination,
                             "metadata": _metadata(pid.get("metadata")),
                             "description": pid.get("description")},
        }
        session["url"] = f"{self.browser_url}/checkout/{session['id']}"
        self._objects[session["id"]] = session
        return 200, self._expand(session, params)

    def _get_session(self, params: dict, out: list[str], session_id: str):
        return 200, self._expand(self._find(session_id, "checkout.session"), params)

    def _expire_session_api(self, params: dict, out: list[str], session_id: str):
        session = self._find(session_id, "checkout.session")
        if session["status"] != "open":
            raise StripeDoubleError(
                400, f"Only Checkout Sessions with a status in [\"open\"] can be expired. This "
                f"Checkout Session has a status of \"{session['status']}\".",
                code="checkout_session_unexpected_state")
        self._expire_session(session, out)
        return 200, _public(session)

    def _create_intent(self, params: dict, out: list[str]):
        transfer = params.get("transfer_data") or {}
        intent = self._new_intent(
            amount=_int(params, "amount", required=True, minimum=1),
            currency=_required(params, "currency").lower(),
            capture_method=params.get("capture_method") or "automatic",
            metadata=_metadata(params.get("metadata")),
            fee=_int(params, "application_fee_amount", minimum=0),
            destination=transfer.get("destination"), description=params.get("description"))
        self._emit("payment_intent.created", intent, out)
        if _bool(params.get("confirm")):
            return self._confirm_intent(params, out, intent["id"])
        return 200, _public(intent)

    def _get_intent(self, params: dict, out: list[str], intent_id: str):
        return 200, self._expand(self._find(intent_id, "payment_intent"), params)

    def _confirm_intent(self, params: dict, out: list[str], intent_id: str):
        """Confirm with a test PaymentMethod: pm_card_visa succeeds, pm_card_chargeDeclined
        (or pm_card_visa_chargeDeclined) is declined with a 402 card_error."""
        intent = self._find(intent_id, "payment_intent")
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise StripeDoubleError(
                400, "You cannot confirm this PaymentIntent because it has a status of "
                f"{intent['status']}.", code="payment_intent_unexpected_state")
        pm = params.get("payment_method") or "pm_card_visa"
        card = CARD_DECLINED if "Declined" in pm else (
            CARD_INSUFFICIENT_FUNDS if "insufficient" in pm.lower() else CARD_SUCCESS)
        failure = self._pay_intent(intent, card, out)
        if failure:
            err = intent["last_payment_error"]
            raise StripeDoubleError(402, failure, type_="card_error", code=err["code"],
                                    decline_code=err["decline_code"], charge=err["charge"],
                                    payment_intent=_public(intent))
        return 200, _public(intent)

    def _capture_intent(self, params: dict, out: list[str], intent_id: str):
        intent = self._find(intent_id, "payment_intent")
        if intent["status"] != "requires_capture":
            raise StripeDoubleError(
                400, "This PaymentIntent could not be captured because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                "may be captured: requires_capture.", code="payment_intent_unexpected_state",
                payment_intent=_public(intent))
        amount = _int(params, "amount_to_capture", minimum=1) or intent["amount_capturable"]
        if amount > intent["amount_capturable"]:
            raise StripeDoubleError(400, "The amount to capture must be less than or equal to "
                                    "the amount capturable.", code="amount_too_large",
                                    param="amount_to_capture")
        fee = _int(params, "application_fee_amount", minimum=0)
        if fee is not None:
            intent["application_fee_amount"] = fee
        charge = self._objects[intent["latest_charge"]]
        charge.update(captured=True, amount_captured=amount,
                      amount_refunded=intent["amount"] - amount)
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self._emit("charge.captured", charge, out)
        self._emit("payment_intent.succeeded", intent, out)
        return 200, _public(intent)

    def _cancel_intent(self, params: dict, out: list[str], intent_id: str):
        intent = self._find(intent_id, "payment_intent")
        if intent["status"] not in CANCELABLE:
            raise StripeDoubleError(
                400, "You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                f"may be canceled: {', '.join(CANCELABLE)}.",
                code="payment_intent_unexpected_state", payment_intent=_public(intent))
        if intent["latest_charge"] and intent["status"] == "requires_capture":
            charge = self._objects[intent["latest_charge"]]
            charge.update(amount_refunded=charge["amount"], refunded=True)
        reason = params.get("cancellation_reason") or "requested_by_customer"
        intent.update(status="canceled", canceled_at=self.now(), amount_capturable=0,
                      cancellation_reason=reason)
        self._emit("payment_intent.canceled", intent, out)
        return 200, _public(intent)

    def _create_refund(self, params: dict, out: list[str]):
        target = params.get("payment_intent") or params.get("charge")
        if not target:
            raise StripeDoubleError(400, "One of the following params should be provided for "
                                    "this request: payment_intent or charge.",
                                    code="parameter_missing")
        charge = self._charge_for(target, "payment_intent" if params.get("payment_intent")
                                  else "charge")
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeDoubleError(400, f"Charge {charge['id']} has already been refunded.",
                                    code="charge_already_refunded")
        amount = _int(params, "amount", minimum=1)
        if amount is None:
            amount = remaining
        if amount > remaining:
            raise StripeDoubleError(
                400, f"Refund amount ({_money(amount, charge['currency'])}) is greater than "
                f"unrefunded amount on charge ({_money(remaining, charge['currency'])})",
                code="amount_too_large", param="amount")
        refund = {
            "id": self._id("re"), "object": "refund", "amount": amount,
            "balance_transaction": None, "charge": charge["id"], "created": self.now(),
            "currency": charge["currency"], "livemode": False,
            "metadata": _metadata(params.get("metadata")),
            "payment_intent": charge["payment_intent"], "reason": params.get("reason"),
            "status": "succeeded",
        }
        self._objects[refund["id"]] = refund
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        self._emit("refund.created", refund, out)
        self._emit("charge.refunded", charge, out, previous)
        return 200, _public(refund)

    def _create_account(self, params: dict, out: list[str]):
        kind = params.get("type")
        controller = params.get("controller")
        if kind not in ("express", "standard", "custom") and not controller:
            raise StripeDoubleError(400, "Invalid type: must be one of express, standard, or "
                                    "custom", param="type")
        requested = [name for name, cap in (params.get("capabilities") or {}).items()
                     if isinstance(cap, dict) and _bool(cap.get("requested"))]
        account = {
            "id": self._id("acct"), "object": "account", "type": kind or "express",
            "business_type": params.get("business_type"),
            "capabilities": {name: "inactive" for name in requested or ["card_payments",
                                                                         "transfers"]},
            "charges_enabled": False, "payouts_enabled": False, "details_submitted": False,
            "country": params.get("country") or "KR", "created": self.now(),
            "default_currency": "krw", "email": params.get("email"), "livemode": False,
            "metadata": _metadata(params.get("metadata")),
            "requirements": {"currently_due": ["external_account", "tos_acceptance.date"],
                             "disabled_reason": "requirements.past_due",
                             "eventually_due": [], "past_due": []},
        }
        self._objects[account["id"]] = account
        return 200, _public(account)

    def _create_account_link(self, params: dict, out: list[str]):
        account = self._find(_required(params, "account"), "account")
        link_type = _required(params, "type")
        if link_type not in ("account_onboarding", "account_update"):
            raise StripeDoubleError(400, f"Invalid type: {link_type}", param="type")
        token = secrets.token_urlsafe(16)
        now = self.now()
        self._account_links[token] = {"account": account["id"], "used": False,
                                      "return_url": _required(params, "return_url"),
                                      "refresh_url": params.get("refresh_url"),
                                      "expires_at": now + 300}
        return 200, {"object": "account_link", "created": now, "expires_at": now + 300,
                     "url": f"{self.browser_url}/connect/onboard/{token}"}

    def _list_events(self, params: dict, out: list[str]):
        limit = _int(params, "limit", minimum=1) or 10
        events = [e for e in reversed(self.events)
                  if not params.get("type") or e["type"] == params["type"]]
        return 200, {"object": "list", "url": "/v1/events", "has_more": len(events) > limit,
                     "data": [_public(e) for e in events[:limit]]}

    # ------------------------------------------------------------------ browser pages
    def onboard(self, token: str, out: list[str]) -> str:
        link = self._account_links.get(token)
        if link is None:
            raise StripeDoubleError(404, "Unknown account link.")
        if link["used"] or link["expires_at"] < self.now():
            return link["refresh_url"] or link["return_url"]
        link["used"] = True
        account = self._objects[link["account"]]
        previous = {"charges_enabled": account["charges_enabled"],
                    "payouts_enabled": account["payouts_enabled"]}
        account.update(charges_enabled=True, payouts_enabled=True, details_submitted=True,
                       capabilities={k: "active" for k in account["capabilities"]},
                       requirements={"currently_due": [], "disabled_reason": None,
                                     "eventually_due": [], "past_due": []})
        self._emit("account.updated", account, out, previous)
        return link["return_url"]

    def checkout_page(self, session: dict[str, Any], error: str | None = None) -> str:
        rows = "".join(
            f"<li>{html.escape(i['description'])} × {i['quantity']} — "
            f"{_money(i['amount_total'], i['currency'])}</li>" for i in session["_line_items"])
        sid = html.escape(session["id"])
        status = session["status"]
        body = (f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "")
        if status == "open":
            body += (
                f'<form method="post" action="/checkout/{sid}/pay">'
                '<label for="card">카드 번호 / Card number</label> '
                '<input id="card" name="card" inputmode="numeric" autocomplete="off" '
                f'value="{CARD_SUCCESS}" required> '
                '<button type="submit" name="action" value="pay">결제 / Pay</button></form>'
                f'<form method="post" action="/checkout/{sid}/cancel">'
                '<button type="submit">취소 / Cancel</button></form>'
                f"<p><small>{CARD_SUCCESS} succeeds · {CARD_DECLINED} is declined</small></p>")
        else:
            body += f"<p>This Checkout Session is <strong>{html.escape(status)}</strong>.</p>"
        return (
            '<!doctype html><html lang="ko"><head><meta charset="utf-8">'
            "<title>TEST PAYMENT — Stripe double</title></head><body>"
            '<p class="banner"><strong>TEST PAYMENT — no real money</strong><br>'
            "<strong>테스트 결제 — 실제 돈이 오가지 않습니다</strong></p>"
            f"<h1>{_money(session['amount_total'], session['currency'])}</h1>"
            f"<ul>{rows}</ul>{body}</body></html>")

    def pay_session(self, session: dict[str, Any], card: str, out: list[str]) -> str | None:
        data = session["_intent_data"]
        intent = self._objects.get(session["payment_intent"] or "")
        if intent is None:
            intent = self._new_intent(
                amount=session["amount_total"], currency=session["currency"],
                capture_method=data["capture_method"], metadata=dict(data["metadata"]),
                fee=data["fee"], destination=data["destination"],
                description=data["description"])
            session["payment_intent"] = intent["id"]
        failure = self._pay_intent(intent, card, out)
        if failure:
            return failure
        session["status"] = "complete"
        session["url"] = None
        session["payment_status"] = "paid" if intent["status"] == "succeeded" else "unpaid"
        self._emit("checkout.session.completed", session, out)
        return None


class _Handler(BaseHTTPRequestHandler):
    double: StripeDouble
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
        with double._lock:
            double.requests.append((method, path))
            fault = next((f for f in double._faults if path.startswith(f["prefix"])), None)
            if fault:
                double._faults.remove(fault)
        try:
            if fault and fault["kind"] == "delay":
                time.sleep(fault["seconds"])
            if fault and fault["kind"] == "fail":
                self._json(fault["status"], {"error": {"type": "api_error",
                                                       "message": fault["message"]}})
                return
            if path.startswith("/v1/"):
                self._api(method, path, split.query, raw)
            else:
                self._browser(method, path, raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. delay_next beyond its timeout)

    def _api(self, method: str, path: str, query: str, raw: bytes) -> None:
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
        out: list[str] = []
        with double._lock:
            stored = double._idempotency.get(idem) if idem else None
            if stored is not None:
                s_path, s_params, status, body = stored
                if s_path != path or s_params != params:
                    status, body = 400, {"error": {
                        "type": "idempotency_error", "code": "idempotency_key_in_use",
                        "message": "Keys for idempotent requests can only be used with the "
                        "same parameters they were first used with. Try using a key other "
                        f"than '{idem}' if you meant to execute a different request."}}
                    self._json(status, body)
                else:
                    self._json(status, body, replayed=True)
                return
            try:
                status, body = double.api(method, path, params, out)
            except StripeDoubleError as exc:
                status, body = exc.status, {"error": exc.body}
            if idem:
                double._idempotency[idem] = (path, params, status, body)
            for event_id in out:
                double._objects[event_id]["request"] = {"id": self._request_id,
                                                        "idempotency_key": idem}
        double._flush(out)  # sync mode: delivered before the client gets its answer
        self._json(status, body)

    def _browser(self, method: str, path: str, raw: bytes) -> None:
        double = self.double
        out: list[str] = []
        location: str | None = None
        page: tuple[int, str] | None = None
        with double._lock:
            double._emit_expiries_into(out)
            match = re.fullmatch(r"/checkout/([^/]+)(?:/(pay|cancel))?", path)
            onboard = re.fullmatch(r"/connect/onboard/([^/]+)", path)
            if match:
                session = double._objects.get(match.group(1))
                action = match.group(2)
                if session is None or session["object"] != "checkout.session":
                    page = (404, "<!doctype html><p>Unknown Checkout Session.</p>")
                elif action is None:
                    page = (200, double.checkout_page(session))
                elif action == "cancel":
                    location = session["cancel_url"] or double.browser_url + "/"
                elif method != "POST":
                    page = (405, "<!doctype html><p>POST required.</p>")
                elif session["status"] != "open":
                    page = (409, double.checkout_page(session, "This session is no longer open."))
                else:
                    card = dict(parse_qsl(raw.decode("utf-8"))).get("card", "")
                    failure = double.pay_session(session, card, out)
                    if failure:
                        page = (402, double.checkout_page(
                            session, f"{failure} / 카드가 거절되었습니다."))
                    else:
                        location = session["success_url"].replace("{CHECKOUT_SESSION_ID}",
                                                                  session["id"])
            elif onboard:
                try:
                    location = double.onboard(onboard.group(1), out)
                except StripeDoubleError:
                    page = (404, "<!doctype html><p>Unknown account link.</p>")
            else:
                page = (404, "<!doctype html><p>Not found.</p>")
        double._flush(out)
        if location is not None:
            self._send(303, b"", "text/plain", {"Location": location})
        else:
            assert page is not None
            self._send(page[0], page[1].encode(), "text/html; charset=utf-8")

    @property
    def _request_id(self) -> str:
        return self._rid

    def _json(self, status: int, body: Any, replayed: bool = False) -> None:
        headers = {"Request-Id": self._request_id, "Stripe-Version": API_VERSION}
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
