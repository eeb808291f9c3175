"""Security headers on every response (Flask-Talisman): a Content-Security-Policy that allows
no inline script or style, no framing, nosniff, a Referrer-Policy, a Permissions-Policy, and
HSTS in production.

Everything the pages run comes from the app itself (no CDN); the only other origins are the
map tiles the visitor's browser loads (MAP_TILE_URL) and Stripe's pages a payment form leads
to (form-action also governs where a form's redirect may go).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, g
from flask_talisman import Talisman

# Per-view options (Talisman's decorator); the per-app instances do the work.
view_options = Talisman()

STRIPE_PAGES = ("https://checkout.stripe.com", "https://connect.stripe.com")

# A stored email shown on the development mail page: its own document, inline styles only,
# nothing that runs, framed by our page only.
EMAIL_PREVIEW_POLICY = {
    "default-src": "'none'",
    "style-src": "'unsafe-inline'",
    "img-src": "data:",
    "frame-ancestors": "'self'",
}


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url.replace("{s}.", "*.").replace("{s}", "*"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.split("@")[-1]
    host = host.split("{")[0].rstrip(".") or host
    return f"{parts.scheme}://{host}"


def content_security_policy(config) -> dict:
    images = ["'self'", "data:"]
    tiles = _origin(config.get("MAP_TILE_URL"))
    if tiles:
        images.append(tiles)
    forms = ["'self'", *STRIPE_PAGES]
    double = _origin(config.get("STRIPE_API_BASE"))  # the local Stripe double's checkout
    if double:
        forms.append(double)
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": images,
        "connect-src": "'self'",
        "font-src": "'self'",
        "worker-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": forms,
        "frame-ancestors": "'none'",
    }


PERMISSIONS_POLICY = {
    "geolocation": "(self)",  # "near me" on the search page
    "camera": "()",
    "microphone": "()",
    "payment": "()",
    "usb": "()",
    "browsing-topics": "()",
}


class _Talisman(Talisman):
    """Builds the default policy from the configuration at each request: where Stripe's pages
    are (the local double's port) can change after the app is made."""

    def _get_local_options(self):
        options = super()._get_local_options()
        if options["content_security_policy"] is self.content_security_policy:
            options = {
                **options,
                "content_security_policy": content_security_policy(current_app.config),
            }
        return options

    def _set_referrer_policy_headers(self, headers):
        headers["Referrer-Policy"] = g.get("referrer_policy") or self.referrer_policy


def no_referrer() -> None:
    """The page's address carries a secret (a reset link's token): this response asks browsers
    to send no Referer at all from it, not even the origin."""
    g.referrer_policy = "no-referrer"


def register(app: Flask) -> None:
    app.extensions["talisman"] = _Talisman(
        app,
        force_https=False,  # the proxy in front redirects; tests and `make run` are plain http
        strict_transport_security=bool(app.config.get("HSTS")),
        strict_transport_security_include_subdomains=False,
        content_security_policy=content_security_policy(app.config),
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy=PERMISSIONS_POLICY,
        session_cookie_secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
        x_content_type_options=True,
    )
