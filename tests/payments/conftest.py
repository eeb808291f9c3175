"""Payments tests run the real `stripe` library against the local Stripe double over HTTP."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests

from app.extensions import db as _db
from devtools.stripe_double import StripeDouble, sign_payload
from tests.payments import stripe_params

SECRET = "whsec_test"
CONNECT_SECRET = "whsec_test_connect"


@pytest.fixture
def _double():
    double = StripeDouble(webhook_mode="manual", webhook_secret=SECRET,
                          connect_webhook_secret=CONNECT_SECRET)
    double.start()
    yield double
    double.stop()


class Stripe:
    """The double plus the app's side of it: webhooks delivered through the test client."""

    def __init__(self, double: StripeDouble, client):
        self.double = double
        self.client = client
        self.mark = len(double.events)

    def new_events(self) -> list[dict]:
        events = self.double.events[self.mark:]
        self.mark = len(self.double.events)
        return list(events)

    def post_event(self, event: dict, secret: str | None = None, *,
                   endpoint: str | None = None):
        """Post `event` as Stripe would: a Connect event (`account` set) to the Connect
        endpoint signed with its secret, any other to the platform endpoint (`endpoint` and
        `secret` override where and how)."""
        payload = json.dumps(event)
        if endpoint is None:
            endpoint = "/stripe/webhook/connect" if event.get("account") else "/stripe/webhook"
        signature = (sign_payload(payload, secret) if secret is not None
                     else self.double.signature_for(event, payload))
        return self.client.post(
            endpoint, data=payload, content_type="application/json",
            headers={"Stripe-Signature": signature},
        )

    def deliver(self, *, reverse: bool = False, twice: bool = False) -> list[str]:
        """Send the events the double produced since the last delivery; returns their types."""
        events = self.new_events()
        if reverse:
            events.reverse()
        for event in events:
            for _ in range(2 if twice else 1):
                response = self.post_event(event)
                assert response.status_code == 200, response.get_data(as_text=True)
        _db.session.expire_all()
        return [e["type"] for e in events]

    def pay(self, checkout_url: str, card: str = "4242424242424242", method: str = "card"):
        """The resident pays on the hosted page (by card, or `method`: a wallet); returns
        where it sends the browser."""
        response = requests.post(checkout_url + "/pay", data={"card": card, "method": method},
                                 allow_redirects=False, timeout=5)
        return response

    def get(self, obj_id: str) -> dict:
        return self.double.get(obj_id)


@pytest.fixture
def stripe_double(app, _double, client):
    keys = {"STRIPE_SECRET_KEY": "sk_test_gonggan", "STRIPE_API_BASE": _double.url,
            "STRIPE_WEBHOOK_SECRET": SECRET, "STRIPE_CONNECT_WEBHOOK_SECRET": CONNECT_SECRET}
    old = {k: app.config.get(k) for k in keys}
    app.config.update(keys)
    app.extensions.pop("gonggan_stripe", None)
    yield Stripe(_double, client)
    app.config.update(old)
    app.extensions.pop("gonggan_stripe", None)
    # Every request the app sent must be one Stripe knows, to its last nested parameter.
    found = [p for r in _double.api_requests
             for p in stripe_params.problems(r["method"], r["path"], r["params"])]
    if found:
        pytest.fail("Requests Stripe would refuse:\n" + "\n".join(found), pytrace=False)


@pytest.fixture
def paid_space(factories):
    """A request-and-approval space charging ₩10,000 an hour."""
    def _make(**kw):
        kw.setdefault("price_per_hour", 10_000)
        return factories.space(**kw)
    return _make


@pytest.fixture
def slot(now):
    start = (now + timedelta(days=3)).replace(hour=5, minute=0, second=0)  # 14:00 in Seoul
    return start, start + timedelta(hours=2)


def flashes(client) -> list:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))
