"""Helpers for the Stripe double's tests: a signature-checking webhook receiver, a real
``stripe`` client pointed at the double, and Checkout/payment shortcuts."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
import stripe

SECRET = "whsec_test_gonggan"
CONNECT_SECRET = "whsec_test_gonggan_connect"


class Receiver:
    """A tiny webhook endpoint that verifies signatures with stripe.Webhook.construct_event."""

    def __init__(self, secret: str = SECRET) -> None:
        self.events: list[stripe.Event] = []
        self.rejected = 0
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                payload = self.rfile.read(int(self.headers["Content-Length"])).decode()
                try:
                    event = stripe.Webhook.construct_event(
                        payload, self.headers["Stripe-Signature"], secret)
                except (ValueError, stripe.SignatureVerificationError):
                    with receiver.cond:
                        receiver.rejected += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                with receiver.cond:
                    receiver.events.append(event)
                    receiver.cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stripe"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def types(self) -> list[str]:
        with self.cond:
            return [e.type for e in self.events]

    def wait_for(self, event_type: str, timeout: float = 5.0) -> stripe.Event:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for event in self.events:
                    if event.type == event_type:
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {event_type}; got {[e.type for e in self.events]}")
                self.cond.wait(remaining)


def make_client(base_url: str, timeout: float = 5.0, retries: int = 0) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_double",
        base_addresses={"api": base_url, "connect": base_url, "files": base_url},
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def session_params(**extra):
    params = {
        "mode": "payment",
        "line_items": [{
            "price_data": {"currency": "krw", "unit_amount": 15000,
                           "product_data": {"name": "회의실 A · 2시간"}},
            "quantity": 2,
        }],
        "success_url": "http://app.test/pay/done?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://app.test/pay/cancelled",
        "metadata": {"booking_id": "42"},
        "client_reference_id": "booking-42",
    }
    params.update(extra)
    return params


def pay(session, card="4242424242424242"):
    page = requests.get(session.url, timeout=5)
    assert "TEST PAYMENT — no real money" in page.text
    assert "테스트 결제 — 실제 돈이 오가지 않습니다" in page.text
    return requests.post(f"{session.url}/pay", data={"card": card}, allow_redirects=False,
                         timeout=5)


def onboarded_account(client: stripe.StripeClient) -> stripe.Account:
    """An Express account that went through onboarding (charges and payouts enabled)."""
    account = client.v1.accounts.create({"type": "express", "country": "JP"})
    link = client.v1.account_links.create({
        "account": account.id, "type": "account_onboarding",
        "refresh_url": "http://app.test/connect/refresh",
        "return_url": "http://app.test/connect/done"})
    assert requests.get(link.url, allow_redirects=False, timeout=5).status_code == 303
    return client.v1.accounts.retrieve(account.id)
