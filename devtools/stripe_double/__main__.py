"""Run the Stripe double standalone: ``python -m devtools.stripe_double --port 12111``."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from devtools.stripe_double.server import StripeDouble


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.stripe_double")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default=os.environ.get("STRIPE_DOUBLE_WEBHOOK_URL"))
    parser.add_argument(
        "--webhook-secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_test_double")
    )
    parser.add_argument("--connect-webhook-url",
                        default=os.environ.get("STRIPE_DOUBLE_CONNECT_WEBHOOK_URL"))
    parser.add_argument(
        "--connect-webhook-secret",
        default=os.environ.get("STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_test_double_connect"),
    )
    parser.add_argument("--public-url", default=None, help="base URL browsers should use")
    args = parser.parse_args(argv)

    double = StripeDouble(
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        connect_webhook_url=args.connect_webhook_url,
        connect_webhook_secret=args.connect_webhook_secret,
        host=args.host,
        port=args.port,
        public_url=args.public_url,
    )
    url = double.start()
    print(f"Stripe double listening on {url}  (TEST ONLY — no real money)", flush=True)
    print(f"  webhooks -> {args.webhook_url or '(none)'}", flush=True)
    print(f"  Connect webhooks -> {args.connect_webhook_url or '(none)'}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        double.stop()


if __name__ == "__main__":
    main()
