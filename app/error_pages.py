"""Error responses: HTML pages for people, `{"error": {...}}` for the API."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.errors import DomainError, RuleViolation, ValidationFailed
from app.extensions import db
from app.security import events as security_events


def wants_json() -> bool:
    return request.path.startswith("/api/")


def api_error(
    code: str, message: str, status: int, details: dict | None = None, extra: dict | None = None
):
    body: dict[str, dict[str, Any]] = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    if extra:
        body["error"].update(extra)
    return jsonify(body), status


def domain_error_response(exc: DomainError):
    details = extra = None
    if isinstance(exc, ValidationFailed):
        details = {k or "_": v for k, v in exc.errors.items()}
    if isinstance(exc, RuleViolation):
        # Each rule broken, citing its rule set: {code, source, source_level, message}.
        extra = {"reasons": exc.reasons}
    return api_error(exc.code, exc.message, exc.status, details, extra)


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "too_many_requests",
}


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        db.session.rollback()
        if wants_json():
            return domain_error_response(exc)
        return render_template("error.html", code=exc.status, message=exc.message), exc.status

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        message = _("The form expired. Please go back, reload the page and try again.")
        if wants_json():
            return api_error("bad_request", message, 400)
        return render_template("error.html", code=400, message=message), 400

    @app.errorhandler(RateLimitExceeded)
    def _throttled(exc: RateLimitExceeded):
        retry = security_events.note_throttled(exc)
        message = _(
            "Too many requests in a short time. Please wait %(wait)s and try again.",
            wait=security_events.wait_text(retry),
        )
        if wants_json():
            response, status = api_error(
                "rate_limited", message, 429, extra={"retry_after": retry}
            )
        else:
            response, status = render_template("error.html", code=429, message=message), 429
        return response, status, {"Retry-After": str(retry)}

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        messages = {
            400: _("The request could not be understood."),
            401: _("Please log in."),
            403: _("You are not allowed to see this page."),
            404: _("The page you asked for does not exist."),
            405: _("That method is not allowed here."),
        }
        if exc.description and exc.description != type(exc).description:
            message = exc.description  # a specific message raised by our own code
        else:
            message = messages.get(status, exc.description or "")
        if wants_json():
            return api_error(HTTP_CODES.get(status, "error"), message, status)
        return render_template("error.html", code=status, message=message), status

    @app.errorhandler(500)
    def _server(_exc):
        db.session.rollback()
        message = _("Something went wrong on our side. Nothing was changed.")
        if wants_json():
            return api_error("server_error", message, 500)
        return render_template("error.html", code=500, message=message), 500
