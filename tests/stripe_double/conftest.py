"""Fixtures for the Stripe double's tests (helpers live in helpers.py)."""

from __future__ import annotations

import pytest

from devtools.stripe_double import StripeDouble
from tests.stripe_double.helpers import CONNECT_SECRET, SECRET, Receiver, make_client


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def connect_receiver():
    """The Connect endpoint: events of connected accounts, signed with its own secret."""
    r = Receiver(CONNECT_SECRET)
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def double(receiver, connect_receiver):
    with StripeDouble(webhook_url=receiver.url, webhook_secret=SECRET,
                      connect_webhook_url=connect_receiver.url,
                      connect_webhook_secret=CONNECT_SECRET) as d:
        yield d


@pytest.fixture
def client(double):
    return make_client(double.url)
