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


@pytest.fixture
def _double():
    double = StripeDouble(webhook_mode="manual")
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

    def post_event(self, event: dict, secret: str = SECRET):
        payload = json.dumps(event)
        return self.client.post(
            "/stripe/webhook", data=payload, content_type="application/json",
            headers={"Stripe-Signature": sign_payload(payload, secret)},
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

    def pay(self, checkout_url: str, card: str = "4242424242424242"):
        """The resident pays on the hosted page; returns where it sends the browser."""
        response = requests.post(checkout_url + "/pay", data={"card": card},
                                 allow_redirects=False, timeout=5)
        return response

    def get(self, obj_id: str) -> dict:
        return self.double.get(obj_id)


@pytest.fixture
def stripe_double(app, _double, client):
    keys = {"STRIPE_SECRET_KEY": "sk_test_gonggan", "STRIPE_API_BASE": _double.url,
            "STRIPE_WEBHOOK_SECRET": SECRET}
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
