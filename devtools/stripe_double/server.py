"""A threaded, in-memory Stripe API double (standard library only).

Implements the slice of the Stripe v1 API Gonggan needs: Checkout Sessions (with a hosted
test-payment page), PaymentIntents (automatic and manual capture, holds that lapse), Refunds
(with transfer reversals and application-fee refunds on destination charges), Express accounts,
account links and payouts, Events, signed webhook delivery, idempotency keys and fault
injection.

Layout: ``state.py`` (core: objects, clock, lifecycle, events, webhooks, dispatch),
``api_checkout.py``, ``api_payments.py``, ``api_connect.py`` (the API areas, as mixins),
``pages.py`` (hosted browser pages), ``handler.py`` (HTTP, auth, faults, idempotency) and
``common.py`` (constants, the error type, parameter helpers). This module puts them together.
"""

from __future__ import annotations

from devtools.stripe_double.api_checkout import CheckoutMixin
from devtools.stripe_double.api_connect import ConnectMixin
from devtools.stripe_double.api_payments import PaymentsMixin
from devtools.stripe_double.common import API_VERSION, StripeDoubleError, sign_payload
from devtools.stripe_double.pages import PagesMixin
from devtools.stripe_double.state import DoubleState

__all__ = ["API_VERSION", "StripeDouble", "StripeDoubleError", "sign_payload"]


class StripeDouble(CheckoutMixin, PaymentsMixin, ConnectMixin, PagesMixin, DoubleState):
    __doc__ = DoubleState.__doc__

    def _routes(self) -> tuple:
        return (self._checkout_routes() + self._payment_routes() + self._connect_routes()
                + self._core_routes())
