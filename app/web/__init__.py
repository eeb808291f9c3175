"""The web pages, by area (each a blueprint), above every domain package: they parse a form,
load or 404, check access, call a service, commit and redirect."""

from __future__ import annotations

from flask import Flask

from app.extensions import csrf
from app.web.accounts import bp as accounts_bp
from app.web.admin import bp as admin_bp
from app.web.bookings import bp as bookings_bp
from app.web.calendars import bp as calendars_bp
from app.web.health import bp as health_bp
from app.web.lottery import bp as lottery_bp
from app.web.main import bp as main_bp
from app.web.manage import bp as manage_bp
from app.web.media import bp as media_bp
from app.web.notifications.routes import bp as notifications_bp
from app.web.orgs import bp as orgs_bp
from app.web.oversight import bp as oversight_bp
from app.web.payments.routes import bp as payments_bp
from app.web.payments.routes import webhook_bp
from app.web.rules.routes import bp as rules_bp
from app.web.security.routes import bp as security_bp
from app.web.settlement.routes import bp as settlement_bp
from app.web.spaces import bp as spaces_bp
from app.web.stats.exports import bp as stats_exports_bp
from app.web.stats.routes import bp as stats_bp


def register(app: Flask) -> None:
    """Every page blueprint, at its address."""

    app.register_blueprint(main_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(spaces_bp, url_prefix="/spaces")
    app.register_blueprint(bookings_bp, url_prefix="/bookings")
    app.register_blueprint(manage_bp, url_prefix="/manage")
    app.register_blueprint(oversight_bp, url_prefix="/oversight")
    app.register_blueprint(rules_bp, url_prefix="/rules")
    app.register_blueprint(security_bp, url_prefix="/security")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(orgs_bp, url_prefix="/organisations")
    app.register_blueprint(lottery_bp, url_prefix="/lottery")
    app.register_blueprint(stats_bp)
    app.register_blueprint(stats_exports_bp, url_prefix="/stats")
    app.register_blueprint(payments_bp)
    app.register_blueprint(settlement_bp)
    app.register_blueprint(calendars_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(webhook_bp)
    csrf.exempt(webhook_bp)
