"""Finding 1: the app must not start in production with a published or missing secret key, and
a cookie forged for an account's id opens nothing."""

from __future__ import annotations

import pytest
from flask.sessions import SecureCookieSessionInterface

from app import create_app
from config import CONFIGS

STRONG = "k" * 20 + "9f3c2e8a7b6d5c4e3f2a1b0c"  # long enough, not published


def _app(name: str, **config):
    return create_app(name, {"SQLALCHEMY_DATABASE_URI": "sqlite://",
                             "BASE_URL": "https://gonggan.example", **config})


@pytest.mark.parametrize("key", [None, "", "dev-only-change-me", "test", "short-but-random"])
def test_production_refuses_a_missing_published_or_short_secret_key(key):
    with pytest.raises(RuntimeError) as refused:
        _app("production", SECRET_KEY=key)
    message = str(refused.value)
    assert "SECRET_KEY" in message
    assert "secrets.token_hex(32)" in message  # says how to make one


def test_production_starts_with_a_strong_key():
    app = _app("production", SECRET_KEY=STRONG)
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_without_gonggan_config_the_app_is_production(monkeypatch):
    """`gunicorn wsgi:app` with nothing set must not quietly run the development config."""
    monkeypatch.delenv("GONGGAN_CONFIG", raising=False)
    with pytest.raises(RuntimeError, match="production"):
        create_app(test_config={"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": None})


def test_an_unknown_configuration_name_is_refused():
    with pytest.raises(RuntimeError, match="staging"):
        _app("staging")


def test_live_stripe_keys_need_the_webhook_secret():
    with pytest.raises(RuntimeError, match="STRIPE_WEBHOOK_SECRET"):
        _app("production", SECRET_KEY=STRONG, STRIPE_SECRET_KEY="sk_live_abc",
             STRIPE_WEBHOOK_SECRET=None)
    _app("production", SECRET_KEY=STRONG, STRIPE_SECRET_KEY="sk_live_abc",
         STRIPE_WEBHOOK_SECRET="whsec_abc")
    # Test keys are for trying things out: no webhook secret needed to start.
    _app("production", SECRET_KEY=STRONG, STRIPE_SECRET_KEY="sk_test_abc",
         STRIPE_WEBHOOK_SECRET=None)


def test_only_known_wallets_may_be_offered():
    with pytest.raises(RuntimeError, match="STRIPE_WALLETS"):
        _app("production", SECRET_KEY=STRONG, STRIPE_WALLETS=("kakao_pay", "apple_pay"))
    _app("production", SECRET_KEY=STRONG, STRIPE_WALLETS=("kakao_pay", "naver_pay"))


def test_development_makes_a_random_key_once_and_keeps_it(tmp_path):
    path = tmp_path / "secret_key"
    first = _app("development", SECRET_KEY=None, SECRET_KEY_FILE=str(path))
    again = _app("development", SECRET_KEY=None, SECRET_KEY_FILE=str(path))
    key = first.config["SECRET_KEY"]
    assert len(key) == 64 and key not in CONFIGS["production"].__dict__.values()
    assert again.config["SECRET_KEY"] == key  # sessions survive a restart of `make run`
    assert path.stat().st_mode & 0o077 == 0  # readable by its owner only


def test_a_cookie_signed_for_an_admins_id_opens_nothing(app, client, db, factories):
    """The attack in the review: a session cookie carrying an admin's id, signed with the key.
    Even signed with the real key it is refused: a log-in is a server-side session now."""
    admin = factories.user(is_admin=True)
    db.session.commit()
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    forged = serializer.dumps({"_user_id": str(admin.id), "_fresh": True})
    client.set_cookie("session", forged)
    response = client.get("/admin/outbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
