"""An in-memory Stripe test double the real ``stripe`` library can talk to.

    from devtools.stripe_double import StripeDouble

    with StripeDouble(webhook_url=..., webhook_secret="whsec_test") as double:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": double.url})

Test helpers on the double: ``advance_clock``, ``fail_next`` (stored against the
idempotency key and replayed, as Stripe does with a 500), ``delay_next`` (``after=True`` for a
lost response), ``wait_idle``, ``expire_authorization``, ``create_dispute``,
``pay_out``, ``connected_balance``, ``deliver_pending``, ``resend``, ``get``, ``events_of``;
``api_requests`` lists every /v1 request with its decoded parameters and idempotency key.
The code is split by area; ``server.py`` says which module holds what.
"""

from devtools.stripe_double.formdecode import decode
from devtools.stripe_double.server import StripeDouble, StripeDoubleError, sign_payload

__all__ = ["StripeDouble", "StripeDoubleError", "decode", "sign_payload"]
