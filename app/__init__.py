"""Gonggan (공간): a marketplace for idle public and community spaces."""

from __future__ import annotations

import os
import secrets

from flask import Flask, has_request_context, request, session
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from app import (  # noqa: F401  (the complete metadata; every job registered)
    api,
    cli,
    error_pages,
    jobs,
    logs,
    models,
    tasks,
    web,
)
from app.accounts import auth  # noqa: F401  (registers the user and token loaders)
from app.bookings import closing as booking_closing
from app.calendars import events as calendar_events
from app.db import configure_sqlite, db_int_converter, set_serialized_writes
from app.errors import ValidationFailed
from app.extensions import babel, csrf, db, limiter, login_manager, migrate
from app.notifications import account as account_notifications
from app.notifications import events
from app.notifications import orgs as org_notifications
from app.payments import services as payment_services
from app.security import headers
from app.stats import facts
from app.web import templating
from config import CONFIGS, problems


def create_app(config_name: str | None = None, test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    # Production unless told otherwise: a deployment that forgets GONGGAN_CONFIG gets the safe
    # configuration (and its checks), never the development one. `make run` says development.
    config_name = config_name or os.environ.get("GONGGAN_CONFIG", "production")
    if config_name not in CONFIGS:
        raise RuntimeError(
            f"GONGGAN_CONFIG={config_name!r} is not one of {', '.join(sorted(CONFIGS))}."
        )
    app.config.from_object(CONFIGS[config_name])
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    configure_secrets(app, config_name)
    if app.config["PROXY_FIX_X_FOR"]:
        hops = app.config["PROXY_FIX_X_FOR"]
        # Flask types wsgi_app as a method; wrapping it is how Flask documents middleware.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )


    app.url_map.converters["int"] = db_int_converter()  # before any route is added
    logs.register(app)  # first of the request hooks: every log record then has the request id
    register_extensions(app)
    register_request_hooks(app)
    register_security(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_errors(app)
    register_cli(app)
    return app


def configure_secrets(app: Flask, config_name: str) -> None:
    """Development gets a random key kept in the instance folder; any other configuration must
    bring a strong SECRET_KEY (and the other secrets production needs) or the app will not
    start, saying what to set."""
    if not app.config.get("SECRET_KEY") and app.config.get("GENERATE_SECRET_KEY"):
        path = app.config.get("SECRET_KEY_FILE") or os.path.join(app.instance_path, "secret_key")
        if not os.path.exists(path):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        with open(path) as f:
            app.config["SECRET_KEY"] = f.read().strip()
    if config_name in ("development", "testing"):
        return
    found = problems(app.config)
    if found:
        raise RuntimeError(
            f"Refusing to start the {config_name} configuration:\n- " + "\n- ".join(found)
            + "\n(For a local trial, GONGGAN_CONFIG=development; see docs/configuration.md.)"
        )


def select_locale() -> str:
    langs = ("ko", "en")
    if not has_request_context():
        return "ko"
    if request.args.get("lang") in langs:
        return request.args["lang"]
    if request.path.startswith("/api/"):
        # An API client states its language on each request; that beats the account's setting.
        asked = request.accept_languages.best_match(langs)
        if asked:
            return asked
    if current_user and current_user.is_authenticated and current_user.locale in langs:
        return current_user.locale
    if session.get("locale") in langs:
        return session["locale"]
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(langs, default="ko")
    return "ko"  # Korean first, whatever the browser says; the switch is on every page.


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Asia/Seoul")
    with app.app_context():
        configure_sqlite(db.engine)


    jobs.register(app)
    events.register()
    account_notifications.register()
    org_notifications.register()
    payment_services.subscribe()
    booking_closing.subscribe()
    calendar_events.subscribe()
    facts.register()


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _serialize_writes() -> None:
        # On SQLite, every write request runs as one BEGIN IMMEDIATE transaction (see app.db).
        # (plus the few GETs that write: coming back from Stripe Checkout or onboarding)
        writes = request.method not in ("GET", "HEAD", "OPTIONS") or getattr(
            app.view_functions.get(request.endpoint or ""), "writes_on_get", False
        )
        set_serialized_writes(writes)

    @app.before_request
    def _refuse_unstorable_text():
        # No database stores NUL characters (PostgreSQL refuses them outright) and no person
        # types them: refuse such query strings and forms before any code sees them, naming the
        # field, with the same 422 the API gives for any other invalid input.

        for values in (request.args, request.form):
            for name, value in values.items(multi=True):
                if "\x00" in value or "\x00" in name:
                    raise ValidationFailed.single(
                        _("The text contains characters that cannot be stored."),
                        name.replace("\x00", "") or None,
                    )

    @app.teardown_request
    def _reset(_exc) -> None:
        set_serialized_writes(False)


def register_security(app: Flask) -> None:
    # After the request hooks above: the limits may load the user, which must happen inside
    # the serialized write transaction a POST opens on SQLite.
    limiter.init_app(app)
    headers.register(app)


def register_blueprints(app: Flask) -> None:

    web.register(app)
    api.register(app)


def register_template_helpers(app: Flask) -> None:

    templating.register(app)


def register_errors(app: Flask) -> None:

    error_pages.register(app)


def register_cli(app: Flask) -> None:

    cli.register(app)


__all__ = ["create_app"]
