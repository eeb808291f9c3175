"""`make run`'s server: the app, the periodic jobs (`app.jobs.tick()` every 30 s: the sweep,
email delivery to the development mail page /dev/mail, reminders, deadline warnings, digests,
summaries, calendar sync), and — when no STRIPE_SECRET_KEY is
configured — the local Stripe double beside it, so paid spaces can be paid through a simulated
checkout clearly labelled as a test payment (no real money, nothing leaves the machine).

With STRIPE_SECRET_KEY set (test-mode keys from the Stripe dashboard), the app talks to Stripe.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading

TICK_SECONDS = 30


def _ticker(app, stop: threading.Event) -> None:
    """What cron does in production (`flask jobs run` every minute): every periodic job whose
    period has come — deadlines, lottery draws, unpaid bookings, Stripe calls still owed, the
    email outbox, reminders and the rest (see app.jobs.PERIODIC)."""
    from app import jobs
    from app.extensions import db

    while not stop.wait(TICK_SECONDS):
        with app.app_context():
            try:
                jobs.tick()
            except Exception:  # keep ticking; the next tick retries
                db.session.rollback()
                logging.getLogger("gonggan.jobs").exception("tick failed")
            finally:
                db.session.remove()


def main() -> None:
    port = int(os.environ.get("PORT", "5000"))
    double = None
    if not os.environ.get("STRIPE_SECRET_KEY"):
        from devtools.stripe_double import StripeDouble

        secret = "whsec_local_" + secrets.token_hex(8)
        connect_secret = "whsec_local_connect_" + secrets.token_hex(8)
        double = StripeDouble(
            webhook_url=f"http://127.0.0.1:{port}/stripe/webhook",
            webhook_secret=secret,
            connect_webhook_url=f"http://127.0.0.1:{port}/stripe/webhook/connect",
            connect_webhook_secret=connect_secret,
            port=int(os.environ.get("STRIPE_DOUBLE_PORT", "0")),
        )
        base = double.start()
        os.environ.update(
            STRIPE_SECRET_KEY="sk_test_local_double",
            STRIPE_API_BASE=base,
            STRIPE_WEBHOOK_SECRET=secret,
            STRIPE_CONNECT_WEBHOOK_SECRET=connect_secret,
        )
        print(f" * Payments: local Stripe double at {base} (test payments, no real money)")
    from app import create_app, logs

    app = create_app()
    logs.configure(app)
    stop = threading.Event()
    threading.Thread(target=_ticker, args=(app, stop), name="jobs", daemon=True).start()
    try:
        app.run(host="127.0.0.1", port=port, threaded=True)
    finally:
        stop.set()
        if double is not None:
            double.stop()


if __name__ == "__main__":
    main()
