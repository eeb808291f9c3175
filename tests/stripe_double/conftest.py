"""Fixtures for the Stripe double's tests (helpers live in helpers.py)."""

from __future__ import annotations

import pytest

from devtools.stripe_double import StripeDouble
from tests.stripe_double.helpers import SECRET, Receiver, make_client


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def double(receiver):
    with StripeDouble(webhook_url=receiver.url, webhook_secret=SECRET) as d:
        yield d


@pytest.fixture
def client(double):
    return make_client(double.url)
