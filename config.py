"""Configuration classes. Most settings can be overridden from the environment;
docs/configuration.md lists every setting, its default and which are fixed here."""

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


# Keys anyone can read in this repository or guess; the app refuses them outside development.
def default_base_url(environ=None) -> str:
    """Where this machine serves when BASE_URL is not set: 127.0.0.1 on PORT (which `make run`
    and the Procfile honour), 5000 without it."""
    port = ((environ if environ is not None else os.environ).get("PORT") or "").strip()
    return f"http://127.0.0.1:{port if port.isdigit() else '5000'}"


KNOWN_WEAK_SECRETS = frozenset({"dev-only-change-me", "test", "secret", "changeme", "dev"})
MIN_SECRET_LENGTH = 32


class Config:
    # Signs the session and remember-me cookies and every token derived from them. Required
    # outside development and tests (see `check`).
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
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
    REMEMBER_COOKIE_HTTPONLY = True
    # "Keep me logged in" lasts at most this many days; a login without it ends with the
    # browser, and on the server after SESSION_HOURS.
    REMEMBER_COOKIE_DAYS = min(int(os.environ.get("REMEMBER_COOKIE_DAYS", "30")), 30)
    SESSION_HOURS = int(os.environ.get("SESSION_HOURS", "12"))

    # Behind a reverse proxy: how many proxies in front set X-Forwarded-For/-Proto/-Host. The
    # rate limits and the security log need the visitor's own address; 0 trusts no header.
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))

    # Rate limits (Flask-Limiter; see app/security/limits.py). Counters in memory by default
    # (one process); set RATELIMIT_STORAGE_URI (or REDIS_URL) so every worker shares them.
    # "5 per minute; 10 per 15 minutes" means both: the wait grows with the attempts.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = (
        os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"
    )
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_KEY_PREFIX = "gonggan-limits"
    # Retry-After is ours (app/error_pages.py), equal to the number in the 429 body.
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # Redis down: per-process limits, never none
    RATELIMIT_LOGIN_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_LOGIN_PER_ACCOUNT", "5 per minute; 10 per 15 minutes; 30 per day"
    )
    RATELIMIT_LOGIN_PER_IP = os.environ.get(
        "RATELIMIT_LOGIN_PER_IP", "30 per minute; 100 per hour; 500 per day"
    )
    RATELIMIT_REGISTER_PER_IP = os.environ.get(
        "RATELIMIT_REGISTER_PER_IP", "5 per 10 minutes; 20 per day"
    )
    RATELIMIT_VERIFICATION_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_VERIFICATION_PER_ACCOUNT", "3 per 10 minutes; 10 per day"
    )
    RATELIMIT_PASSWORD_RESET_PER_IP = os.environ.get(
        "RATELIMIT_PASSWORD_RESET_PER_IP", "5 per 10 minutes; 20 per day"
    )
    RATELIMIT_PASSWORD_RESET_PER_ADDRESS = os.environ.get(
        "RATELIMIT_PASSWORD_RESET_PER_ADDRESS", "3 per 10 minutes; 10 per day"
    )
    RATELIMIT_PASSWORD_RESET_LINK_PER_IP = os.environ.get(
        "RATELIMIT_PASSWORD_RESET_LINK_PER_IP", "30 per 10 minutes; 100 per day"
    )
    RATELIMIT_EMAIL_CHANGE_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_EMAIL_CHANGE_PER_ACCOUNT", "3 per 10 minutes; 10 per day"
    )
    RATELIMIT_INVITATION_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_INVITATION_PER_ACCOUNT", "10 per 10 minutes; 50 per day"
    )
    # Applying to list spaces as an organisation (each carries a document to check and store).
    RATELIMIT_ORG_APPLY_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_ORG_APPLY_PER_ACCOUNT", "5 per hour; 20 per day"
    )
    # Opening and accepting team invitation links (guessing tokens).
    RATELIMIT_INVITATION_ACCEPT_PER_IP = os.environ.get(
        "RATELIMIT_INVITATION_ACCEPT_PER_IP", "20 per 10 minutes; 100 per day"
    )
    RATELIMIT_BOOKING_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_BOOKING_PER_ACCOUNT", "5 per minute; 30 per hour; 100 per day"
    )
    # Generous: a school, an apartment block or a library shares one address among many.
    RATELIMIT_BOOKING_PER_IP = os.environ.get("RATELIMIT_BOOKING_PER_IP", "60 per minute")
    RATELIMIT_API_PER_CLIENT = os.environ.get("RATELIMIT_API_PER_CLIENT", "300 per minute")
    # Place names looked up for search (app.security.limits.allow_geocoding).
    RATELIMIT_GEOCODE_PER_CLIENT = os.environ.get(
        "RATELIMIT_GEOCODE_PER_CLIENT", "10 per minute; 100 per day"
    )
    RATELIMIT_GEOCODE_SITE = os.environ.get("RATELIMIT_GEOCODE_SITE", "1 per second")

    # The request form's live summary (one call per pause in typing).
    RATELIMIT_QUOTE_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_QUOTE_PER_ACCOUNT", "40 per minute; 600 per hour"
    )
    RATELIMIT_FEED_PER_IP = os.environ.get("RATELIMIT_FEED_PER_IP", "60 per minute")
    # Security events (throttled requests, sign-ups and log-ins with their address) are kept
    # this long, then deleted by the sweep.
    SECURITY_EVENT_RETENTION_DAYS = int(os.environ.get("SECURITY_EVENT_RETENTION_DAYS", "90"))
    # Accounts inactive this long are anonymised (app/privacy/retention.py, docs/privacy.md),
    # after an email this many days before; each run handles at most a batch of accounts.
    ACCOUNT_RETENTION_DAYS = int(os.environ.get("ACCOUNT_RETENTION_DAYS", "1095"))
    ACCOUNT_RETENTION_WARNING_DAYS = int(os.environ.get("ACCOUNT_RETENTION_WARNING_DAYS", "30"))
    ACCOUNT_RETENTION_BATCH = int(os.environ.get("ACCOUNT_RETENTION_BATCH", "200"))

    # Proof of work before a booking request (app/security/challenge.py), ALTCHA's PBKDF2:
    # the browser tries counters until it finds the one the server drew below
    # CHALLENGE_MAX_NUMBER, each try costing CHALLENGE_COST PBKDF2 iterations. The defaults ask
    # about 2.5 million iterations on average: around a second on a recent phone, a little
    # longer on an old one. A challenge must be solved and sent within CHALLENGE_EXPIRY_MINUTES.
    CHALLENGE_COST = int(os.environ.get("CHALLENGE_COST", "1000"))
    CHALLENGE_MAX_NUMBER = int(os.environ.get("CHALLENGE_MAX_NUMBER", "5000"))
    CHALLENGE_EXPIRY_MINUTES = int(os.environ.get("CHALLENGE_EXPIRY_MINUTES", "10"))
    # Challenges fetched by the booking form (each costs the server one PBKDF2 derivation).
    RATELIMIT_CHALLENGE_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_CHALLENGE_PER_ACCOUNT", "20 per minute; 300 per day"
    )
    RATELIMIT_CHALLENGE_PER_IP = os.environ.get("RATELIMIT_CHALLENGE_PER_IP", "120 per minute")
    # A space whose check is "automatic" asks for it once more than this many booking requests
    # reached it within a minute, and keeps asking for this many minutes after the last surge.
    CHALLENGE_SURGE_REQUESTS = int(os.environ.get("CHALLENGE_SURGE_REQUESTS", "20"))
    CHALLENGE_SURGE_MINUTES = int(os.environ.get("CHALLENGE_SURGE_MINUTES", "30"))
    # The suspicious-activity page: this many accounts signed up from one address, each within
    # this many minutes of the previous, or sending booking requests from one address.
    SUSPICIOUS_ACCOUNTS_PER_ADDRESS = int(os.environ.get("SUSPICIOUS_ACCOUNTS_PER_ADDRESS", "3"))
    SUSPICIOUS_SIGNUP_GAP_MINUTES = int(os.environ.get("SUSPICIOUS_SIGNUP_GAP_MINUTES", "10"))

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

    # Largest request body (uploaded calendar files and photos are refused above 10 MB by the
    # importer and app.media.images, with a message).
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    # Photos of spaces (app/media): "local" keeps files under MEDIA_ROOT (one server, or a
    # folder every server mounts); "s3" in a bucket of any S3-compatible object storage.
    MEDIA_STORAGE = os.environ.get("MEDIA_STORAGE", "local")
    MEDIA_ROOT = os.environ.get("MEDIA_ROOT") or str(INSTANCE_DIR / "media")
    MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET") or None
    MEDIA_S3_PREFIX = os.environ.get("MEDIA_S3_PREFIX", "")
    # Another endpoint than AWS (MinIO, Ceph, R2, …); empty for AWS itself.
    MEDIA_S3_ENDPOINT_URL = os.environ.get("MEDIA_S3_ENDPOINT_URL") or None
    MEDIA_S3_REGION = os.environ.get("MEDIA_S3_REGION") or None
    # Without these, boto3 finds credentials itself (environment, instance role, …).
    MEDIA_S3_ACCESS_KEY_ID = os.environ.get("MEDIA_S3_ACCESS_KEY_ID") or None
    MEDIA_S3_SECRET_ACCESS_KEY = os.environ.get("MEDIA_S3_SECRET_ACCESS_KEY") or None
    # "path" for most self-hosted stores; "auto" lets boto3 choose.
    MEDIA_S3_ADDRESSING_STYLE = os.environ.get("MEDIA_S3_ADDRESSING_STYLE", "auto")
    MEDIA_S3_TIMEOUT = float(os.environ.get("MEDIA_S3_TIMEOUT", "10"))
    # Photo uploads per manager account (each is decoded and re-encoded six times).
    RATELIMIT_PHOTO_UPLOAD_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_PHOTO_UPLOAD_PER_ACCOUNT", "30 per hour; 100 per day"
    )
    # Evidence files sent with residency and fee-waiver claims, per account.
    RATELIMIT_EVIDENCE_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_EVIDENCE_PER_ACCOUNT", "10 per hour; 30 per day"
    )
    # Residency and fee-waiver claims decided per officer.
    RATELIMIT_VERIFICATION_DECISION_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_VERIFICATION_DECISION_PER_ACCOUNT", "60 per minute; 1000 per day"
    )
    # Changes made in the admin console (roles, accounts, jurisdictions) per administrator:
    # generous for real work, a brake on a script run with a stolen session.
    RATELIMIT_ADMIN_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_ADMIN_PER_ACCOUNT", "60 per minute; 1000 per day"
    )

    SEARCH_PER_PAGE = 20
    API_MAX_PER_PAGE = 100
    # Length of the calendar slots offered on the space page.
    CALENDAR_SLOT_MINUTES = 30

    # Payments through Stripe. Without a secret key, online payment is off (managers record
    # offline payments); `make run` starts the local Stripe double and points these at it.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY") or None
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET") or None
    # The signing secret of the second endpoint, /stripe/webhook/connect, which receives the
    # events of connected accounts (account.updated); unset when no owner uses Connect.
    STRIPE_CONNECT_WEBHOOK_SECRET = os.environ.get("STRIPE_CONNECT_WEBHOOK_SECRET") or None
    # Korean wallets offered next to cards when paying now (never for card holds), as Stripe's
    # payment method types: "kakao_pay,naver_pay". Off by default: each must first be turned
    # on in the Stripe dashboard, or Stripe refuses the Checkout Session.
    STRIPE_WALLETS = tuple(
        w.strip() for w in os.environ.get("STRIPE_WALLETS", "").split(",") if w.strip()
    )
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

    # The address people reach the site at; links in emails are built on it. Required in
    # production (see `problems`); elsewhere it defaults to this machine on the served PORT.
    BASE_URL: str | None = os.environ.get("BASE_URL") or default_base_url()

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

    # Logs (app/logs.py): "json" is one JSON object per line, "text" readable lines, empty
    # leaves logging to whoever embeds the app. LOG_REQUESTS logs one line per request (method,
    # route, status, duration, request id); production has no other access log.
    LOG_FORMAT = os.environ.get("LOG_FORMAT") or None
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
    LOG_REQUESTS = os.environ.get("LOG_REQUESTS", "0") == "1"

    # /healthz and /readyz (app/health/): the time each dependency gets to answer, and how late
    # work may be before the backlog counts as unhealthy (an email due this long ago and not
    # sent, a job waiting this long in the queue, a periodic job this late). An email that has
    # failed HEALTH_MAIL_RETRIES times in a row means the mail server is refusing or down.
    HEALTH_TIMEOUT_SECONDS = float(os.environ.get("HEALTH_TIMEOUT_SECONDS", "2"))
    HEALTH_BACKLOG_MINUTES = int(os.environ.get("HEALTH_BACKLOG_MINUTES", "10"))
    HEALTH_MAIL_RETRIES = int(os.environ.get("HEALTH_MAIL_RETRIES", "3"))

    # Settlement by bank transfer for owners Stripe Connect cannot pay (app/payments/
    # settlement.py, docs/payments.md). SETTLEMENT_KEYS: comma-separated Fernet keys sealing
    # owners' account numbers (first one encrypts; empty: derived from SECRET_KEY). Last month's
    # statements are issued this many hours after it ends (late webhooks still land in it).
    # Test-mode payments are not real money: settled only where this says so (development).
    SETTLEMENT_KEYS = os.environ.get("SETTLEMENT_KEYS", "")
    SETTLEMENT_GRACE_HOURS = int(os.environ.get("SETTLEMENT_GRACE_HOURS", "24"))
    SETTLEMENT_INCLUDE_TEST_PAYMENTS = os.environ.get(
        "SETTLEMENT_INCLUDE_TEST_PAYMENTS", "0") == "1"
    # "Download my data" (page and API) and "Delete my account" (each try checks a password).
    RATELIMIT_EXPORT_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_EXPORT_PER_ACCOUNT", "5 per hour; 20 per day"
    )
    RATELIMIT_DELETE_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_DELETE_PER_ACCOUNT", "5 per 15 minutes; 20 per day"
    )
    RATELIMIT_SETTLEMENT_PER_ACCOUNT = os.environ.get(
        "RATELIMIT_SETTLEMENT_PER_ACCOUNT", "20 per minute; 200 per day"
    )


