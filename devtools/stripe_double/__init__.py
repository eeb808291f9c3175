"""An in-memory Stripe test double the real ``stripe`` library can talk to.

    from devtools.stripe_double import StripeDouble

    with StripeDouble(webhook_url=..., webhook_secret="whsec_test") as double:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": double.url})
"""

from devtools.stripe_double.formdecode import decode
from devtools.stripe_double.server import StripeDouble, StripeDoubleError, sign_payload

__all__ = ["StripeDouble", "StripeDoubleError", "decode", "sign_payload"]
