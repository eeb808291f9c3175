"""Configuration classes. Every setting can be overridden from the environment."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _normalise_url(url: str) -> str:
    # Heroku-style URLs name the dialect "postgres"; SQLAlchemy wants psycopg 3 spelled out.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = _normalise_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'gonggan.sqlite'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False

    BABEL_DEFAULT_LOCALE = "ko"
    BABEL_DEFAULT_TIMEZONE = "Asia/Seoul"
    LANGUAGES = ("ko", "en")

    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # Geocoding through geopy: "nominatim" (OpenStreetMap) or "none" (coordinates entered by hand).
    GEOCODER = os.environ.get("GEOCODER", "nominatim")
    GEOCODER_DOMAIN = os.environ.get("GEOCODER_DOMAIN", "nominatim.openstreetmap.org")
    GEOCODER_SCHEME = os.environ.get("GEOCODER_SCHEME", "https")
    GEOCODER_TIMEOUT = float(os.environ.get("GEOCODER_TIMEOUT", "4"))
    GEOCODER_USER_AGENT = os.environ.get("GEOCODER_USER_AGENT", "gonggan-space-booking")

    # Map tiles are fetched by the visitor's browser; empty disables the tile layer.
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    MAP_TILE_ATTRIBUTION = os.environ.get(
        "MAP_TILE_ATTRIBUTION", "&copy; OpenStreetMap contributors"
    )

    # External calendars fetched by URL (see app/calendars/fetch.py): time-out per read, and
    # whether private/local addresses may be fetched (never in production; tests only).
    CALENDAR_FETCH_TIMEOUT = float(os.environ.get("CALENDAR_FETCH_TIMEOUT", "10"))
    CALENDAR_FETCH_ALLOW_PRIVATE = False

    # Largest request body (uploaded calendar files are refused above 10 MB by the importer).
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    SEARCH_PER_PAGE = 20
    API_MAX_PER_PAGE = 100
    # Length of the calendar slots offered on the space page.
    CALENDAR_SLOT_MINUTES = 30

    # Payments through Stripe. Without a secret key, online payment is off (managers record
    # offline payments); `make run` starts the local Stripe double and points these at it.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY") or None
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET") or None
    # Another API host than api.stripe.com (the local test double); empty for real Stripe.
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE") or None
    STRIPE_TIMEOUT = float(os.environ.get("STRIPE_TIMEOUT", "10"))
    STRIPE_MAX_NETWORK_RETRIES = int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", "2"))
    # Approved bookings must be paid within this many hours (never later than the start).
    PAYMENT_DUE_HOURS = int(os.environ.get("PAYMENT_DUE_HOURS", "48"))
    # Instant bookings (and card holds) keep their slot this long while the resident pays.
    CHECKOUT_HOLD_MINUTES = int(os.environ.get("CHECKOUT_HOLD_MINUTES", "15"))
    # Card holds are used only for bookings starting within this many days (cards keep an
    # authorisation for about 7 days; 5 leaves room).
    CARD_HOLD_DAYS = int(os.environ.get("CARD_HOLD_DAYS", "5"))
    # The platform's fee on destination charges, in basis points (100 = 1 %); organisations
    # can have their own (public bodies usually 0).
    PLATFORM_FEE_BPS = int(os.environ.get("PLATFORM_FEE_BPS", "0"))

    # The address people reach the site at; links in emails are built on it.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")

    # Email. With MAIL_SERVER set, emails go out over SMTP; without it ("dev"), they are kept
    # in the outbox and shown on /dev/mail (MAIL_BACKEND=console also logs them).
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND") or None
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "1") == "1"  # STARTTLS
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "0") == "1"  # implicit TLS (port 465)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "공간 Gonggan <no-reply@gonggan.local>"
    )
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "10"))
    # Failed sends are tried again after 1, 2, 4 … minutes (at most 6 h apart), 8 tries in all.
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "8"))
    MAIL_RETRY_BASE_SECONDS = int(os.environ.get("MAIL_RETRY_BASE_SECONDS", "60"))
    MAIL_RETRY_MAX_SECONDS = int(os.environ.get("MAIL_RETRY_MAX_SECONDS", str(6 * 3600)))
    MAIL_SENDING_STALE_MINUTES = int(os.environ.get("MAIL_SENDING_STALE_MINUTES", "15"))
    MAIL_MESSAGE_ID_DOMAIN = os.environ.get("MAIL_MESSAGE_ID_DOMAIN") or None
    # Approvers' daily digest goes out from this local hour; deadline warnings this many hours
    # before a stage's deadline.
    DIGEST_HOUR = int(os.environ.get("DIGEST_HOUR", "8"))
    APPROVAL_WARNING_HOURS = int(os.environ.get("APPROVAL_WARNING_HOURS", "24"))

    # Background jobs. Without REDIS_URL they run in this process (after the response is sent,
    # and periodic ones from `flask jobs run` / `flask jobs scheduler`); with it, on RQ workers.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    JOBS_QUEUE = os.environ.get("JOBS_QUEUE", "gonggan")
    JOBS_TIMEOUT = int(os.environ.get("JOBS_TIMEOUT", "600"))
    JOBS_INLINE_AFTER_RESPONSE = True


class DevelopmentConfig(Config):
    pass


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    SECRET_KEY = "test"
    GEOCODER = "none"
    # The suite creates thousands of accounts; scrypt's deliberate slowness would dominate it.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    # Tests that want Stripe start the double and set these; nothing reaches the internet.
    STRIPE_SECRET_KEY = None
    STRIPE_WEBHOOK_SECRET = "whsec_test"
    STRIPE_API_BASE = None
    STRIPE_MAX_NETWORK_RETRIES = 0
    STRIPE_TIMEOUT = 5.0
    # Emails are kept in the outbox unless a test points MAIL_SERVER at its SMTP server.
    MAIL_BACKEND = "dev"
    MAIL_SERVER = None
    MAIL_USE_TLS = False
    MAIL_TIMEOUT = 5.0
    BASE_URL = "http://gonggan.test"
    REDIS_URL = None
    # Jobs queued by a request run before the test client gets the response.
    JOBS_INLINE_AFTER_RESPONSE = False
    SQLALCHEMY_DATABASE_URI = _normalise_url(
        os.environ.get("TEST_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'test.sqlite'}")
    )


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestConfig,
}