class DevelopmentConfig(Config):
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    # Without SECRET_KEY, create_app makes a random one and keeps it in instance/secret_key,
    # so `make run` needs no set-up and its sessions survive a restart.
    GENERATE_SECRET_KEY = True
    SECRET_KEY_FILE = None  # default: instance/secret_key
    SETTLEMENT_INCLUDE_TEST_PAYMENTS = os.environ.get(
        "SETTLEMENT_INCLUDE_TEST_PAYMENTS", "1") == "1"


class ProductionConfig(Config):
    # No default: only the operator knows the public address (`problems` asks for it).
    BASE_URL = os.environ.get("BASE_URL") or None
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Strict-Transport-Security on every response (browsers then refuse plain http).
    HSTS = os.environ.get("HSTS", "1") == "1"
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    LOG_REQUESTS = os.environ.get("LOG_REQUESTS", "1") == "1"


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    SECRET_KEY = "test-" + "x" * 40
    GEOCODER = "none"
    # The suite creates thousands of accounts; scrypt's deliberate slowness would dominate it.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    # Tests that want Stripe start the double and set these; nothing reaches the internet.
    STRIPE_SECRET_KEY = None
    STRIPE_WEBHOOK_SECRET = "whsec_test"
    STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_test_connect"
    STRIPE_WALLETS = ()
    STRIPE_API_BASE = None
    STRIPE_MAX_NETWORK_RETRIES = 0
    STRIPE_TIMEOUT = 5.0
    # Emails are kept in the outbox unless a test points MAIL_SERVER at its SMTP server.
    MAIL_BACKEND = "dev"
    MAIL_SERVER = None
    MAIL_USE_TLS = False
    MAIL_TIMEOUT = 5.0
    BASE_URL = "http://gonggan.test"
    # Cheap proofs of work: the tests solve them in Python.
    CHALLENGE_COST = 10
    CHALLENGE_MAX_NUMBER = 50
    SETTLEMENT_INCLUDE_TEST_PAYMENTS = True
    REDIS_URL = None
    # Jobs queued by a request run before the test client gets the response.
    JOBS_INLINE_AFTER_RESPONSE = False
    LOG_FORMAT = None  # pytest's own capture
    LOG_REQUESTS = False
    SQLALCHEMY_DATABASE_URI = _normalise_url(
        os.environ.get("TEST_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'test.sqlite'}")
    )


