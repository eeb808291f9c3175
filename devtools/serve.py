"""`make run`'s server: the app, and — when no STRIPE_SECRET_KEY is configured — the local
Stripe double beside it, so paid spaces can be paid through a simulated checkout that is
clearly labelled as a test payment (no real money, nothing leaves the machine).

With STRIPE_SECRET_KEY set (test-mode keys from the Stripe dashboard), the app talks to Stripe.
"""

from __future__ import annotations

import os
import secrets


def main() -> None:
    port = int(os.environ.get("PORT", "5000"))
    double = None
    if not os.environ.get("STRIPE_SECRET_KEY"):
        from devtools.stripe_double import StripeDouble

        secret = "whsec_local_" + secrets.token_hex(8)
        double = StripeDouble(
            webhook_url=f"http://127.0.0.1:{port}/stripe/webhook",
            webhook_secret=secret,
            port=int(os.environ.get("STRIPE_DOUBLE_PORT", "0")),
        )
        base = double.start()
        os.environ.update(
            STRIPE_SECRET_KEY="sk_test_local_double",
            STRIPE_API_BASE=base,
            STRIPE_WEBHOOK_SECRET=secret,
        )
        print(f" * Payments: local Stripe double at {base} (test payments, no real money)")
    from app import create_app

    app = create_app()
    try:
        app.run(host="127.0.0.1", port=port, threaded=True)
    finally:
        if double is not None:
            double.stop()


if __name__ == "__main__":
    main()
