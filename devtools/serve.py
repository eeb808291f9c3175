"""`make run`'s server: the app, a sweep every minute, and — when no STRIPE_SECRET_KEY is
configured — the local Stripe double beside it, so paid spaces can be paid through a simulated
checkout clearly labelled as a test payment (no real money, nothing leaves the machine).

With STRIPE_SECRET_KEY set (test-mode keys from the Stripe dashboard), the app talks to Stripe.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading

SWEEP_SECONDS = 60


def _sweeper(app, stop: threading.Event) -> None:
    """What cron does in production (`flask bookings sweep` every minute): deadlines, lottery
    draws, unpaid bookings, checkout holds that lapsed, Stripe calls still owed."""
    from app.bookings.services import sweep
    from app.db import serialized_writes
    from app.extensions import db
    from app.payments import work

    while not stop.wait(SWEEP_SECONDS):
        with app.app_context(), serialized_writes():
            try:
                sweep()
                db.session.commit()
                work.perform_committed()
                work.sweep()
            except Exception:  # keep sweeping; the next run retries
                db.session.rollback()
                logging.getLogger("gonggan.sweep").exception("sweep failed")


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
    stop = threading.Event()
    threading.Thread(target=_sweeper, args=(app, stop), name="sweep", daemon=True).start()
    try:
        app.run(host="127.0.0.1", port=port, threaded=True)
    finally:
        stop.set()
        if double is not None:
            double.stop()


if __name__ == "__main__":
    main()