def problems(config) -> list[str]:
    """What makes a configuration unsafe to serve to the public (empty when it is safe).

    create_app refuses to start a production configuration with any of these."""
    out = []
    key = config.get("SECRET_KEY") or ""
    how = 'python3 -c "import secrets; print(secrets.token_hex(32))"'
    if not key:
        out.append(f"SECRET_KEY is not set. Make one with: {how}")
    elif key in KNOWN_WEAK_SECRETS or len(key) < MIN_SECRET_LENGTH:
        out.append(
            f"SECRET_KEY is a published or short value (at least {MIN_SECRET_LENGTH} random "
            f"characters are needed). Make one with: {how}"
        )
    stripe_key = config.get("STRIPE_SECRET_KEY") or ""
    if stripe_key.startswith(("sk_live_", "rk_live_")) and not config.get("STRIPE_WEBHOOK_SECRET"):
        out.append(
            "STRIPE_WEBHOOK_SECRET is not set while live Stripe keys are: payments would never "
            "be confirmed. Copy the endpoint's signing secret (whsec_...) from the Stripe "
            "dashboard."
        )
    unknown = sorted(set(config.get("STRIPE_WALLETS") or ()) - {"kakao_pay", "naver_pay"})
    if unknown:
        out.append(f"STRIPE_WALLETS may list kakao_pay and naver_pay, not {', '.join(unknown)}.")
    if stripe_key.startswith(("sk_live_", "rk_live_")) and config.get("STRIPE_API_BASE"):
        out.append("STRIPE_API_BASE points live keys at another host than Stripe; unset it.")
    if not config.get("BASE_URL"):
        out.append(
            "BASE_URL is not set: links in emails and calendar feeds need the address people "
            "reach the site at, e.g. BASE_URL=https://gonggan.example.kr"
        )
    media = config.get("MEDIA_STORAGE", "local")
    if media not in ("local", "s3"):
        out.append(f"MEDIA_STORAGE must be 'local' or 's3', not {media!r}.")
    elif media == "s3" and not config.get("MEDIA_S3_BUCKET"):
        out.append("MEDIA_STORAGE is 's3' but MEDIA_S3_BUCKET is not set.")
    return out


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestConfig,
}
